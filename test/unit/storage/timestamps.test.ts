import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { MAX_TIMESTAMP_OFFSET } from '../../../src/records/batch-header.js';
import { hasValidCrc, restampCrc } from '../../../src/records/crc32c.js';
import { batch, ENGINES, okAppend, okRead, store, TOPIC_ID } from './helpers.js';

for (const engine of ENGINES) {
  describe(`timestamp lookups (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    /** Ten batches of 3 records; record j of batch i has timestamp 10_000 + i * 100 + j * 10. */
    async function setup() {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const s = store(base.fs, base.logDir, { defaults: { indexIntervalBytes: 150, segmentBytes: 600 } });
      await s.open();
      const log = await s.getOrCreate('ts', 0, { topicId: TOPIC_ID });
      for (let i = 0; i < 10; i++) {
        const t = 10_000 + i * 100;
        okAppend(await log.append(batch(3, { timestamps: [t, t + 10, t + 20] }), { acks: -1 }));
      }
      return { store: s, log };
    }

    it('finds the first offset whose timestamp is at or after the target: exact, between and after', async () => {
      const { store: s, log } = await setup();
      assert.ok(log.segments().length > 1, 'the lookups cross segments');
      assert.deepEqual(await log.offsetForTimestamp(10_510n), { offset: 16n, timestamp: 10_510n, leaderEpoch: 0 });
      assert.deepEqual(await log.offsetForTimestamp(10_515n), { offset: 17n, timestamp: 10_520n, leaderEpoch: 0 });
      assert.deepEqual(await log.offsetForTimestamp(10_521n), { offset: 18n, timestamp: 10_600n, leaderEpoch: 0 });
      assert.deepEqual(await log.offsetForTimestamp(0n), { offset: 0n, timestamp: 10_000n, leaderEpoch: 0 });
      assert.equal(await log.offsetForTimestamp(11_000n), null);
      await s.close();
    });

    it('skips records below the log start offset', async () => {
      const { store: s, log } = await setup();
      await log.deleteRecordsBefore(4n);
      assert.deepEqual(await log.offsetForTimestamp(0n), { offset: 4n, timestamp: 10_110n, leaderEpoch: 0 });
      await s.close();
    });

    it('names the record with the largest timestamp for ListOffsets -3', async () => {
      const { store: s, log } = await setup();
      assert.deepEqual(await log.maxTimestampOffset(), { offset: 29n, timestamp: 10_920n, leaderEpoch: 0 });
      okAppend(await log.append(batch(3, { timestamps: [50_000, 20_000, 50_000] }), { acks: -1 }));
      assert.deepEqual(await log.maxTimestampOffset(), { offset: 30n, timestamp: 50_000n, leaderEpoch: 0 });
      await s.close();
    });

    it('finds a batch whose producer left the header max timestamp unset, and stores it with the real one', async () => {
      const { store: s, log } = await setup();
      const unset = batch(3, { timestamps: [20_000, 20_030, 20_010] });
      unset.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
      restampCrc(unset, 0);
      okAppend(await log.append(unset, { acks: -1 }));
      assert.deepEqual(await log.offsetForTimestamp(20_020n), { offset: 31n, timestamp: 20_030n, leaderEpoch: 0 });
      assert.deepEqual(await log.maxTimestampOffset(), { offset: 31n, timestamp: 20_030n, leaderEpoch: 0 });
      const stored = okRead(await log.read(30n, 1 << 20)).records;
      assert.equal(stored.readBigInt64BE(MAX_TIMESTAMP_OFFSET), 20_030n);
      assert.ok(hasValidCrc(stored, 0), 'the CRC covers the rewritten header');
      await s.close();
    });

    it('answers ListOffsets v0: the log end offset first for latest, the log start for earliest', async () => {
      const { store: s, log } = await setup();
      const bases = log.segments().map((seg) => seg.baseOffset);
      assert.ok(bases.length > 1);
      assert.deepEqual(await log.legacyOffsetsBefore(-1n, 1), [30n]);
      assert.deepEqual(await log.legacyOffsetsBefore(-1n, 100), [30n, ...bases.reverse()]);
      assert.deepEqual(await log.legacyOffsetsBefore(-1n, 0), []);
      assert.deepEqual(await log.legacyOffsetsBefore(-2n, 5), [0n]);
      assert.deepEqual(await log.legacyOffsetsBefore(BigInt(Date.now() + 3_600_000), 2), [30n, bases[0]!]);
      assert.deepEqual(await log.legacyOffsetsBefore(0n, 5), [], 'every segment was modified after 1970');
      await log.deleteRecordsBefore(4n);
      assert.deepEqual(await log.legacyOffsetsBefore(-2n, 1), [4n]);
      await s.close();
    });

    it('answers ListOffsets v0 for an empty log with its log end offset', async () => {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const s = store(base.fs, base.logDir);
      await s.open();
      const log = await s.getOrCreate('empty', 0, { topicId: TOPIC_ID });
      assert.deepEqual(await log.legacyOffsetsBefore(-1n, 1), [0n]);
      assert.deepEqual(await log.legacyOffsetsBefore(-2n, 1), [0n]);
      await s.close();
    });
  });
}

describe('ListOffsets v0 by time (disk engine)', () => {
  it("names the base offsets of the segments last modified at or before the time, newest first, as Kafka 3.x's legacyFetchOffsetsBefore", async () => {
    const base = ENGINES.find((e) => e.name === 'disk')!.setup();
    try {
      const s = store(base.fs, base.logDir, { defaults: { segmentBytes: 250 } });
      await s.open();
      const log = await s.getOrCreate('mtime', 0, { topicId: TOPIC_ID });
      for (let i = 0; i < 10; i++) okAppend(await log.append(batch(3), { acks: -1 }));
      const segments = log.segments();
      assert.ok(segments.length >= 3);
      // Segment i was last modified at (i + 1) * 1000 s.
      for (const [i, seg] of segments.entries()) utimesSync(seg.path, (i + 1) * 1000, (i + 1) * 1000);
      const at = (seconds: number) => BigInt(seconds * 1000);
      assert.deepEqual(await log.legacyOffsetsBefore(at(2500), 10), [segments[1]!.baseOffset, segments[0]!.baseOffset]);
      assert.deepEqual(await log.legacyOffsetsBefore(at(2000), 1), [segments[1]!.baseOffset], 'at the time counts');
      assert.deepEqual(await log.legacyOffsetsBefore(at(999), 10), []);
      await s.close();
    } finally {
      base.cleanup();
    }
  });
});
