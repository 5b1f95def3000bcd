import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTRIBUTES_OFFSET,
  BATCH_LENGTH_OFFSET,
  CompressionType,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TimestampType,
} from '../../../src/records/batch-header.js';
import { buildRecordBatch, buildRecordBatchAsync } from '../../../src/records/builder.js';
import { hasValidCrc, restampCrc } from '../../../src/records/crc32c.js';
import { checkRecordBatches, scanValidPrefix, validateRecordBatches } from '../../../src/records/validate.js';
import { maxTimestampDeltaOf } from '../../../src/records/validate-records.js';

const records = [
  { key: 'k1', value: 'v1', timestamp: 1_700_000_000_000n },
  { key: null, value: 'v2', timestamp: 1_700_000_000_005n, headers: [{ key: 'h', value: 'x' }] },
  { key: 'k3', value: null, timestamp: 1_700_000_000_002n },
];

function batch(opts: Parameters<typeof buildRecordBatch>[1] = {}): Buffer {
  return buildRecordBatch(records, opts);
}

function expectError(buf: Buffer, error: string, opts?: Parameters<typeof validateRecordBatches>[1]): string {
  const result = validateRecordBatches(buf, opts);
  assert.equal(result.ok, false);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error, error, result.message);
  return result.message;
}

describe('validateRecordBatches', () => {
  for (const codec of [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
    it(`accepts builder output compressed with ${CompressionType[codec]}`, () => {
      const result = validateRecordBatches(batch({ compression: codec }));
      assert.ok(result.ok);
      assert.equal(result.recordCount, 3);
      assert.equal(result.batches[0]!.compression, codec);
      assert.equal(result.batches[0]!.maxTimestamp, 1_700_000_000_005n);
      assert.equal(result.batches[0]!.baseTimestamp, 1_700_000_000_000n);
    });
  }

  it('accepts builder output compressed with Zstd', async () => {
    const result = validateRecordBatches(await buildRecordBatchAsync(records, { compression: CompressionType.Zstd }));
    assert.ok(result.ok);
    assert.equal(result.batches[0]!.compression, CompressionType.Zstd);
  });

  it('reports every batch of a buffer holding several back to back, with positions and header fields', () => {
    const first = batch({ producerId: 7n, producerEpoch: 2, baseSequence: 10, isTransactional: true });
    const second = batch({ baseOffset: 3n, partitionLeaderEpoch: 4 });
    const result = validateRecordBatches(Buffer.concat([first, second]));
    assert.ok(result.ok);
    assert.equal(result.recordCount, 6);
    assert.deepEqual(
      result.batches.map((b) => [b.position, b.size]),
      [
        [0, first.length],
        [first.length, second.length],
      ],
    );
    const [a, b] = result.batches;
    assert.equal(a!.producerId, 7n);
    assert.equal(a!.producerEpoch, 2);
    assert.equal(a!.baseSequence, 10);
    assert.equal(a!.isTransactional, true);
    assert.equal(a!.isControl, false);
    assert.equal(a!.lastOffsetDelta, 2);
    assert.equal(b!.baseOffset, 3n);
    assert.equal(b!.partitionLeaderEpoch, 4);
  });

  it('checkRecordBatches counts batches, records and offsets without reading each header into an object', () => {
    const first = batch();
    const second = batch({ baseOffset: 3n });
    const result = checkRecordBatches(Buffer.concat([first, second]));
    assert.deepEqual(result, { ok: true, batchCount: 2, recordCount: 6, offsetCount: 6 });
  });

  it('checkRecordBatches and validateRecordBatches refuse the same bytes with the same error', () => {
    const bad = batch({ producerId: 7n, baseSequence: -1 });
    const checked = checkRecordBatches(bad);
    const validated = validateRecordBatches(bad);
    assert.equal(checked.ok, false);
    assert.deepEqual(checked, validated);
    if (!checked.ok) assert.match(checked.message, /producer id 7 with no base sequence/);
  });

  it('rejects a batch with any byte flipped inside the CRC-covered range', () => {
    const good = batch();
    for (let i = ATTRIBUTES_OFFSET; i < good.length; i += 7) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x01;
      const result = validateRecordBatches(bad);
      assert.equal(result.ok, false, `flip at byte ${i} went unnoticed`);
    }
    const bad = Buffer.from(good);
    bad[good.length - 1]! ^= 0xff;
    assert.match(expectError(bad, 'CORRUPT_MESSAGE'), /CRC/);
  });

  it('skips the CRC check when asked', () => {
    const bad = batch();
    bad[bad.length - 1]! ^= 0xff;
    assert.ok(validateRecordBatches(bad, { verifyCrc: false }).ok);
  });

  it('rejects message format v0 and v1 as unsupported, with a message saying why', () => {
    for (const magic of [0, 1]) {
      const old = batch();
      old.writeInt8(magic, MAGIC_OFFSET);
      assert.match(expectError(old, 'UNSUPPORTED_FOR_MESSAGE_FORMAT'), /v[01]/);
    }
  });

  it('rejects an unknown magic byte as corrupt', () => {
    const bad = batch();
    bad.writeInt8(3, MAGIC_OFFSET);
    expectError(bad, 'CORRUPT_MESSAGE');
  });

  it('rejects a truncated tail: a whole batch followed by part of another', () => {
    const good = batch();
    for (const cut of [1, 12, 17, 60, good.length - 1]) {
      expectError(Buffer.concat([good, good.subarray(0, cut)]), 'CORRUPT_MESSAGE');
    }
  });

  it('rejects batch lengths that lie: below the header size, beyond the buffer, negative', () => {
    for (const length of [0, 48, -1, -2147483648, 2147483647]) {
      const bad = batch();
      bad.writeInt32BE(length, BATCH_LENGTH_OFFSET);
      expectError(bad, 'CORRUPT_MESSAGE');
    }
  });

  it('rejects an empty buffer', () => {
    expectError(Buffer.alloc(0), 'CORRUPT_MESSAGE');
  });

  it('rejects a last offset delta that does not match the record count', () => {
    const bad = batch();
    bad.writeInt32BE(5, LAST_OFFSET_DELTA_OFFSET);
    restampCrc(bad, 0);
    expectError(bad, 'INVALID_RECORD');
  });

  it('rejects a non-control batch with no records', () => {
    const empty = buildRecordBatch([]);
    expectError(empty, 'INVALID_RECORD');
  });

  it('rejects a record count that cannot fit in the batch', () => {
    const bad = batch();
    bad.writeInt32BE(1000, RECORDS_COUNT_OFFSET);
    bad.writeInt32BE(999, LAST_OFFSET_DELTA_OFFSET);
    restampCrc(bad, 0);
    expectError(bad, 'CORRUPT_MESSAGE');
  });

  it('rejects an unknown compression codec', () => {
    const bad = batch();
    bad.writeInt16BE(5, ATTRIBUTES_OFFSET);
    restampCrc(bad, 0);
    expectError(bad, 'CORRUPT_MESSAGE');
  });

  it('rejects an idempotent batch without a base sequence and a transactional batch without a producer id', () => {
    expectError(batch({ producerId: 5n, baseSequence: -1 }), 'INVALID_RECORD');
    expectError(batch({ isTransactional: true }), 'INVALID_RECORD');
  });

  it('rejects a batch larger than maxBatchBytes as too large, and accepts one exactly at the limit', () => {
    const good = batch();
    expectError(good, 'MESSAGE_TOO_LARGE', { maxBatchBytes: good.length - 1 });
    assert.ok(validateRecordBatches(good, { maxBatchBytes: good.length }).ok);
  });

  it('accepts control batches unless told to reject them', () => {
    const control = batch({ isControl: true, isTransactional: true, producerId: 1n, baseSequence: 0 });
    assert.ok(validateRecordBatches(control).ok);
    expectError(control, 'INVALID_RECORD', { rejectControlBatches: true });
  });

  it('does not copy or modify the buffer it validates', () => {
    const good = batch();
    const before = Buffer.from(good);
    validateRecordBatches(good);
    assert.deepEqual(good, before);
  });
});

