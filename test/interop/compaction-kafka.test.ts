/**
 * Log compaction against the oracle: the same updates (10 rounds over 7 keys, with tombstones) go to a
 * compacted topic on Apache Kafka and on Sluice, one batch per segment (segment.ms rolls each round). Once
 * both cleaned, a consumer reads the same records, at the same offsets, from both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { type KafkaPeer, kafkaPeerOrSkip, kafkaPeerUnavailable, startKafkaPeer } from '../helpers/kafka-peer.js';
import { kcatReadPartition } from './produce-fetch-expect.js';

const TOPIC = 'compacted-diff';
const ROUNDS = 10;

interface Survivor {
  offset: number;
  key: string | null;
  value: string | null;
}

async function produceRounds(bootstrap: string): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: TOPIC,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.ms', value: '100' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
        ],
      },
    ],
  });
  await admin.disconnect();
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  for (let round = 0; round < ROUNDS; round++) {
    const messages = Array.from({ length: 5 }, (_, i) => {
      const k = (round * 3 + i) % 7;
      // Every third round deletes the key it writes first.
      return { key: `key-${k}`, value: round % 3 === 2 && i === 0 ? null : `r${round}-${i}` };
    });
    await producer.send({ topic: TOPIC, acks: -1, messages });
    // The next round's batch then opens a new segment (segment.ms=100) on both brokers.
    await sleep(300);
  }
  await producer.disconnect();
}

async function survivors(bootstrap: string): Promise<Survivor[]> {
  return (await kcatReadPartition(bootstrap, TOPIC, 0)).map((r) => ({
    offset: r.offset,
    key: r.key,
    value: r.value,
  }));
}

describe('log compaction compared with Apache Kafka', () => {
  let peer: KafkaPeer | undefined;
  let sluice: EmbeddedBroker;

  before(async () => {
    if (kafkaPeerUnavailable() !== null) return;
    [peer, sluice] = await Promise.all([
      startKafkaPeer({ overrides: { 'log.cleaner.backoff.ms': 100 } }),
      startBroker({ config: { 'log.cleaner.backoff.ms': 3_600_000 } }),
    ]);
  });

  after(async () => {
    await Promise.all([peer?.stop(), sluice?.stop()]);
  });

  test('both keep the same records at the same offsets', async (t) => {
    if (kafkaPeerOrSkip(t)) return;
    await Promise.all([produceRounds(peer!.bootstrap), produceRounds(sluice.bootstrap)]);
    assert.equal((await survivors(sluice.bootstrap)).length, ROUNDS * 5);
    await sluice.control.compact();
    const expected = await survivors(sluice.bootstrap);
    assert.ok(expected.length < ROUNDS * 5, `${expected.length} records left on Sluice`);

    // Kafka's cleaner runs on its own schedule: wait until it has done the same work.
    const deadline = Date.now() + 30_000;
    let fromKafka = await survivors(peer!.bootstrap);
    while (fromKafka.length > expected.length && Date.now() < deadline) {
      await sleep(250);
      fromKafka = await survivors(peer!.bootstrap);
    }
    assert.deepEqual(fromKafka, expected);
  });
});
