import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { crc32c } from '../../../src/records/crc32c.js';
import { isLogError, type LogError } from '../../../src/storage/errors.js';
import type { AppendResult, PartitionLog } from '../../../src/storage/partition-log.js';
import { PRODUCER_ID_BLOCK_FILE, PRODUCER_ID_BLOCK_SIZE } from '../../../src/storage/producer-ids.js';
import {
  decodeProducerSnapshot,
  encodeProducerSnapshot,
  incrementSequence,
  type ProducerStateEntry,
} from '../../../src/storage/producer-state.js';
import type { StorageFs } from '../../../src/storage/storage-fs.js';
import { baseOffsets, ENGINES, okAppend, okRead, readFileVia, store, TestFs, TOPIC_ID, until } from './helpers.js';

const PID = 4242n;
const INT32_MAX = 0x7fffffff;

/** An idempotent batch of `count` records from producer PID. */
function idempotent(baseSequence: number, count = 2, producerEpoch = 0, producerId = PID): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(20, 'v') }));
  return buildRecordBatch(records, { producerId, producerEpoch, baseSequence });
}

function errorOf(value: AppendResult | LogError): string {
  assert.ok(isLogError(value), `expected an error, got offset ${isLogError(value) ? '' : value.baseOffset}`);
  return value.errorCode;
}

async function storedBatches(log: PartitionLog): Promise<bigint[]> {
  return baseOffsets(okRead(await log.read(log.logStartOffset, 1 << 22, { maxOffset: log.logEndOffset })).records);
}