describe('scanValidPrefix', () => {
  it('walks every whole batch of a clean log', () => {
    const a = batch();
    const b = batch({ baseOffset: 3n });
    const result = scanValidPrefix(Buffer.concat([a, b]));
    assert.equal(result.validBytes, a.length + b.length);
    assert.equal(result.batches.length, 2);
    assert.equal(result.stopReason, undefined);
  });

  it('stops at a torn tail and reports the bytes of the whole batches before it', () => {
    const a = batch();
    const b = batch({ baseOffset: 3n });
    for (const cut of [1, 11, 30, b.length - 1]) {
      const result = scanValidPrefix(Buffer.concat([a, b.subarray(0, cut)]));
      assert.equal(result.validBytes, a.length);
      assert.equal(result.batches.length, 1);
      assert.ok(result.stopReason);
    }
  });

  it('stops at a zeroed (preallocated) region', () => {
    const a = batch();
    const result = scanValidPrefix(Buffer.concat([a, Buffer.alloc(200)]));
    assert.equal(result.validBytes, a.length);
  });

  it('ignores the CRC by default and stops at a corrupt batch when verifying it', () => {
    const a = batch();
    const b = batch({ baseOffset: 3n });
    b[b.length - 2]! ^= 0x10;
    const log = Buffer.concat([a, b, a]);
    assert.equal(scanValidPrefix(log).validBytes, log.length);
    const verified = scanValidPrefix(log, { verifyCrc: true });
    assert.equal(verified.validBytes, a.length);
    assert.match(verified.stopReason!, /CRC/);
  });

  it('accepts batches left empty by compaction', () => {
    const empty = buildRecordBatch([], { lastOffsetDelta: 4 });
    const result = scanValidPrefix(empty);
    assert.equal(result.validBytes, empty.length);
    assert.equal(result.batches[0]!.lastOffsetDelta, 4);
  });
});

