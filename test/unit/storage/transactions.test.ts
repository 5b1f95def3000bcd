import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { buildEndTxnMarkerBatch } from '../../../src/records/control.js';
import { isLogError, type LogError } from '../../../src/storage/errors.js';
import type { AppendResult, PartitionLog } from '../../../src/storage/partition-log.js';
import { decodeProducerSnapshot } from '../../../src/storage/producer-state.js';
import type { StorageFs } from '../../../src/storage/storage-fs.js';
import { ABORTED_TXN_ENTRY_SIZE } from '../../../src/storage/transaction-index.js';
import { baseOffsets, ENGINES, okAppend, okRead, readFileVia, store, TestFs, TOPIC_ID } from './helpers.js';

const P1 = 1000n;
const P2 = 2000n;
const SEGMENT0 = '00000000000000000000';

/** A transactional batch of `count` records from `producerId` (epoch 0). */
function txnBatch(producerId: bigint, baseSequence: number, count = 2, producerEpoch = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(20, 't') }));
  return buildRecordBatch(records, { producerId, producerEpoch, baseSequence, isTransactional: true });
}

function plainBatch(count = 1): Buffer {
  return buildRecordBatch(Array.from({ length: count }, () => ({ value: Buffer.from('plain') })));
}

function marker(
  type: 'COMMIT' | 'ABORT',
  producerId: bigint,
  opts: { epoch?: number; coordinatorEpoch?: number } = {},
) {
  return buildEndTxnMarkerBatch({
    type,
    producerId,
    producerEpoch: opts.epoch ?? 0,
    coordinatorEpoch: opts.coordinatorEpoch ?? 0,
  });
}

function errorOf(value: AppendResult | LogError): string {
  assert.ok(isLogError(value), `expected an error, got offset ${isLogError(value) ? '' : value.baseOffset}`);
  return value.errorCode;
}

async function committedOffsets(log: PartitionLog, from = log.logStartOffset): Promise<bigint[]> {
  return baseOffsets(okRead(await log.read(from, 1 << 22, { readCommitted: true })).records);
}