for (const engine of ENGINES) {
  describe(`producer state (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    async function open(defaults = {}, base?: { fs: StorageFs; logDir: string }) {
      let b = base;
      if (!b) {
        const fresh = engine.setup();
        cleanups.push(fresh.cleanup);
        b = fresh;
      }
      const spy = new TestFs(b.fs);
      const s = store(spy, b.logDir, { defaults });
      await s.open();
      const log = await s.getOrCreate('t', 0, { topicId: TOPIC_ID });
      return { base: { fs: b.fs, logDir: b.logDir }, spy, store: s, log };
    }

    it('answers a retried batch with its original offsets and does not append it again', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(idempotent(0), { acks: -1 }));
      const first = okAppend(await log.append(idempotent(2), { acks: -1 }));
      const retry = okAppend(await log.append(idempotent(2), { acks: -1 }));
      assert.equal(retry.baseOffset, first.baseOffset);
      assert.equal(retry.lastOffset, first.lastOffset);
      assert.equal(log.logEndOffset, 4n, 'nothing was appended for the retry');
      assert.deepEqual(await storedBatches(log), [0n, 2n]);
      await s.close();
    });

    it("answers a duplicate's timestamp as Kafka does: the stored max timestamp, the append time with LogAppendTime", async () => {
      const { log, store: s } = await open({ messageTimestampType: 'LogAppendTime' });
      const first = okAppend(await log.append(idempotent(0), { acks: -1 }));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const retry = okAppend(await log.append(idempotent(0), { acks: -1 }));
      assert.ok(first.logAppendTime > 0n);
      assert.equal(retry.logAppendTime, first.logAppendTime);
      const sent = idempotent(2);
      const batchTimestamp = sent.readBigInt64BE(35);
      const created = okAppend(await log.append(Buffer.from(sent), { acks: -1, timestampType: 'CreateTime' }));
      assert.equal(created.logAppendTime, -1n);
      const createdRetry = okAppend(await log.append(Buffer.from(sent), { acks: -1, timestampType: 'CreateTime' }));
      assert.equal(createdRetry.logAppendTime, batchTimestamp);
      await s.close();
    });

    it('recognises any of the last five batches as duplicates, but not an older one', async () => {
      const { log, store: s } = await open();
      for (let i = 0; i < 6; i++) okAppend(await log.append(idempotent(i * 2), { acks: 1 }));
      // Batches 1..5 (sequences 2..11) are remembered; batch 0 (sequence 0) has left the cache.
      assert.equal(okAppend(await log.append(idempotent(2), { acks: 1 })).baseOffset, 2n);
      assert.equal(okAppend(await log.append(idempotent(4), { acks: 1 })).baseOffset, 4n);
      assert.equal(errorOf(await log.append(idempotent(0), { acks: 1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      assert.equal(log.logEndOffset, 12n);
      await s.close();
    });

    it('refuses a sequence gap with OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(idempotent(0), { acks: 1 }));
      assert.equal(errorOf(await log.append(idempotent(5), { acks: 1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      assert.equal(log.logEndOffset, 2n);
      assert.equal(
        okAppend(await log.append(idempotent(2), { acks: 1 })).baseOffset,
        2n,
        'the right next batch goes in',
      );
      await s.close();
    });

    it('refuses an older epoch with INVALID_PRODUCER_EPOCH and makes a new epoch start at sequence 0', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(idempotent(0, 2, 3), { acks: 1 }));
      assert.equal(errorOf(await log.append(idempotent(2, 2, 2), { acks: 1 })), 'INVALID_PRODUCER_EPOCH');
      assert.equal(errorOf(await log.append(idempotent(2, 2, 4), { acks: 1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      assert.equal(okAppend(await log.append(idempotent(0, 2, 4), { acks: 1 })).baseOffset, 2n);
      // The bumped epoch forgot the old epoch's batches: the old epoch is now fenced, even for a retry.
      assert.equal(errorOf(await log.append(idempotent(0, 2, 3), { acks: 1 })), 'INVALID_PRODUCER_EPOCH');
      await s.close();
    });

    it('accepts any first sequence from a producer it does not know (KIP-360)', async () => {
      const { log, store: s } = await open();
      assert.equal(okAppend(await log.append(idempotent(17), { acks: 1 })).baseOffset, 0n);
      assert.equal(okAppend(await log.append(idempotent(19), { acks: 1 })).baseOffset, 2n);
      await s.close();
    });

    it('follows sequences across the wrap from Int32.MAX to 0', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(idempotent(INT32_MAX - 1, 3), { acks: 1 }));
      assert.equal(incrementSequence(INT32_MAX - 1, 2), 0);
      assert.equal(okAppend(await log.append(idempotent(1, 2), { acks: 1 })).baseOffset, 3n);
      assert.equal(okAppend(await log.append(idempotent(INT32_MAX - 1, 3), { acks: 1 })).baseOffset, 0n, 'duplicate');
      await s.close();
    });

    it('keeps no state for batches without a producer id', async () => {
      const { log, store: s } = await open();
      const plain = buildRecordBatch([{ value: Buffer.from('x') }]);
      okAppend(await log.append(plain, { acks: 1 }));
      okAppend(await log.append(Buffer.from(plain), { acks: 1 }));
      assert.equal(log.producers.size, 0);
      assert.equal(log.logEndOffset, 2n, 'the same bytes twice are two appends');
      await s.close();
    });

    it('forgets a batch whose write failed, so its retry is appended', async () => {
      const { log, spy, store: s } = await open();
      okAppend(await log.append(idempotent(0), { acks: -1 }));
      spy.failWhen = (call) =>
        (call.op === 'write' || call.op === 'writev') && call.path.endsWith('.log') ? 'EIO' : null;
      assert.equal(errorOf(await log.append(idempotent(2), { acks: -1 })), 'KAFKA_STORAGE_ERROR');
      spy.failWhen = null;
      const retry = okAppend(await log.append(idempotent(2), { acks: -1 }));
      assert.equal(retry.baseOffset, 2n);
      assert.deepEqual(await storedBatches(log), [0n, 2n]);
      await s.close();
    });

    it('forgets producers idle longer than producer.id.expiration.ms', async () => {
      const { log, store: s } = await open();
      okAppend(await log.append(idempotent(0), { acks: 1 }));
      assert.equal(s.removeExpiredProducers(Date.now(), 60_000), 0);
      assert.equal(s.removeExpiredProducers(Date.now() + 60_000, 60_000), 1);
      // Unknown again: any sequence is accepted.
      assert.equal(okAppend(await log.append(idempotent(9), { acks: 1 })).baseOffset, 2n);
      await s.close();
    });

    it('survives a clean restart through the snapshot at the log end offset', async () => {
      const first = await open();
      for (let i = 0; i < 3; i++) okAppend(await first.log.append(idempotent(i * 2), { acks: -1 }));
      await first.store.close();
      const snapshot = await readFileVia(first.base.fs, `${first.base.logDir}/t-0/00000000000000000006.snapshot`);
      assert.equal(snapshot.readInt16BE(0), 1, 'Kafka snapshot version 1');

      const again = await open({}, first.base);
      assert.equal(again.spy.bytesRead('.log'), 0, 'the state comes from the snapshot, not the log');
      assert.equal(okAppend(await again.log.append(idempotent(4), { acks: -1 })).baseOffset, 4n, 'duplicate');
      assert.equal(errorOf(await again.log.append(idempotent(9), { acks: -1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      assert.equal(okAppend(await again.log.append(idempotent(6), { acks: -1 })).baseOffset, 6n);
      await again.store.close();
    });

    it('after a crash rebuilds the state from the log when there is no snapshot', async () => {
      const first = await open();
      for (let i = 0; i < 4; i++) okAppend(await first.log.append(idempotent(i * 2), { acks: -1 }));
      // No close: as after kill -9.
      const again = await open({}, first.base);
      assert.equal(okAppend(await again.log.append(idempotent(2), { acks: -1 })).baseOffset, 2n, 'duplicate');
      assert.equal(errorOf(await again.log.append(idempotent(20), { acks: -1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      assert.equal(okAppend(await again.log.append(idempotent(8), { acks: -1 })).baseOffset, 8n);
      await again.store.close();
    });

    it('after a crash rebuilds the state from the last roll snapshot plus the batches after it', async () => {
      const size = idempotent(0).length;
      const first = await open({ segmentBytes: size * 3 });
      // Producer A writes into the first segments only; producer B goes on after the last roll.
      for (let i = 0; i < 4; i++) okAppend(await first.log.append(idempotent(i * 2, 2, 0, 7n), { acks: -1 }));
      for (let i = 0; i < 5; i++) okAppend(await first.log.append(idempotent(i * 2), { acks: -1 }));
      const segments = first.log.segments();
      assert.ok(segments.length >= 3, `${segments.length} segments`);
      const activeBase = segments[segments.length - 1]!.baseOffset;
      await until(() => first.log.producerSnapshotOffsets().includes(activeBase), 'the roll snapshot');
      const again = await open({ segmentBytes: size * 3 }, first.base);
      // A's last batch (offsets 6-7) lies before the snapshot; B's last (16-17) after it.
      assert.equal(okAppend(await again.log.append(idempotent(6, 2, 0, 7n), { acks: -1 })).baseOffset, 6n);
      assert.equal(okAppend(await again.log.append(idempotent(8), { acks: -1 })).baseOffset, 16n);
      assert.equal(errorOf(await again.log.append(idempotent(12), { acks: -1 })), 'OUT_OF_ORDER_SEQUENCE_NUMBER');
      await again.store.close();
    });

    it('keeps only the snapshots recovery needs and drops those below the log start offset', async () => {
      const size = idempotent(0).length;
      const { log, store: s } = await open({ segmentBytes: size * 2 });
      for (let i = 0; i < 10; i++) okAppend(await log.append(idempotent(i * 2), { acks: -1 }));
      const bases = log.segments().map((x) => x.baseOffset);
      await until(() => log.producerSnapshotOffsets().includes(bases[bases.length - 1]!), 'the last roll snapshot');
      await until(() => log.producerSnapshotOffsets().length <= 2, 'old snapshots to go');
      assert.deepEqual(log.producerSnapshotOffsets(), bases.slice(-2));
      await log.deleteRecordsBefore(bases[bases.length - 1]!);
      assert.deepEqual(log.producerSnapshotOffsets(), [bases[bases.length - 1]!]);
      // The producer is remembered although its batches left the log (Kafka keeps it too).
      assert.equal(okAppend(await log.append(idempotent(18), { acks: -1 })).baseOffset, 18n, 'duplicate');
      await s.close();
    });

    it('ignores a corrupt snapshot and rebuilds from the log', async () => {
      const first = await open();
      for (let i = 0; i < 2; i++) okAppend(await first.log.append(idempotent(i * 2), { acks: -1 }));
      await first.store.close();
      const path = `${first.base.logDir}/t-0/00000000000000000004.snapshot`;
      const fd = await first.base.fs.open(path, 'rw');
      await first.base.fs.write(fd, Buffer.from([0xff]), 0, 1, 20);
      await first.base.fs.close(fd);
      // Without the clean shutdown marker the log is scanned, and the bad snapshot is not trusted.
      await first.base.fs.unlink(`${first.base.logDir}/.kafka_cleanshutdown`);
      const again = await open({}, first.base);
      assert.equal(okAppend(await again.log.append(idempotent(2), { acks: -1 })).baseOffset, 2n, 'duplicate');
      assert.deepEqual(await again.log.producerSnapshotOffsets(), []);
      await again.store.close();
    });

    it('hands out producer ids never used before on the data dir, across clean and unclean restarts', async () => {
      const first = await open();
      const a = await first.store.producerIds.generateProducerId();
      const b = await first.store.producerIds.generateProducerId();
      assert.deepEqual([a, b], [0n, 1n]);
      const block = await readFileVia(first.base.fs, `${first.base.logDir}/${PRODUCER_ID_BLOCK_FILE}`);
      assert.equal(block.toString(), `version: 0\nnext_block_start: ${PRODUCER_ID_BLOCK_SIZE}\n`);
      // A crash: the rest of the block is skipped.
      const second = await open({}, first.base);
      const ids = await Promise.all([1, 2, 3].map(() => second.store.producerIds.generateProducerId()));
      assert.deepEqual(ids, [PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_BLOCK_SIZE + 1n, PRODUCER_ID_BLOCK_SIZE + 2n]);
      await second.store.close();
      const third = await open({}, first.base);
      assert.equal(await third.store.producerIds.generateProducerId(), 2n * PRODUCER_ID_BLOCK_SIZE);
      await third.store.close();
    });
  });
}

describe('producer snapshot files', () => {
  const entry = (producerId: bigint, lastSeq: number, lastOffset: bigint, offsetDelta: number): ProducerStateEntry => ({
    producerId,
    producerEpoch: 3,
    coordinatorEpoch: -1,
    lastTimestamp: 1_700_000_000_000n,
    currentTxnFirstOffset: -1n,
    batches: [
      {
        firstSeq: lastSeq - offsetDelta,
        lastSeq,
        firstOffset: lastOffset - BigInt(offsetDelta),
        lastOffset,
        timestamp: 1_700_000_000_000n,
      },
    ],
  });

  it("use Kafka's layout: version 1, CRC32C of the rest, an int32 count and 46-byte entries", () => {
    const buf = encodeProducerSnapshot([entry(5n, 9, 100n, 4)]);
    assert.equal(buf.length, 2 + 4 + 4 + 46);
    assert.equal(buf.readInt16BE(0), 1);
    assert.equal(buf.readUInt32BE(2), crc32c(buf.subarray(6)));
    assert.equal(buf.readInt32BE(6), 1);
    assert.equal(buf.readBigInt64BE(10), 5n, 'producer_id');
    assert.equal(buf.readInt16BE(18), 3, 'epoch');
    assert.equal(buf.readInt32BE(20), 9, 'last_sequence');
    assert.equal(buf.readBigInt64BE(24), 100n, 'last_offset');
    assert.equal(buf.readInt32BE(32), 4, 'offset_delta');
    assert.equal(buf.readBigInt64BE(36), 1_700_000_000_000n, 'timestamp');
    assert.equal(buf.readInt32BE(44), -1, 'coordinator_epoch');
    assert.equal(buf.readBigInt64BE(48), -1n, 'current_txn_first_offset');
  });

  it('read back the last batch of each producer, and refuse a changed byte', () => {
    const entries = [entry(5n, 9, 100n, 4), entry(6n, 3, 7n, 2)];
    assert.deepEqual(decodeProducerSnapshot(encodeProducerSnapshot(entries)), entries);
    const bad = encodeProducerSnapshot(entries);
    bad[30] ^= 1;
    assert.throws(() => decodeProducerSnapshot(bad), /CRC/);
  });
});
