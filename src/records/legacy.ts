/**
 * Conversion between legacy message sets (magic 0 and 1) and record batch v2, as Kafka does for Produce v0–v2
 * (up-conversion on append) and Fetch v0–v3 (down-conversion on read).
 *
 * Up-conversion follows Kafka's LogValidator: every message of a set has the first one's magic; a compressed
 * set is exactly one wrapper message whose inner messages have the wrapper's magic, are not compressed
 * themselves and carry valid CRCs. All the records become ONE v2 batch, compressed with the wrapper's codec.
 * Conversions walk the messages (or records) again rather than keep them: to check, to measure, then to write
 * into a single allocation, so no object is made per record.
 *
 * Down-conversion follows Kafka's RecordsUtil.downConvert: control batches are dropped, headers too (magic < 2
 * has none), an uncompressed batch becomes one message per record from the fetch offset, a compressed batch one
 * wrapper message compressed with the same codec. zstd has no legacy form: UNSUPPORTED_COMPRESSION_TYPE.
 */
import {
  COMPRESSION_CODEC_MASK,
  CompressionType,
  CURRENT_MAGIC,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  TIMESTAMP_TYPE_MASK,
} from './batch-header.js';
import { sealBatch } from './builder.js';
import { compressRecordsAsync, DEFAULT_MAX_DECOMPRESSED_BYTES, decompressRecordsAsync } from './compression.js';
import { useLegacyLz4HeaderChecksum, withCorrectLz4HeaderChecksum } from './legacy-lz4.js';
import {
  decodeFailure,
  LEGACY_LOG_OVERHEAD,
  LEGACY_MAGIC_OFFSET,
  LEGACY_SIZE_OFFSET,
  LEGACY_TIMESTAMP_TYPE_MASK,
  type LegacyMagic,
  type LegacyMessageView,
  LegacyRecordsError,
  legacyMessageSize,
  NO_TIMESTAMP,
  walkMessageSet,
  writeLegacyMessage,
} from './legacy-message.js';
import { readBatchInfo } from './validate.js';
import { RecordDecodeError, RecordReader, varintSize, varlongSize, writeVarint, writeVarlong } from './varint.js';

export { type LegacyMagic, LegacyRecordsError, type LegacyRecordsErrorCode } from './legacy-message.js';

/** The magic byte of the first message or batch in `records` (the same position in both formats), or -1. */
export function firstMagicOf(records: Buffer): number {
  return records.length > LEGACY_MAGIC_OFFSET ? records.readInt8(LEGACY_MAGIC_OFFSET) : -1;
}

export interface LegacyConversionOptions {
  /** Refuse a compressed set that inflates beyond this many bytes; default compression.ts's 64 MiB. */
  maxDecompressedBytes?: number;
}

// ---- legacy → record batch v2 ------------------------------------------------------------------

/** Bytes a v2 record's nullable bytes field takes for a legacy length (-1 is null). */
function bytesFieldSize(length: number): number {
  return length < 0 ? 1 : varintSize(length) + length;
}

/** A v2 record's body size (after its length varint): attributes, deltas, key, value, zero headers. */
function recordBodySize(timestampDelta: bigint, offsetDelta: number, keyLength: number, valueLength: number): number {
  return (
    1 +
    varlongSize(timestampDelta) +
    varintSize(offsetDelta) +
    bytesFieldSize(keyLength) +
    bytesFieldSize(valueLength) +
    1
  );
}

function writeBytesField(out: Buffer, pos: number, src: Buffer, start: number, length: number): number {
  pos = writeVarint(out, pos, length < 0 ? -1 : length);
  return length > 0 ? pos + src.copy(out, pos, start, start + length) : pos;
}

/** The messages a set converts to: the top-level messages of an uncompressed set, or its one wrapper's inner set. */
interface SourceMessages {
  buf: Buffer;
  count: number;
  codec: CompressionType;
  /** The wrapper's timestamp when it uses LogAppendTime, which then stands for every inner message's. */
  wrapperLogAppendTime: bigint | null;
}

