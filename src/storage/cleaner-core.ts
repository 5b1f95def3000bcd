/**
 * What the log cleaner does to bytes (Kafka's Cleaner.buildOffsetMap and cleanInto, with
 * MemoryRecords.filterTo): adding the keys of a chunk of batches to the offset map, and filtering a chunk
 * of batches down to the records to keep. Pure computation over buffers, run in the cleaner's worker thread
 * (decompression, hashing and recompression would otherwise hold the event loop).
 *
 * Rules, as Kafka 3.x/4.x applies them to v2 batches:
 * - a keyed record is kept when it is the latest of its key in the map (or beyond the map's reach); a
 *   keyless record is dropped;
 * - a tombstone (null value) is kept until its batch's delete horizon: the first cleaning that keeps it sets
 *   the horizon (now + delete.retention.ms, KIP-534: the batch's base timestamp, attribute bit 6); a later
 *   cleaning after that time drops it;
 * - a batch whose records are all dropped disappears, except the last batch of the cleaning round (it holds
 *   the offset the log continues from) and the last batch of each producer (its sequence numbers), which stay
 *   as empty batches;
 * - a batch that keeps all its records and needs no horizon is copied unchanged; otherwise it is rebuilt with
 *   its own codec, base offset, last offset, producer fields and leader epoch;
 * - control batches are kept as they are: Sluice has no transactions yet, so no marker is known to be removable;
 * - magic 0/1 batches (never written by Sluice, which converts them on produce) are copied unchanged.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CompressionType,
  CURRENT_MAGIC,
  DELETE_HORIZON_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  TIMESTAMP_TYPE_MASK,
  TRANSACTIONAL_FLAG_MASK,
} from '../records/batch-header.js';
import { compressRecordsAsync, decompressRecordsAsync } from '../records/compression.js';
import { restampCrc } from '../records/crc32c.js';
import {
  RecordDecodeError,
  RecordReader,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from '../records/varint.js';
import type { OffsetMap } from './offset-map.js';

/** One record as stored, with the bytes after its offset delta (key, value, headers) kept as they are. */
interface RawRecord {
  attributes: number;
  timestamp: bigint;
  offsetDelta: number;
  key: Buffer | null;
  hasValue: boolean;
  tail: Buffer;
}

function batchSize(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

/** The records of the v2 batch at `pos`, decompressed if it is compressed. */
async function readRecords(buf: Buffer, pos: number, size: number): Promise<RawRecord[]> {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const codec = (attributes & COMPRESSION_CODEC_MASK) as CompressionType;
  const stored = buf.subarray(pos + RECORD_BATCH_OVERHEAD, pos + size);
  const section = codec === CompressionType.None ? stored : await decompressRecordsAsync(codec, stored);
  const count = buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
  const baseTimestamp = buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET);
  const reader = new RecordReader(section, 0, section.length);
  const records: RawRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    if (length <= 0 || length > reader.remaining) throw new RecordDecodeError(`record ${i} claims ${length} bytes`);
    const end = reader.pos + length;
    const r = new RecordReader(section, reader.pos, end);
    const recordAttributes = r.readInt8();
    const timestampDelta = r.readVarlong();
    const offsetDelta = r.readVarint();
    const tailStart = r.pos;
    const key = r.readNullableBytes();
    const value = r.readNullableBytes();
    records.push({
      attributes: recordAttributes,
      timestamp: baseTimestamp + timestampDelta,
      offsetDelta,
      key,
      hasValue: value !== null,
      tail: section.subarray(tailStart, end),
    });
    reader.pos = end;
  }
  return records;
}

export interface MapChunkResult {
  /** The map filled up inside this chunk: the records after that point are left to a later cleaning. */
  full: boolean;
  records: number;
}

/**
 * Adds the keys of the whole batches in `chunk` at or after `startOffset` to `map`, stopping when the map
 * holds `maxEntries` keys (Kafka's slots × log.cleaner.io.buffer.load.factor).
 */
