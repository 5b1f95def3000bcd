/**
 * kafkajs produces keyed records with headers and create times, acks=all, plain and gzip; they are read
 * back partition by partition from offset 0 with kcat and with our own Fetch (kafkajs's consumer needs a
 * group). Every record lands at the partition and offset kafkajs's produce response implies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import {
  assertRoundTrip,
  type Delivery,
  kcatReadAll,
  PARTITIONS,
  RECORDS,
  type SentRecord,
  sentRecord,
  storedCodecs,
  suiteBroker,
  wireReadAll,
} from './produce-fetch-expect.js';

const SEND_SIZE = 500;
const partitionOf = Partitioners.DefaultPartitioner();
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
  partitionId,
  leader: 1,
  partitionErrorCode: 0,
  replicas: [1],
  isr: [1],
}));

/**
 * Sends in chunks and works out each record's offset from the responses: kafkajs groups a send's
 * messages by the partition its (murmur2) partitioner picks, in order, and reports each group's base offset.
 */
async function produce(
  producer: Producer,
  topic: string,
  sent: SentRecord[],
  compression = CompressionTypes.None,
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  for (let from = 0; from < sent.length; from += SEND_SIZE) {
    const chunk = sent.slice(from, from + SEND_SIZE);
    const messages = chunk.map((r) => ({
      key: r.key,
      value: r.value,
      headers: Object.fromEntries(r.headers),
      timestamp: String(r.timestamp),
    }));
    const answers = await producer.send({ topic, messages, acks: -1, compression });
    const baseOffset = new Map(answers.map((a) => [a.partition, Number(a.baseOffset)]));
    const nextInPartition = new Map<number, number>();
    for (const m of messages) {
      const partition = partitionOf({ topic, partitionMetadata, message: m });
      const base = baseOffset.get(partition);
      assert.ok(base !== undefined, `no produce answer for partition ${partition}`);
      const i = nextInPartition.get(partition) ?? 0;
      nextInPartition.set(partition, i + 1);
      deliveries.push({ partition, offset: base + i });
    }
    for (const a of answers) assert.equal(a.errorCode, 0, `partition ${a.partition}`);
  }
  return deliveries;
}

describe('kafkajs produces; kcat and our Fetch read back by partition and offset', () => {
  let kafka: Kafka;
  let producer: Producer;

  // Registered first so that it runs before the broker is stopped.
  after(async () => {
    await producer?.disconnect();
  });

  const suite = suiteBroker();

  before(async () => {
    kafka = new Kafka({ brokers: [suite.broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'kafkajs-keyed', numPartitions: PARTITIONS },
        { topic: 'kafkajs-gzip', numPartitions: PARTITIONS },
      ],
    });
    await admin.disconnect();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  });

  test('10,000 keyed records with headers and timestamps land where the produce responses said', async () => {
    const sent = Array.from({ length: RECORDS }, (_, i) => sentRecord('kafkajs', i, { timestamps: true }));
    const deliveries = await produce(producer, 'kafkajs-keyed', sent);
    assertRoundTrip(sent, await kcatReadAll(suite.broker.bootstrap, 'kafkajs-keyed'), { deliveries });
    assertRoundTrip(sent, await wireReadAll(suite.broker.port, 'kafkajs-keyed'), { deliveries });
  });

  test('gzip batches are stored as sent and come back intact', async () => {
    const sent = Array.from({ length: 3000 }, (_, i) => sentRecord('kafkajs-gzip', i, { timestamps: true }));
    const deliveries = await produce(producer, 'kafkajs-gzip', sent, CompressionTypes.GZIP);
    assert.deepEqual([...(await storedCodecs(suite.broker.port, 'kafkajs-gzip'))], ['gzip']);
    assertRoundTrip(sent, await kcatReadAll(suite.broker.bootstrap, 'kafkajs-gzip'), { deliveries });
  });
});
