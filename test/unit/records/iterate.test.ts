import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompressionType, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET } from '../../../src/records/batch-header.js';
import { buildRecordBatch, buildRecordBatchAsync, type RecordInput } from '../../../src/records/builder.js';
import { restampCrc } from '../../../src/records/crc32c.js';
import { iterateBatches, iterateRecords, iterateRecordsAsync } from '../../../src/records/iterate.js';
import { setLogAppendTime } from '../../../src/records/patch.js';
import { RecordDecodeError } from '../../../src/records/varint.js';

const inputs: RecordInput[] = [
  { key: 'key-1', value: 'value-1', timestamp: 1_700_000_000_000n },
  { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: 1_699_999_999_000n },
  { key: Buffer.alloc(0), value: null, timestamp: 1_700_000_000_500n },
  {
    key: 'h',
    value: 'x'.repeat(300),
    timestamp: 1_700_000_001_000n,
    headers: [
      { key: 'trace', value: 'abc' },
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'nothing', value: null },
      { key: 'ünïcode', value: 'é' },
    ],
  },
];

function asBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function checkRoundTrip(decoded: ReturnType<typeof iterateRecords>, baseOffset: bigint): void {
  const records = [...decoded];
  assert.equal(records.length, inputs.length);
  records.forEach((record, i) => {
    const input = inputs[i]!;
    assert.equal(record.offset, baseOffset + BigInt(i));
    assert.equal(record.offsetDelta, i);
    assert.equal(record.timestamp, BigInt(input.timestamp!));
    assert.deepEqual(record.key, asBuffer(input.key));
    assert.deepEqual(record.value, asBuffer(input.value));
    assert.deepEqual(
      record.headers,
      (input.headers ?? []).map((h) => ({ key: h.key, value: asBuffer(h.value) })),
    );
    assert.equal(record.attributes, 0);
  });
}

