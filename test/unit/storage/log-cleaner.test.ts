import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COMPRESSION_CODEC_MASK,
  CompressionType,
  DELETE_HORIZON_FLAG_MASK,
} from '../../../src/records/batch-header.js';
import { buildRecordBatch, buildRecordBatchAsync } from '../../../src/records/builder.js';
import { iterateRecordsAsync } from '../../../src/records/iterate.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { createLogStore, type LogStore } from '../../../src/storage/log-store.js';
import { MemoryFs } from '../../../src/storage/memory-fs.js';
import { OffsetMap } from '../../../src/storage/offset-map.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import type { StorageFs } from '../../../src/storage/storage-fs.js';
import { memoryLogger, okAppend, okRead, TestFs } from './helpers.js';

const DAY = 86_400_000;
const COMPACTED: Partial<LogConfig> = { cleanupPolicy: ['compact'], segmentBytes: 2048 };

function openStore(fs: StorageFs, clock: { now: number }, cleaner: Record<string, unknown> = {}): LogStore {
  return createLogStore({
    engine: 'disk',
    logDirs: ['/data'],
    fs,
    now: () => clock.now,
    logger: memoryLogger(),
    cleaner: { enable: false, inline: true, ...cleaner },
  });
}

interface Stored {
  offset: bigint;
  key: string | null;
  value: string | null;
  codec: number;
  horizon: boolean;
}

/** Every record of the log, in offset order, with its batch's codec and delete horizon flag. */
async function readAll(log: PartitionLog): Promise<Stored[]> {
  const out: Stored[] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const { records } = okRead(await log.read(offset, 1 << 20));
    if (records.length === 0) break;
    for (let pos = 0; pos < records.length; ) {
      const size = records.readInt32BE(pos + 8) + 12;
      const attributes = records.readInt16BE(pos + 21);
      const last = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23));
      for (const r of await iterateRecordsAsync(records.subarray(pos, pos + size))) {
        if (r.offset < offset) continue;
        out.push({
          offset: r.offset,
          key: r.key?.toString() ?? null,
          value: r.value?.toString() ?? null,
          codec: attributes & COMPRESSION_CODEC_MASK,
          horizon: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0,
        });
      }
      offset = last + 1n;
      pos += size;
    }
  }
  return out;
}

/** The last value written to each key (null for a tombstone), as a consumer of the whole log would see it. */
function lastValues(records: Array<{ key: string | null; value: string | null }>): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const r of records) if (r.key !== null) map.set(r.key, r.value);
  return map;
}

/** Appends `updates` single-record batches over `keys` keys, values naming their offset; some tombstones. */
async function writeUpdates(log: PartitionLog, updates: number, keys: number, tombstoneKeys: number[] = []) {
  const written: Array<{ key: string; value: string | null }> = [];
  for (let i = 0; i < updates; i++) {
    const key = `k${i % keys}`;
    const offset = log.logEndOffset;
    const tombstone = i >= updates - keys && tombstoneKeys.includes(i % keys);
    const value = tombstone ? null : `v${offset}`;
    okAppend(await log.append(buildRecordBatch([{ key, value, timestamp: 1000 + i }]), { acks: -1 }));
    written.push({ key, value });
  }
  return written;
}

