/**
 * Decoding the records inside a v2 batch, for the features that need them (compaction, control records,
 * the CLI consumer). Not used on the produce or fetch path, which move whole batches as bytes.
 *
 * Record layout (all varints zigzag-encoded):
 *   length: varint, attributes: int8, timestampDelta: varlong, offsetDelta: varint,
 *   keyLength: varint, key, valueLength: varint, value, headersCount: varint,
 *   headers: [headerKeyLength: varint, headerKey, headerValueLength: varint, headerValue]
 */
import {
  COMPRESSION_CODEC_MASK,
  CompressionType,
  CURRENT_MAGIC,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from './batch-header.js';
import { type DecompressOptions, decompressRecords, decompressRecordsAsync } from './compression.js';
import { type BatchInfo, readBatchInfo } from './validate.js';
import { RecordDecodeError, RecordReader } from './varint.js';

export { RecordDecodeError } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** One decoded record. `key`, `value` and header values are slices of the batch (or of its decompressed records). */
export interface BatchRecord {
  offset: bigint;
  /** The record's create time, or the batch's maxTimestamp when the batch uses LogAppendTime. */
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
  offsetDelta: number;
  timestampDelta: bigint;
}

export type { BatchRecord as Record };

/** Check that a whole v2 batch starts at `pos` and return its header. */
function batchAt(batch: Buffer, pos: number): BatchInfo {
  if (pos < 0 || batch.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new RecordDecodeError(`no whole batch header at position ${pos}`);
  }
  const magic = batch.readInt8(pos + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) throw new RecordDecodeError(`cannot decode records of magic ${magic}`);
  const info = readBatchInfo(batch, pos);
  if (info.size < RECORD_BATCH_OVERHEAD || info.size > batch.length - pos) {
    throw new RecordDecodeError(`batch at position ${pos} claims ${info.size} bytes; ${batch.length - pos} are there`);
  }
  return info;
}

/** The records section of the batch at `pos` as stored (compressed if the batch is). */
export function recordsSectionOf(batch: Buffer, pos = 0): Buffer {
  const info = batchAt(batch, pos);
  return batch.subarray(pos + RECORD_BATCH_OVERHEAD, pos + info.size);
}

function* decodeRecords(info: BatchInfo, section: Buffer): Generator<BatchRecord> {
  const logAppendTime = (info.attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const reader = new RecordReader(section, 0, section.length);
  for (let i = 0; i < info.recordsCount; i++) {
    const length = reader.readVarint();
    if (length <= 0 || length > reader.remaining) {
      throw new RecordDecodeError(`record ${i} claims ${length} bytes; ${reader.remaining} remain`);
    }
    const end = reader.pos + length;
    const record = new RecordReader(section, reader.pos, end);
    const attributes = record.readInt8();
    const timestampDelta = record.readVarlong();
    const offsetDelta = record.readVarint();
    const key = record.readNullableBytes();
    const value = record.readNullableBytes();
    const headerCount = record.readVarint();
    if (headerCount < 0) throw new RecordDecodeError(`record ${i} has a negative header count ${headerCount}`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = record.readNullableBytes();
      if (headerKey === null) throw new RecordDecodeError(`record ${i} has a header with a null key`);
      headers.push({ key: headerKey.toString('utf8'), value: record.readNullableBytes() });
    }
    if (record.pos !== end) {
      throw new RecordDecodeError(
        `record ${i} declares ${length} bytes but its fields take ${record.pos - reader.pos}`,
      );
    }
    reader.pos = end;
    yield {
      offset: info.baseOffset + BigInt(offsetDelta),
      timestamp: logAppendTime ? info.maxTimestamp : info.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
      attributes,
      offsetDelta,
      timestampDelta,
    };
  }
  if (reader.remaining !== 0) {
    throw new RecordDecodeError(`${reader.remaining} bytes left after the batch's ${info.recordsCount} records`);
  }
}

function checkCount(info: BatchInfo): void {
  if (info.recordsCount < 0) throw new RecordDecodeError(`negative record count ${info.recordsCount}`);
}

/**
 * Iterate the records of the batch at `pos`, decompressing if needed (synchronously: zstd batches need
 * iterateRecordsAsync). Malformed bytes throw RecordDecodeError; nothing is read beyond the batch.
 */
export function iterateRecords(batch: Buffer, pos = 0, opts: DecompressOptions = {}): Iterable<BatchRecord> {
  const info = batchAt(batch, pos);
  checkCount(info);
  const stored = batch.subarray(pos + RECORD_BATCH_OVERHEAD, pos + info.size);
  const codec = (info.attributes & COMPRESSION_CODEC_MASK) as CompressionType;
  const section = codec === CompressionType.None ? stored : decompressRecords(codec, stored, opts);
  return decodeRecords(info, section);
}

/** Like iterateRecords, for every codec: decompression runs off the event loop. */
export async function iterateRecordsAsync(
  batch: Buffer,
  pos = 0,
  opts: DecompressOptions = {},
): Promise<Iterable<BatchRecord>> {
  const info = batchAt(batch, pos);
  checkCount(info);
  const stored = batch.subarray(pos + RECORD_BATCH_OVERHEAD, pos + info.size);
  const codec = (info.attributes & COMPRESSION_CODEC_MASK) as CompressionType;
  const section = codec === CompressionType.None ? stored : await decompressRecordsAsync(codec, stored, opts);
  return decodeRecords(info, section);
}

/** Every batch in `buf` (back to back), each with its position; stops with an error at a torn batch. */
export function* iterateBatches(buf: Buffer): Generator<BatchInfo> {
  let pos = 0;
  while (pos < buf.length) {
    const info = batchAt(buf, pos);
    yield info;
    pos += info.size;
  }
}
