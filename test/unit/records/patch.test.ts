import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseOffsetOf, lastOffsetOf, TIMESTAMP_TYPE_MASK } from '../../../src/records/batch-header.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { computeBatchCrc, crc32c, hasValidCrc, restampCrc } from '../../../src/records/crc32c.js';
import { patchBaseOffset, patchPartitionLeaderEpoch, setLogAppendTime } from '../../../src/records/patch.js';
import { validateRecordBatches } from '../../../src/records/validate.js';

const batch = () =>
  buildRecordBatch([
    { value: 'a', timestamp: 100n },
    { value: 'b', timestamp: 300n },
  ]);

describe('crc32c', () => {
  it('matches the CRC-32C check value for "123456789"', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });

  it('restampCrc repairs the CRC after a change inside the covered range', () => {
    const bytes = batch();
    bytes.writeBigInt64BE(999n, 35);
    assert.equal(hasValidCrc(bytes), false);
    restampCrc(bytes);
    assert.equal(hasValidCrc(bytes), true);
    assert.equal(bytes.readUInt32BE(17), computeBatchCrc(bytes));
  });
});

describe('in-place patching', () => {
  it('patching the base offset and leader epoch keeps the CRC valid', () => {
    const bytes = batch();
    const crc = bytes.readUInt32BE(17);
    patchBaseOffset(bytes, 0, 123_456_789_012n);
    patchPartitionLeaderEpoch(bytes, 0, 9);
    assert.equal(bytes.readUInt32BE(17), crc);
    const result = validateRecordBatches(bytes);
    assert.ok(result.ok);
    assert.equal(result.batches[0]!.baseOffset, 123_456_789_012n);
    assert.equal(result.batches[0]!.partitionLeaderEpoch, 9);
    assert.equal(baseOffsetOf(bytes), 123_456_789_012n);
    assert.equal(lastOffsetOf(bytes), 123_456_789_013n);
  });

  it('writes every base offset exactly, on both sides of 2^32 and past 2^53 where the BigInt path takes over', () => {
    const bytes = batch();
    for (const offset of [0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n]) {
      patchBaseOffset(bytes, 0, offset);
      assert.equal(baseOffsetOf(bytes), offset);
    }
  });

  it('patches a batch at a position inside a larger buffer without touching its neighbours', () => {
    const first = batch();
    const log = Buffer.concat([first, batch()]);
    patchBaseOffset(log, first.length, 2n);
    setLogAppendTime(log, first.length, 5000n);
    assert.deepEqual(log.subarray(0, first.length), first);
    const result = validateRecordBatches(log);
    assert.ok(result.ok);
    assert.equal(result.batches[1]!.baseOffset, 2n);
  });

  it('LogAppendTime sets the timestamp type and maxTimestamp, keeps the base timestamp and restamps the CRC', () => {
    const bytes = batch();
    setLogAppendTime(bytes, 0, 1_800_000_000_000n);
    const result = validateRecordBatches(bytes);
    assert.ok(result.ok, result.ok ? '' : result.message);
    const info = result.batches[0]!;
    assert.ok(info.attributes & TIMESTAMP_TYPE_MASK);
    assert.equal(info.maxTimestamp, 1_800_000_000_000n);
    assert.equal(info.baseTimestamp, 100n);
  });

  it('setting the same LogAppendTime twice leaves the bytes unchanged', () => {
    const bytes = batch();
    setLogAppendTime(bytes, 0, 7n);
    const once = Buffer.from(bytes);
    setLogAppendTime(bytes, 0, 7n);
    assert.deepEqual(bytes, once);
  });
});