describe('log cleaner', () => {
  it('keeps exactly the last record of each key, at the offset it was written at', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: COMPACTED });
    const written = await writeUpdates(log, 400, 10);
    const before = log.sizeInBytes;
    assert.ok(log.segments().length > 5, 'the updates span several segments');

    const cleaned = await store.cleaner.cleanOnce({ all: true });
    assert.equal(cleaned.length, 1);
    const records = await readAll(log);
    assert.deepEqual(lastValues(records), lastValues(written));
    // Every value names the offset it was appended at: cleaning moved no record to another offset.
    for (const r of records) assert.equal(r.value, `v${r.offset}`);
    const activeBase = log.cleanerView().activeBaseOffset;
    const cleanedKeys = records.filter((r) => r.offset < activeBase).map((r) => r.key);
    assert.equal(new Set(cleanedKeys).size, cleanedKeys.length, 'one record per key below the active segment');
    assert.ok(log.sizeInBytes < before / 4, `${log.sizeInBytes} bytes left of ${before}`);
    assert.equal(log.logEndOffset, 400n);
    assert.equal(store.cleaner.firstDirtyOffset('t', 0), activeBase);
    assert.ok(store.cleaner.stats.bytesReclaimed > 0);
    await store.close();
  });

  it('leaves a log alone below its dirty ratio, and cleans it once the ratio is reached', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, minCleanableDirtyRatio: 0.5 } });
    await writeUpdates(log, 200, 100);
    assert.equal((await store.cleaner.cleanOnce()).length, 1, 'a log never cleaned is all dirty');
    await writeUpdates(log, 40, 100);
    assert.equal((await store.cleaner.cleanOnce()).length, 0, 'a little new data is below the ratio');
    assert.ok(store.cleaner.stats.dirtyBytes > 0, 'the backlog is measured');
    await writeUpdates(log, 300, 100);
    assert.equal((await store.cleaner.cleanOnce()).length, 1);
    await store.close();
  });

  it('leaves records younger than min.compaction.lag.ms alone', async () => {
    const clock = { now: 1_000_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, minCompactionLagMs: 60_000 } });
    for (let i = 0; i < 200; i++) {
      const batch = buildRecordBatch([{ key: `k${i % 10}`, value: `v${log.logEndOffset}`, timestamp: clock.now }]);
      okAppend(await log.append(batch, { acks: -1 }));
    }
    assert.deepEqual(await store.cleaner.cleanOnce({ all: true }), [], 'every segment is younger than the lag');
    clock.now += 60_001;
    assert.equal((await store.cleaner.cleanOnce({ all: true })).length, 1);
    await store.close();
  });

  it('cleans a log below its dirty ratio once a dirty record is older than max.compaction.lag.ms', async () => {
    const clock = { now: 10_000_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const config = { ...COMPACTED, minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 3_600_000 };
    const log = await store.getOrCreate('t', 0, { config });
    await writeUpdates(log, 200, 100);
    await store.cleaner.cleanOnce({ all: true });
    await writeUpdates(log, 60, 100); // timestamps around 1000 ms: long before now minus an hour
    assert.equal((await store.cleaner.cleanOnce()).length, 1, 'overdue');
    log.updateConfig({ ...log.config, maxCompactionLagMs: Number.MAX_SAFE_INTEGER });
    await writeUpdates(log, 60, 100);
    assert.equal((await store.cleaner.cleanOnce()).length, 0, 'without the lag, the ratio decides');
    await store.close();
  });

  it('keeps tombstones until delete.retention.ms after their first cleaning, then removes them', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, deleteRetentionMs: DAY } });
    await writeUpdates(log, 300, 10);
    await writeUpdatesWithKeys(log, ['gone-a', 'gone-b', 'stays'], [null, null, 'x']);
    await writeUpdates(log, 40, 5); // moves them out of the active segment

    await store.cleaner.cleanOnce({ all: true });
    let records = await readAll(log);
    const tombstones = records.filter((r) => r.key === 'gone-a' || r.key === 'gone-b');
    assert.equal(tombstones.length, 2, 'tombstones stay at the first cleaning');
    assert.ok(
      tombstones.every((t) => t.value === null && t.horizon),
      'their batches carry a delete horizon',
    );

    clock.now += DAY + 1;
    await writeUpdates(log, 40, 5);
    await store.cleaner.cleanOnce({ all: true });
    records = await readAll(log);
    assert.deepEqual(
      records.filter((r) => r.key?.startsWith('gone')),
      [],
      'tombstones are gone once the horizon passed',
    );
    const stays = records.find((r) => r.key === 'stays');
    assert.equal(stays?.value, `v${stays?.offset}`);
    await store.close();
  });

  it('rewrites compressed batches with their own codec', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, segmentBytes: 4096 } });
    const codecs = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];
    const codecAt = new Map<bigint, number>();
    const written: Array<{ key: string; value: string }> = [];
    for (let round = 0; round < 40; round++) {
      const codec = codecs[round % codecs.length]!;
      const records = Array.from({ length: 5 }, (_, i) => ({
        key: `k${(round * 5 + i) % 13}`,
        value: `r${round}-${i}`,
      }));
      const result = okAppend(
        await log.append(await buildRecordBatchAsync(records, { compression: codec }), { acks: -1 }),
      );
      for (let o = result.baseOffset; o <= result.lastOffset; o++) codecAt.set(o, codec);
      written.push(...records);
    }
    await store.cleaner.cleanOnce({ all: true });
    const records = await readAll(log);
    assert.deepEqual(lastValues(records), lastValues(written));
    assert.ok(records.length < written.length);
    for (const r of records) assert.equal(r.codec, codecAt.get(r.offset), `codec of offset ${r.offset}`);
    await store.close();
  });

  it('cleans in several passes when the offset map holds fewer keys than the log has', async () => {
    const clock = { now: 1_000_000 };
    // 20 slots at load factor 0.9: 18 keys a pass, for 50 keys.
    const store = openStore(new MemoryFs(), clock, { dedupeBufferSize: 24 * 20 });
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: COMPACTED });
    const written = await writeUpdates(log, 300, 50);
    const ends: bigint[] = [];
    for (let pass = 0; pass < 20; pass++) {
      const cleaned = await store.cleaner.cleanOnce({ all: true });
      if (cleaned.length === 0) break;
      ends.push(cleaned[0]!.endOffset);
    }
    assert.ok(ends.length > 1, `${ends.length} passes`);
    assert.deepEqual(lastValues(await readAll(log)), lastValues(written));
    await store.close();
  });

  it('loses nothing when a crash interrupts cleaning before the swap', async () => {
    const base = new MemoryFs();
    const fs = new TestFs(base);
    const clock = { now: 1_000_000 };
    let store = openStore(fs, clock);
    await store.open();
    let log = await store.getOrCreate('t', 0, { config: COMPACTED });
    const written = await writeUpdates(log, 300, 10);
    const original = await readAll(log);
    // The `.cleaned` files can neither be renamed nor removed: what a crash right after writing them leaves.
    fs.failWhen = (call) =>
      call.path.includes('.cleaned') && (call.op === 'rename' || call.op === 'unlink') ? 'EIO' : null;
    await assert.rejects(store.cleaner.cleanOnce({ all: true }));
    assert.ok((await base.readdir('/data/t-0')).some((n) => n.endsWith('.log.cleaned')));
    fs.failWhen = null;

    store = openStore(fs, clock); // the old store is abandoned, as by a crash
    await store.open();
    log = store.get('t', 0)!;
    assert.ok(!(await base.readdir('/data/t-0')).some((n) => n.includes('.cleaned')));
    assert.deepEqual(await readAll(log), original);
    assert.deepEqual(lastValues(original), lastValues(written));
    await store.close();
  });

  it('completes a swap interrupted by a crash at the next open, losing nothing', async () => {
    const base = new MemoryFs();
    const fs = new TestFs(base);
    const clock = { now: 1_000_000 };
    let store = openStore(fs, clock);
    await store.open();
    let log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, segmentBytes: 1024 } });
    const written = await writeUpdates(log, 300, 10);
    const segmentsBefore = log.segments().map((s) => s.baseOffset);
    // Groups of segments are bounded by segment.bytes: a larger one now makes all old segments one group.
    log.updateConfig({ ...log.config, segmentBytes: 1 << 20 });
    // The second old segment of the group cannot be deleted: the swap stops past its commit point.
    const second = `${segmentsBefore[1]!.toString().padStart(20, '0')}.log`;
    fs.failWhen = (call) => (call.op === 'rename' && call.path.endsWith(second) ? 'EIO' : null);
    await store.cleaner.cleanOnce({ all: true });
    fs.failWhen = null;
    const names = await base.readdir('/data/t-0');
    assert.ok(
      names.some((n) => n.endsWith('.log.swap')),
      names.join(' '),
    );
    const cleaned = await readAll(log);
    assert.deepEqual(lastValues(cleaned), lastValues(written), 'the log reads right with its swap unfinished');

    store = openStore(fs, clock);
    await store.open();
    log = store.get('t', 0)!;
    const after = await base.readdir('/data/t-0');
    assert.ok(!after.some((n) => n.endsWith('.swap')), after.join(' '));
    assert.ok(!after.includes(second), 'the old segment in the swap range is gone');
    assert.deepEqual(await readAll(log), cleaned);
    await store.close();
  });

  it('reads running during cleanings always return the batches they asked for', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock);
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: { ...COMPACTED, segmentBytes: 1024 } });
    const written = await writeUpdates(log, 400, 10);
    let reading = true;
    const reader = (async () => {
      let reads = 0;
      while (reading) {
        for (let offset = 0n; offset < 400n; offset += 37n) {
          const { records } = okRead(await log.read(offset, 512));
          if (records.length === 0) continue;
          const last = records.readBigInt64BE(0) + BigInt(records.readInt32BE(23));
          assert.ok(last >= offset, `a read at ${offset} got a batch ending at ${last}`);
          for (const r of await iterateRecordsAsync(records)) assert.equal(r.value?.toString(), `v${r.offset}`);
          reads++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      return reads;
    })();
    await store.cleaner.cleanOnce({ all: true });
    const more = await writeUpdates(log, 200, 10);
    await store.cleaner.cleanOnce({ all: true });
    reading = false;
    assert.ok((await reader) > 0);
    assert.deepEqual(lastValues(await readAll(log)), lastValues([...written, ...more]));
    await store.close();
  });

  it('cleans on its own every log.cleaner.backoff.ms, in its worker thread', async () => {
    const clock = { now: 1_000_000 };
    const store = openStore(new MemoryFs(), clock, { enable: true, inline: false, backoffMs: 20 });
    await store.open();
    const log = await store.getOrCreate('t', 0, { config: COMPACTED });
    const written = await writeUpdates(log, 300, 10);
    const deadline = Date.now() + 10_000;
    while (store.cleaner.stats.runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(store.cleaner.stats.runs > 0, 'the periodic cleaner ran');
    assert.deepEqual(lastValues(await readAll(log)), lastValues(written));
    await store.close();
  });

  it('a throttled cleaning gives up at shutdown, leaving the log whole', async () => {
    const fs = new MemoryFs();
    const clock = { now: 1_000_000 };
    // About 30 KB to read at 20 KB/s: the cleaning is still running when the store closes.
    let store = openStore(fs, clock, { ioMaxBytesPerSecond: 20_000, ioBufferSize: 2048 });
    await store.open();
    let log = await store.getOrCreate('t', 0, { config: COMPACTED });
    await writeUpdates(log, 400, 10);
    const original = await readAll(log);
    const cleaning = store.cleaner.cleanOnce({ all: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await store.close();
    assert.ok(Date.now() - started < 1500, `close took ${Date.now() - started} ms`);
    assert.deepEqual(await cleaning, []);
    store = openStore(fs, clock);
    await store.open();
    log = store.get('t', 0)!;
    assert.deepEqual(await readAll(log), original);
    assert.ok(!(await fs.readdir('/data')).includes('cleaner-offset-checkpoint'), 'no cleaning was recorded');
    await store.close();
  });

  it('the offset map keeps the latest offset of each key', () => {
    const map = new OffsetMap(24 * 8);
    map.put(Buffer.from('a'), 5n);
    map.put(Buffer.from('b'), 6n);
    map.put(Buffer.from('a'), 9n);
    assert.equal(map.get(Buffer.from('a')), 9n);
    assert.equal(map.get(Buffer.from('b')), 6n);
    assert.equal(map.get(Buffer.from('c')), -1n);
    assert.equal(map.size, 2);
    assert.equal(map.latestOffset, 9n);
  });
});

async function writeUpdatesWithKeys(log: PartitionLog, keys: string[], values: Array<string | null>): Promise<void> {
  for (let i = 0; i < keys.length; i++) {
    const offset = log.logEndOffset;
    const value = values[i] === null ? null : `v${offset}`;
    okAppend(await log.append(buildRecordBatch([{ key: keys[i]!, value }]), { acks: -1 }));
  }
}