/** The batch of `records` as a producer that leaves the header's max timestamp unset (-1) sends it. */
function withUnsetMaxTimestamp(b: Buffer): Buffer {
  b.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
  restampCrc(b, 0);
  return b;
}

describe('the records walk of checkRecordBatches', () => {
  it('sets an unset header max timestamp from the records and restamps a valid CRC', () => {
    const b = withUnsetMaxTimestamp(batch());
    const check = checkRecordBatches(b, { records: 'set-max-timestamp' });
    assert.ok(check.ok);
    assert.equal(b.readBigInt64BE(MAX_TIMESTAMP_OFFSET), 1_700_000_000_005n, 'the second record is the latest');
    assert.ok(hasValidCrc(b, 0));
  });

  it('replaces a header max timestamp that disagrees with the records', () => {
    const b = batch();
    b.writeBigInt64BE(1_800_000_000_000n, MAX_TIMESTAMP_OFFSET);
    restampCrc(b, 0);
    assert.ok(checkRecordBatches(b, { records: 'set-max-timestamp' }).ok);
    assert.equal(b.readBigInt64BE(MAX_TIMESTAMP_OFFSET), 1_700_000_000_005n);
    assert.ok(hasValidCrc(b, 0));
  });

  it("clears a producer's LogAppendTime mark and keeps the max timestamp its records carried, as Kafka", () => {
    const b = batch({ timestampType: TimestampType.LogAppendTime });
    b.writeBigInt64BE(1_700_000_000_009n, MAX_TIMESTAMP_OFFSET);
    restampCrc(b, 0);
    assert.ok(checkRecordBatches(b, { records: 'set-max-timestamp' }).ok);
    assert.equal(b.readInt16BE(ATTRIBUTES_OFFSET) & TIMESTAMP_TYPE_MASK, 0, 'CreateTime');
    assert.equal(b.readBigInt64BE(MAX_TIMESTAMP_OFFSET), 1_700_000_000_009n);
    assert.ok(hasValidCrc(b, 0));
  });

  it('leaves a batch whose header is right byte for byte', () => {
    const b = batch();
    const before = Buffer.from(b);
    assert.ok(checkRecordBatches(b, { records: 'set-max-timestamp' }).ok);
    assert.deepEqual(b, before);
  });

  it('only checks the framing when asked to, leaving the header as sent', () => {
    const b = withUnsetMaxTimestamp(batch());
    const before = Buffer.from(b);
    assert.ok(checkRecordBatches(b, { records: 'check-framing' }).ok);
    assert.deepEqual(b, before);
  });

  it('does not restamp a batch whose CRC it was told not to check', () => {
    const b = withUnsetMaxTimestamp(batch());
    const before = Buffer.from(b);
    assert.ok(checkRecordBatches(b, { records: 'set-max-timestamp', verifyCrc: false }).ok);
    assert.deepEqual(b, before);
  });

  it('leaves compressed batches to the produce path', () => {
    const b = withUnsetMaxTimestamp(batch({ compression: CompressionType.Gzip }));
    assert.ok(checkRecordBatches(b, { records: 'set-max-timestamp' }).ok);
    assert.equal(b.readBigInt64BE(MAX_TIMESTAMP_OFFSET), -1n);
  });

  it('refuses records that do not frame the batch as invalid records, whatever their CRC', () => {
    const garbage = batch();
    garbage.fill(0xff, RECORD_BATCH_OVERHEAD);
    restampCrc(garbage, 0);
    const longRecord = batch();
    longRecord.writeUInt8(0x7e, RECORD_BATCH_OVERHEAD); // the first record claims 63 bytes
    restampCrc(longRecord, 0);
    const trailing = Buffer.concat([batch(), Buffer.alloc(2)]);
    trailing.writeInt32BE(trailing.length - 12, BATCH_LENGTH_OFFSET);
    restampCrc(trailing, 0);
    for (const [name, b] of Object.entries({ garbage, longRecord, trailing })) {
      assert.ok(validateRecordBatches(b).ok, `${name} passes the header checks alone`);
      expectError(b, 'INVALID_RECORD', { records: 'check-framing' });
    }
  });
});