export async function mapChunk(
  map: OffsetMap,
  chunk: Buffer,
  startOffset: bigint,
  maxEntries: number,
): Promise<MapChunkResult> {
  let records = 0;
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= chunk.length; ) {
    const size = batchSize(chunk, pos);
    const baseOffset = chunk.readBigInt64BE(pos + BASE_OFFSET_OFFSET);
    const lastOffset = baseOffset + BigInt(chunk.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET));
    const isControl = (chunk.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0;
    if (chunk.readInt8(pos + MAGIC_OFFSET) === CURRENT_MAGIC && !isControl && lastOffset >= startOffset) {
      for (const record of await readRecords(chunk, pos, size)) {
        const offset = baseOffset + BigInt(record.offsetDelta);
        records++;
        if (record.key === null || offset < startOffset) continue;
        if (map.size >= maxEntries) return { full: true, records };
        map.put(record.key, offset);
      }
    }
    if (lastOffset >= startOffset) map.updateLatestOffset(lastOffset);
    pos += size;
  }
  return { full: false, records };
}

export interface FilterOptions {
  nowMs: number;
  deleteRetentionMs: number;
  /** The offset the cleaning round ends at (first uncleanable offset): the batch ending just before it stays. */
  upperBoundOffset: bigint;
  /** Each producer's last batch's last offset (as a decimal string key): those batches stay, even emptied. */
  lastOffsetOfProducer: ReadonlyMap<string, bigint>;
}

export interface FilterResult {
  output: Buffer;
  recordsRead: number;
  recordsRetained: number;
}

/** Filters the whole batches of `chunk` through `map`; returns the batches to keep, back to back. */
export async function filterChunk(map: OffsetMap, chunk: Buffer, opts: FilterOptions): Promise<FilterResult> {
  const out: Buffer[] = [];
  let recordsRead = 0;
  let recordsRetained = 0;
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= chunk.length; ) {
    const size = batchSize(chunk, pos);
    const batch = chunk.subarray(pos, pos + size);
    pos += size;
    const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
    if (batch.readInt8(MAGIC_OFFSET) !== CURRENT_MAGIC || (attributes & CONTROL_FLAG_MASK) !== 0) {
      out.push(batch);
      continue;
    }
    const baseOffset = batch.readBigInt64BE(BASE_OFFSET_OFFSET);
    const lastOffset = baseOffset + BigInt(batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET));
    const producerId = batch.readBigInt64BE(PRODUCER_ID_OFFSET);
    const horizonSet = (attributes & DELETE_HORIZON_FLAG_MASK) !== 0;
    const horizon = horizonSet ? batch.readBigInt64BE(BASE_TIMESTAMP_OFFSET) : -1n;
    const now = BigInt(opts.nowMs);
    const retainDeletes = !horizonSet || now < horizon;

    const records = await readRecords(batch, 0, size);
    recordsRead += records.length;
    const kept: RawRecord[] = [];
    let tombstones = false;
    for (const record of records) {
      const offset = baseOffset + BigInt(record.offsetDelta);
      let keep: boolean;
      if (offset > map.latestOffset) keep = true;
      else if (record.key === null) keep = false;
      else keep = offset >= map.get(record.key) && (record.hasValue || retainDeletes);
      if (!keep) continue;
      kept.push(record);
      if (!record.hasValue) tombstones = true;
    }
    recordsRetained += kept.length;

    const lastOfProducer = producerId >= 0n && opts.lastOffsetOfProducer.get(producerId.toString()) === lastOffset;
    const retainEmpty = lastOfProducer || lastOffset + 1n === opts.upperBoundOffset;
    const needHorizon = tombstones && !horizonSet;
    if (kept.length === records.length && kept.length > 0 && !needHorizon) {
      out.push(batch);
    } else if (kept.length > 0) {
      const newHorizon = needHorizon ? now + BigInt(opts.deleteRetentionMs) : horizon;
      out.push(await rebuildBatch(batch, kept, needHorizon || horizonSet ? newHorizon : null));
    } else if (retainEmpty) {
      out.push(emptyBatch(batch));
    }
  }
  return { output: out.length === 1 ? out[0]! : Buffer.concat(out), recordsRead, recordsRetained };
}

