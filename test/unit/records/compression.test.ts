import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyRaw, uncompressSync as snappyUnraw } from 'snappy';
import { CompressionType } from '../../../src/records/batch-header.js';
import {
  compressRecords,
  compressRecordsAsync,
  decompressRecords,
  decompressRecordsAsync,
} from '../../../src/records/compression.js';
import { RecordDecodeError } from '../../../src/records/varint.js';

/** Compressible but not trivial: repeated text with random bytes mixed in, over several codec blocks. */
const sample = Buffer.concat(
  Array.from({ length: 400 }, (_, i) =>
    Buffer.concat([Buffer.from(`record number ${i} `.repeat(20)), randomBytes(40)]),
  ),
);

const XERIAL_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

function lengthPrefixed(block: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(block.length);
  return Buffer.concat([length, block]);
}

describe('compression codecs', () => {
  for (const codec of [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
    it(`${CompressionType[codec]} round-trips a records section synchronously and asynchronously`, async () => {
      const compressed = compressRecords(codec, sample);
      if (codec !== CompressionType.None) assert.ok(compressed.length < sample.length);
      assert.deepEqual(decompressRecords(codec, compressed), sample);
      assert.deepEqual(await decompressRecordsAsync(codec, await compressRecordsAsync(codec, sample)), sample);
    });
  }

  it('Zstd round-trips a records section asynchronously and refuses the sync functions', async () => {
    const compressed = await compressRecordsAsync(CompressionType.Zstd, sample);
    assert.deepEqual(await decompressRecordsAsync(CompressionType.Zstd, compressed), sample);
    assert.throws(() => compressRecords(CompressionType.Zstd, sample), /Async/);
    assert.throws(() => decompressRecords(CompressionType.Zstd, compressed), /Async/);
  });

  it('snappy output uses the xerial framing the Java client reads: header, then length-prefixed 32 KiB blocks', () => {
    const framed = compressRecords(CompressionType.Snappy, sample);
    assert.deepEqual(framed.subarray(0, 16), XERIAL_HEADER);
    const parts: Buffer[] = [];
    for (let pos = 16; pos < framed.length; ) {
      const length = framed.readInt32BE(pos);
      parts.push(snappyUnraw(framed.subarray(pos + 4, pos + 4 + length), { asBuffer: true }) as Buffer);
      pos += 4 + length;
    }
    assert.equal(parts.length, Math.ceil(sample.length / 32768));
    assert.ok(parts.slice(0, -1).every((p) => p.length === 32768));
    assert.deepEqual(Buffer.concat(parts), sample);
  });

  it('snappy decompression accepts a hand-framed xerial stream and plain raw snappy', () => {
    const a = sample.subarray(0, 1000);
    const b = sample.subarray(1000, 5000);
    const framed = Buffer.concat([XERIAL_HEADER, lengthPrefixed(snappyRaw(a)), lengthPrefixed(snappyRaw(b))]);
    assert.deepEqual(decompressRecords(CompressionType.Snappy, framed), Buffer.concat([a, b]));
    assert.deepEqual(decompressRecords(CompressionType.Snappy, snappyRaw(sample)), sample);
  });

  it('lz4 output is an LZ4 frame with independent 64 KiB blocks, as the Java producer writes', () => {
    const frame = compressRecords(CompressionType.Lz4, sample);
    assert.equal(frame.readUInt32LE(0), 0x184d2204);
    assert.equal(frame[4]! & 0xc0, 0x40, 'frame version 01');
    assert.equal(frame[4]! & 0x20, 0x20, 'block independence');
    assert.equal((frame[5]! >> 4) & 0x07, 4, '64 KiB blocks');
    assert.deepEqual(decompressFrameSync(frame), sample, 'readable by an independent frame decoder');
  });

  it('lz4 stores incompressible blocks uncompressed and still round-trips', () => {
    const noise = randomBytes(150_000);
    const frame = compressRecords(CompressionType.Lz4, noise);
    assert.ok(frame.readUInt32LE(7) & 0x80000000, 'first block stored');
    assert.deepEqual(decompressRecords(CompressionType.Lz4, frame), noise);
    assert.deepEqual(decompressFrameSync(frame), noise);
    assert.deepEqual(
      decompressRecords(CompressionType.Lz4, compressRecords(CompressionType.Lz4, Buffer.alloc(0))),
      Buffer.alloc(0),
    );
  });

  it('lz4 decompression reads a hand-built frame holding one stored (uncompressed) block', () => {
    const data = Buffer.from('stored block');
    const blockSize = Buffer.alloc(4);
    blockSize.writeUInt32LE((data.length | 0x80000000) >>> 0);
    // FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB), header checksum 0x82.
    const frame = Buffer.concat([
      Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]),
      blockSize,
      data,
      Buffer.alloc(4),
    ]);
    assert.deepEqual(decompressRecords(CompressionType.Lz4, frame), data);
  });

  it('zstd decompression reads hand-built frames with raw and RLE blocks', async () => {
    const data = Buffer.from('raw zstd block');
    const raw = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, data.length]), // magic, single segment, 1-byte content size
      Buffer.from([(data.length << 3) | 1, 0, 0]), // last block, raw, size
      data,
    ]);
    assert.deepEqual(await decompressRecordsAsync(CompressionType.Zstd, raw), data);
    const rle = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 200, ((200 << 3) & 0xff) | 0b011, 200 >> 5, 0, 0x61]);
    assert.deepEqual(await decompressRecordsAsync(CompressionType.Zstd, rle), Buffer.alloc(200, 'a'));
  });
});