describe('maxTimestampDeltaOf', () => {
  it('finds the largest delta, negative ones included, and zero records frame an empty section', () => {
    const b = buildRecordBatch(
      [
        { value: 'a', timestamp: 5000n },
        { value: 'b', timestamp: 4000n },
        { value: 'c', timestamp: 4500n },
      ],
      {},
    );
    assert.equal(maxTimestampDeltaOf(b, RECORD_BATCH_OVERHEAD, b.length, 3), 0);
    // Multi-byte lengths (a 10 KB value) and deltas (2^40 ms) take the walk's slow path.
    const late = buildRecordBatch(
      [
        { value: 'a'.repeat(10_000), timestamp: 5000n },
        { value: 'b', timestamp: 2n ** 40n },
        { value: 'c'.repeat(100), timestamp: 3000n },
      ],
      {},
    );
    assert.equal(maxTimestampDeltaOf(late, RECORD_BATCH_OVERHEAD, late.length, 3), 2 ** 40 - 5000);
    assert.equal(maxTimestampDeltaOf(b, b.length, b.length, 0), Number.NEGATIVE_INFINITY);
  });

  it('names the record whose length runs past the section', () => {
    const b = batch();
    const result = maxTimestampDeltaOf(b, RECORD_BATCH_OVERHEAD, b.length - 1, 3);
    assert.match(String(result), /record 2/);
  });
});
