import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PARTITION_LEADER_EPOCH_OFFSET, TIMESTAMP_TYPE_MASK } from '../../../src/records/batch-header.js';
import { isLogError } from '../../../src/storage/errors.js';
import type { AppendResult } from '../../../src/storage/partition-log.js';
import {
  baseOffsets,
  batch,
  ENGINES,
  okAppend,
  okRead,
  readFileVia,
  store,
  TestFs,
  TOPIC_ID,
  until,
} from './helpers.js';

for (const engine of ENGINES) {
  describe(`partition log (${engine.name} engine)`, () => {
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
      const log = await s.getOrCreate('orders', 0, { topicId: TOPIC_ID });
      return { fs, store: s, log, logDir: base.logDir };
    }

    it('assigns dense offsets and patches base offsets and the leader epoch into the stored batches', async () => {
      const { log, store: s } = await setup();
      const a = okAppend(await log.append(batch(3), { acks: -1, leaderEpoch: 7 }));
      const b = okAppend(await log.append(batch(2), { acks: -1, leaderEpoch: 7 }));
      const c = okAppend(await log.append(batch(1), { acks: -1, leaderEpoch: 7 }));
      assert.deepEqual(
        [a, b, c].map((r) => [r.baseOffset, r.lastOffset]),
        [
          [0n, 2n],
          [3n, 4n],
          [5n, 5n],
        ],
      );
      assert.equal(log.logEndOffset, 6n);
      assert.equal(log.highWatermark, 6n);
      const read = okRead(await log.read(0n, 1 << 20));
      assert.deepEqual(baseOffsets(read.records), [0n, 3n, 5n]);
      assert.equal(read.records.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), 7);
      assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 7, startOffset: 0n }]);
      await s.close();
    });

    it('gives concurrent appends increasing offsets in call order and stores them in that order', async () => {
      const { log, store: s } = await setup();
      const pending: Array<Promise<unknown>> = [];
      for (let i = 0; i < 50; i++) pending.push(log.append(batch((i % 3) + 1), { acks: i % 2 === 0 ? -1 : 1 }));
      const results = (await Promise.all(pending)).map((r) => okAppend(r as AppendResult));
      for (let i = 1; i < results.length; i++) assert.equal(results[i]!.baseOffset, results[i - 1]!.lastOffset + 1n);
      await log.flush();
      const read = okRead(await log.read(0n, 1 << 20));
      assert.deepEqual(
        baseOffsets(read.records),
        results.map((r) => r.baseOffset),
      );
      await s.close();
    });

    it('reads from an offset inside a batch starting at that batch, and never past the high watermark', async () => {
      const { log, store: s } = await setup();
      for (let i = 0; i < 5; i++) okAppend(await log.append(batch(4), { acks: -1 }));
      const read = okRead(await log.read(6n, 1 << 20));
      assert.deepEqual(baseOffsets(read.records), [4n, 8n, 12n, 16n]);
      assert.equal(read.highWatermark, 20n);
      const capped = okRead(await log.read(6n, 1 << 20, { maxOffset: 12n }));
      assert.deepEqual(baseOffsets(capped.records), [4n, 8n]);
      const atEnd = okRead(await log.read(20n, 1 << 20));
      assert.equal(atEnd.records.length, 0);
      await s.close();
    });

    it('honours maxBytes with whole batches but returns one batch bigger than maxBytes', async () => {
      const { log, store: s } = await setup();
      const size = batch(2).length;
      for (let i = 0; i < 4; i++) okAppend(await log.append(batch(2), { acks: -1 }));
      const two = okRead(await log.read(0n, size * 2 + size - 1));
      assert.deepEqual(baseOffsets(two.records), [0n, 2n]);
      const oversized = okRead(await log.read(2n, 10));
      assert.deepEqual(baseOffsets(oversized.records), [2n]);
      const strict = okRead(await log.read(2n, 10, { minOneBatch: false }));
      assert.equal(strict.records.length, 0);
      await s.close();
    });

    it('resolves acks=all only once its write is durable, and one durable write covers every append that came during the previous one', async () => {
      const { log, fs, store: s } = await setup();
      fs.holdFsync();
      const done: boolean[] = [];
      const track = (i: number, p: Promise<unknown>) => p.then(() => (done[i] = true));
      const first = track(0, log.append(batch(1), { acks: -1 }));
      await until(() => fs.heldFsyncs === 1, 'the first durable write');
      const rest = [1, 2, 3].map((i) => track(i, log.append(batch(2), { acks: -1 })));
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(done, [], 'nothing is acknowledged before it is durable');
      assert.equal(log.highWatermark, 0n);
      const syncsBefore = fs.syncs().length;

      fs.releaseHeldFsyncs();
      await first;
      assert.equal(log.highWatermark, 1n);
      await until(() => fs.heldFsyncs === 1, 'the second durable write');
      assert.equal(done.filter(Boolean).length, 1, 'the later appends wait for the next durable write');

      fs.releaseFsync();
      await Promise.all(rest);
      assert.equal(log.highWatermark, 7n);
      const after = fs.syncs().slice(syncsBefore);
      assert.equal(after.length, 1, 'one more durable write covered the three appends');
      assert.equal(after[0]!.length, 3 * batch(2).length);
      assert.equal(fs.count('fdatasync', '.log'), 0, 'no separate fsync was needed');
      await s.close();
    });

    it('after acks=1 data not yet fsynced, acks=all waits for an fdatasync covering both (group commit)', async () => {
      const { log, fs, store: s } = await setup();
      fs.holdFsync();
      okAppend(await log.append(batch(1), { acks: 1 }));
      let acked = false;
      const all = log.append(batch(2), { acks: -1 }).then((r) => {
        acked = true;
        return r;
      });
      await until(() => fs.heldFsyncs === 1, 'an fdatasync');
      assert.equal(fs.calls.filter((c) => c.durable).length, 0, 'the acks=all write was not a durable one');
      assert.equal(acked, false);
      assert.equal(log.highWatermark, 0n, 'the high watermark waits for the fsync');
      fs.releaseFsync();
      assert.equal(okAppend(await all).baseOffset, 1n);
      assert.equal(log.highWatermark, 3n);
      await s.close();
    });

    it('fsyncs acks=1 data a few milliseconds after its write, one fsync for many appends', async () => {
      const { log, fs, store: s } = await setup();
      okAppend(await log.append(batch(1), { acks: 1 }));
      assert.equal(fs.count('fdatasync', '.log'), 0, 'no fsync starts as soon as the write is done');
      assert.equal(log.highWatermark, 0n);
      await until(() => log.highWatermark === 1n, 'the coalesced fsync');
      assert.equal(fs.count('fdatasync', '.log'), 1);
      const appends = Array.from({ length: 20 }, () => log.append(batch(1), { acks: 1 }));
      for (const a of appends) okAppend(await a);
      await until(() => log.highWatermark === 21n, 'the coalesced fsync');
      const fsyncs = fs.count('fdatasync', '.log') - 1;
      assert.ok(fsyncs <= 5, `${fsyncs} fsyncs for 20 appends`);
      assert.equal(log.flushedOffset, 21n);
      await s.close();
    });

    it('resolves acks=1 once written, while the high watermark waits for the fsync', async () => {
      const { log, fs, store: s } = await setup();
      fs.holdFsync();
      const result = okAppend(await log.append(batch(3), { acks: 1 }));
      assert.equal(result.lastOffset, 2n);
      assert.equal(log.highWatermark, 0n);
      assert.equal(okRead(await log.read(0n, 1 << 20)).records.length, 0, 'undurable data is not served');
      const woken = new Promise<void>((resolve) => {
        const stop = log.watch(() => {
          stop();
          resolve();
        });
      });
      fs.releaseFsync();
      await woken;
      assert.equal(log.highWatermark, 3n);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n]);
      await s.close();
    });

    it('with flush.messages set, acknowledges acks=all after the write and fsyncs every N messages', async () => {
      const { log, fs, store: s } = await setup({ flushMessages: 3 });
      okAppend(await log.append(batch(1), { acks: -1 }));
      assert.equal(log.highWatermark, 1n, 'the high watermark follows the written data');
      assert.equal(fs.count('fdatasync', '.log'), 0);
      okAppend(await log.append(batch(2), { acks: -1 }));
      await until(() => log.flushedOffset === 3n, 'the fsync after three messages');
      assert.equal(fs.count('fdatasync', '.log'), 1);
      await s.close();
    });

    it('stamps LogAppendTime batches with the broker time and reports it', async () => {
      const { log, store: s } = await setup({ messageTimestampType: 'LogAppendTime' }, () => 1_700_000_000_000);
      const result = okAppend(await log.append(batch(2, { timestamps: [5] }), { acks: -1 }));
      assert.equal(result.logAppendTime, 1_700_000_000_000n);
      const stored = okRead(await log.read(0n, 1 << 20)).records;
      assert.equal(stored.readBigInt64BE(35), 1_700_000_000_000n);
      assert.ok((stored.readInt16BE(21) & TIMESTAMP_TYPE_MASK) !== 0);
      const create = okAppend(await log.append(batch(1), { acks: -1, timestampType: 'CreateTime' }));
      assert.equal(create.logAppendTime, -1n);
      await s.close();
    });

    it('refuses corrupt and oversized batches with an error value', async () => {
      const { log, store: s } = await setup({ maxMessageBytes: 500 });
      const corrupt = batch(2);
      corrupt[corrupt.length - 1]! ^= 0xff;
      const bad = await log.append(corrupt, { acks: -1 });
      assert.ok(isLogError(bad));
      assert.equal(bad.errorCode, 'CORRUPT_MESSAGE');
      const big = await log.append(batch(1, { valueBytes: 1000 }), { acks: -1 });
      assert.ok(isLogError(big));
      assert.equal(big.errorCode, 'MESSAGE_TOO_LARGE');
      assert.equal(log.logEndOffset, 0n);
      await s.close();
    });

    it('returns OFFSET_OUT_OF_RANGE for a read beyond the log end', async () => {
      const { log, store: s } = await setup();
      okAppend(await log.append(batch(2), { acks: -1 }));
      const beyond = await log.read(3n, 100);
      assert.ok(isLogError(beyond));
      assert.equal(beyond.errorCode, 'OFFSET_OUT_OF_RANGE');
      await s.close();
    });

    it('never serves a batch whose write is still in flight, even when asked to read up to the log end', async () => {
      const { log, fs, store: s } = await setup();
      okAppend(await log.append(batch(2), { acks: -1 }));
      let release!: () => void;
      const gate = new Promise<null>((resolve) => (release = () => resolve(null)));
      fs.failWhen = (call) =>
        (call.op === 'write' || call.op === 'writev') && call.path.endsWith('.log') ? gate : null;
      const pending = log.append(batch(3), { acks: 1 });
      await until(() => fs.count('writev', '.log') + fs.count('write', '.log') >= 2, 'the second write to start');
      assert.equal(log.logEndOffset, 5n, 'offsets are assigned before the write');
      const read = okRead(await log.read(0n, 1 << 20, { maxOffset: log.logEndOffset }));
      assert.deepEqual(baseOffsets(read.records), [0n]);
      fs.failWhen = null;
      release();
      okAppend(await pending);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20, { maxOffset: 5n })).records), [0n, 2n]);
      await s.close();
    });

    it('truncates to an offset by removing the batch holding it and everything after, then reuses the offsets', async () => {
      const { log, store: s } = await setup({ segmentBytes: batch(3).length * 2 });
      for (let i = 0; i < 5; i++) okAppend(await log.append(batch(3), { acks: -1, leaderEpoch: i < 3 ? 1 : 2 }));
      assert.equal(log.segments().length, 3);
      await log.truncateTo(4n);
      assert.equal(log.logEndOffset, 3n);
      assert.equal(log.highWatermark, 3n);
      assert.deepEqual(
        log.segments().map((x) => x.baseOffset),
        [0n],
      );
      assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 1, startOffset: 0n }]);
      const next = okAppend(await log.append(batch(1), { acks: -1, leaderEpoch: 3 }));
      assert.equal(next.baseOffset, 3n);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n, 3n]);
      await s.close();
    });

    it('records leader epochs as they change and answers OffsetForLeaderEpoch from them', async () => {
      const { log, store: s } = await setup();
      okAppend(await log.append(batch(2), { acks: -1, leaderEpoch: 1 }));
      okAppend(await log.append(batch(2), { acks: -1, leaderEpoch: 1 }));
      okAppend(await log.append(batch(2), { acks: -1, leaderEpoch: 4 }));
      assert.deepEqual(log.leaderEpochEntries(), [
        { epoch: 1, startOffset: 0n },
        { epoch: 4, startOffset: 4n },
      ]);
      assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 4n });
      assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 1, endOffset: 4n });
      assert.deepEqual(log.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 6n });
      assert.deepEqual(log.endOffsetForEpoch(5), { leaderEpoch: -1, endOffset: -1n });
      assert.equal(log.latestEpoch, 4);
      await s.close();
    });

    it('fails an append whose write hits EIO or ENOSPC, serves none of it, and appends again once the disk recovers', async () => {
      const { log, fs, store: s, logDir } = await setup();
      const good = batch(2);
      okAppend(await log.append(good, { acks: -1 }));
      // The next write lands 7 bytes of garbage before failing, like a short write on a full disk.
      let failures = 0;
      fs.failWhen = async (call) => {
        if ((call.op !== 'write' && call.op !== 'writev') || !call.path.endsWith('.log')) return null;
        failures++;
        if (failures === 1) await fs.inner.write(call.fd!, Buffer.alloc(7, 0xee), 0, 7, call.position!);
        return failures === 1 ? 'ENOSPC' : 'EIO';
      };
      const [failed, queued] = await Promise.all([
        log.append(batch(3), { acks: -1 }),
        log.append(batch(1), { acks: 1 }),
      ]);
      assert.ok(isLogError(failed) && failed.errorCode === 'KAFKA_STORAGE_ERROR');
      assert.ok(isLogError(queued) && queued.errorCode === 'KAFKA_STORAGE_ERROR');
      assert.equal(log.logEndOffset, 2n, 'offsets of failed appends are given back');
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n]);

      // Still failing: the append fails again, nothing moves.
      const again = await log.append(batch(1), { acks: -1 });
      assert.ok(isLogError(again) && again.errorCode === 'KAFKA_STORAGE_ERROR');

      fs.failWhen = null;
      const later = batch(4);
      const recovered = okAppend(await log.append(later, { acks: -1 }));
      assert.equal(recovered.baseOffset, 2n);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n, 2n]);
      await s.close();
      const file = await readFileVia(fs.inner, `${logDir}/orders-0/00000000000000000000.log`);
      assert.equal(file.length, good.length + later.length, 'the garbage of the failed write was cut off');
    });

    it('cuts back to the durable data when an fsync fails, failing the acks=all appends it covered', async () => {
      const { log, fs, store: s } = await setup();
      okAppend(await log.append(batch(2), { acks: -1 }));
      fs.failWhen = (call) => (call.op === 'fdatasync' && call.path.endsWith('.log') ? 'EIO' : null);
      // acks=1 data first, so the acks=all append after it is written plainly and waits for an fdatasync.
      okAppend(await log.append(batch(1), { acks: 1 }));
      const failed = await log.append(batch(3), { acks: -1 });
      assert.ok(isLogError(failed) && failed.errorCode === 'KAFKA_STORAGE_ERROR');
      assert.equal(log.highWatermark, 2n);
      fs.failWhen = null;
      const next = okAppend(await log.append(batch(1), { acks: -1 }));
      assert.equal(next.baseOffset, 2n);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n, 2n]);
      await s.close();
    });

    it('fails the appends of a durable write that fails and cuts its bytes off', async () => {
      const { log, fs, store: s } = await setup();
      okAppend(await log.append(batch(2), { acks: -1 }));
      const good = (await readFileVia(fs.inner, `${log.dir}/00000000000000000000.log`)).length;
      fs.failWhen = (call) => (call.durable && call.path.endsWith('.log') ? 'EIO' : null);
      const failed = await log.append(batch(3), { acks: -1 });
      assert.ok(isLogError(failed) && failed.errorCode === 'KAFKA_STORAGE_ERROR');
      assert.equal(log.highWatermark, 2n);
      fs.failWhen = null;
      assert.equal(okAppend(await log.append(batch(1), { acks: -1 })).baseOffset, 2n);
      assert.deepEqual(baseOffsets(okRead(await log.read(0n, 1 << 20)).records), [0n, 2n]);
      await s.close();
      const file = await readFileVia(fs.inner, `${log.dir}/00000000000000000000.log`);
      assert.equal(file.length, good + batch(1).length);
    });
  });
}