for (const engine of ENGINES) {
  describe(`transactions on a partition (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    async function open(defaults = {}, base?: { fs: StorageFs; logDir: string }, now?: () => number) {
      let b = base;
      if (!b) {
        const fresh = engine.setup();
        cleanups.push(fresh.cleanup);
        b = fresh;
      }
      const s = store(b.fs, b.logDir, { defaults, now });
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      return { base: { fs: b.fs, logDir: b.logDir }, dir: `${b.logDir}/t-0`, store: s, log };
    }

    it('holds the last stable offset at a transaction’s first offset until its COMMIT marker is durable', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(plainBatch(), { acks: -1 }));
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 }));
      okAppend(await log.append(plainBatch(), { acks: -1 }));
      okAppend(await log.append(txnBatch(P1, 2), { acks: -1 }));
      assert.equal(log.highWatermark, 6n);
      assert.equal(log.lastStableOffset, 1n, 'the open transaction starts at offset 1');
      assert.deepEqual(await committedOffsets(log), [0n], 'read_committed stops at the LSO');
      assert.deepEqual(
        baseOffsets(okRead(await log.read(0n, 1 << 20)).records),
        [0n, 1n, 3n, 4n],
        'read_uncommitted reads up to the high watermark',
      );
      const read = okRead(await log.read(0n, 1 << 20, { readCommitted: true }));
      assert.equal(read.lastStableOffset, 1n);
      assert.deepEqual(read.abortedTransactions, []);

      const commit = okAppend(await log.append(marker('COMMIT', P1), { acks: -1, origin: 'internal' }));
      assert.equal(commit.baseOffset, 6n);
      assert.equal(log.lastStableOffset, 7n);
      assert.deepEqual(await committedOffsets(log), [0n, 1n, 3n, 4n, 6n]);
      assert.deepEqual(okRead(await log.read(0n, 1 << 20, { readCommitted: true })).abortedTransactions, []);
      assert.equal(log.producers.entry(P1)!.currentTxnFirstOffset, -1n);
      await s.close();
    });

    it('keeps a completed transaction unstable until the high watermark passes its marker', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 }));
      // acks=1: the marker is written but its fsync is coalesced, so the high watermark may trail it.
      const pending = log.append(marker('COMMIT', P1), { acks: 1, origin: 'internal' });
      assert.equal(log.lastStableOffset, 0n, 'the marker is not yet below the high watermark');
      okAppend(await pending);
      await log.flush();
      assert.equal(log.highWatermark, 3n);
      assert.equal(log.lastStableOffset, 3n);
      await s.close();
    });

    it('writes an ABORT into the segment’s .txnindex in Kafka’s layout and lists it to read_committed reads', async () => {
      const { log, dir, base, store: s } = await open();
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 })); // 0-1
      okAppend(await log.append(txnBatch(P2, 0), { acks: -1 })); // 2-3
      okAppend(await log.append(txnBatch(P1, 2), { acks: -1 })); // 4-5
      okAppend(await log.append(marker('ABORT', P1, { coordinatorEpoch: 7 }), { acks: -1, origin: 'internal' })); // 6
      // P2's transaction (from 2) still holds the LSO; the entry records it as the LSO after the abort.
      assert.equal(log.lastStableOffset, 2n);
      okAppend(await log.append(marker('COMMIT', P2), { acks: -1, origin: 'internal' })); // 7
      assert.equal(log.lastStableOffset, 8n);
      // The writer writes the entry to the file after the marker.
      await log.flush();

      const bytes = await readFileVia(base.fs, `${dir}/${SEGMENT0}.txnindex`);
      const expected = Buffer.alloc(ABORTED_TXN_ENTRY_SIZE);
      expected.writeInt16BE(0, 0); // version
      expected.writeBigInt64BE(P1, 2); // producer id
      expected.writeBigInt64BE(0n, 10); // first offset
      expected.writeBigInt64BE(6n, 18); // last offset: the marker
      expected.writeBigInt64BE(2n, 26); // last stable offset: P2's open transaction
      assert.deepEqual(bytes, expected);

      const read = okRead(await log.read(0n, 1 << 20, { readCommitted: true }));
      assert.deepEqual(baseOffsets(read.records), [0n, 2n, 4n, 6n, 7n]);
      assert.deepEqual(read.abortedTransactions, [
        { producerId: P1, firstOffset: 0n, lastOffset: 6n, lastStableOffset: 2n },
      ]);
      // A read starting after the marker overlaps no aborted transaction.
      assert.deepEqual(okRead(await log.read(7n, 1 << 20, { readCommitted: true })).abortedTransactions, []);
      assert.equal(log.producers.entry(P1)!.coordinatorEpoch, 7);
      await s.close();
    });

    it('finds an aborted transaction whose marker lies in a later segment', async () => {
      const size = txnBatch(P1, 0).length;
      const { log, store: s } = await open({ segmentBytes: size * 2 });
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 })); // 0-1
      okAppend(await log.append(txnBatch(P1, 2), { acks: -1 })); // 2-3
      okAppend(await log.append(txnBatch(P1, 4), { acks: -1 })); // 4-5, second segment
      okAppend(await log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' })); // 6
      assert.ok(log.segments().length >= 2);
      const read = okRead(await log.read(0n, 1, { readCommitted: true }));
      assert.deepEqual(baseOffsets(read.records), [0n]);
      assert.deepEqual(read.abortedTransactions, [
        { producerId: P1, firstOffset: 0n, lastOffset: 6n, lastStableOffset: 7n },
      ]);
      await s.close();
    });

    it('refuses a non-transactional batch inside an open transaction, and markers of an old epoch or coordinator', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(txnBatch(P1, 0, 2, 3), { acks: -1 }));
      const idempotent = buildRecordBatch([{ value: Buffer.from('x') }], {
        producerId: P1,
        producerEpoch: 3,
        baseSequence: 2,
      });
      assert.equal(errorOf(await log.append(idempotent, { acks: -1 })), 'INVALID_TXN_STATE');
      assert.equal(
        errorOf(await log.append(marker('COMMIT', P1, { epoch: 2 }), { acks: -1, origin: 'internal' })),
        'INVALID_PRODUCER_EPOCH',
      );
      okAppend(
        await log.append(marker('ABORT', P1, { epoch: 3, coordinatorEpoch: 5 }), { acks: -1, origin: 'internal' }),
      );
      assert.equal(
        errorOf(
          await log.append(marker('ABORT', P1, { epoch: 3, coordinatorEpoch: 4 }), { acks: -1, origin: 'internal' }),
        ),
        'TRANSACTION_COORDINATOR_FENCED',
      );
      // A repeated marker for a transaction already completed is written and changes nothing.
      okAppend(
        await log.append(marker('ABORT', P1, { epoch: 3, coordinatorEpoch: 5 }), { acks: -1, origin: 'internal' }),
      );
      assert.equal(log.lastStableOffset, log.highWatermark);
      await s.close();
    });

    it('refuses markers from clients', async () => {
      const { log, store: s } = await open();
      const result = await log.append(marker('COMMIT', P1), { acks: -1 });
      assert.ok(isLogError(result));
      await s.close();
    });

    it('keeps an open transaction across a clean restart through the snapshot’s current_txn_first_offset', async () => {
      const first = await open();
      okAppend(await first.log.append(plainBatch(), { acks: -1 }));
      okAppend(await first.log.append(txnBatch(P1, 0), { acks: -1 }));
      await first.store.close();
      const snapshot = decodeProducerSnapshot(
        await readFileVia(first.base.fs, `${first.dir}/00000000000000000003.snapshot`),
      );
      assert.equal(snapshot[0]!.currentTxnFirstOffset, 1n);
      const again = await open({}, first.base);
      assert.equal(again.log.lastStableOffset, 1n);
      assert.deepEqual(await committedOffsets(again.log), [0n]);
      okAppend(await again.log.append(marker('COMMIT', P1), { acks: -1, origin: 'internal' }));
      assert.equal(again.log.lastStableOffset, 4n);
      await again.store.close();
    });

    it('rebuilds open transactions and the transaction index after a crash', async () => {
      const size = txnBatch(P1, 0).length;
      const first = await open({ segmentBytes: size * 3 });
      okAppend(await first.log.append(txnBatch(P1, 0), { acks: -1 })); // 0-1
      okAppend(await first.log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' })); // 2
      okAppend(await first.log.append(txnBatch(P2, 0), { acks: -1 })); // 3-4
      okAppend(await first.log.append(txnBatch(P1, 2), { acks: -1 })); // 5-6
      okAppend(await first.log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' })); // 7
      okAppend(await first.log.append(plainBatch(), { acks: -1 })); // 8
      const segments = first.log.segments().map((x) => x.baseOffset);
      assert.ok(segments.length >= 2, `segments ${segments}`);
      // Reads stay within one segment: the second abort is listed to a read from its transaction.
      const aborted = async (log: PartitionLog) => [
        ...(okRead(await log.read(0n, 1 << 20, { readCommitted: true, maxOffset: 9n })).abortedTransactions ?? []),
        ...(okRead(await log.read(5n, 1 << 20, { readCommitted: true, maxOffset: 9n })).abortedTransactions ?? []),
      ];
      const before = await aborted(first.log);
      // Every index file is removed, and the store is left open (a crash): the scan must rebuild them.
      const names = await first.base.fs.readdir(first.dir);
      for (const n of names)
        if (n.endsWith('.txnindex') || n.endsWith('.snapshot')) await first.base.fs.unlink(`${first.dir}/${n}`);
      try {
        await first.base.fs.unlink(`${first.base.logDir}/recovery-point-offset-checkpoint`);
      } catch {}
      const again = await open({ segmentBytes: size * 3 }, first.base);
      assert.equal(again.log.logEndOffset, 9n);
      assert.equal(again.log.lastStableOffset, 3n, 'P2’s transaction is still open');
      const after = await aborted(again.log);
      assert.deepEqual(after, before);
      assert.deepEqual(
        after.map((t) => [t.firstOffset, t.lastOffset, t.lastStableOffset]),
        [
          [0n, 2n, 3n],
          [5n, 7n, 3n],
        ],
      );
      const files = await again.base.fs.readdir(again.dir);
      assert.ok(
        files.some((n) => n.endsWith('.txnindex')),
        `files ${files}`,
      );
      okAppend(await again.log.append(marker('COMMIT', P2), { acks: -1, origin: 'internal' }));
      assert.equal(again.log.lastStableOffset, 10n);
      await again.store.close();
    });

    it('reopens a transaction and forgets its .txnindex entry when the write of its ABORT marker fails', async () => {
      const fresh = engine.setup();
      cleanups.push(fresh.cleanup);
      const spy = new TestFs(fresh.fs);
      const s = store(spy, fresh.logDir);
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 }));
      spy.failWhen = (call) => (call.op.startsWith('write') && call.path.endsWith('.log') ? 'EIO' : null);
      assert.equal(
        errorOf(await log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' })),
        'KAFKA_STORAGE_ERROR',
      );
      spy.failWhen = null;
      assert.equal(log.logEndOffset, 2n);
      assert.equal(log.lastStableOffset, 0n, 'the transaction is open again once its marker is cut');
      assert.equal(log.producers.entry(P1)!.currentTxnFirstOffset, 0n);
      const again = okAppend(await log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' }));
      assert.equal(again.baseOffset, 2n);
      const read = okRead(await log.read(0n, 1 << 20, { readCommitted: true }));
      assert.deepEqual(
        read.abortedTransactions?.map((t) => t.lastOffset),
        [2n],
        'one entry, for the marker that stayed',
      );
      assert.equal(log.lastStableOffset, 3n);
      await s.close();
    });

    it('deletes a segment’s .txnindex with the segment when retention drops it', async () => {
      const size = txnBatch(P1, 0).length;
      let now = Date.now();
      const {
        log,
        dir,
        base,
        store: s,
      } = await open({ segmentBytes: size * 2, retentionMs: 1000 }, undefined, () => now);
      okAppend(await log.append(txnBatch(P1, 0), { acks: -1 }));
      okAppend(await log.append(marker('ABORT', P1), { acks: -1, origin: 'internal' }));
      for (let i = 0; i < 4; i++) okAppend(await log.append(plainBatch(), { acks: -1 }));
      await log.flush();
      assert.ok((await base.fs.readdir(dir)).includes(`${SEGMENT0}.txnindex`));
      now += 10 * 24 * 3600 * 1000;
      const report = await s.applyRetention(now);
      assert.ok(report.deletedSegments >= 1);
      assert.ok(!(await base.fs.readdir(dir)).some((n) => n.startsWith(SEGMENT0)));
      await s.close();
    });
  });
}
