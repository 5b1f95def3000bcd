/**
 * Builds record batch v2 bytes: for tests, for the broker's own records (coordinators, control markers)
 * and for the CLI producer. Sizes are computed first so the records are written into one allocation.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  CONTROL_FLAG_MASK,
  CompressionType,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_ID,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TimestampType,
  TRANSACTIONAL_FLAG_MASK,
} from './batch-header.js';
import { compressRecords, compressRecordsAsync } from './compression.js';
import { restampCrc } from './crc32c.js';
import { varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';

export interface RecordInput {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Array<{ key: string; value: Buffer | string | null }>;
  /** Create time in ms; defaults to now. */
  timestamp?: bigint | number;
  /** Defaults to the record's index in the batch (compacted batches may have gaps). */
  offsetDelta?: number;
}

export interface BatchOptions {
  baseOffset?: bigint;
  compression?: CompressionType;
  timestampType?: TimestampType;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  partitionLeaderEpoch?: number;
  /** Defaults to the first record's timestamp, as Kafka's producer does. */
  baseTimestamp?: bigint;
  /** Defaults to the last record's offset delta (or 0 for an empty batch). */
  lastOffsetDelta?: number;
}

interface EncodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: Buffer; value: Buffer | null }>;
  timestampDelta: bigint;
  offsetDelta: number;
  bodySize: number;
}

function toBytes(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

function bytesFieldSize(value: Buffer | null): number {
  return value === null ? varintSize(-1) : varintSize(value.length) + value.length;
}

function writeBytesField(buf: Buffer, pos: number, value: Buffer | null): number {
  if (value === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, value.length);
  return pos + value.copy(buf, pos);
}

interface Layout {
  encoded: EncodedRecord[];
  recordsBytes: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  lastOffsetDelta: number;
}

function layOut(records: RecordInput[], opts: BatchOptions): Layout {
  const now = BigInt(Date.now());
  const timestamps = records.map((r) => (r.timestamp === undefined ? now : BigInt(r.timestamp)));
  const baseTimestamp = opts.baseTimestamp ?? timestamps[0] ?? now;
  let maxTimestamp = timestamps.length === 0 ? baseTimestamp : timestamps[0]!;
  let recordsBytes = 0;
  const encoded = records.map((record, index) => {
    const timestamp = timestamps[index]!;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const key = toBytes(record.key);
    const value = toBytes(record.value);
    const headers = (record.headers ?? []).map((h) => ({ key: Buffer.from(h.key, 'utf8'), value: toBytes(h.value) }));
    const timestampDelta = timestamp - baseTimestamp;
    const offsetDelta = record.offsetDelta ?? index;
    let bodySize =
      1 + // attributes
      varlongSize(timestampDelta) +
      varintSize(offsetDelta) +
      bytesFieldSize(key) +
      bytesFieldSize(value) +
      varintSize(headers.length);
    for (const h of headers) bodySize += bytesFieldSize(h.key) + bytesFieldSize(h.value);
    recordsBytes += varintSize(bodySize) + bodySize;
    return { key, value, headers, timestampDelta, offsetDelta, bodySize };
  });
  const lastOffsetDelta = opts.lastOffsetDelta ?? encoded.at(-1)?.offsetDelta ?? 0;
  return { encoded, recordsBytes, baseTimestamp, maxTimestamp, lastOffsetDelta };
}

function writeRecords(buf: Buffer, pos: number, encoded: EncodedRecord[]): number {
  for (const r of encoded) {
    pos = writeVarint(buf, pos, r.bodySize);
    buf[pos++] = 0; // record attributes: unused
    pos = writeVarlong(buf, pos, r.timestampDelta);
    pos = writeVarint(buf, pos, r.offsetDelta);
    pos = writeBytesField(buf, pos, r.key);
    pos = writeBytesField(buf, pos, r.value);
    pos = writeVarint(buf, pos, r.headers.length);
    for (const h of r.headers) {
      pos = writeBytesField(buf, pos, h.key);
      pos = writeBytesField(buf, pos, h.value);
    }
  }
  return pos;
}

function attributesFor(opts: BatchOptions): number {
  let attributes = (opts.compression ?? CompressionType.None) & 0x07;
  if (opts.timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_MASK;
  if (opts.isTransactional) attributes |= TRANSACTIONAL_FLAG_MASK;
  if (opts.isControl) attributes |= CONTROL_FLAG_MASK;
  return attributes;
}

/** The v2 header fields a batch's bytes and BatchOptions do not give: what its records are. */
export interface BatchContents {
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  count: number;
}

/**
 * Write the v2 header of the batch that fills `buf` (its records section already in place after the header)
 * and stamp the CRC. Base offset, leader epoch and producer fields come from `opts`, defaulted as
 * buildRecordBatch does. Returns `buf`.
 */
export function sealBatch(buf: Buffer, contents: BatchContents, opts: BatchOptions = {}): Buffer {
  buf.writeBigInt64BE(opts.baseOffset ?? 0n, 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  buf.writeInt16BE(contents.attributes, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(contents.lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  buf.writeBigInt64BE(contents.baseTimestamp, BASE_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(contents.maxTimestamp, MAX_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(opts.producerId ?? NO_PRODUCER_ID, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(contents.count, RECORDS_COUNT_OFFSET);
  restampCrc(buf, 0);
  return buf;
}

/** Allocate the batch, write `recordsSection` (or the records) after its header, then the header and CRC. */
function assemble(layout: Layout, count: number, opts: BatchOptions, recordsSection: Buffer | null): Buffer {
  const size = RECORD_BATCH_OVERHEAD + (recordsSection === null ? layout.recordsBytes : recordsSection.length);
  const buf = Buffer.allocUnsafe(size);
  if (recordsSection === null) writeRecords(buf, RECORD_BATCH_OVERHEAD, layout.encoded);
  else recordsSection.copy(buf, RECORD_BATCH_OVERHEAD);
  const { baseTimestamp, maxTimestamp, lastOffsetDelta } = layout;
  return sealBatch(buf, { attributes: attributesFor(opts), lastOffsetDelta, baseTimestamp, maxTimestamp, count }, opts);
}

function uncompressedRecords(layout: Layout): Buffer {
  const section = Buffer.allocUnsafe(layout.recordsBytes);
  writeRecords(section, 0, layout.encoded);
  return section;
}

/**
 * Build one v2 record batch with a valid CRC. Synchronous for every codec but zstd, whose binding is
 * async only: use buildRecordBatchAsync for zstd (it throws here).
 */
export function buildRecordBatch(records: RecordInput[], opts: BatchOptions = {}): Buffer {
  const layout = layOut(records, opts);
  const codec = opts.compression ?? CompressionType.None;
  if (codec === CompressionType.None) return assemble(layout, records.length, opts, null);
  return assemble(layout, records.length, opts, compressRecords(codec, uncompressedRecords(layout)));
}

/** Build one v2 record batch with a valid CRC; works for every codec. */
export async function buildRecordBatchAsync(records: RecordInput[], opts: BatchOptions = {}): Promise<Buffer> {
  const layout = layOut(records, opts);
  const codec = opts.compression ?? CompressionType.None;
  if (codec === CompressionType.None) return assemble(layout, records.length, opts, null);
  return assemble(layout, records.length, opts, await compressRecordsAsync(codec, uncompressedRecords(layout)));
}
