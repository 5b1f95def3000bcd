/**
 * Validation of record batch v2 bytes, per batch header only: the produce hot path reads a few header
 * fields and runs the native CRC32C, and never looks at individual records or copies the bytes.
 */
import {
  ATTRIBUTES_OFFSET,
  attributesOf,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_LENGTH_OFFSET,
  COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK,
  CompressionType,
  CRC_OFFSET,
  CURRENT_MAGIC,
  compressionOf,
  LOG_OVERHEAD,
  lastOffsetDeltaOf,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  recordsCountOf,
  TRANSACTIONAL_FLAG_MASK,
} from './batch-header.js';
import { crc32c } from './crc32c.js';
import { maxTimestampDeltaOf, setMaxTimestampFromRecords } from './validate-records.js';

export interface BatchInfo {
  /** Where the batch starts in the scanned buffer. */
  position: number;
  /** Total bytes of the batch, batchLength + 12. */
  size: number;
  baseOffset: bigint;
  lastOffsetDelta: number;
  recordsCount: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  attributes: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  partitionLeaderEpoch: number;
  compression: CompressionType;
  isTransactional: boolean;
  isControl: boolean;
}

export type BatchValidationError =
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
  | 'MESSAGE_TOO_LARGE';

export type BatchValidation =
  | { ok: true; batches: BatchInfo[]; recordCount: number }
  | { ok: false; error: BatchValidationError; message: string };

export interface ValidateOptions {
  /** Largest accepted batch in bytes, including its 12-byte log overhead (Kafka's max.message.bytes). */
  maxBatchBytes?: number;
  /** Check each batch's CRC32C; default true. */
  verifyCrc?: boolean;
  /**
   * Reject control batches (transaction markers): Kafka refuses them from clients, only the transaction
   * coordinator writes them. Default false, so internal appends can share this function.
   */
  rejectControlBatches?: boolean;
  /**
   * Walk the records of each uncompressed batch (lengths, attributes, timestamp deltas; nothing decoded) to
   * check they frame it: 'set-max-timestamp' also sets its header's max timestamp from them, as Kafka does
   * for CreateTime topics; 'check-framing' only checks (LogAppendTime topics, whose batches get the broker's
   * time). Default: no walk.
   */
  records?: 'set-max-timestamp' | 'check-framing';
}

/** The smallest record is 7 bytes (a 1-byte varint for each of its length and six fields). */
const MIN_RECORD_SIZE = 7;
const MAX_COMPRESSION_CODEC = 4;

/** Read the header of the batch at `pos` (which must hold at least a full header) into a BatchInfo. */
export function readBatchInfo(buf: Buffer, pos: number): BatchInfo {
  const attributes = attributesOf(buf, pos);
  return {
    position: pos,
    size: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
    baseOffset: buf.readBigInt64BE(pos),
    lastOffsetDelta: lastOffsetDeltaOf(buf, pos),
    recordsCount: recordsCountOf(buf, pos),
    baseTimestamp: buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    attributes,
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    compression: (attributes & COMPRESSION_CODEC_MASK) as CompressionType,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
  };
}

type Failure = { error: BatchValidationError; message: string };

/**
 * Structural checks every stored batch must pass: a whole header, a sane length that fits in the
 * buffer, magic 2 and a known codec. Returns the batch size or a failure.
 */
function checkFraming(buf: Buffer, pos: number): number | Failure {
  const remaining = buf.length - pos;
  if (remaining < MAGIC_OFFSET + 1) {
    return {
      error: 'CORRUPT_MESSAGE',
      message: `${remaining} trailing bytes at position ${pos} are not a whole batch`,
    };
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) {
    if (magic === 0 || magic === 1) {
      return {
        error: 'UNSUPPORTED_FOR_MESSAGE_FORMAT',
        message: `message format v${magic} at position ${pos} is not accepted; use a client that sends record batch v2 (Kafka 0.11+)`,
      };
    }
    return { error: 'CORRUPT_MESSAGE', message: `unknown magic byte ${magic} at position ${pos}` };
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) {
    return {
      error: 'CORRUPT_MESSAGE',
      message: `batch length ${batchLength} at position ${pos} is below the header size`,
    };
  }
  const size = batchLength + LOG_OVERHEAD;
  if (size > remaining) {
    return {
      error: 'CORRUPT_MESSAGE',
      message: `batch at position ${pos} claims ${size} bytes but only ${remaining} remain`,
    };
  }
  const codec = compressionOf(buf, pos);
  if (codec > MAX_COMPRESSION_CODEC) {
    return { error: 'CORRUPT_MESSAGE', message: `unknown compression codec ${codec} at position ${pos}` };
  }
  return size;
}

