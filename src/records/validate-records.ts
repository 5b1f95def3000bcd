/**
 * The records of a batch as the produce path sees them: a skip-walk over each record's length,
 * attributes and timestamp delta, without decoding keys, values or headers. It checks that the records
 * frame the section exactly, and finds the largest timestamp delta, from which the batch header's max
 * timestamp is set as Kafka's LogValidator sets it (a producer may leave the header's at -1).
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  COMPRESSION_CODEC_MASK,
  CompressionType,
  CRC_OFFSET,
  CURRENT_MAGIC,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
} from './batch-header.js';
import { decompressRecordsAsync } from './compression.js';
import { crc32c, restampCrc } from './crc32c.js';
import { RecordDecodeError, RecordReader } from './varint.js';

/** Kafka's RecordBatch.NO_TIMESTAMP. */
const NO_TIMESTAMP = -1;
const TWO_POW_32 = 4294967296;

/**
 * The largest timestamp delta of the `count` records filling `section[start, end)`, or a message saying
 * how they fail to frame it. Reads per record one varint length, the attributes byte and the zigzag
 * timestamp delta; allocates nothing. A delta beyond 2^53 ms is approximated (no real clock gets there).
 */
export function maxTimestampDeltaOf(section: Buffer, start: number, end: number, count: number): number | string {
  let pos = start;
  let maxDelta = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    if (pos >= end) return `record ${i} is missing: the batch ends after ${i} records`;
    // The record's length, a zigzag varint: one byte for records under 64 bytes, two under 8 KiB.
    let raw = section[pos++]!;
    if (raw >= 0x80) {
      raw = unsignedVarintTail(section, pos - 1, end, 5);
      if (raw < 0) return `record ${i} has a malformed length`;
      pos = varintEnd;
    }
    const length = (raw & 1) === 0 ? raw / 2 : -(raw + 1) / 2;
    const recordEnd = pos + length;
    // attributes (1 byte) + timestampDelta (>= 1) + offsetDelta (>= 1) + key, value lengths and header count.
    if (length < 6 || recordEnd > end) return `record ${i} claims ${length} bytes; ${end - pos} remain`;
    pos++; // attributes, unused by Kafka since magic 2
    // The timestamp delta, a zigzag varlong: one byte within 64 ms of the base timestamp, two within 8 s.
    raw = section[pos++]!;
    if (raw >= 0x80) {
      raw = unsignedVarintTail(section, pos - 1, recordEnd, 10);
      if (raw < 0) return `record ${i} has a malformed timestamp delta`;
      pos = varintEnd;
    }
    const delta = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    if (delta > maxDelta) maxDelta = delta;
    pos = recordEnd;
  }
  if (pos !== end) return `${end - pos} bytes are left after the batch's ${count} records`;
  return maxDelta;
}

/** Where the last varint read by unsignedVarintTail ended (module state: the walk allocates nothing). */
let varintEnd = 0;

/**
 * The unsigned value of the varint of at most `maxBytes` bytes at `pos` (below `end`), summed as a number,
 * and its end in `varintEnd`; -1 when it is cut off or too long. The slow path of the walk.
 */
function unsignedVarintTail(buf: Buffer, pos: number, end: number, maxBytes: number): number {
  let value = 0;
  let scale = 1;
  for (let b = 0; b < maxBytes; b++) {
    if (pos >= end) return -1;
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  return -1;
}

/** A signed 64-bit field read as a number: exact for every timestamp a clock can produce (below 2^53). */
function int64AsNumber(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

/**
 * Sets the max timestamp of the batch at `pos` from its records' largest timestamp delta, as Kafka's
 * LogValidator does for CreateTime topics: the header's is replaced and the type bit cleared when either
 * differs, and only then is the CRC recomputed. The caller must have checked the CRC already.
 */
export function setMaxTimestampFromRecords(buf: Buffer, pos: number, maxDelta: number): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const markedLogAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  if (!markedLogAppendTime) {
    const computed = int64AsNumber(buf, pos + BASE_TIMESTAMP_OFFSET) + maxDelta;
    if (computed === int64AsNumber(buf, pos + MAX_TIMESTAMP_OFFSET) && Number.isSafeInteger(computed)) return;
  }
  // Every record of a batch marked LogAppendTime carries the header's max timestamp (Kafka's DefaultRecord),
  // so that one stays; otherwise the exact sum in 64-bit arithmetic (the rare case, or beyond 2^53).
  const maxTimestamp = markedLogAppendTime
    ? buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET)
    : BigInt.asIntN(64, buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET) + BigInt(maxDelta));
  if (!markedLogAppendTime && maxTimestamp === buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET)) return;
  buf.writeInt16BE(attributes & ~TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(maxTimestamp, pos + MAX_TIMESTAMP_OFFSET);
  restampCrc(buf, pos);
}

