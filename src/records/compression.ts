/**
 * Compression codecs for the records section of a v2 batch (everything after the 61-byte header).
 *
 * - gzip: node:zlib.
 * - snappy: Kafka's Java client writes xerial-framed snappy (a 16-byte "\x82SNAPPY\0" header, then blocks each
 *   prefixed by a 4-byte compressed length); librdkafka may also send raw snappy. Reading accepts both;
 *   writing uses the xerial framing so every client can read it.
 * - lz4: the LZ4 frame format (magic 0x184D2204) with independent 64 KiB blocks, as Kafka's Java producer writes
 *   for magic 2 (magic 0 and 1 used a frame with a miscomputed header checksum, KAFKA-3160).
 * - zstd: a standard zstd frame. The binding is async only, so zstd needs the `*Async` functions.
 *
 * Decompression is bounded: before inflating, the frame structure is walked to find an upper bound of the
 * output size, and data that could expand beyond `maxBytes` is refused without allocating it.
 */

import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { CompressionType } from './batch-header.js';
import { RecordDecodeError } from './varint.js';

// The native codec libraries are loaded on first use: together they cost about 150 ms and 20 MiB at
// start-up, and most brokers never see a snappy, lz4 or zstd batch. They are CommonJS, so a synchronous
// require keeps the synchronous functions synchronous.
const require = createRequire(import.meta.url);
type Snappy = typeof import('snappy');
type Lz4 = typeof import('lz4-napi');
type Zstd = typeof import('@mongodb-js/zstd');
let snappyModule: Snappy | undefined;
let lz4Module: Lz4 | undefined;
let zstdModule: Zstd | undefined;
const snappy = (): Snappy => (snappyModule ??= require('snappy') as Snappy);
const lz4 = (): Lz4 => (lz4Module ??= require('lz4-napi') as Lz4);
const zstd = (): Zstd => (zstdModule ??= require('@mongodb-js/zstd') as Zstd);

/** Default cap on the decompressed size of one batch's records. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export interface DecompressOptions {
  /** Refuse records that would inflate beyond this many bytes; default 64 MiB. */
  maxBytes?: number;
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

// ---- snappy (xerial framing) -------------------------------------------------------------------

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
/** xerial's SnappyOutputStream default block size, which the Java client uses. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** The uncompressed length a raw snappy block declares in its preamble (an unsigned varint of up to 32 bits). */
function snappyDeclaredLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw new RecordDecodeError('truncated snappy length preamble');
    const byte = block[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return value;
  }
  throw new RecordDecodeError('malformed snappy length preamble');
}

function xerialBlocks(data: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw new RecordDecodeError('truncated xerial snappy block length');
    const length = data.readInt32BE(pos);
    pos += 4;
    if (length < 0 || length > data.length - pos) {
      throw new RecordDecodeError(`xerial snappy block of ${length} bytes overruns the data`);
    }
    blocks.push(data.subarray(pos, pos + length));
    pos += length;
  }
  return blocks;
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  const blocks = isXerialFramed(data) ? xerialBlocks(data) : [data];
  let total = 0;
  for (const block of blocks) total += snappyDeclaredLength(block);
  if (total > maxBytes) throw new RecordDecodeError(`snappy records would inflate to ${total} bytes, over ${maxBytes}`);
  const parts = blocks.map((block) => snappy().uncompressSync(block, { asBuffer: true }) as Buffer);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

function snappyCompress(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  const parts: Buffer[] = [header];
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_SIZE) {
    const block = snappy().compressSync(data.subarray(pos, pos + XERIAL_BLOCK_SIZE));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

// ---- lz4 (frame format) ------------------------------------------------------------------------

const LZ4_FRAME_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

/** Upper bound of an LZ4 frame's content, from its header and block sizes, without decoding the blocks. */
function lz4MaxOutput(data: Buffer): { bound: number; blockMax: number } {
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_FRAME_MAGIC) throw new RecordDecodeError('not an LZ4 frame');
  const flags = data[4]!;
  const blockMax = LZ4_BLOCK_MAX_SIZES[(data[5]! >> 4) & 0x07];
  if ((flags & 0xc0) !== 0x40 || blockMax === undefined) throw new RecordDecodeError('unsupported LZ4 frame header');
  const hasBlockChecksum = (flags & 0x10) !== 0;
  const hasContentSize = (flags & 0x08) !== 0;
  const hasDictId = (flags & 0x01) !== 0;
  let pos = 6 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0) + 1;
  let bound = 0;
  for (;;) {
    if (data.length - pos < 4) throw new RecordDecodeError('truncated LZ4 frame');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const uncompressed = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMax || size > data.length - pos) throw new RecordDecodeError('LZ4 block overruns the frame');
    bound += uncompressed ? size : blockMax;
    pos += size + (hasBlockChecksum ? 4 : 0);
  }
  return { bound, blockMax };
}