function timestampOf(source: SourceMessages, m: LegacyMessageView): bigint {
  return source.wrapperLogAppendTime ?? m.timestamp;
}

/**
 * Convert a legacy message set from a Produce v0–v2 request into one record batch v2 (base offset 0, no
 * producer id, CreateTime; the log assigns offsets and applies LogAppendTime as for any batch). Throws
 * LegacyRecordsError with the error code Kafka answers for a set it refuses.
 */
export async function legacyToRecordBatch(records: Buffer, opts: LegacyConversionOptions = {}): Promise<Buffer> {
  const source = await sourceMessagesOf(records, opts);

  // Pass 1 (the messages are checked already): the base and max timestamps and the records' size.
  let baseTimestamp = NO_TIMESTAMP;
  let maxTimestamp = NO_TIMESTAMP;
  let recordsBytes = 0;
  let index = 0;
  walkMessageSet(
    source.buf,
    (m) => {
      const timestamp = timestampOf(source, m);
      if (index === 0) baseTimestamp = timestamp;
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      const body = recordBodySize(timestamp - baseTimestamp, index, m.keyLength, m.valueLength);
      recordsBytes += varintSize(body) + body;
      index++;
    },
    { verifyCrc: false },
  );

  // Pass 2: write the records, straight into the batch when it is not compressed.
  const compressed = source.codec !== CompressionType.None;
  const target = Buffer.allocUnsafe(compressed ? recordsBytes : RECORD_BATCH_OVERHEAD + recordsBytes);
  let pos = compressed ? 0 : RECORD_BATCH_OVERHEAD;
  index = 0;
  walkMessageSet(
    source.buf,
    (m) => {
      const timestampDelta = timestampOf(source, m) - baseTimestamp;
      pos = writeVarint(target, pos, recordBodySize(timestampDelta, index, m.keyLength, m.valueLength));
      target[pos++] = 0; // record attributes: unused
      pos = writeVarlong(target, pos, timestampDelta);
      pos = writeVarint(target, pos, index);
      pos = writeBytesField(target, pos, source.buf, m.keyStart, m.keyLength);
      pos = writeBytesField(target, pos, source.buf, m.valueStart, m.valueLength);
      target[pos++] = 0; // no headers: varint 0
      index++;
    },
    { verifyCrc: false },
  );

  let batch = target;
  if (compressed) {
    const section = await compressRecordsAsync(source.codec, target);
    batch = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + section.length);
    section.copy(batch, RECORD_BATCH_OVERHEAD);
  }
  return sealBatch(batch, {
    attributes: source.codec,
    lastOffsetDelta: source.count - 1,
    baseTimestamp,
    maxTimestamp,
    count: source.count,
  });
}

/** Check the top-level set and, for a compressed one, decompress and check its wrapper's inner set. */
async function sourceMessagesOf(records: Buffer, opts: LegacyConversionOptions): Promise<SourceMessages> {
  let firstMagic = -1;
  let wrapper: Wrapper | null = null;
  const { count } = walkMessageSet(records, (m) => {
    if (firstMagic === -1) firstMagic = m.magic;
    if (m.magic !== firstMagic) {
      throw new LegacyRecordsError(
        'INVALID_RECORD',
        `message at byte ${m.position} has magic ${m.magic}, unlike the first message's magic ${firstMagic}`,
      );
    }
    if (wrapper !== null || (m.codec !== CompressionType.None && m.position > 0)) {
      throw new LegacyRecordsError(
        'INVALID_RECORD',
        'a compressed message set must be one wrapper message, with no other message beside it',
      );
    }
    if (m.codec !== CompressionType.None) wrapper = wrapperOf(records, m);
  });
  if (count === 0) throw new LegacyRecordsError('INVALID_RECORD', 'the message set holds no message');
  if (wrapper === null) return { buf: records, count, codec: CompressionType.None, wrapperLogAppendTime: null };
  return innerMessagesOf(wrapper, opts);
}