/**
 * The batch with only `kept` records, in its own codec, keeping its offsets (base and last), producer
 * fields and leader epoch. With a delete horizon, the base timestamp is the horizon and the delete horizon
 * attribute is set; otherwise the base timestamp is the first kept record's, as Kafka's builder does.
 */
async function rebuildBatch(original: Buffer, kept: RawRecord[], deleteHorizon: bigint | null): Promise<Buffer> {
  const attributes = original.readInt16BE(ATTRIBUTES_OFFSET);
  const logAppendTime = (attributes & TIMESTAMP_TYPE_MASK) !== 0;
  const baseTimestamp = deleteHorizon ?? kept[0]!.timestamp;
  let maxTimestamp = -1n;
  let sectionSize = 0;
  const bodySizes: number[] = [];
  for (const r of kept) {
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    const body = 1 + varlongSize(r.timestamp - baseTimestamp) + varintSize(r.offsetDelta) + r.tail.length;
    bodySizes.push(body);
    sectionSize += varintSize(body) + body;
  }
  if (logAppendTime) maxTimestamp = original.readBigInt64BE(MAX_TIMESTAMP_OFFSET);
  const section = Buffer.allocUnsafe(sectionSize);
  let p = 0;
  kept.forEach((r, i) => {
    p = writeVarint(section, p, bodySizes[i]!);
    section.writeInt8(r.attributes, p++);
    p = writeVarlong(section, p, r.timestamp - baseTimestamp);
    p = writeVarint(section, p, r.offsetDelta);
    p += r.tail.copy(section, p);
  });
  const codec = (attributes & COMPRESSION_CODEC_MASK) as CompressionType;
  const records = codec === CompressionType.None ? section : await compressRecordsAsync(codec, section);
  const batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + records.length);
  original.copy(batch, 0, 0, RECORD_BATCH_OVERHEAD);
  records.copy(batch, RECORD_BATCH_OVERHEAD);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  let newAttributes = attributes & ~DELETE_HORIZON_FLAG_MASK;
  if (deleteHorizon !== null) newAttributes |= DELETE_HORIZON_FLAG_MASK;
  batch.writeInt16BE(newAttributes, ATTRIBUTES_OFFSET);
  batch.writeBigInt64BE(baseTimestamp, BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  batch.writeInt32BE(kept.length, RECORDS_COUNT_OFFSET);
  restampCrc(batch, 0);
  return batch;
}

/**
 * A batch header with no records standing for `original` (Kafka's writeEmptyHeader): same offsets, producer
 * fields and leader epoch, no compression, both timestamps the original's max timestamp.
 */
function emptyBatch(original: Buffer): Buffer {
  const batch = Buffer.alloc(RECORD_BATCH_OVERHEAD);
  original.copy(batch, 0, 0, RECORD_BATCH_OVERHEAD);
  batch.writeInt32BE(RECORD_BATCH_OVERHEAD - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  const attributes = original.readInt16BE(ATTRIBUTES_OFFSET);
  batch.writeInt16BE(
    attributes & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK),
    ATTRIBUTES_OFFSET,
  );
  const maxTimestamp = original.readBigInt64BE(MAX_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(maxTimestamp, BASE_TIMESTAMP_OFFSET);
  batch.writeBigInt64BE(maxTimestamp, MAX_TIMESTAMP_OFFSET);
  batch.writeInt32BE(0, RECORDS_COUNT_OFFSET);
  // Offsets, leader epoch, producer id and epoch, base sequence: as the original's header has them.
  restampCrc(batch, 0);
  return batch;
}

/**
 * The producer ids of the batches in `chunk` with the last offset of each one's last batch, added to
 * `into` (later chunks overwrite earlier ones): the batches the cleaner keeps for producer state.
 */
export function noteProducers(chunk: Buffer, into: Map<string, bigint>): void {
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= chunk.length; pos += batchSize(chunk, pos)) {
    if (chunk.readInt8(pos + MAGIC_OFFSET) !== CURRENT_MAGIC) continue;
    const producerId = chunk.readBigInt64BE(pos + PRODUCER_ID_OFFSET);
    if (producerId < 0n) continue;
    const lastOffset = chunk.readBigInt64BE(pos) + BigInt(chunk.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET));
    into.set(producerId.toString(), lastOffset);
  }
}
