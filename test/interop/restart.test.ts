/**
 * A clean restart on the same data dir: SIGTERM exits 0 and leaves Kafka's clean shutdown marker, the next
 * start trusts the logs without scanning them, every record reads back (also from offsets in the middle
 * of older segments, through their indexes), and new records continue the offsets.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { WireClient } from '../crash/wire-client.js';
import { type BrokerProcess, removeDir, startBrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { assertRoundTrip, kcatReadAll, PARTITIONS, type SentRecord, sentRecord } from './produce-fetch-expect.js';

const TOPIC = 'durable';
/** Small segments, so the log has sealed segments with indexes to trust after the restart. */
const OVERRIDES = { 'log.segment.bytes': 32768, 'log.index.interval.bytes': 1024 };

/** The broker's "log dir opened" line, parsed. */
function openedLine(broker: BrokerProcess): { recovered: number; cleanShutdown: boolean; partitions: number } {
  const line = broker
    .output()
    .split('\n')
    .find((l) => l.includes('"msg":"log dir opened'));
  assert.ok(line, `no "log dir opened" line in:\n${broker.output()}`);
  return JSON.parse(line);
}

async function produce(bootstrap: string, sent: SentRecord[]): Promise<void> {
  const kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < sent.length; i += 100) {
      const messages = sent.slice(i, i + 100).map((r) => ({
        key: r.key,
        value: r.value,
        headers: Object.fromEntries(r.headers),
        timestamp: String(r.timestamp),
      }));
      await producer.send({ topic: TOPIC, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
}

async function endOffsets(port: number): Promise<bigint[]> {
  const client = await WireClient.connect(port);
  try {
    return await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => client.listOffset(TOPIC, p, -1n)));
  } finally {
    client.close();
  }
}

describe('a clean restart', () => {
  let broker: BrokerProcess | undefined;
  after(async () => {
    if (broker && broker.child.exitCode === null) await broker.stop();
    if (broker) removeDir(broker.dataDir);
  });

  test('keeps every record, scans nothing, and continues the offsets', async () => {
    broker = await startBrokerProcess({ overrides: OVERRIDES });
    const dataDir = broker.dataDir;
    const client = await WireClient.connect(broker.port);
    assert.equal(await client.createTopic(TOPIC, PARTITIONS), 0);
    client.close();
    const first = Array.from({ length: 3000 }, (_, i) => sentRecord('restart', i, { timestamps: true }));
    await produce(broker.bootstrap, first);
    const before = await endOffsets(broker.port);
    assert.equal(
      before.reduce((a, b) => a + b, 0n),
      3000n,
    );

    assert.equal(await broker.stop(), 0, 'SIGTERM exits with 0');
    assert.match(broker.output(), /"msg":"stopped"/);
    assert.ok(existsSync(join(dataDir, '.kafka_cleanshutdown')), 'the clean shutdown marker was written');
    const segments = readdirSync(join(dataDir, `${TOPIC}-0`)).filter((n) => n.endsWith('.log'));
    assert.ok(segments.length >= 3, `partition 0 has ${segments.length} segments`);

    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    assert.deepEqual(openedLine(broker), {
      ...openedLine(broker),
      partitions: PARTITIONS,
      recovered: 0,
      cleanShutdown: true,
    });
    assert.doesNotMatch(broker.output(), /truncat|rebuild|recovered with data loss/i);
    assert.ok(!existsSync(join(dataDir, '.kafka_cleanshutdown')), 'the marker is removed once the logs are open');
    assert.deepEqual(await endOffsets(broker.port), before);
    assertRoundTrip(first, await kcatReadAll(broker.bootstrap, TOPIC));

    // Reads from the middle of sealed segments go through their indexes as loaded after the restart.
    for (const offset of [1, 137, 555, Number(before[0]! - 1n)]) {
      const r = await kcat(broker.bootstrap, [
        '-C',
        '-t',
        TOPIC,
        '-p',
        '0',
        '-o',
        String(offset),
        '-c',
        '1',
        '-J',
        '-q',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { offset: number }).offset, offset);
    }

    const more = Array.from({ length: 1500 }, (_, i) => sentRecord('restart', 3000 + i, { timestamps: true }));
    await produce(broker.bootstrap, more);
    const afterMore = await endOffsets(broker.port);
    assert.equal(
      afterMore.reduce((a, b) => a + b, 0n),
      4500n,
    );
    // The new records continue each partition's offsets: all 4,500 read back at contiguous offsets.
    assertRoundTrip([...first, ...more], await kcatReadAll(broker.bootstrap, TOPIC));

    // A second clean cycle with nothing written in between is just as clean.
    assert.equal(await broker.stop(), 0);
    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    assert.equal(openedLine(broker).recovered, 0);
    assert.equal(openedLine(broker).cleanShutdown, true);
    assert.deepEqual(await endOffsets(broker.port), afterMore);
  });

  test('a SIGKILL instead leads to a scan of every partition at the next start, with nothing lost', async () => {
    const previous = broker!;
    const dataDir = previous.dataDir;
    if (previous.child.exitCode === null) await previous.stop();
    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    const before = await endOffsets(broker.port);
    await broker.kill();
    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    const opened = openedLine(broker);
    assert.equal(opened.cleanShutdown, false);
    assert.equal(opened.recovered, PARTITIONS);
    assert.deepEqual(await endOffsets(broker.port), before);
  });
});
