import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isLogError } from '../../../src/storage/errors.js';
import { baseOffsets, batch, ENGINES, okAppend, okRead, store, TestFs, TOPIC_ID } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

for (const engine of ENGINES) {
  describe(`retention (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    /** Six segments of two batches each (3 records per batch); batch i carries timestamp `t0 + i * DAY`. */
    async function setup(defaults: object, t0: number) {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const size = batch(3).length;
      const s = store(base.fs, base.logDir, { defaults: { segmentBytes: size * 2, ...defaults }, now: () => t0 });
      await s.open();
      const log = await s.getOrCreate('r', 0, { topicId: TOPIC_ID });
      for (let i = 0; i < 12; i++) okAppend(await log.append(batch(3, { timestamps: [t0 + i * DAY] }), { acks: -1 }));
      return { fs: base.fs, logDir: base.logDir, store: s, log, size };
    }

    it('deletes non-active segments whose newest record is older than retention.ms and advances the log start offset', async () => {
      const t0 = 1_600_000_000_000;
      const { fs, logDir, store: s, log } = await setup({ retentionMs: 3 * DAY }, t0);
      assert.equal(log.segments().length, 6);
      // At t0 + 8 days the segments whose newest batch is older than t0 + 5 days go: batches 0..3 (two segments).
      const report = await s.applyRetention(t0 + 8 * DAY);
      assert.equal(report.deletedSegments, 2);
      assert.equal(log.logStartOffset, 12n);
      assert.deepEqual(
        log.segments().map((x) => x.baseOffset),
        [12n, 18n, 24n, 30n],
      );
      const names = await fs.readdir(`${logDir}/r-0`);
      assert.ok(!names.some((n) => n.startsWith('00000000000000000000') || n.startsWith('00000000000000000006')));
      assert.ok(!names.some((n) => n.endsWith('.deleted')));
      const below = await log.read(5n, 1000);
      assert.ok(isLogError(below) && below.errorCode === 'OFFSET_OUT_OF_RANGE');
      assert.deepEqual(baseOffsets(okRead(await log.read(12n, 1)).records), [12n]);
      // Far in the future everything but the active segment goes.
      await s.applyRetention(t0 + 100 * DAY);
      assert.deepEqual(
        log.segments().map((x) => x.baseOffset),
        [30n],
      );
      await s.close();
    });

    it('checks old segments after a restart by reading one time index entry each, not their whole indexes', async () => {
      const t0 = 1_600_000_000_000;
      const { fs, logDir, store: s } = await setup({ retentionMs: 3 * DAY }, t0);
      await s.close();
      const spy = new TestFs(fs);
      const again = store(spy, logDir, { defaults: { retentionMs: 3 * DAY } });
      await again.open();
      spy.calls = [];
      const report = await again.applyRetention(t0 + 8 * DAY);
      assert.equal(report.deletedSegments, 2);
      assert.equal(spy.bytesRead('.index'), 0);
      assert.equal(spy.bytesRead('.timeindex'), 3 * 12, 'two expired segments and the first one kept');
      assert.equal(spy.bytesRead('.log'), 0);
      await again.close();
    });

    it('deletes the oldest segments while the log exceeds retention.bytes', async () => {
      const t0 = Date.now();
      const { store: s, log, size } = await setup({ retentionBytes: 0, retentionMs: -1 }, t0);
      const report = await s.applyRetention(t0);
      assert.equal(report.deletedSegments, 5);
      assert.equal(log.logStartOffset, 30n);
      assert.equal(log.sizeInBytes, size * 2);
      await s.close();
    });

    it('keeps segments under retention.bytes and ignores time with retention.ms=-1', async () => {
      const t0 = 1_000;
      const { store: s, log } = await setup({ retentionBytes: batch(3).length * 7, retentionMs: -1 }, t0);
      const report = await s.applyRetention(t0 + 1000 * DAY);
      // 12 batches, 7 allowed: whole segments of 2 go while the rest still exceeds the limit.
      assert.equal(report.deletedSegments, 2);
      assert.equal(log.logStartOffset, 12n);
      await s.close();
    });

    it('moves the log start offset with deleteRecordsBefore and deletes the segments wholly below it', async () => {
      const { store: s, log, logDir, fs } = await setup({ retentionMs: -1 }, Date.now());
      const result = await log.deleteRecordsBefore(14n);
      assert.deepEqual(result, { lowWatermark: 14n });
      assert.deepEqual(
        log.segments().map((x) => x.baseOffset),
        [12n, 18n, 24n, 30n],
      );
      const below = await log.read(13n, 1000);
      assert.ok(isLogError(below) && below.errorCode === 'OFFSET_OUT_OF_RANGE');
      assert.deepEqual(
        baseOffsets(okRead(await log.read(14n, 1)).records),
        [12n],
        'the batch holding 14 is served whole',
      );
      const tooFar = await log.deleteRecordsBefore(99n);
      assert.ok(isLogError(tooFar) && tooFar.errorCode === 'OFFSET_OUT_OF_RANGE');
      await s.close();
      // The log start offset inside a segment survives a restart through log-start-offset-checkpoint.
      const again = store(fs, logDir);
      await again.open();
      assert.equal(again.get('r', 0)!.logStartOffset, 14n);
      await again.close();
    });

    it('deletes a partition by renaming its directory and removing it', async () => {
      const { store: s, logDir, fs } = await setup({}, Date.now());
      assert.equal(await s.delete('r', 0), true);
      assert.equal(s.get('r', 0), undefined);
      assert.deepEqual(
        (await fs.readdir(logDir)).filter((n) => n.startsWith('r-')),
        [],
      );
      await s.close();
    });
  });
}
