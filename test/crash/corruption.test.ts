/**
 * Damage done to the files while the broker is down, seen end to end: the broker is stopped (SIGKILL, or
 * SIGTERM where the clean shutdown marker matters), a file is cut, a byte flipped or an index deleted, and
 * the restarted broker says what it dropped (file, position, bytes), serves exactly the whole batches
 * before the damage, and takes new records at the right offset.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { buildRecordBatch, iterateBatches } from '../../src/records/index.js';
import { type BrokerProcess, removeDir, startBrokerProcess } from '../helpers/broker-process.js';
import { WireClient } from './wire-client.js';

const TOPIC = 'damaged';
const OVERRIDES = { 'log.segment.bytes': 8192, 'log.index.interval.bytes': 1024 };
const BATCHES = 40;
const PER_BATCH = 10;

interface LogLine {
  msg: string;
  file?: string;
  position?: number;
  droppedBytes?: number;
  reason?: string;
  problem?: string;
}

function logLines(broker: BrokerProcess): LogLine[] {
  return broker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

function value(offset: number): string {
  return `record-${offset}-`.padEnd(50, 'x');
}

/** The segment files of partition 0 and the batches (position, size, offsets) of each log. */
function segmentsOf(dataDir: string) {
  const dir = join(dataDir, `${TOPIC}-0`);
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const batches = [...iterateBatches(readFileSync(path))].map((b) => ({
        position: b.position,
        size: b.size,
        baseOffset: Number(b.baseOffset),
        lastOffset: Number(b.baseOffset) + b.lastOffsetDelta,
      }));
      return { path, indexPath: path.replace(/\.log$/, '.index'), batches };
    });
}