/** A compressed message's fields, copied out of the walker's reused view. */
interface Wrapper {
  position: number;
  magic: LegacyMagic;
  offset: bigint;
  codec: CompressionType;
  timestamp: bigint;
  logAppendTime: boolean;
  value: Buffer | null;
}

function wrapperOf(buf: Buffer, m: LegacyMessageView): Wrapper {
  return {
    position: m.position,
    magic: m.magic,
    offset: m.offset,
    codec: m.codec,
    timestamp: m.timestamp,
    logAppendTime: m.isLogAppendTime,
    value: m.valueLength < 0 ? null : buf.subarray(m.valueStart, m.valueStart + m.valueLength),
  };
}

/** Decompress a wrapper and check its inner set as Kafka's LogValidator does. */
async function innerMessagesOf(wrapper: Wrapper, opts: LegacyConversionOptions): Promise<SourceMessages> {
  const where = `compressed wrapper message at byte ${wrapper.position}`;
  const inner = await decompressWrapper(wrapper, opts, where);

  let lastInnerOffset = 0n;
  const walked = walkMessageSet(
    inner,
    (m) => {
      if (m.magic !== wrapper.magic) {
        throw new LegacyRecordsError(
          'INVALID_RECORD',
          `${where}: inner message at byte ${m.position} has magic ${m.magic}, the wrapper ${wrapper.magic}`,
        );
      }
      if (m.codec !== CompressionType.None) {
        throw new LegacyRecordsError(
          'INVALID_RECORD',
          `${where}: inner message at byte ${m.position} is compressed again; nested compression is not allowed`,
        );
      }
      lastInnerOffset = m.offset;
    },
    { what: `inner message set of the ${where}` },
  );
  if (walked.count === 0) throw new LegacyRecordsError('INVALID_RECORD', `${where} holds no inner message`);
  // Kafka's check of KIP-31 relative offsets; a wrapper offset of 0 is what some librdkafka versions sent.
  if (wrapper.magic === 1 && wrapper.offset !== 0n && wrapper.offset < lastInnerOffset) {
    throw new LegacyRecordsError(
      'INVALID_RECORD',
      `${where}: wrapper offset ${wrapper.offset} is below the last inner offset ${lastInnerOffset}`,
    );
  }
  return {
    buf: inner,
    count: walked.count,
    codec: wrapper.codec,
    wrapperLogAppendTime: wrapper.logAppendTime ? wrapper.timestamp : null,
  };
}

/** A wrapper's inner set, decompressed; a null value is INVALID_RECORD, a failure CORRUPT_MESSAGE. */
async function decompressWrapper(wrapper: Wrapper, opts: LegacyConversionOptions, where: string): Promise<Buffer> {
  const { codec, value } = wrapper;
  if (value === null) throw new LegacyRecordsError('INVALID_RECORD', `${where} has a null value`);
  const maxBytes = opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  try {
    // Magic 0 lz4 frames carry a miscomputed header checksum (KAFKA-3160); either kind is accepted.
    const data = codec === CompressionType.Lz4 ? withCorrectLz4HeaderChecksum(value) : value;
    return await decompressRecordsAsync(codec, data, { maxBytes });
  } catch (err) {
    throw decodeFailure(where, err);
  }
}

// ---- record batch v2 → legacy ------------------------------------------------------------------

export interface DownConversionOptions extends LegacyConversionOptions {
  /** Records below this offset are left out of uncompressed batches; a compressed batch is sent whole. */
  fetchOffset?: bigint;
  /** Stop converting further batches once the output reaches this many bytes (whole batches are converted). */
  maxBytes?: number;
}

/** One v2 record as the walker found it; reused for every record, key and value are positions. */
class RecordView {
  offsetDelta = 0;
  timestampDelta = 0n;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
}