/** CRC32C over attributes..end of the batch, which checkFraming has shown to fit in `buf`. */
function checkCrc(buf: Buffer, pos: number, size: number): Failure | undefined {
  const stored = buf.readUInt32BE(pos + CRC_OFFSET);
  const actual = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size));
  if (stored === actual) return undefined;
  return {
    error: 'CORRUPT_MESSAGE',
    message: `CRC mismatch in batch at position ${pos}: stored ${stored}, computed ${actual}`,
  };
}

/**
 * Rules Kafka applies to batches arriving from producers (LogValidator, origin CLIENT). Reads the header
 * fields it needs straight from the bytes: the produce path checks every batch this way and allocates
 * nothing unless it fails (a BigInt only for the message naming a producer id).
 */
function checkProducerBatch(buf: Buffer, pos: number, size: number, rejectControl: boolean): Failure | undefined {
  const attributes = attributesOf(buf, pos);
  const recordsCount = recordsCountOf(buf, pos);
  const lastOffsetDelta = lastOffsetDeltaOf(buf, pos);
  if ((attributes & CONTROL_FLAG_MASK) !== 0) {
    if (rejectControl) return invalidRecord(pos, 'clients may not write control batches');
    if (recordsCount < 0 || lastOffsetDelta < 0) {
      return invalidRecord(pos, 'negative record count or last offset delta');
    }
    return undefined;
  }
  if (recordsCount <= 0) {
    return {
      error: 'INVALID_RECORD',
      message: `batch at position ${pos} reports ${recordsCount} records; a batch needs at least one`,
    };
  }
  if (lastOffsetDelta !== recordsCount - 1) {
    return invalidRecord(pos, `last offset delta ${lastOffsetDelta} does not match its ${recordsCount} records`);
  }
  const recordsBytes = size - RECORD_BATCH_OVERHEAD;
  if ((attributes & COMPRESSION_CODEC_MASK) === CompressionType.None && recordsCount > recordsBytes / MIN_RECORD_SIZE) {
    return {
      error: 'CORRUPT_MESSAGE',
      message: `batch at position ${pos}: ${recordsCount} records cannot fit in ${recordsBytes} bytes`,
    };
  }
  // The sign of the producer id is the sign of its high 32 bits, so no BigInt is read to test it.
  const hasProducerId = buf.readInt32BE(pos + PRODUCER_ID_OFFSET) >= 0;
  if (hasProducerId && buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET) < 0) {
    const producerId = buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET);
    return invalidRecord(pos, `producer id ${producerId} with no base sequence`);
  }
  if ((attributes & TRANSACTIONAL_FLAG_MASK) !== 0 && !hasProducerId) {
    return invalidRecord(pos, 'transactional batch without a producer id');
  }
  return undefined;
}

function isControlBatch(buf: Buffer, pos: number): boolean {
  return (attributesOf(buf, pos) & CONTROL_FLAG_MASK) !== 0;
}

function invalidRecord(pos: number, what: string): Failure {
  return { error: 'INVALID_RECORD', message: `batch at position ${pos}: ${what}` };
}

/** What the append path needs of a valid buffer of batches: counts only, no per-batch objects. */
export type BatchCheck =
  | { ok: true; batchCount: number; recordCount: number; offsetCount: number }
  | { ok: false; error: BatchValidationError; message: string };

/**
 * Check a buffer holding one or more record batches back to back (as in a Produce request): framing,
 * size limit, CRC32C and the producer rules, reading header fields in place; with `records`, also the
 * records' framing of uncompressed batches, and their max timestamp. `offsetCount` is the number
 * of offsets the batches take (the sum of lastOffsetDelta + 1), which a control batch may make differ
 * from `recordCount`.
 */
