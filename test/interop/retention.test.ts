/**
 * Retention with real clients: a topic created through kafkajs with `retention.ms` (or `retention.bytes`)
 * on a broker with small segments and a short retention check interval. Old segments leave the partition
 * directory, the earliest offset (kafkajs, kcat -Q) moves to the first segment left, kcat reads from there,
 * and a fetch below it gets OFFSET_OUT_OF_RANGE (our Fetch, and confluent-kafka with auto.offset.reset=error).
 * The log start offset survives a restart.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { WireClient } from '../crash/wire-client.js';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { kcat, lastJson, python } from '../helpers/clients.js';
import { kcatReadPartition } from './produce-fetch-expect.js';

const OVERRIDES = { 'log.segment.bytes': 2048, 'log.retention.check.interval.ms': 200 };

function segmentBases(dataDir: string, topic: string): number[] {
  return readdirSync(join(dataDir, `${topic}-0`))
    .filter((n) => n.endsWith('.log'))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

function leftovers(dataDir: string, topic: string): string[] {
  const names = readdirSync(join(dataDir, `${topic}-0`));
  const bases = new Set(segmentBases(dataDir, topic).map((b) => String(b).padStart(20, '0')));
  return names.filter((n) => n.endsWith('.deleted') || (/^\d{20}\./.test(n) && !bases.has(n.slice(0, 20))));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function earliest(admin: Admin, topic: string): Promise<{ low: number; high: number }> {
  const [p] = await admin.fetchTopicOffsets(topic);
  return { low: Number(p!.low), high: Number(p!.high) };
}

/** Sends `count` batches of 5 records of ~100 bytes, each with the given create time (default now). */
async function sendBatches(producer: Producer, topic: string, count: number, tag: string, timestamp?: number) {
  for (let i = 0; i < count; i++) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 5 }, (_, j) => ({
        value: `${tag}-${i}-${j}-`.padEnd(100, '.'),
        ...(timestamp !== undefined ? { timestamp: String(timestamp) } : {}),
      })),
    });
  }
}

describe('retention', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  before(async () => {
    broker = await startBrokerProcess({ overrides: OVERRIDES });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await stopAndRemove(broker);
  });

  test('segments older than retention.ms go, and the earliest offset moves to the first segment left', async () => {
    const topic = 'ret-time';
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '60000' }] }],
    });
    // Records an hour old first, then current ones: only segments holding nothing but old records expire.
    await sendBatches(producer, topic, 31, 'old', Date.now() - 3_600_000);
    const firstNew = (await earliest(admin, topic)).high;
    await sendBatches(producer, topic, 30, 'new');
    const end = (await earliest(admin, topic)).high;

    const bases = await until('the expired segments to be deleted', async () => {
      const b = segmentBases(broker.dataDir, topic);
      const done = b[0]! > 0 && (b[1] ?? Number.POSITIVE_INFINITY) > firstNew;
      // A deletion in progress renames files to .deleted before removing them: wait until none is left.
      return done && leftovers(broker.dataDir, topic).length === 0 ? b : undefined;
    });
    // The segment holding the first current record stays (its newest record is recent), all before it went.
    assert.ok(bases[0]! <= firstNew && firstNew < (bases[1] ?? Number.POSITIVE_INFINITY), `${bases} vs ${firstNew}`);
    assert.match(broker.output(), /"reason":"retention","msg":"deleting segment"/);
    const low = bases[0]!;
    assert.deepEqual(await earliest(admin, topic), { low, high: end });

    const q = await kcat(broker.bootstrap, ['-Q', '-t', `${topic}:0:-2`]);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, new RegExp(`offset ${low}\\b`));

    // kcat from "beginning" starts at the log start offset and reads everything left.
    const read = await kcatReadPartition(broker.bootstrap, topic, 0);
    assert.deepEqual(
      read.map((r) => r.offset),
      Array.from({ length: end - low }, (_, i) => low + i),
    );

    const client = await WireClient.connect(broker.port);
    try {
      const below = await client.fetch(topic, 0, BigInt(low - 1));
      assert.equal(below.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      // As Kafka, an out-of-range fetch answers unknown offsets (-1); ListOffsets above gave the log start.
      assert.equal(below.logStartOffset, -1n);
      assert.equal((await client.fetch(topic, 0, 0n)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      const at = await client.fetch(topic, 0, BigInt(low));
      assert.equal(at.errorCode, ErrorCode.NONE);
      assert.ok(at.records.length > 0);
    } finally {
      client.close();
    }

    const r = await python(
      broker.bootstrap,
      `
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "assign-only", "enable.auto.commit": False,
              "auto.offset.reset": "error"})
c.assign([TopicPartition(${JSON.stringify(topic)}, 0, 0)])
seen = None
for _ in range(20):
    m = c.poll(1)
    if m is None:
        continue
    seen = {"error": m.error().name() if m.error() else None, "text": m.error().str() if m.error() else None,
            "offset": m.offset()}
    break
c.close()
print(json.dumps(seen))
`,
    );
    assert.equal(r.code, 0, r.stderr);
    const seen = lastJson<{ error: string | null; text: string | null }>(r);
    assert.equal(seen.error, '_AUTO_OFFSET_RESET', JSON.stringify(seen));
    assert.match(seen.text ?? '', /out of range/i);

    // The log start offset is checkpointed: a restart keeps it, and the data above it.
    const dataDir = broker.dataDir;
    await producer.disconnect();
    await admin.disconnect();
    assert.equal(await broker.stop(), 0);
    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    assert.deepEqual(await earliest(admin, topic), { low, high: end });
  });

  test('the oldest segments go while the partition is larger than retention.bytes', async () => {
    const topic = 'ret-bytes';
    const retentionBytes = 8192;
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 1, configEntries: [{ name: 'retention.bytes', value: String(retentionBytes) }] },
      ],
    });
    await sendBatches(producer, topic, 60, 'sized');
    const { high } = await earliest(admin, topic);
    const dir = join(broker.dataDir, `${topic}-0`);
    const sizes = await until('the partition to shrink under retention.bytes', async () => {
      let s: number[];
      try {
        s = segmentBases(broker.dataDir, topic).map(
          (b) => statSync(join(dir, `${String(b).padStart(20, '0')}.log`)).size,
        );
      } catch {
        return undefined; // a segment was deleted between the listing and the stat
      }
      const total = s.reduce((a, b) => a + b, 0);
      // Kafka's rule: delete the oldest segment while the partition stays at or above retention.bytes without it.
      return total - s[0]! < retentionBytes ? s : undefined;
    });
    assert.ok(sizes.reduce((a, b) => a + b, 0) >= retentionBytes, `no more than needed was deleted: ${sizes}`);
    const low = segmentBases(broker.dataDir, topic)[0]!;
    assert.ok(low > 0);
    assert.deepEqual(await earliest(admin, topic), { low, high });
  });
});