/** Skip a varint-length byte field; returns its start and length (-1 for null). */
function skipBytesField(reader: RecordReader): number {
  const length = reader.readVarint();
  if (length < -1) throw new RecordDecodeError(`negative length ${length} at byte ${reader.pos}`);
  if (length > reader.remaining) {
    throw new RecordDecodeError(`length ${length} at byte ${reader.pos} exceeds the ${reader.remaining} bytes left`);
  }
  if (length > 0) reader.pos += length;
  return length;
}

/**
 * Walk the `count` records of a (decompressed) records section, headers skipped. One reader serves every
 * record: reads are bounded by the section, and a record whose fields do not end at its declared length is
 * refused, so nothing is read outside the section and no record is taken from its neighbour's bytes.
 */
function walkBatchRecords(section: Buffer, count: number, visit: (r: RecordView) => void): void {
  const view = new RecordView();
  const reader = new RecordReader(section, 0, section.length);
  for (let i = 0; i < count; i++) {
    const length = reader.readVarint();
    if (length <= 0 || length > reader.remaining) {
      throw new RecordDecodeError(`record ${i} claims ${length} bytes; ${reader.remaining} remain`);
    }
    const end = reader.pos + length;
    reader.readInt8(); // attributes: unused
    view.timestampDelta = reader.readVarlong();
    view.offsetDelta = reader.readVarint();
    view.keyLength = skipBytesField(reader);
    view.keyStart = reader.pos - Math.max(view.keyLength, 0);
    view.valueLength = skipBytesField(reader);
    view.valueStart = reader.pos - Math.max(view.valueLength, 0);
    const headers = reader.readVarint();
    if (headers < 0) throw new RecordDecodeError(`record ${i} has a negative header count ${headers}`);
    for (let h = 0; h < headers; h++) {
      skipBytesField(reader);
      skipBytesField(reader);
    }
    if (reader.pos !== end) throw new RecordDecodeError(`record ${i} declares ${length} bytes but its fields differ`);
    visit(view);
  }
}

/**
 * Down-convert stored v2 batches (as a Fetch reads them) to a magic 0 or 1 message set with absolute offsets.
 * Throws LegacyRecordsError UNSUPPORTED_COMPRESSION_TYPE when the first batch to convert is zstd; a later zstd
 * batch ends the set before it, so the client gets the error when it fetches from there.
 */
