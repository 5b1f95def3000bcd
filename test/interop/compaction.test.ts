/**
 * Log compaction with real clients: kafkajs writes updates over a few keys (some compressed, some
 * tombstones) to a topic with cleanup.policy=compact and small segments; after a cleaning pass kcat reads
 * the last value of every key, once each below the active segment. A keyless record is refused. The
 * cleaned log survives a restart, and __consumer_offsets stays small under many commits to one group.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { OFFSETS_TOPIC } from '../../src/broker/offsets-topic.js';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { kcatReadPartition } from './produce-fetch-expect.js';

const TOPIC = 'compacted';
const KEYS = 20;

describe('log compaction', () => {
  let dataDir: string;
  let broker: EmbeddedBroker;
  let kafka: Kafka;
  let producer: Producer;

  const start = async () => {
    broker = await startBroker({
      storage: 'disk',
      dataDir,
      // The periodic cleaner stays out of the way: the tests run their passes with control.compact().
      config: {
        'log.cleaner.backoff.ms': 3_600_000,
        'offsets.topic.segment.bytes': 65536,
        'offsets.topic.num.partitions': 1,
      },
    });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-compaction-'));
    await start();
  });

  after(async () => {
    await producer?.disconnect();
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The last value of each key as the updates left it (null: deleted). */
  const expected = new Map<string, string | null>();

  test('after a cleaning pass a consumer reads the last value of each key, compressed batches included', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: 1,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '2048' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
    });
    await admin.disconnect();
    for (let round = 0; round < 60; round++) {
      const messages = Array.from({ length: 10 }, (_, i) => {
        const key = `key-${(round * 10 + i) % KEYS}`;
        // The last round deletes the first five keys.
        const value = round === 59 && i < 5 ? null : `value-${round}-${i}`;
        expected.set(key, value);
        return { key, value };
      });
      await producer.send({
        topic: TOPIC,
        acks: -1,
        compression: round % 3 === 0 ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
    }
    // Data reaches closed segments only: a few more updates of one key roll past the last round.
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: 'tail', value: `tail-${i}`.padEnd(100, '.') }] });
      expected.set('tail', `tail-${i}`.padEnd(100, '.'));
    }
    const before = await kcatReadPartition(broker.bootstrap, TOPIC, 0);
    assert.equal(before.length, 630);

    const cleaned = await broker.control.compact();
    assert.ok(cleaned.some((c) => c.topic === TOPIC));
    const records = await kcatReadPartition(broker.bootstrap, TOPIC, 0);
    const last = new Map<string, string | null>();
    for (const r of records) last.set(r.key!, r.value);
    assert.deepEqual(last, expected);
    const nonTail = records.filter((r) => r.key !== 'tail');
    assert.equal(nonTail.length, KEYS, 'one record per key: tombstones stay until delete.retention.ms');
    assert.ok(records.length < 60, `${records.length} records left of 630`);
    // Offsets are those the records were written at: they only increase, with gaps.
    for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset);
  });

  test('a record without a key is refused by a compacted topic with INVALID_RECORD', async () => {
    await assert.rejects(
      producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'no key' }] }),
      (err: Error & { type?: string }) => {
        assert.equal(err.type, 'INVALID_RECORD', err.message);
        return true;
      },
    );
  });

  test('the cleaned log reads the same after a restart', async () => {
    const beforeRestart = await kcatReadPartition(broker.bootstrap, TOPIC, 0);
    await producer.disconnect();
    await broker.stop();
    await start();
    assert.deepEqual(await kcatReadPartition(broker.bootstrap, TOPIC, 0), beforeRestart);
  });

  test('__consumer_offsets keeps one record per group key after many commits to it are cleaned', async () => {
    const commits = 20_000;
    const groups = broker.broker.groups;
    const commit = (offset: number) =>
      groups.commitOffsets({
        groupId: 'busy-group',
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1,
        offsets: [{ topic: TOPIC, partition: 0, offset: BigInt(offset), leaderEpoch: -1, metadata: null }],
      });
    // Commits in flight together share their fsyncs (group commit); the last one is made alone.
    for (let i = 0; i < commits - 1; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, commits - 1 - i) }, (_, j) => commit(i + j)));
    }
    await commit(commits - 1);
    const log = broker.broker.partition(OFFSETS_TOPIC, 0)!;
    const sizeBefore = log.sizeInBytes;
    await broker.control.compact();
    assert.ok(log.sizeInBytes < sizeBefore / 20, `${log.sizeInBytes} bytes left of ${sizeBefore}`);
    // The records left below the active segment: one per key.
    const { activeBaseOffset } = log.cleanerView();
    assert.ok(activeBaseOffset > 19_000n, `active segment starts at ${activeBaseOffset}`);
    let below = 0;
    for (let offset = log.logStartOffset; offset < activeBaseOffset; ) {
      const read = await log.read(offset, 1 << 20);
      assert.ok(!('errorCode' in read), 'read of __consumer_offsets');
      if (read.records.length === 0) break;
      for (let pos = 0; pos < read.records.length; pos += read.records.readInt32BE(pos + 8) + 12) {
        if (read.records.readBigInt64BE(pos) >= activeBaseOffset) break;
        below += read.records.readInt32BE(pos + 57);
        offset = read.records.readBigInt64BE(pos) + BigInt(read.records.readInt32BE(pos + 23)) + 1n;
      }
    }
    assert.ok(below <= 1, `${below} records below the active segment for one group and one partition`);
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: 'busy-group', topics: [TOPIC] });
    await admin.disconnect();
    assert.equal(committed!.partitions[0]!.offset, String(commits - 1));

    // The group coordinator rebuilds the same state from the compacted log at the next start.
    await producer.disconnect();
    await broker.stop();
    await start();
    const admin2 = kafka.admin();
    await admin2.connect();
    const [again] = await admin2.fetchOffsets({ groupId: 'busy-group', topics: [TOPIC] });
    await admin2.disconnect();
    assert.equal(again!.partitions[0]!.offset, String(commits - 1));
  });
});
