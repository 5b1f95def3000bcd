/** Opening and creating many partitions: concurrently, with what can wait left for first use. */
import assert from 'node:assert/strict';
import { after, describe, it, test } from 'node:test';
import { CLEAN_SHUTDOWN_MARKER, parseCleanShutdown } from '../../../src/storage/checkpoint-files.js';
import { Coalescer, mapBounded } from '../../../src/storage/concurrency.js';
import { FileCache, readWholeFile, writeFileAtomically } from '../../../src/storage/file-cache.js';
import { MemoryFs } from '../../../src/storage/memory-fs.js';
import type { StorageFs } from '../../../src/storage/storage-fs.js';
import {
  baseOffsets,
  batch,
  ENGINES,
  memoryLogger,
  okAppend,
  okRead,
  patchFileVia,
  readFileVia,
  store,
  TestFs,
  TOPIC_ID,
} from './helpers.js';

const SEGMENT0 = '00000000000000000000';
const INDEX_FILES = /\.(index|timeindex)$/;

for (const engine of ENGINES) {
  describe(`start-up (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    function fresh() {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      return base;
    }

    async function reopen(fs: StorageFs, logDir: string, defaults = {}) {
      const spy = new TestFs(fs);
      const logger = memoryLogger();
      const s = store(spy, logDir, { logger, defaults });
      const found = await s.open();
      return { spy, logger, store: s, found };
    }

    it('opens a hundred partitions at once and keeps every one, in name order, with its offsets', async () => {
      const base = fresh();
      const first = store(base.fs, base.logDir);
      await first.open();
      const partitions = Array.from({ length: 100 }, (_, p) => p);
      const logs = await first.getOrCreateMany('wide', partitions, { topicId: TOPIC_ID });
      assert.deepEqual(
        logs.map((l) => l.partition),
        partitions,
      );
      for (const log of logs)
        for (let i = 0; i < log.partition % 3; i++) okAppend(await log.append(batch(2), { acks: -1 }));
      await first.close();

      const names = partitions.map((p) => `wide-${p}`).sort();
      const expected = (p: number) => BigInt(2 * (p % 3)) + (p === 42 ? 1n : 0n);
      // After a clean close (nothing scanned), then after a crash (no close: every partition scanned).
      for (const clean of [true, false]) {
        const r = await reopen(base.fs, base.logDir);
        assert.deepEqual(
          r.found.map((f) => `${f.topic}-${f.partition}`),
          names,
        );
        for (const f of r.found) {
          assert.equal(f.logEndOffset, expected(f.partition) - (clean && f.partition === 42 ? 1n : 0n));
          assert.equal(f.topicId, TOPIC_ID);
          assert.equal(f.recovered, !clean, `wide-${f.partition}`);
        }
        if (clean) {
          okAppend(await r.store.get('wide', 42)!.append(batch(1), { acks: -1 }));
          await r.store.close();
          // Reopened, then left open, as a crash would leave it.
          await reopen(base.fs, base.logDir);
        } else {
          await r.store.close();
        }
      }
    });

    it('an empty partition reopened after a clean close takes appends past its first index entries', async () => {
      const base = fresh();
      const first = store(base.fs, base.logDir);
      await first.open();
      await first.getOrCreate('empty', 0, { topicId: TOPIC_ID });
      await first.close();
      const r = await reopen(base.fs, base.logDir);
      const log = r.store.get('empty', 0)!;
      // Ten batches of about 1 KiB pass index.interval.bytes (4096) twice: the empty index files loaded
      // from disk must grow.
      for (let i = 0; i < 10; i++) okAppend(await log.append(batch(10, { valueBytes: 100 }), { acks: -1 }));
      await r.store.close();
      const again = await reopen(base.fs, base.logDir);
      assert.equal(again.found[0]!.recovered, false, 'the close was clean');
      assert.equal(again.store.get('empty', 0)!.logEndOffset, 100n);
      await again.store.close();
    });

    it('creating many partitions syncs the log dir a few times, not once per partition', async () => {
      const base = fresh();
      const spy = new TestFs(base.fs);
      const s = store(spy, base.logDir);
      await s.open();
      await s.getOrCreateMany(
        'made',
        Array.from({ length: 64 }, (_, p) => p),
        { topicId: TOPIC_ID },
      );
      const logDirSyncs = spy.calls.filter((c) => c.op === 'syncDir' && c.path === base.logDir).length;
      assert.ok(logDirSyncs >= 1 && logDirSyncs <= 16, `${logDirSyncs} syncs of the log dir`);
      assert.equal(spy.count('fdatasync', 'partition.metadata.tmp'), 64, 'each partition.metadata is durable');
      await s.close();
    });

    it('a new partition gets its index files at its first append, not before, and a crash then rebuilds them', async () => {
      const base = fresh();
      const s = store(base.fs, base.logDir, { defaults: { indexIntervalBytes: 100 } });
      await s.open();
      const log = await s.getOrCreate('lazy', 0, { topicId: TOPIC_ID });
      const dir = `${base.logDir}/lazy-0`;
      assert.deepEqual(
        (await base.fs.readdir(dir)).filter((n) => INDEX_FILES.test(n)),
        [],
      );
      for (let i = 0; i < 10; i++) okAppend(await log.append(batch(3), { acks: -1 }));
      assert.deepEqual((await base.fs.readdir(dir)).filter((n) => INDEX_FILES.test(n)).sort(), [
        `${SEGMENT0}.index`,
        `${SEGMENT0}.timeindex`,
      ]);
      // No close: the next open scans the active segment and rewrites its indexes.
      const r = await reopen(base.fs, base.logDir, { indexIntervalBytes: 100 });
      assert.equal(r.found[0]!.recovered, true);
      const again = r.store.get('lazy', 0)!;
      assert.deepEqual(baseOffsets(okRead(await again.read(16n, 100)).records), [15n]);
      const index = await readFileVia(base.fs, `${dir}/${SEGMENT0}.index`);
      assert.ok(index.length >= 8 && index.length % 8 === 0, `index of ${index.length} bytes`);
      await r.store.close();
    });

    it('an untouched partition closes with its index files made, and reopens without scanning', async () => {
      const base = fresh();
      const s = store(base.fs, base.logDir);
      await s.open();
      await s.getOrCreate('idle', 0, { topicId: TOPIC_ID });
      await s.close();
      const names = await base.fs.readdir(`${base.logDir}/idle-0`);
      assert.ok(names.includes(`${SEGMENT0}.index`) && names.includes(`${SEGMENT0}.timeindex`));
      const r = await reopen(base.fs, base.logDir);
      assert.equal(r.found[0]!.recovered, false);
      assert.equal(r.logger.lines.filter((l) => l.level === 'warn').length, 0);
      await r.store.close();
    });

    it('after a clean close, opens without reading log data or index files; the first append loads them', async () => {
      const base = fresh();
      const s = store(base.fs, base.logDir, { defaults: { indexIntervalBytes: 200 } });
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) okAppend(await log.append(batch(3, { timestamps: [t0 + i] }), { acks: -1 }));
      await s.close();

      const r = await reopen(base.fs, base.logDir, { indexIntervalBytes: 200 });
      assert.equal(r.found[0]!.recovered, false);
      assert.equal(r.spy.bytesRead('.log'), 0, 'no log data read');
      assert.equal(r.spy.calls.filter((c) => INDEX_FILES.test(c.path)).length, 0, 'index files untouched');
      assert.equal(r.spy.calls.filter((c) => c.path.endsWith('partition.metadata')).length, 0);
      const again = r.store.get('t', 0)!;
      assert.equal(again.topicId, TOPIC_ID);
      assert.deepEqual(
        again.leaderEpochEntries().map((e) => [e.epoch, e.startOffset]),
        [[0, 0n]],
      );
      assert.equal(okAppend(await again.append(batch(1), { acks: -1 })).baseOffset, 60n);
      assert.ok(
        r.spy.calls.some((c) => c.op === 'read' && c.path.endsWith('.index')),
        'the append loaded the index',
      );
      assert.deepEqual(baseOffsets(okRead(await again.read(31n, 100)).records), [30n]);
      assert.equal((await again.offsetForTimestamp(BigInt(t0 + 10)))?.offset, 30n);
      await r.store.close();
      const third = await reopen(base.fs, base.logDir, { indexIntervalBytes: 200 });
      assert.equal(third.store.get('t', 0)!.logEndOffset, 61n);
      await third.store.close();
    });

    it('finds a last batch overwritten after a clean close even when the file keeps its size', async () => {
      const base = fresh();
      const s = store(base.fs, base.logDir);
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      const sizes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const b = batch(3);
        sizes.push(b.length);
        okAppend(await log.append(b, { acks: -1 }));
      }
      await s.close();
      // A later clock tick than the close's last write, so the change shows in the modification time.
      await new Promise((resolve) => setTimeout(resolve, 25));
      const path = `${base.logDir}/t-0/${SEGMENT0}.log`;
      const last = sizes[0]! + sizes[1]!;
      await patchFileVia(base.fs, path, { at: last + 23, bytes: Buffer.from([0x7f]) }); // its lastOffsetDelta
      const r = await reopen(base.fs, base.logDir);
      assert.equal(r.found[0]!.recovered, true, 'the changed segment was checked and scanned');
      assert.equal(r.store.get('t', 0)!.logEndOffset, 6n);
      assert.ok(r.logger.lines.some((l) => /changed after the clean shutdown/.test(l.msg)));
      await r.store.close();
    });

    it('records each partition in the clean shutdown marker, and falls back to reading when it is unreadable', async () => {
      const base = fresh();
      const s = store(base.fs, base.logDir);
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      okAppend(await log.append(batch(3, { timestamps: [7000] }), { acks: -1 }));
      await s.close();
      const marker = `${base.logDir}/${CLEAN_SHUTDOWN_MARKER}`;
      const state = parseCleanShutdown((await readFileVia(base.fs, marker)).toString('utf8'));
      const entry = state.get('t-0');
      assert.ok(entry);
      assert.deepEqual(
        [entry.baseOffset, entry.nextOffset, entry.firstBatchTimestamp, entry.topicId],
        [0n, 3n, 7000n, TOPIC_ID],
      );
      assert.equal(entry.size, (await base.fs.stat(`${base.logDir}/t-0/${SEGMENT0}.log`)).size);

      await patchFileVia(base.fs, marker, { length: 0, bytes: Buffer.from('{"version":0,') });
      const r = await reopen(base.fs, base.logDir);
      assert.equal(r.found[0]!.recovered, false, 'still a clean shutdown');
      assert.ok(r.spy.bytesRead('.log') > 0, 'the tail was read and checked instead');
      assert.equal(r.found[0]!.topicId, TOPIC_ID);
      await r.store.close();
    });
  });
}

describe('bounded concurrency', () => {
  test('mapBounded keeps the order of results and never runs more than the bound at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapBounded(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (i) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, i % 3));
        running--;
        return i * 2;
      },
    );
    assert.deepEqual(
      results,
      Array.from({ length: 50 }, (_, i) => i * 2),
    );
    assert.equal(peak, 4);
  });

  test('mapBounded starts nothing new after a failure and throws the first one once the rest settled', async () => {
    const started: number[] = [];
    let settled = 0;
    await assert.rejects(
      mapBounded([0, 1, 2, 3, 4, 5, 6, 7], 2, async (i) => {
        started.push(i);
        await new Promise((resolve) => setTimeout(resolve, 2));
        settled++;
        if (i === 1) throw new Error('one failed');
      }),
      /one failed/,
    );
    assert.ok(started.length <= 4, `started ${started.join(',')}`);
    assert.equal(settled, started.length);
  });

  test('a Coalescer runs once for callers that arrive together, and again for those during a run', async () => {
    let runs = 0;
    let release: (() => void) | null = null;
    const c = new Coalescer(async () => {
      runs++;
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = c.run();
    const during = [c.run(), c.run(), c.run()];
    assert.equal(runs, 1);
    release!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(runs, 2, 'the callers that came during the first run share one more');
    release!();
    await Promise.all(during);
    assert.equal(runs, 2);
  });
});

test('small files larger than one read buffer are read whole', async () => {
  const fs = new MemoryFs();
  await fs.mkdir('/d');
  const cache = new FileCache(fs, 4);
  const data = Buffer.alloc(10_000, 'x');
  await writeFileAtomically(cache, '/d', '/d/big', data);
  assert.deepEqual(await readWholeFile(cache, '/d/big'), data);
  assert.equal((await readWholeFile(cache, '/d/big')).length, 10_000);
});
