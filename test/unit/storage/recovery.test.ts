import assert from 'node:assert/strict';
import { after, describe, it, test } from 'node:test';
import { createLogStore } from '../../../src/storage/log-store.js';
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

for (const engine of ENGINES) {
  describe(`recovery (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    /** A log with `batches` batches of 3 records in partition t-0; the store is left open (as by a crash). */
    async function written(batches: number, defaults = {}) {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const s = store(base.fs, base.logDir, { defaults });
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      const sizes: number[] = [];
      for (let i = 0; i < batches; i++) {
        const b = batch(3, { timestamps: [1000 + i] });
        sizes.push(b.length);
        okAppend(await log.append(b, { acks: -1 }));
      }
      return { fs: base.fs, logDir: base.logDir, dir: `${base.logDir}/t-0`, store: s, sizes };
    }

    async function reopen(fs: StorageFs, logDir: string, defaults = {}) {
      const spy = new TestFs(fs);
      const logger = memoryLogger();
      const s = store(spy, logDir, { logger, defaults });
      const found = await s.open();
      return { spy, logger, store: s, found, log: s.get('t', 0)! };
    }

    it('opens without reading log data after a clean close and continues the offsets', async () => {
      const w = await written(20, { indexIntervalBytes: 256 });
      await w.store.close();
      const r = await reopen(w.fs, w.logDir, { indexIntervalBytes: 256 });
      assert.deepEqual(
        r.found.map((f) => [f.topic, f.partition, f.recovered, f.logEndOffset, f.topicId]),
        [['t', 0, false, 60n, TOPIC_ID]],
      );
      // The clean shutdown marker records the active segment, so nothing of the log is read (see startup.test.ts).
      assert.equal(r.spy.bytesRead('.log'), 0, 'no log data read');
      assert.deepEqual(await r.spy.readdir(w.logDir).then((n) => n.includes('.kafka_cleanshutdown')), false);
      const next = okAppend(await r.log.append(batch(1), { acks: -1 }));
      assert.equal(next.baseOffset, 60n);
      assert.deepEqual(baseOffsets(okRead(await r.log.read(57n, 1 << 20)).records), [57n]);
      assert.deepEqual(baseOffsets(okRead(await r.log.read(60n, 1 << 20)).records), [60n]);
      await r.store.close();
    });

    it('writes the checkpoints and the clean shutdown marker in Kafka formats on close', async () => {
      const w = await written(2);
      await w.store.close();
      const text = async (name: string) => (await readFileVia(w.fs, `${w.logDir}/${name}`)).toString('utf8');
      assert.equal(await text('recovery-point-offset-checkpoint'), '0\n1\nt 0 6\n');
      assert.equal(await text('log-start-offset-checkpoint'), '0\n1\nt 0 0\n');
      assert.equal((await w.fs.stat(`${w.logDir}/.kafka_cleanshutdown`)).isFile, true);
      assert.equal(await text('t-0/leader-epoch-checkpoint'), '0\n1\n0 0\n');
      assert.equal(await text('t-0/partition.metadata'), 'version: 0\ntopic_id: ASNFZ4mrze8BI0VniavN7w\n');
    });

    it('scans the segments after the recovery point when the broker did not shut down cleanly', async () => {
      const w = await written(10);
      const r = await reopen(w.fs, w.logDir);
      assert.equal(r.found[0]!.recovered, true);
      assert.ok(r.spy.bytesRead('.log') >= w.sizes.reduce((a, b) => a + b, 0), 'the log was read whole');
      assert.equal(r.log.logEndOffset, 30n);
      assert.equal(r.log.highWatermark, 30n);
      assert.equal(okAppend(await r.log.append(batch(1), { acks: -1 })).baseOffset, 30n);
      await r.store.close();
    });

    /** Waits until the checkpoint that segment rolls schedule in the background names the active segment. */
    async function rollCheckpoint(w: Awaited<ReturnType<typeof written>>): Promise<void> {
      const segments = w.store.get('t', 0)!.segments();
      const expected = `t 0 ${segments[segments.length - 1]!.baseOffset}\n`;
      for (let i = 0; i < 400; i++) {
        const text = await readFileVia(w.fs, `${w.logDir}/recovery-point-offset-checkpoint`).catch(() => null);
        if (text?.toString().endsWith(expected)) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.fail(
        `the recovery point checkpoint did not reach the active segment (${expected.trim()}) after the rolls`,
      );
    }

    it('after a crash scans only the segment written since the last roll', async () => {
      const w = await written(12, { segmentBytes: 250 });
      await rollCheckpoint(w);
      const r = await reopen(w.fs, w.logDir, { segmentBytes: 250 });
      const segments = r.log.segments();
      assert.ok(segments.length >= 3, `${segments.length} segments`);
      assert.equal(r.found[0]!.recovered, true);
      // The active segment is scanned; sealed segments below the recovery point are not read at all.
      const active = segments[segments.length - 1]!;
      assert.ok(r.spy.bytesRead('.log') <= active.sizeInBytes + 2 * 61, `read ${r.spy.bytesRead('.log')} bytes`);
      assert.equal(r.log.logEndOffset, 36n);
      await r.store.close();
    });

    it('a second crash right after a recovery does not scan the recovered segments again', async () => {
      const w = await written(12, { segmentBytes: 250 });
      await rollCheckpoint(w);
      await w.fs.unlink(`${w.logDir}/recovery-point-offset-checkpoint`);
      const first = await reopen(w.fs, w.logDir, { segmentBytes: 250 });
      assert.ok(first.spy.bytesRead('.log') >= w.sizes.reduce((a, b) => a + b, 0), 'the whole log was scanned');
      const segments = first.log.segments();
      const active = segments[segments.length - 1]!;
      const second = await reopen(w.fs, w.logDir, { segmentBytes: 250 });
      assert.equal(second.found[0]!.recovered, true);
      assert.ok(
        second.spy.bytesRead('.log') <= active.sizeInBytes + 2 * 61,
        `read ${second.spy.bytesRead('.log')} bytes`,
      );
      assert.equal(second.log.logEndOffset, 36n);
      await second.store.close();
    });

    it('finds a tail cut while the broker was down after a clean close, and cuts it at the last whole batch', async () => {
      const w = await written(3);
      await w.store.close();
      const path = `${w.dir}/${SEGMENT0}.log`;
      const full = w.sizes[0]! + w.sizes[1]! + w.sizes[2]!;
      await patchFileVia(w.fs, path, { length: full - 10 });
      const r = await reopen(w.fs, w.logDir);
      assert.equal(r.found[0]!.recovered, true, 'the segment was scanned despite the clean shutdown marker');
      assert.equal(r.log.logEndOffset, 6n);
      assert.equal((await w.fs.stat(path)).size, w.sizes[0]! + w.sizes[1]!);
      assert.ok(r.logger.lines.some((l) => /changed after the clean shutdown/.test(l.msg)));
      // New appends follow the last whole batch, not the torn bytes.
      assert.equal(okAppend(await r.log.append(batch(1), { acks: -1 })).baseOffset, 6n);
      assert.deepEqual(baseOffsets(okRead(await r.log.read(0n, 10_000)).records), [0n, 3n]);
      assert.deepEqual(baseOffsets(okRead(await r.log.read(6n, 10_000)).records), [6n]);
      await r.store.close();
    });

    it('truncates a torn tail at the last whole batch on recovery and logs the cut', async () => {
      const w = await written(3);
      const path = `${w.dir}/${SEGMENT0}.log`;
      const full = w.sizes[0]! + w.sizes[1]! + w.sizes[2]!;
      await patchFileVia(w.fs, path, { length: full - 10 });
      const r = await reopen(w.fs, w.logDir);
      const kept = w.sizes[0]! + w.sizes[1]!;
      assert.equal((await w.fs.stat(path)).size, kept);
      assert.equal(r.log.logEndOffset, 6n);
      assert.equal(r.found[0]!.truncatedBytes, full - 10 - kept);
      const line = r.logger.lines.find((l) => l.level === 'warn' && 'droppedBytes' in l.obj);
      assert.ok(line, 'a warning names the cut');
      assert.deepEqual(
        { file: (line.obj as { file: string }).file, position: (line.obj as { position: number }).position },
        { file: path, position: kept },
      );
      assert.equal((line.obj as { droppedBytes: number }).droppedBytes, full - 10 - kept);
      assert.match(line.msg, new RegExp(`${SEGMENT0}\\.log at position ${kept}, dropping ${full - 10 - kept} bytes`));
      assert.equal(okAppend(await r.log.append(batch(1), { acks: -1 })).baseOffset, 6n);
      await r.store.close();
    });

    it('drops the last batch when one of its bytes was flipped', async () => {
      const w = await written(3);
      const path = `${w.dir}/${SEGMENT0}.log`;
      const last = w.sizes[0]! + w.sizes[1]!;
      const original = await readFileVia(w.fs, path);
      await patchFileVia(w.fs, path, { at: last + 70, bytes: Buffer.from([original[last + 70]! ^ 0x01]) });
      const r = await reopen(w.fs, w.logDir);
      assert.equal(r.log.logEndOffset, 6n);
      assert.equal((await w.fs.stat(path)).size, last);
      assert.ok(
        r.logger.lines.some((l) => l.level === 'warn' && /CRC/.test(String((l.obj as { reason?: string }).reason))),
      );
      await r.store.close();
    });

    it('deletes the segments that follow a corrupt one', async () => {
      const w = await written(6, { segmentBytes: 250 });
      const dirNames = await w.fs.readdir(w.dir);
      const logs = dirNames.filter((n) => n.endsWith('.log')).sort();
      assert.ok(logs.length >= 3);
      const firstPath = `${w.dir}/${logs[0]}`;
      const size = (await w.fs.stat(firstPath)).size;
      await patchFileVia(w.fs, firstPath, { at: size - 5, bytes: Buffer.from([0xde, 0xad]) });
      // The recovery point must precede the corrupt segment for it to be scanned: drop the checkpoint that
      // the segment rolls wrote (as a crash before the first roll's checkpoint would).
      await new Promise((resolve) => setImmediate(resolve)); // a scheduled checkpoint starts first
      await w.store.checkpoint();
      await w.fs.unlink(`${w.logDir}/recovery-point-offset-checkpoint`);
      const r = await reopen(w.fs, w.logDir, { segmentBytes: 250 });
      const remaining = (await w.fs.readdir(w.dir)).filter((n) => n.endsWith('.log'));
      assert.deepEqual(remaining, [logs[0]]);
      assert.equal(r.log.segments().length, 1);
      assert.ok(r.logger.lines.some((l) => /follows a corrupt segment/.test(l.msg)));
      await r.store.close();
    });

    it('rebuilds a missing offset index on open', async () => {
      const w = await written(40, { indexIntervalBytes: 200 });
      await w.store.close();
      const path = `${w.dir}/${SEGMENT0}.index`;
      const before = await readFileVia(w.fs, path);
      assert.ok(before.length > 0);
      await w.fs.unlink(path);
      const r = await reopen(w.fs, w.logDir, { indexIntervalBytes: 200 });
      assert.deepEqual(baseOffsets(okRead(await r.log.read(61n, 100)).records), [60n]);
      await r.store.close();
      assert.deepEqual(await readFileVia(w.fs, path), before);
    });

    it('rebuilds a garbage index of a sealed segment when it is first used', async () => {
      const w = await written(40, { indexIntervalBytes: 200, segmentBytes: 2000 });
      await w.store.close();
      const path = `${w.dir}/${SEGMENT0}.index`;
      const before = await readFileVia(w.fs, path);
      assert.ok(before.length >= 16);
      const garbage = Buffer.from(before);
      garbage.writeInt32BE(3, 8);
      garbage.writeInt32BE(0x7fff0000, 12);
      await patchFileVia(w.fs, path, { at: 0, bytes: garbage });
      const r = await reopen(w.fs, w.logDir, { indexIntervalBytes: 200, segmentBytes: 2000 });
      assert.deepEqual(baseOffsets(okRead(await r.log.read(13n, 100)).records), [12n]);
      assert.ok(r.logger.lines.some((l) => /rebuilding the index/.test(l.msg)));
      await r.store.close();
      assert.deepEqual(await readFileVia(w.fs, path), before);
    });

    it('rebuilds an index whose entries point beyond the log when the active segment is first used', async () => {
      const w = await written(30, { indexIntervalBytes: 200 });
      await w.store.close();
      const path = `${w.dir}/${SEGMENT0}.index`;
      const before = await readFileVia(w.fs, path);
      const extra = Buffer.alloc(8);
      extra.writeInt32BE(500, 0);
      extra.writeInt32BE(1 << 30, 4);
      await patchFileVia(w.fs, path, { at: before.length, bytes: extra });
      const r = await reopen(w.fs, w.logDir, { indexIntervalBytes: 200 });
      // The .log is as the close left it, so the open does not touch the indexes; the first read checks them.
      assert.ok(!r.logger.lines.some((l) => /rebuilding the index/.test(l.msg)));
      assert.deepEqual(baseOffsets(okRead(await r.log.read(88n, 100)).records), [87n]);
      assert.ok(r.logger.lines.some((l) => /rebuilding the index/.test(l.msg)));
      await r.store.close();
      assert.deepEqual(await readFileVia(w.fs, path), before);
    });
  });
}

test('opening many partitions logs its progress while it works', async () => {
  const fs = new MemoryFs();
  const first = createLogStore({ engine: 'memory', fs, logDirs: ['/progress'] });
  await first.open();
  for (let p = 0; p < 5; p++) await first.getOrCreate('many', p);
  // No close(): the next open is an unclean one.
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = {
    debug() {},
    info: (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg }),
    warn() {},
    error() {},
  };
  let clock = 0;
  const second = createLogStore({
    engine: 'memory',
    fs,
    logDirs: ['/progress'],
    logger,
    now: () => (clock += 600),
  });
  await second.open();
  assert.ok(lines.some((l) => l.msg === 'not shut down cleanly: checking partition logs' && l.obj.partitions === 5));
  const progress = lines.filter((l) => l.msg.startsWith('loading partition logs: '));
  assert.ok(progress.length >= 2, `progress lines: ${JSON.stringify(lines.map((l) => l.msg))}`);
  assert.ok(progress.every((l) => l.obj.of === 5));
  await second.close();
});
