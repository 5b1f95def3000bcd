import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { batch, ENGINES, okAppend, store, TOPIC_ID } from './helpers.js';

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
  });
}