export async function toLegacyMessageSet(
  batches: Buffer,
  magic: LegacyMagic,
  opts: DownConversionOptions = {},
): Promise<Buffer> {
  const fetchOffset = opts.fetchOffset ?? -1n;
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos + RECORD_BATCH_OVERHEAD <= batches.length && total < maxBytes) {
    const info = readBatchInfo(batches, pos);
    if (batches.readInt8(pos + MAGIC_OFFSET) !== CURRENT_MAGIC || info.size < RECORD_BATCH_OVERHEAD) {
      throw new LegacyRecordsError('CORRUPT_MESSAGE', `stored batch at byte ${pos} is not a record batch v2`);
    }
    if (pos + info.size > batches.length) break; // a partial batch at the end of a read
    pos += info.size;
    if (info.isControl || info.recordsCount <= 0) continue;
    const codec = (info.attributes & COMPRESSION_CODEC_MASK) as CompressionType;
    if (codec === CompressionType.Zstd) {
      if (parts.length > 0) break;
      throw new LegacyRecordsError(
        'UNSUPPORTED_COMPRESSION_TYPE',
        `the batch at offset ${info.baseOffset} is zstd-compressed, which magic ${magic} cannot carry; fetch with version 10+`,
      );
    }
    if (codec > CompressionType.Zstd) {
      throw new LegacyRecordsError('CORRUPT_MESSAGE', `stored batch at offset ${info.baseOffset} has codec ${codec}`);
    }
    const stored = batches.subarray(info.position + RECORD_BATCH_OVERHEAD, info.position + info.size);
    const where = `stored batch at offset ${info.baseOffset}`;
    let converted: Buffer | null;
    try {
      const section =
        codec === CompressionType.None
          ? stored
          : await decompressRecordsAsync(codec, stored, {
              maxBytes: opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
            });
      const batch: StoredBatch = {
        baseOffset: info.baseOffset,
        baseTimestamp: info.baseTimestamp,
        maxTimestamp: info.maxTimestamp,
        logAppendTime: (info.attributes & TIMESTAMP_TYPE_MASK) !== 0,
        count: info.recordsCount,
        section,
      };
      converted =
        codec === CompressionType.None
          ? convertUncompressed(batch, magic, fetchOffset)
          : await convertCompressed(batch, magic, codec);
    } catch (err) {
      throw decodeFailure(where, err);
    }
    if (converted === null) continue;
    parts.push(converted);
    total += converted.length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

interface StoredBatch {
  baseOffset: bigint;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  logAppendTime: boolean;
  count: number;
  /** The records section, decompressed. */
  section: Buffer;
}

function messageAttributes(magic: LegacyMagic, batch: StoredBatch): number {
  return magic === 1 && batch.logAppendTime ? LEGACY_TIMESTAMP_TYPE_MASK : 0;
}

function recordTimestamp(batch: StoredBatch, r: RecordView): bigint {
  return batch.logAppendTime ? batch.maxTimestamp : batch.baseTimestamp + r.timestampDelta;
}

/** One message per record at or after `fetchOffset`; null when none is. */
function convertUncompressed(batch: StoredBatch, magic: LegacyMagic, fetchOffset: bigint): Buffer | null {
  // Offset deltas are int32, so the comparison runs on numbers.
  const ahead = fetchOffset - batch.baseOffset;
  const from = ahead <= 0n ? 0 : ahead > 0x7fffffffn ? Number.POSITIVE_INFINITY : Number(ahead);
  let size = 0;
  walkBatchRecords(batch.section, batch.count, (r) => {
    if (r.offsetDelta >= from) size += legacyMessageSize(magic, r.keyLength, r.valueLength);
  });
  if (size === 0) return null;
  return writeMessages(batch, magic, size, from, batch.baseOffset);
}

/**
 * The records at or after offset delta `from` as messages, written into one buffer of `size` bytes (what a
 * first walk measured); a message's offset is `offsetBase` plus its record's offset delta.
 */
function writeMessages(batch: StoredBatch, magic: LegacyMagic, size: number, from: number, offsetBase: bigint): Buffer {
  const out = Buffer.allocUnsafe(size);
  const attributes = messageAttributes(magic, batch);
  let pos = 0;
  walkBatchRecords(batch.section, batch.count, (r) => {
    if (r.offsetDelta < from) return;
    pos = writeLegacyMessage(
      out,
      pos,
      magic,
      offsetBase + BigInt(r.offsetDelta),
      attributes,
      recordTimestamp(batch, r),
      batch.section,
      r.keyStart,
      r.keyLength,
      r.valueStart,
      r.valueLength,
    );
  });
  return out;
}

/**
 * One wrapper message: the inner set (relative offsets for magic 1, absolute for magic 0) compressed with the
 * batch's codec, at the offset of the last record; its timestamp is the largest inner one (or the append time).
 */
async function convertCompressed(batch: StoredBatch, magic: LegacyMagic, codec: CompressionType): Promise<Buffer> {
  let size = 0;
  let firstDelta = -1;
  let lastDelta = 0;
  let maxTimestamp = NO_TIMESTAMP;
  walkBatchRecords(batch.section, batch.count, (r) => {
    size += legacyMessageSize(magic, r.keyLength, r.valueLength);
    if (firstDelta === -1) firstDelta = r.offsetDelta;
    lastDelta = r.offsetDelta;
    const timestamp = recordTimestamp(batch, r);
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  });
  // Magic 1 inner offsets are relative to the first record, magic 0 ones absolute.
  const offsetBase = magic === 1 ? -BigInt(firstDelta) : batch.baseOffset;
  const inner = writeMessages(batch, magic, size, Number.NEGATIVE_INFINITY, offsetBase);
  const value = await compressRecordsAsync(codec, inner);
  if (codec === CompressionType.Lz4 && magic === 0) useLegacyLz4HeaderChecksum(value);
  const wrapper = Buffer.allocUnsafe(legacyMessageSize(magic, -1, value.length));
  const wrapperTimestamp = batch.logAppendTime ? batch.maxTimestamp : maxTimestamp;
  const lastOffset = batch.baseOffset + BigInt(lastDelta);
  writeLegacyMessage(
    wrapper,
    0,
    magic,
    lastOffset,
    codec | messageAttributes(magic, batch),
    wrapperTimestamp,
    value,
    0,
    -1,
    0,
    value.length,
  );
  return wrapper;
}

/**
 * The longest prefix of `set` made of whole messages and at most `maxBytes` long; with `atLeastOne`, the first
 * message even when it alone is longer (KIP-74: a consumer can always make progress).
 */
export function legacyMessageSetPrefix(set: Buffer, maxBytes: number, atLeastOne = false): Buffer {
  let pos = 0;
  while (set.length - pos >= LEGACY_LOG_OVERHEAD) {
    const end = pos + LEGACY_LOG_OVERHEAD + set.readInt32BE(pos + LEGACY_SIZE_OFFSET);
    if (end > set.length || (end > maxBytes && !(atLeastOne && pos === 0))) break;
    pos = end;
  }
  return set.subarray(0, pos);
}

// ---- reading a legacy message set as a consumer does -------------------------------------------

/** One record of a legacy message set, with its absolute offset (what a consumer of Fetch v0–v3 sees). */
export interface LegacyRecord {
  offset: bigint;
  magic: LegacyMagic;
  /** -1 for magic 0. */
  timestamp: bigint;
  logAppendTime: boolean;
  /** The codec of the wrapper the record came in; None for a top-level message. */
  codec: CompressionType;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Decode a fetched legacy message set: wrappers are decompressed and inner offsets made absolute, a partial
 * message at the end is ignored (a broker may send one). Not used by the broker itself; for tests and tools.
 */
export async function readLegacyMessageSet(set: Buffer, opts: LegacyConversionOptions = {}): Promise<LegacyRecord[]> {
  const entries: Array<LegacyRecord | Wrapper> = [];
  walkMessageSet(
    set,
    (m) => entries.push(m.codec === CompressionType.None ? recordOf(set, m, null) : wrapperOf(set, m)),
    {
      partialTail: 'ignore',
    },
  );
  const out: LegacyRecord[] = [];
  for (const entry of entries) {
    if (!('position' in entry)) {
      out.push(entry);
      continue;
    }
    const where = `compressed wrapper at offset ${entry.offset}`;
    const inner = await decompressWrapper(entry, opts, where);
    const records: LegacyRecord[] = [];
    walkMessageSet(inner, (m) => records.push(recordOf(inner, m, entry)), {
      what: `inner message set of the ${where}`,
    });
    // Magic 1 inner offsets are relative: the wrapper holds the last one's absolute offset (KIP-31).
    if (entry.magic === 1 && records.length > 0) {
      const base = entry.offset - records[records.length - 1]!.offset;
      for (const r of records) r.offset += base;
    }
    out.push(...records);
  }
  return out;
}

function recordOf(buf: Buffer, m: LegacyMessageView, wrapper: Wrapper | null): LegacyRecord {
  const slice = (start: number, length: number) => (length < 0 ? null : buf.subarray(start, start + length));
  return {
    offset: m.offset,
    magic: m.magic,
    timestamp: wrapper?.logAppendTime ? wrapper.timestamp : m.timestamp,
    logAppendTime: wrapper?.logAppendTime ?? m.isLogAppendTime,
    codec: wrapper?.codec ?? CompressionType.None,
    key: slice(m.keyStart, m.keyLength),
    value: slice(m.valueStart, m.valueLength),
  };
}
