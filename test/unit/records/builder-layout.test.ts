import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { CompressionType, TimestampType } from '../../../src/records/batch-header.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { iterateRecords } from '../../../src/records/iterate.js';
import { validateRecordBatches } from '../../../src/records/validate.js';

/** One record, key "k", value "v", timestamp 1000, written out from the documented v2 layout. */
function handBuiltBatch(): Buffer {
  const afterCrc = Buffer.from([
    ...[0x00, 0x00], // attributes: no compression, CreateTime
    ...[0x00, 0x00, 0x00, 0x00], // lastOffsetDelta 0
    ...[0, 0, 0, 0, 0, 0, 0x03, 0xe8], // baseTimestamp 1000
    ...[0, 0, 0, 0, 0, 0, 0x03, 0xe8], // maxTimestamp 1000
    ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // producerId -1
    ...[0xff, 0xff], // producerEpoch -1
    ...[0xff, 0xff, 0xff, 0xff], // baseSequence -1
    ...[0x00, 0x00, 0x00, 0x01], // recordsCount 1
    0x10, // record length 8 (zigzag varint 16)
    0x00, // record attributes
    0x00, // timestampDelta 0
    0x00, // offsetDelta 0
    ...[0x02, 0x6b], // key length 1, "k"
    ...[0x02, 0x76], // value length 1, "v"
    0x00, // no headers
  ]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(afterCrc) >>> 0);
  return Buffer.concat([
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), // baseOffset 0
    Buffer.from([0x00, 0x00, 0x00, 0x3a]), // batchLength 58 = 70 - 12
    Buffer.from([0xff, 0xff, 0xff, 0xff]), // partitionLeaderEpoch -1
    Buffer.from([0x02]), // magic 2
    crc,
    afterCrc,
  ]);
}

describe('record batch layout', () => {
  it('a batch hand-built from the documented layout decodes to the expected fields', () => {
    const bytes = handBuiltBatch();
    const result = validateRecordBatches(bytes);
    assert.ok(result.ok);
    const info = result.batches[0]!;
    assert.equal(info.size, 70);
    assert.equal(info.baseOffset, 0n);
    assert.equal(info.recordsCount, 1);
    assert.equal(info.baseTimestamp, 1000n);
    assert.equal(info.producerId, -1n);
    assert.equal(info.partitionLeaderEpoch, -1);
    const [record, ...rest] = [...iterateRecords(bytes)];
    assert.equal(rest.length, 0);
    assert.equal(record!.offset, 0n);
    assert.equal(record!.timestamp, 1000n);
    assert.equal(record!.key!.toString(), 'k');
    assert.equal(record!.value!.toString(), 'v');
    assert.deepEqual(record!.headers, []);
  });

  it('the builder writes exactly the documented bytes for a tiny batch', () => {
    assert.deepEqual(buildRecordBatch([{ key: 'k', value: 'v', timestamp: 1000 }]), handBuiltBatch());
  });

  it('the builder sets attribute bits for codec, timestamp type, transaction and control', () => {
    const bytes = buildRecordBatch([{ value: 'x', timestamp: 1 }], {
      compression: CompressionType.Lz4,
      timestampType: TimestampType.LogAppendTime,
      isTransactional: true,
      isControl: true,
      producerId: 1n,
      baseSequence: 0,
    });
    assert.equal(bytes.readInt16BE(21), 0x03 | 0x08 | 0x10 | 0x20);
  });

  it('the builder writes negative timestamp deltas and large offset deltas as zigzag varints', () => {
    const bytes = buildRecordBatch([
      { value: 'a', timestamp: 5_000_000_000_000n, offsetDelta: 0 },
      { value: 'b', timestamp: 1n, offsetDelta: 70_000 },
    ]);
    const result = validateRecordBatches(bytes, { verifyCrc: true });
    assert.equal(result.ok, false); // lastOffsetDelta 70000 with 2 records is a gap only compaction may leave
    const decoded = [...iterateRecords(bytes)];
    assert.deepEqual(
      decoded.map((r) => [r.offset, r.timestamp, r.timestampDelta]),
      [
        [0n, 5_000_000_000_000n, 0n],
        [70_000n, 1n, 1n - 5_000_000_000_000n],
      ],
    );
    assert.equal(bytes.readBigInt64BE(35), 5_000_000_000_000n);
  });
});
