import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PREALLOCATED_INDEX_BYTES } from '../../../src/storage/log-segment.js';
import { baseOffsets, batch, ENGINES, okAppend, okRead, readFileVia, store, TestFs, TOPIC_ID } from './helpers.js';

const NAME = /^\d{20}\.(log|index|timeindex)$/;

for (const engine of ENGINES) {
  describe(`segments (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    async function setup(defaults = {}, now?: () => number) {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const fs = new TestFs(base.fs);
      const s = store(fs, base.logDir, { defaults, ...(now ? { now } : {}) });
      await s.open();
      const log = await s.getOrCreate('events', 3, { topicId: TOPIC_ID });
      return { fs, store: s, log, dir: `${base.logDir}/events-3` };
    }

    it('rolls when the next append would exceed segment.bytes and names files by base offset', async () => {
      const size = batch(5).length;
      const { fs, store: s, log, dir } = await setup({ segmentBytes: size * 3 });
      for (let i = 0; i < 7; i++) okAppend(await log.append(batch(5), { acks: -1 }));
      const names = (await fs.readdir(dir)).filter((n) => NAME.test(n));
      assert.deepEqual(names.sort(), [
        '00000000000000000000.index',
        '00000000000000000000.log',
        '00000000000000000000.timeindex',
        '00000000000000000015.index',
        '00000000000000000015.log',
        '00000000000000000015.timeindex',
        '00000000000000000030.index',
        '00000000000000000030.log',
        '00000000000000000030.timeindex',
      ]);
      assert.deepEqual(
        log.segments().map((x) => [x.baseOffset, x.sizeInBytes]),
        [
          [0n, size * 3],
          [15n, size * 3],
          [30n, size],
        ],
      );
      // Reads cross segment boundaries one segment at a time.
      assert.deepEqual(baseOffsets(okRead(await log.read(12n, 1 << 20)).records), [10n]);
      assert.deepEqual(baseOffsets(okRead(await log.read(15n, 1 << 20)).records), [15n, 20n, 25n]);
      assert.equal((await fs.stat(`${dir}/00000000000000000030.index`)).size, PREALLOCATED_INDEX_BYTES);
      assert.equal((await fs.stat(`${dir}/00000000000000000000.index`)).size % 8, 0);
      await s.close();
      assert.equal((await fs.stat(`${dir}/00000000000000000030.index`)).size % 8, 0, 'trimmed on clean close');
      assert.ok((await fs.stat(`${dir}/00000000000000000030.index`)).size < PREALLOCATED_INDEX_BYTES);
    });

    it('writes an index entry per index.interval.bytes naming a batch last offset and its position', async () => {
      const size = batch(3).length;
      const { fs, store: s, log, dir } = await setup({ indexIntervalBytes: size * 2, segmentBytes: size * 20 });
      const timestamps = (i: number) => [1000 + i * 10, 1001 + i * 10, 1002 + i * 10];
      for (let i = 0; i < 30; i++) okAppend(await log.append(batch(3, { timestamps: timestamps(i) }), { acks: -1 }));
      await s.close();
      const index = await readFileVia(fs.inner, `${dir}/00000000000000000000.index`);
      const segmentLog = await readFileVia(fs.inner, `${dir}/00000000000000000000.log`);
      const entries = index.length / 8;
      // Kafka's rule: an entry once more than interval bytes were written since the last one (every third batch here).
      assert.equal(entries, 6);
      for (let i = 0; i < entries; i++) {
        const relative = index.readInt32BE(i * 8);
        const position = index.readInt32BE(i * 8 + 4);
        const batchLast = segmentLog.readBigInt64BE(position) + BigInt(segmentLog.readInt32BE(position + 23));
        assert.equal(BigInt(relative), batchLast);
        assert.equal(position % size, 0);
      }
      const timeIndex = await readFileVia(fs.inner, `${dir}/00000000000000000000.timeindex`);
      assert.equal(timeIndex.length % 12, 0);
      const timestampsSeen: bigint[] = [];
      for (let i = 0; i < timeIndex.length / 12; i++) timestampsSeen.push(timeIndex.readBigInt64BE(i * 12));
      assert.deepEqual(
        timestampsSeen,
        [...timestampsSeen].sort((a, b) => (a < b ? -1 : 1)),
      );
      assert.equal(timestampsSeen.at(-1), 1000n + 19n * 10n + 2n, 'the sealed segment ends with its largest timestamp');
    });

    it('rolls a segment older than segment.ms at the next append', async () => {
      let now = 1_000_000;
      const { store: s, log } = await setup({ segmentMs: 60_000 }, () => now);
      okAppend(await log.append(batch(1), { acks: -1 }));
      now += 30_000;
      okAppend(await log.append(batch(1), { acks: -1 }));
      assert.equal(log.segments().length, 1);
      now += 31_000;
      okAppend(await log.append(batch(1), { acks: -1 }));
      assert.deepEqual(
        log.segments().map((x) => x.baseOffset),
        [0n, 2n],
      );
      await s.close();
    });

    it('refuses a set of batches larger than a segment with RECORD_LIST_TOO_LARGE', async () => {
      const { store: s, log } = await setup({ segmentBytes: 200 });
      const result = await log.append(batch(5, { valueBytes: 100 }), { acks: -1 });
      assert.ok('errorCode' in result && result.errorCode === 'RECORD_LIST_TOO_LARGE');
      await s.close();
    });
  });
}
