import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  RecordDecodeError,
  RecordReader,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from '../../../src/records/varint.js';

function readerOf(bytes: number[]): RecordReader {
  const buf = Buffer.from(bytes);
  return new RecordReader(buf, 0, buf.length);
}

describe('zigzag varints', () => {
  it('encode the documented examples: 0, -1, 1, 300, -64, 64', () => {
    const cases: Array<[number, number[]]> = [
      [0, [0x00]],
      [-1, [0x01]],
      [1, [0x02]],
      [-64, [0x7f]],
      [64, [0x80, 0x01]],
      [300, [0xd8, 0x04]],
      [2147483647, [0xfe, 0xff, 0xff, 0xff, 0x0f]],
      [-2147483648, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, bytes] of cases) {
      const buf = Buffer.alloc(5);
      const end = writeVarint(buf, 0, value);
      assert.deepEqual([...buf.subarray(0, end)], bytes, `${value}`);
      assert.equal(varintSize(value), bytes.length);
      assert.equal(readerOf(bytes).readVarint(), value);
    }
  });

  it('round-trip varlongs at the 64-bit edges and around the 32-bit boundary', () => {
    const values = [0n, -1n, 1n, 2n ** 31n, -(2n ** 31n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 1_700_000_000_000n];
    for (const value of values) {
      const buf = Buffer.alloc(10);
      const end = writeVarlong(buf, 0, value);
      assert.equal(end, varlongSize(value), `${value}`);
      const reader = new RecordReader(buf, 0, end);
      assert.equal(reader.readVarlong(), value);
      assert.equal(reader.remaining, 0);
    }
    assert.equal(varlongSize(-(2n ** 63n)), 10);
  });

  it('reject truncated, overlong and overflowing encodings with RecordDecodeError', () => {
    assert.throws(() => readerOf([0x80]).readVarint(), RecordDecodeError);
    assert.throws(() => readerOf([]).readVarint(), RecordDecodeError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).readVarint(), RecordDecodeError);
    assert.throws(() => readerOf([0xff, 0xff, 0xff, 0xff, 0x1f]).readVarint(), RecordDecodeError);
    assert.throws(() => readerOf(Array(10).fill(0xff)).readVarlong(), RecordDecodeError);
    assert.throws(() => readerOf([...Array(9).fill(0xff), 0x02]).readVarlong(), RecordDecodeError);
  });

  it('never read past the end given to the reader, even inside a larger buffer', () => {
    const buf = Buffer.from([0x06, 0x61, 0x62, 0x63, 0x64]); // length 3, but the reader ends after 2
    const reader = new RecordReader(buf, 0, 3);
    assert.throws(() => reader.readNullableBytes(), RecordDecodeError);
    assert.throws(() => new RecordReader(buf, 0, 1).readSlice(2), RecordDecodeError);
  });
});