describe('iterateRecords', () => {
  for (const codec of [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
    it(`round-trips keys, values, headers and timestamps through ${CompressionType[codec]}`, () => {
      const batch = buildRecordBatch(inputs, { compression: codec, baseOffset: 100n });
      checkRoundTrip(iterateRecords(batch), 100n);
    });
  }

  for (const codec of [CompressionType.None, CompressionType.Gzip, CompressionType.Zstd]) {
    it(`round-trips records asynchronously through ${CompressionType[codec]}`, async () => {
      const batch = await buildRecordBatchAsync(inputs, { compression: codec, baseOffset: 7n });
      checkRoundTrip(await iterateRecordsAsync(batch), 7n);
    });
  }

  it('refuses a zstd batch synchronously, pointing to the async variant', async () => {
    const batch = await buildRecordBatchAsync(inputs, { compression: CompressionType.Zstd });
    assert.throws(() => iterateRecords(batch), /Async/);
    assert.throws(() => buildRecordBatch(inputs, { compression: CompressionType.Zstd }), /Async/);
  });

  it('decodes the batch at a given position inside a larger buffer', () => {
    const first = buildRecordBatch([{ value: 'a' }]);
    const second = buildRecordBatch(inputs, { baseOffset: 1n });
    const log = Buffer.concat([first, second, first]);
    checkRoundTrip(iterateRecords(log, first.length), 1n);
    assert.deepEqual(
      [...iterateBatches(log)].map((b) => b.position),
      [0, first.length, first.length + second.length],
    );
  });

  it('gives every record the batch maxTimestamp when the batch uses LogAppendTime', () => {
    const batch = buildRecordBatch(inputs);
    setLogAppendTime(batch, 0, 42n);
    assert.deepEqual(
      [...iterateRecords(batch)].map((r) => r.timestamp),
      inputs.map(() => 42n),
    );
  });

  it('decodes a batch with no records to nothing', () => {
    assert.deepEqual([...iterateRecords(buildRecordBatch([]))], []);
  });
});

describe('iterateRecords on malformed bytes', () => {
  const good = buildRecordBatch([{ key: 'k', value: 'value', headers: [{ key: 'h', value: 'v' }], timestamp: 5 }]);

  function decodeAll(bytes: Buffer): unknown[] {
    return [...iterateRecords(bytes)];
  }

  /** Replace the records section of `good` with `section`, keeping the header consistent. */
  function withSection(section: Buffer, count = 1): Buffer {
    const bytes = Buffer.concat([good.subarray(0, RECORD_BATCH_OVERHEAD), section]);
    bytes.writeInt32BE(bytes.length - 12, 8);
    bytes.writeInt32BE(count, RECORDS_COUNT_OFFSET);
    restampCrc(bytes, 0);
    return bytes;
  }

  it('throws RecordDecodeError, never RangeError, for every truncation of the records section', () => {
    for (let cut = RECORD_BATCH_OVERHEAD; cut < good.length; cut++) {
      const truncated = withSection(good.subarray(RECORD_BATCH_OVERHEAD, cut));
      assert.throws(() => decodeAll(truncated), RecordDecodeError, `cut at ${cut}`);
    }
  });

  it('throws RecordDecodeError, never RangeError, for every single-byte corruption of the records section', () => {
    for (let i = RECORD_BATCH_OVERHEAD; i < good.length; i++) {
      for (const value of [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]) {
        const bytes = Buffer.from(good);
        bytes[i] = value;
        try {
          decodeAll(bytes);
        } catch (err) {
          assert.ok(err instanceof RecordDecodeError, `byte ${i} = ${value}: ${err}`);
        }
      }
    }
  });

  it('rejects a varint longer than five bytes', () => {
    assert.throws(() => decodeAll(withSection(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))), /varint/);
  });

  it('rejects a record length claiming more bytes than remain, without allocating it', () => {
    // 0xfe 0xff 0xff 0xff 0x0f is the zigzag varint for 2^31 - 1.
    assert.throws(() => decodeAll(withSection(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00]))), RecordDecodeError);
  });

  it('rejects a key length claiming more bytes than the record holds', () => {
    // length 6: attributes, timestampDelta, offsetDelta, key length 100 (zigzag 200 = 0xc8 0x01), one byte
    assert.throws(() => decodeAll(withSection(Buffer.from([0x0c, 0x00, 0x00, 0x00, 0xc8, 0x01, 0x00]))), /exceeds/);
  });

  it('rejects a negative length other than -1 and a negative header count', () => {
    assert.throws(() => decodeAll(withSection(Buffer.from([0x08, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00]))), /negative/);
    assert.throws(() => decodeAll(withSection(Buffer.from([0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01]))), /negative/);
  });

  it('rejects a record count larger than the records present, and bytes left after the last record', () => {
    const section = good.subarray(RECORD_BATCH_OVERHEAD);
    assert.throws(() => decodeAll(withSection(section, 2)), RecordDecodeError);
    assert.throws(() => decodeAll(withSection(Buffer.concat([section, Buffer.from([0x00])]), 1)), /left/);
    assert.throws(() => decodeAll(withSection(section, -1)), /negative/);
  });

  it('rejects a record whose fields do not fill its declared length', () => {
    const section = Buffer.from(good.subarray(RECORD_BATCH_OVERHEAD));
    const padded = Buffer.concat([Buffer.from([section[0]! + 2]), section.subarray(1), Buffer.from([0x00])]);
    assert.throws(() => decodeAll(withSection(padded)), /declares/);
  });

  it('rejects a batch whose length field overruns the buffer', () => {
    assert.throws(() => decodeAll(good.subarray(0, good.length - 1)), RecordDecodeError);
    assert.throws(() => decodeAll(good.subarray(0, 30)), RecordDecodeError);
  });

  it('rejects corrupt compressed data with RecordDecodeError', () => {
    for (const codec of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
      const bytes = buildRecordBatch(inputs, { compression: codec });
      for (let i = RECORD_BATCH_OVERHEAD; i < bytes.length; i += 3) {
        const bad = Buffer.from(bytes);
        bad[i]! ^= 0x5a;
        try {
          decodeAll(bad);
        } catch (err) {
          assert.ok(err instanceof RecordDecodeError, `${CompressionType[codec]} byte ${i}: ${err}`);
        }
      }
    }
  });
});