export function checkRecordBatches(buf: Buffer, opts: ValidateOptions = {}): BatchCheck {
  if (buf.length === 0) return { ok: false, error: 'CORRUPT_MESSAGE', message: 'no record batch in an empty buffer' };
  const verifyCrc = opts.verifyCrc ?? true;
  const maxBatchBytes = opts.maxBatchBytes ?? Number.POSITIVE_INFINITY;
  const rejectControl = opts.rejectControlBatches ?? false;
  const walkRecords = opts.records;
  let batchCount = 0;
  let recordCount = 0;
  let offsetCount = 0;
  let pos = 0;
  while (pos < buf.length) {
    const framed = checkFraming(buf, pos);
    if (typeof framed !== 'number') return { ok: false, ...framed };
    // Size before CRC: a batch over the limit is refused without paying for its checksum.
    if (framed > maxBatchBytes) {
      return {
        ok: false,
        error: 'MESSAGE_TOO_LARGE',
        message: `batch at position ${pos} is ${framed} bytes, over the limit of ${maxBatchBytes} (max.message.bytes)`,
      };
    }
    const crcFailure = verifyCrc ? checkCrc(buf, pos, framed) : undefined;
    if (crcFailure) return { ok: false, ...crcFailure };
    const failure = checkProducerBatch(buf, pos, framed, rejectControl);
    if (failure) return { ok: false, ...failure };
    if (walkRecords !== undefined && compressionOf(buf, pos) === CompressionType.None && !isControlBatch(buf, pos)) {
      // The CRC was checked above, so a header rewritten here restamps a checksum the producer got right.
      const walked = maxTimestampDeltaOf(buf, pos + RECORD_BATCH_OVERHEAD, pos + framed, recordsCountOf(buf, pos));
      if (typeof walked === 'string') return { ok: false, ...invalidRecord(pos, walked) };
      if (walkRecords === 'set-max-timestamp' && verifyCrc) setMaxTimestampFromRecords(buf, pos, walked);
    }
    batchCount++;
    recordCount += recordsCountOf(buf, pos);
    offsetCount += lastOffsetDeltaOf(buf, pos) + 1;
    pos += framed;
  }
  return { ok: true, batchCount, recordCount, offsetCount };
}

/**
 * As checkRecordBatches, and also reads each batch's header into a BatchInfo: for callers that look at
 * the batches (tests, tools); the append path uses checkRecordBatches.
 */
export function validateRecordBatches(buf: Buffer, opts: ValidateOptions = {}): BatchValidation {
  const check = checkRecordBatches(buf, opts);
  if (!check.ok) return check;
  const batches: BatchInfo[] = [];
  for (let pos = 0; pos < buf.length; pos += batches[batches.length - 1]!.size) batches.push(readBatchInfo(buf, pos));
  return { ok: true, batches, recordCount: check.recordCount };
}

/**
 * Walk stored batches (log recovery, reads): returns the byte length of the valid prefix and its batches,
 * stopping at the first torn or invalid batch. The CRC is not checked unless `verifyCrc` is true. Only
 * framing is checked here, not producer rules: compaction may leave batches with no records.
 */
export function scanValidPrefix(
  buf: Buffer,
  opts: { verifyCrc?: boolean } = {},
): { validBytes: number; batches: BatchInfo[]; stopReason?: string } {
  const verifyCrc = opts.verifyCrc ?? false;
  const batches: BatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const framed = checkFraming(buf, pos);
    if (typeof framed !== 'number') return { validBytes: pos, batches, stopReason: framed.message };
    const crcFailure = verifyCrc ? checkCrc(buf, pos, framed) : undefined;
    if (crcFailure) return { validBytes: pos, batches, stopReason: crcFailure.message };
    const info = readBatchInfo(buf, pos);
    if (info.recordsCount < 0 || info.lastOffsetDelta < 0) {
      return { validBytes: pos, batches, stopReason: `batch at position ${pos} has a negative count or offset delta` };
    }
    batches.push(info);
    pos += framed;
  }
  return { validBytes: pos, batches };
}
