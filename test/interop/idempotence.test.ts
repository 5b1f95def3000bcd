/**
 * Idempotent producers with real clients: kafkajs (`idempotent: true`), confluent-kafka/librdkafka
 * (`enable.idempotence`) and the Java client with its default settings (idempotence has been on by default
 * since 3.0). A Produce answer lost after the write (the broker appends, then answers an error) makes the
 * client retry the same batch; the retry must be recognised and not appended twice. Then the producer
 * state must survive a clean restart (snapshot) and a kill -9 (rebuilt from the log).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ProduceApi } from '../../src/protocol/generated/00-produce.js';
import { CreateTopicsApi } from '../../src/protocol/generated/19-create-topics.js';
import { InitProducerIdApi } from '../../src/protocol/generated/22-init-producer-id.js';
import { buildRecordBatch } from '../../src/records/builder.js';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { type BrokerProcess, removeDir, startBrokerProcess } from '../helpers/broker-process.js';
import { python, run } from '../helpers/clients.js';
import { kafkaClasspath, kafkaPeerOrSkip } from '../helpers/kafka-peer.js';
import { RawClient } from '../helpers/raw-client.js';

/** The log end offset of partition 0: with one producer, the number of records appended. */
function endOffset(kafka: EmbeddedBroker, topic: string): bigint {
  return kafka.broker.partition(topic, 0)!.logEndOffset;
}