/**
 * Whether a compressed batch's header max timestamp cannot be right: unset (-1), or below its base
 * timestamp (the first record's, for the producers we know). Only such batches are decompressed to set it.
 */
export function needsMaxTimestampFromRecords(buf: Buffer, pos = 0): boolean {
  if (buf.length - pos < RECORD_BATCH_OVERHEAD || buf.readInt8(pos + MAGIC_OFFSET) !== CURRENT_MAGIC) return false;
  if ((buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) === CompressionType.None) return false;
  const headerMax = int64AsNumber(buf, pos + MAX_TIMESTAMP_OFFSET);
  return headerMax === NO_TIMESTAMP || headerMax < int64AsNumber(buf, pos + BASE_TIMESTAMP_OFFSET);
}

export type CompressedTimestampOutcome =
  | { ok: true }
  | { ok: false; error: 'CORRUPT_MESSAGE' | 'INVALID_RECORD'; message: string };

/**
 * For the one compressed batch of a Produce request whose header max timestamp cannot be right (see
 * needsMaxTimestampFromRecords): decompresses its records off the event loop, walks them, and sets the
 * header's max timestamp from them. A batch whose CRC does not match is left alone for the log's
 * validation to refuse: restamping it would hide the corruption.
 */
export async function setCompressedMaxTimestamp(buf: Buffer, size: number): Promise<CompressedTimestampOutcome> {
  if (
    size < RECORD_BATCH_OVERHEAD ||
    size > buf.length ||
    buf.readUInt32BE(CRC_OFFSET) !== crc32c(buf.subarray(ATTRIBUTES_OFFSET, size))
  ) {
    return { ok: true };
  }
  const codec = (buf.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) as CompressionType;
  let section: Buffer;
  try {
    section = await decompressRecordsAsync(codec, buf.subarray(RECORD_BATCH_OVERHEAD, size));
  } catch (err) {
    return { ok: false, error: 'CORRUPT_MESSAGE', message: `the batch's records do not decompress: ${String(err)}` };
  }
  const count = buf.readInt32BE(RECORDS_COUNT_OFFSET);
  // No records: the log's validation refuses the batch, with its own message.
  if (count <= 0) return { ok: true };
  const walked = maxTimestampDeltaOf(section, 0, section.length, count);
  if (typeof walked === 'string') return { ok: false, error: 'INVALID_RECORD', message: walked };
  setMaxTimestampFromRecords(buf, 0, walked);
  return { ok: true };
}

/**
 * The index of the first record without a key in the v2 batch filling `buf[0, size)`, or -1 when every
 * record has one; decompresses off the event loop. Kafka's LogValidator refuses such records on compacted
 * topics, so only their produce path calls this. Framing errors are left to the log's validation (-1).
 */
export async function firstKeylessRecord(buf: Buffer, size: number): Promise<number> {
  if (size < RECORD_BATCH_OVERHEAD || size > buf.length || buf.readInt8(MAGIC_OFFSET) !== CURRENT_MAGIC) return -1;
  const codec = (buf.readInt16BE(ATTRIBUTES_OFFSET) & COMPRESSION_CODEC_MASK) as CompressionType;
  const stored = buf.subarray(RECORD_BATCH_OVERHEAD, size);
  let section: Buffer;
  try {
    section = codec === CompressionType.None ? stored : await decompressRecordsAsync(codec, stored);
  } catch {
    return -1;
  }
  const count = buf.readInt32BE(RECORDS_COUNT_OFFSET);
  const reader = new RecordReader(section, 0, section.length);
  try {
    for (let i = 0; i < count; i++) {
      const length = reader.readVarint();
      const end = reader.pos + length;
      if (length <= 0 || end > section.length) return -1;
      const record = new RecordReader(section, reader.pos, end);
      record.readInt8();
      record.readVarlong();
      record.readVarint();
      if (record.readVarint() < 0) return i;
      reader.pos = end;
    }
  } catch (err) {
    if (!(err instanceof RecordDecodeError)) throw err;
  }
  return -1;
}