function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const { bound, blockMax } = lz4MaxOutput(data);
  // Producers fill every block but the last, so the bound overshoots by less than one block.
  if (bound > maxBytes + blockMax) {
    throw new RecordDecodeError(`lz4 records could inflate to ${bound} bytes, over ${maxBytes}`);
  }
  return lz4().decompressFrameSync(data);
}

/**
 * The frame Kafka's Java producer writes: version 01, independent blocks, no checksums, 64 KiB blocks.
 * The last byte is the header checksum, fixed for this descriptor: (xxh32(0x60 0x40) >> 8) & 0xff.
 */
const LZ4_FRAME_HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
const LZ4_BLOCK_SIZE = 64 * 1024;
const LZ4_STORED_BLOCK_FLAG = 0x80000000;
/** lz4-napi's block functions prefix the block with its uncompressed size (4 bytes, little endian). */
const LZ4_SIZE_PREFIX = 4;

/**
 * Built from lz4-napi's block compressor rather than its frame encoder, which picks block sizes up to
 * 4 MiB by input size: 64 KiB blocks keep consumers' buffers small, as with the Java client.
 */
function lz4Compress(data: Buffer): Buffer {
  const parts: Buffer[] = [LZ4_FRAME_HEADER];
  for (let pos = 0; pos < data.length; pos += LZ4_BLOCK_SIZE) {
    const chunk = data.subarray(pos, pos + LZ4_BLOCK_SIZE);
    const compressed = lz4().compressSync(chunk).subarray(LZ4_SIZE_PREFIX);
    const stored = compressed.length >= chunk.length;
    const block = stored ? chunk : compressed;
    const size = Buffer.alloc(4);
    size.writeUInt32LE((block.length | (stored ? LZ4_STORED_BLOCK_FLAG : 0)) >>> 0);
    parts.push(size, block);
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

// ---- zstd --------------------------------------------------------------------------------------

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX_SIZE = 128 * 1024;

/**
 * Upper bound of the content of the zstd frames in `data`, from the block headers: raw and RLE blocks
 * state their regenerated size, a compressed block yields at most 128 KiB. Skippable frames count zero.
 */
function zstdMaxOutput(data: Buffer): number {
  let pos = 0;
  let bound = 0;
  while (pos < data.length) {
    if (data.length - pos < 8) throw new RecordDecodeError('truncated zstd frame');
    const magic = data.readUInt32LE(pos);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      const size = data.readUInt32LE(pos + 4);
      if (size > data.length - pos - 8) throw new RecordDecodeError('zstd skippable frame overruns the data');
      pos += 8 + size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new RecordDecodeError('not a zstd frame');
    const descriptor = data[pos + 4]!;
    const fcsFlag = descriptor >> 6;
    const singleSegment = (descriptor & 0x20) !== 0;
    const hasChecksum = (descriptor & 0x04) !== 0;
    const dictIdSize = [0, 1, 2, 4][descriptor & 0x03]!;
    const fcsSize = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    pos += 5 + (singleSegment ? 0 : 1) + dictIdSize + fcsSize;
    for (;;) {
      if (data.length - pos < 3) throw new RecordDecodeError('truncated zstd block header');
      const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
      pos += 3;
      const last = (header & 1) !== 0;
      const type = (header >> 1) & 0x03;
      const size = header >>> 3;
      if (type === 3) throw new RecordDecodeError('reserved zstd block type');
      if (size > ZSTD_BLOCK_MAX_SIZE) throw new RecordDecodeError('zstd block larger than 128 KiB');
      const stored = type === 1 ? 1 : size; // an RLE block stores one byte repeated `size` times
      if (stored > data.length - pos) throw new RecordDecodeError('zstd block overruns the data');
      bound += type === 2 ? ZSTD_BLOCK_MAX_SIZE : size;
      pos += stored;
      if (last) break;
    }
    if (hasChecksum) pos += 4;
  }
  if (pos > data.length) throw new RecordDecodeError('truncated zstd frame checksum');
  return bound;
}

function checkZstdBound(data: Buffer, maxBytes: number): void {
  const bound = zstdMaxOutput(data);
  if (bound > maxBytes + ZSTD_BLOCK_MAX_SIZE) {
    throw new RecordDecodeError(`zstd records could inflate to ${bound} bytes, over ${maxBytes}`);
  }
}

// ---- public API --------------------------------------------------------------------------------

function checkOutput(codec: CompressionType, out: Buffer, maxBytes: number): Buffer {
  if (out.length > maxBytes) {
    throw new RecordDecodeError(`${CompressionType[codec]} records inflated to ${out.length} bytes, over ${maxBytes}`);
  }
  return out;
}

function zstdIsAsync(): never {
  throw new Error('zstd is only available asynchronously: use compressRecordsAsync / decompressRecordsAsync');
}

/** Whether `codec` can be handled by the synchronous functions (all but zstd). */
export function isSyncCodec(codec: CompressionType): boolean {
  return codec !== CompressionType.Zstd;
}

/** Compress a records section. Throws for zstd, which has only an async binding. */
export function compressRecords(codec: CompressionType, data: Buffer): Buffer {
  switch (codec) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data);
    case CompressionType.Snappy:
      return snappyCompress(data);
    case CompressionType.Lz4:
      return lz4Compress(data);
    case CompressionType.Zstd:
      return zstdIsAsync();
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
}

/**
 * Decompress a records section, refusing output over `maxBytes`. Malformed input throws RecordDecodeError.
 * Throws for zstd, which has only an async binding.
 */
export function decompressRecords(codec: CompressionType, data: Buffer, opts: DecompressOptions = {}): Buffer {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  try {
    switch (codec) {
      case CompressionType.None:
        return checkOutput(codec, data, maxBytes);
      case CompressionType.Gzip:
        return gunzipSync(data, { maxOutputLength: maxBytes });
      case CompressionType.Snappy:
        return checkOutput(codec, snappyDecompress(data, maxBytes), maxBytes);
      case CompressionType.Lz4:
        return checkOutput(codec, lz4Decompress(data, maxBytes), maxBytes);
      case CompressionType.Zstd:
        return zstdIsAsync();
      default:
        throw new RecordDecodeError(`unknown compression codec ${codec}`);
    }
  } catch (err) {
    throw asDecodeError(codec, err);
  }
}

/** Compress a records section; works for every codec (zstd and gzip off the event loop). */
export async function compressRecordsAsync(codec: CompressionType, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case CompressionType.Gzip:
      return gzipAsync(data);
    case CompressionType.Zstd:
      return zstd().compress(data, 3);
    default:
      return compressRecords(codec, data);
  }
}

/** Decompress a records section for every codec, refusing output over `maxBytes`. */
export async function decompressRecordsAsync(
  codec: CompressionType,
  data: Buffer,
  opts: DecompressOptions = {},
): Promise<Buffer> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  try {
    switch (codec) {
      case CompressionType.Gzip:
        return await gunzipAsync(data, { maxOutputLength: maxBytes });
      case CompressionType.Zstd:
        checkZstdBound(data, maxBytes);
        return checkOutput(codec, await zstd().decompress(data), maxBytes);
      default:
        return decompressRecords(codec, data, opts);
    }
  } catch (err) {
    throw asDecodeError(codec, err);
  }
}

/** Library errors (zlib, napi bindings) become RecordDecodeError, so callers handle one kind of failure. */
function asDecodeError(codec: CompressionType, err: unknown): Error {
  if (err instanceof RecordDecodeError) return err;
  if (err instanceof Error && err.message.startsWith('zstd is only available')) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new RecordDecodeError(`cannot decompress ${CompressionType[codec] ?? codec} records: ${reason}`);
}