describe('idempotent producers with real clients', () => {
  const brokers: EmbeddedBroker[] = [];
  after(async () => {
    for (const b of brokers) await b.stop();
  });

  async function broker(topic: string): Promise<EmbeddedBroker> {
    const kafka = await startBroker({ topics: [{ name: topic, partitions: 1 }] });
    brokers.push(kafka);
    return kafka;
  }

  test('kafkajs retries a Produce whose answer was lost, and the retry is not appended twice', async () => {
    const kafka = await broker('kjs');
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (let i = 0; i < 5; i++) {
        // The third send is written, then answered NOT_LEADER_OR_FOLLOWER: kafkajs sends the same batch again.
        if (i === 2) kafka.control.failNext('Produce', 'NOT_LEADER_OR_FOLLOWER');
        const messages = Array.from({ length: 10 }, (_, j) => ({ value: `m-${i}-${j}` }));
        const [meta] = await producer.send({ topic: 'kjs', messages, acks: -1 });
        assert.equal(meta!.errorCode, 0);
        assert.equal(meta!.baseOffset, String(i * 10), `send ${i} got its original offset`);
      }
    } finally {
      await producer.disconnect();
    }
    assert.equal(endOffset(kafka, 'kjs'), 50n, 'every record once');
  });

  test('confluent-kafka (librdkafka) with enable.idempotence retries lost answers without duplicates', async () => {
    const kafka = await broker('rdk');
    kafka.control.failNext('Produce', 'NOT_LEADER_OR_FOLLOWER', 2);
    const r = await python(
      kafka.bootstrap,
      `
from confluent_kafka import Producer
errors = []
def done(err, msg):
    if err is not None: errors.append(str(err))
p = Producer({'bootstrap.servers': BOOTSTRAP, 'enable.idempotence': True, 'linger.ms': 5,
              'retry.backoff.ms': 50})
for i in range(200):
    p.produce('rdk', value=b'v%d' % i, on_delivery=done)
    if i % 50 == 49: p.flush(30)
left = p.flush(30)
print(json.dumps({'errors': errors, 'left': left}))
`,
      90_000,
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { errors: string[]; left: number };
    assert.deepEqual(out, { errors: [], left: 0 });
    assert.equal(endOffset(kafka, 'rdk'), 200n, 'every record once');
  });

  test('the Java client with default settings (idempotent) produces, also through a lost answer', async (t) => {
    if (kafkaPeerOrSkip(t)) return;
    const kafka = await broker('java');
    kafka.control.failNext('Produce', 'NOT_LEADER_OR_FOLLOWER');
    // ProducerPerformance with only bootstrap.servers set: the Java client's defaults (acks=all, idempotence on).
    const r = await run(
      'java',
      [
        '-cp',
        kafkaClasspath(),
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic',
        'java',
        '--num-records',
        '1000',
        '--record-size',
        '100',
        '--throughput',
        '-1',
        '--producer-props',
        `bootstrap.servers=${kafka.bootstrap}`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1000 records sent/);
    assert.equal(endOffset(kafka, 'java'), 1000n, 'every record once');
  });
});

describe('transactional producers', () => {
  test('a transactional Java producer fails at once with a clear error instead of retrying', async (t) => {
    if (kafkaPeerOrSkip(t)) return;
    const kafka = await startBroker({ topics: ['tx'] });
    try {
      const args = ['--topic', 'tx', '--num-records', '10', '--record-size', '10', '--throughput', '-1'];
      args.push('--transactional-id', 'payments', '--producer-props', `bootstrap.servers=${kafka.bootstrap}`);
      const r = await run('java', ['-cp', kafkaClasspath(), 'org.apache.kafka.tools.ProducerPerformance', ...args], {
        timeoutMs: 60_000,
      });
      assert.notEqual(r.code, 0);
      assert.match(`${r.stdout}${r.stderr}`, /Unexpected error in InitProducerIdResponse/);
      assert.equal(endOffset(kafka, 'tx'), 0n);
    } finally {
      await kafka.stop();
    }
  });
});

describe('producer state across restarts of a broker process', () => {
  let broker: BrokerProcess | undefined;
  after(async () => {
    if (broker && broker.child.exitCode === null) await broker.kill();
    if (broker) removeDir(broker.dataDir);
  });

  async function produce(client: RawClient, producerId: bigint, baseSequence: number) {
    const req = ProduceApi.defaultRequest();
    req.acks = -1;
    req.timeoutMs = 10_000;
    const records = [0, 1].map((i) => ({ value: Buffer.from(`s${baseSequence + i}`) }));
    const batch = buildRecordBatch(records, { producerId, producerEpoch: 0, baseSequence });
    req.topicData.push({ name: 'state', partitionData: [{ index: 0, records: batch }] });
    const p = (await client.request(ProduceApi, 9, req)).responses[0]!.partitionResponses[0]!;
    return { errorCode: p.errorCode, baseOffset: p.baseOffset };
  }

  async function initProducerId(client: RawClient): Promise<bigint> {
    const req = InitProducerIdApi.defaultRequest();
    req.transactionalId = null;
    const res = await client.request(InitProducerIdApi, 4, req);
    assert.equal(res.errorCode, ErrorCode.NONE);
    return res.producerId;
  }

  test('a retry after a clean restart and after kill -9 gets its original offset; producer ids are not reused', async () => {
    // Small segments: the kill -9 recovery rebuilds from a roll snapshot plus the log after it.
    const overrides = { 'log.segment.bytes': 2048 };
    broker = await startBrokerProcess({ overrides });
    const dataDir = broker.dataDir;
    let client = await RawClient.connect(broker.port);
    const create = CreateTopicsApi.defaultRequest();
    create.topics.push({ name: 'state', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] });
    create.timeoutMs = 10_000;
    assert.equal((await client.request(CreateTopicsApi, 5, create)).topics[0]!.errorCode, ErrorCode.NONE);
    const producerId = await initProducerId(client);
    let sequence = 0;
    for (; sequence < 40; sequence += 2) assert.equal((await produce(client, producerId, sequence)).errorCode, 0);
    client.close();

    assert.equal(await broker.stop(), 0);
    broker = await startBrokerProcess({ dataDir, overrides });
    client = await RawClient.connect(broker.port);
    assert.deepEqual(await produce(client, producerId, 38), { errorCode: 0, baseOffset: 38n }, 'after a clean restart');
    assert.equal((await produce(client, producerId, 44)).errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    for (; sequence < 60; sequence += 2) assert.equal((await produce(client, producerId, sequence)).errorCode, 0);
    const beforeKill = await initProducerId(client);
    client.close();

    await broker.kill();
    broker = await startBrokerProcess({ dataDir, overrides });
    client = await RawClient.connect(broker.port);
    assert.deepEqual(await produce(client, producerId, 58), { errorCode: 0, baseOffset: 58n }, 'after kill -9');
    assert.deepEqual(
      await produce(client, producerId, 60),
      { errorCode: 0, baseOffset: 60n },
      'the next batch goes on',
    );
    const afterKill = await initProducerId(client);
    assert.ok(afterKill > beforeKill, `producer id ${afterKill} after the crash, ${beforeKill} before`);
    client.close();
  });
});