describe('damaged files, end to end', () => {
  let broker: BrokerProcess | undefined;
  let client: WireClient | undefined;

  afterEach(async () => {
    client?.close();
    if (broker && broker.child.exitCode === null && broker.child.signalCode === null) await broker.stop();
    if (broker) removeDir(broker.dataDir);
    broker = undefined;
  });

  /** A broker with BATCHES acknowledged batches in partition 0 (several segments), then stopped. */
  async function written(stop: 'SIGKILL' | 'SIGTERM'): Promise<string> {
    broker = await startBrokerProcess({ overrides: OVERRIDES });
    const producer = await WireClient.connect(broker.port);
    client = producer;
    assert.equal(await producer.createTopic(TOPIC, 1), 0);
    for (let i = 0; i < BATCHES; i++) {
      const records = Array.from({ length: PER_BATCH }, (_, j) => ({ key: 'k', value: value(i * PER_BATCH + j) }));
      const [answer] = await producer.produce(TOPIC, [{ partition: 0, batch: buildRecordBatch(records) }]);
      assert.equal(answer!.errorCode, 0);
      assert.equal(answer!.baseOffset, BigInt(i * PER_BATCH));
    }
    producer.close();
    if (stop === 'SIGKILL') await broker.kill();
    else assert.equal(await broker.stop(), 0);
    return broker.dataDir;
  }

  async function restart(dataDir: string): Promise<WireClient> {
    broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
    client = await WireClient.connect(broker.port);
    return client;
  }

  /** Offsets 0..end-1 read back with their values, the high watermark is `end`, and a new batch lands at `end`. */
  async function assertKeptUpTo(c: WireClient, end: number): Promise<void> {
    assert.equal(await c.listOffset(TOPIC, 0, -1n), BigInt(end));
    const records = await c.readAll(TOPIC, 0);
    assert.deepEqual(
      records.map((r) => [Number(r.offset), r.value?.toString()]),
      Array.from({ length: end }, (_, o) => [o, value(o)]),
    );
    const [answer] = await c.produce(TOPIC, [{ partition: 0, batch: buildRecordBatch([{ value: 'after' }]) }]);
    assert.equal(answer!.baseOffset, BigInt(end), 'the next record continues at the end of what was kept');
    const tail = await c.readAll(TOPIC, 0, BigInt(end));
    assert.deepEqual(
      tail.map((r) => [Number(r.offset), r.value?.toString()]),
      [[end, 'after']],
    );
  }

  for (const stop of ['SIGKILL', 'SIGTERM'] as const) {
    test(`a last segment cut in the middle of its last batch after ${stop} loses exactly that batch`, async () => {
      const dataDir = await written(stop);
      const segments = segmentsOf(dataDir);
      assert.ok(segments.length >= 3, `${segments.length} segments`);
      const last = segments[segments.length - 1]!;
      const victim = last.batches[last.batches.length - 1]!;
      const cutAt = victim.position + Math.floor(victim.size / 2);
      truncateSync(last.path, cutAt);

      const c = await restart(dataDir);
      const lines = logLines(broker!);
      if (stop === 'SIGTERM') {
        // The clean shutdown marker alone would have the broker trust the cut file.
        assert.ok(lines.some((l) => /changed after the clean shutdown/.test(l.msg) && l.file === last.path));
      }
      const cut = lines.find((l) => l.msg.startsWith('truncating'));
      assert.ok(cut, `no truncation logged:\n${broker!.output()}`);
      assert.deepEqual(
        [cut.file, cut.position, cut.droppedBytes],
        [last.path, victim.position, cutAt - victim.position],
      );
      await assertKeptUpTo(c, victim.baseOffset);
    });
  }

  test('a byte flipped in the last batch after a crash fails its CRC and drops that batch', async () => {
    const dataDir = await written('SIGKILL');
    const segments = segmentsOf(dataDir);
    const last = segments[segments.length - 1]!;
    const victim = last.batches[last.batches.length - 1]!;
    // A byte in the records, covered by the CRC (attributes..end); the batch's size and offsets stay valid.
    const at = victim.position + victim.size - 20;
    const fd = openSync(last.path, 'r+');
    const byte = Buffer.alloc(1);
    byte[0] = readFileSync(last.path)[at]! ^ 0xff;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);

    const c = await restart(dataDir);
    const cut = logLines(broker!).find((l) => l.msg.startsWith('truncating'));
    assert.ok(cut, `no truncation logged:\n${broker!.output()}`);
    assert.deepEqual([cut.file, cut.position, cut.droppedBytes], [last.path, victim.position, victim.size]);
    assert.match(cut.reason ?? '', /crc|checksum|corrupt/i);
    await assertKeptUpTo(c, victim.baseOffset);
  });

  for (const stop of ['SIGKILL', 'SIGTERM'] as const) {
    test(`deleted .index files are rebuilt after ${stop}, identical, and reads in the middle of segments work`, async () => {
      const dataDir = await written(stop);
      const segments = segmentsOf(dataDir);
      const sealed = segments[0]!;
      const active = segments[segments.length - 1]!;
      const sealedIndex = readFileSync(sealed.indexPath);
      assert.ok(sealedIndex.length >= 16, 'the sealed segment has index entries to rebuild');
      unlinkSync(sealed.indexPath);
      unlinkSync(active.indexPath);

      const c = await restart(dataDir);
      // Fetch from an offset inside every batch of the sealed segment: each answer starts at that batch.
      for (const b of sealed.batches) {
        const f = await c.fetch(TOPIC, 0, BigInt(b.baseOffset + 5), 1);
        assert.equal(f.errorCode, 0);
        const [first] = [...iterateBatches(f.records)];
        assert.equal(Number(first!.baseOffset), b.baseOffset, `fetch at ${b.baseOffset + 5}`);
      }
      assert.equal(await c.listOffset(TOPIC, 0, -1n), BigInt(BATCHES * PER_BATCH));
      assert.ok(
        logLines(broker!).some((l) => /index/i.test(`${l.msg} ${l.problem ?? ''}`) && l.file === sealed.path),
        `no rebuild logged for ${sealed.path}:\n${broker!.output()}`,
      );
      assert.ok(existsSync(sealed.indexPath) && existsSync(active.indexPath), 'both index files are back');
      assert.deepEqual(readFileSync(sealed.indexPath), sealedIndex, 'the rebuilt index equals the original');
      await assertKeptUpTo(c, BATCHES * PER_BATCH);
    });
  }
});