describe('bounded decompression', () => {
  const zeros = Buffer.alloc(4 * 1024 * 1024);

  it('gzip output beyond maxBytes is refused', () => {
    const bomb = gzipSync(zeros);
    assert.throws(() => decompressRecords(CompressionType.Gzip, bomb, { maxBytes: 1024 * 1024 }), RecordDecodeError);
    assert.equal(decompressRecords(CompressionType.Gzip, bomb, { maxBytes: zeros.length }).length, zeros.length);
  });

  it('snappy whose declared length exceeds maxBytes is refused before inflating', () => {
    // A raw block whose preamble claims 2^31 bytes and holds nothing.
    const liar = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x00]);
    assert.throws(() => decompressRecords(CompressionType.Snappy, liar), /over/);
    const framed = compressRecords(CompressionType.Snappy, zeros);
    assert.throws(() => decompressRecords(CompressionType.Snappy, framed, { maxBytes: 1024 * 1024 }), /over/);
  });

  it('lz4 frames that could inflate beyond maxBytes are refused', () => {
    const frame = compressFrameSync(zeros);
    assert.throws(() => decompressRecords(CompressionType.Lz4, frame, { maxBytes: 1024 * 1024 }), /over/);
    assert.equal(decompressRecords(CompressionType.Lz4, frame, { maxBytes: zeros.length }).length, zeros.length);
  });

  it('a zstd bomb of RLE blocks is refused before inflating', async () => {
    // 2000 RLE blocks of 128 KiB each: 8 KB claiming 250 MiB.
    const block = Buffer.from([((131072 << 3) & 0xff) | 0b010, (131072 >> 5) & 0xff, (131072 >> 13) & 0xff, 0x00]);
    const blocks = Array.from({ length: 2000 }, () => block);
    const last = Buffer.from(blocks[0]!);
    last[0]! |= 1;
    const bomb = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]), ...blocks.slice(1), last]);
    await assert.rejects(decompressRecordsAsync(CompressionType.Zstd, bomb), /over/);
  });

  it('zstd output beyond maxBytes is refused', async () => {
    const compressed = await compressRecordsAsync(CompressionType.Zstd, zeros);
    await assert.rejects(
      decompressRecordsAsync(CompressionType.Zstd, compressed, { maxBytes: 1024 * 1024 }),
      RecordDecodeError,
    );
  });

  it('garbage given to any codec fails with RecordDecodeError', async () => {
    const garbage = Buffer.from('this is not compressed data at all');
    for (const codec of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
      assert.throws(() => decompressRecords(codec, garbage), RecordDecodeError, CompressionType[codec]);
    }
    await assert.rejects(decompressRecordsAsync(CompressionType.Zstd, garbage), RecordDecodeError);
  });
});
