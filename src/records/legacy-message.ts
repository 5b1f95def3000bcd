/**
 * Legacy messages (magic 0 and 1), the record format before record batch v2 (Kafka's "Message sets" docs).
 * A message set is messages back to back, each:
 *
 *   offset: int64         0
 *   messageSize: int32    8   bytes after this field
 *   crc: uint32          12   CRC32 (IEEE) over magic..end of the message
 *   magic: int8          16   (at the same position as a v2 batch's magic)
 *   attributes: int8     17   bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 timestamp type (magic 1)
 *   timestamp: int64     18   magic 1 only
 *   key: int32 length + bytes (-1 is null)
 *   value: int32 length + bytes (-1 is null)
 *
 * A compressed message is a wrapper whose value is a compressed inner message set. For magic 1 (KIP-31) the
 * inner offsets are relative (0, 1, …) and the wrapper carries the absolute offset of the last inner message;
 * for magic 0 the inner offsets are absolute.
 */
import { nativeCrc } from './crc32c.js';
import { RecordDecodeError } from './varint.js';

export const LEGACY_OFFSET_OFFSET = 0;
export const LEGACY_SIZE_OFFSET = 8;
export const LEGACY_CRC_OFFSET = 12;
export const LEGACY_MAGIC_OFFSET = 16;
export const LEGACY_ATTRIBUTES_OFFSET = 17;
export const LEGACY_TIMESTAMP_OFFSET = 18;
/** offset + messageSize: the part of a message its size does not count. */
export const LEGACY_LOG_OVERHEAD = 12;
/** crc, magic, attributes, key length, value length: the smallest magic 0 message size. */
export const MESSAGE_OVERHEAD_V0 = 14;
/** The magic 0 overhead plus the timestamp. */
export const MESSAGE_OVERHEAD_V1 = 22;

export const LEGACY_CODEC_MASK = 0x07;
export const LEGACY_TIMESTAMP_TYPE_MASK = 0x08;
/** Codec id 4 (zstd) exists only in record batch v2 (KIP-110). */
const ZSTD_CODEC = 4;
const MAX_LEGACY_CODEC = 3;

export const NO_TIMESTAMP = -1n;

export type LegacyMagic = 0 | 1;

/** The error codes Kafka answers for a bad legacy message set, by name (as in ErrorCode). */
export type LegacyRecordsErrorCode = 'CORRUPT_MESSAGE' | 'INVALID_RECORD' | 'UNSUPPORTED_COMPRESSION_TYPE';

/** A legacy message set Kafka would refuse, with the error code it would answer. */
export class LegacyRecordsError extends Error {
  override name = 'LegacyRecordsError';
  constructor(
    readonly errorCode: LegacyRecordsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function messageOverhead(magic: LegacyMagic): number {
  return magic === 0 ? MESSAGE_OVERHEAD_V0 : MESSAGE_OVERHEAD_V1;
}

/** Bytes one message takes in a set, offset and size fields included. */
export function legacyMessageSize(magic: LegacyMagic, keyLength: number, valueLength: number): number {
  return LEGACY_LOG_OVERHEAD + messageOverhead(magic) + Math.max(keyLength, 0) + Math.max(valueLength, 0);
}

/**
 * One message of a set, as the walker found it. The walker reuses one instance for every message, so a visitor
 * copies out what it keeps; key and value are positions in the walked buffer (length -1 is null).
 */
export class LegacyMessageView {
  /** Where the message starts in the walked buffer. */
  position = 0;
  magic: LegacyMagic = 0;
  attributes = 0;
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;

  constructor(readonly buf: Buffer) {}

  get offset(): bigint {
    return this.buf.readBigInt64BE(this.position + LEGACY_OFFSET_OFFSET);
  }

  /** The message's own timestamp; -1 for magic 0. */
  get timestamp(): bigint {
    return this.magic === 1 ? this.buf.readBigInt64BE(this.position + LEGACY_TIMESTAMP_OFFSET) : NO_TIMESTAMP;
  }

  get codec(): number {
    return this.attributes & LEGACY_CODEC_MASK;
  }

  get isLogAppendTime(): boolean {
    return this.magic === 1 && (this.attributes & LEGACY_TIMESTAMP_TYPE_MASK) !== 0;
  }
}

export interface WalkOptions {
  /** Check each message's CRC32; default true. */
  verifyCrc?: boolean;
  /**
   * What a message cut short at the end of the set means: 'error' (a produce request: CORRUPT_MESSAGE) or
   * 'ignore' (a fetch response, where a broker may end the set with a partial message). Default 'error'.
   */
  partialTail?: 'error' | 'ignore';
  /** Names the set in error messages ("message set", "inner message set of the wrapper at offset 7"). */
  what?: string;
}

function corrupt(message: string): LegacyRecordsError {
  return new LegacyRecordsError('CORRUPT_MESSAGE', message);
}

/**
 * Walk the messages of `buf` (which holds nothing else), checking each one's framing, magic, CRC, codec id and
 * key/value lengths, and call `visit` with each. Returns the number of messages and the bytes they span (less
 * than `buf.length` only when a partial tail is ignored). Nothing is read outside a message's declared bounds.
 */
export function walkMessageSet(
  buf: Buffer,
  visit: (message: LegacyMessageView) => void,
  opts: WalkOptions = {},
): { count: number; validBytes: number } {
  const verifyCrc = opts.verifyCrc ?? true;
  const ignorePartial = opts.partialTail === 'ignore';
  const what = opts.what ?? 'message set';
  const view = new LegacyMessageView(buf);
  let count = 0;
  let pos = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    const at = `${what}, message at byte ${pos}`;
    if (remaining < LEGACY_LOG_OVERHEAD) {
      if (ignorePartial) break;
      throw corrupt(`${at}: ${remaining} trailing bytes are not a whole message`);
    }
    const messageSize = buf.readInt32BE(pos + LEGACY_SIZE_OFFSET);
    if (messageSize < MESSAGE_OVERHEAD_V0) {
      throw corrupt(`${at}: message size ${messageSize} is below the minimum of ${MESSAGE_OVERHEAD_V0}`);
    }
    if (messageSize > remaining - LEGACY_LOG_OVERHEAD) {
      if (ignorePartial) break;
      throw corrupt(`${at}: claims ${messageSize} bytes but only ${remaining - LEGACY_LOG_OVERHEAD} remain`);
    }
    const end = pos + LEGACY_LOG_OVERHEAD + messageSize;
    const magic = buf.readInt8(pos + LEGACY_MAGIC_OFFSET);
    if (magic !== 0 && magic !== 1) {
      // Magic 2 here is a v2 batch mixed with legacy messages, which Kafka refuses as an invalid record.
      if (magic === 2) throw new LegacyRecordsError('INVALID_RECORD', `${at}: magic 2 mixed with legacy messages`);
      throw corrupt(`${at}: invalid magic ${magic}`);
    }
    const overhead = messageOverhead(magic);
    if (messageSize < overhead) {
      throw corrupt(`${at}: message size ${messageSize} is below the magic ${magic} minimum of ${overhead}`);
    }
    if (verifyCrc) {
      const stored = buf.readUInt32BE(pos + LEGACY_CRC_OFFSET);
      const computed = nativeCrc().crc32(buf.subarray(pos + LEGACY_MAGIC_OFFSET, end)) >>> 0;
      if (stored !== computed) throw corrupt(`${at}: CRC mismatch, stored ${stored}, computed ${computed}`);
    }
    const attributes = buf[pos + LEGACY_ATTRIBUTES_OFFSET]!;
    const codec = attributes & LEGACY_CODEC_MASK;
    if (codec === ZSTD_CODEC) {
      // Kafka's legacy reader refuses a zstd wrapper as an invalid record: zstd needs record batch v2.
      throw new LegacyRecordsError('INVALID_RECORD', `${at}: zstd compression needs record batch v2 (magic 2)`);
    }
    if (codec > MAX_LEGACY_CODEC) throw corrupt(`${at}: unknown compression codec ${codec}`);
    let field = pos + LEGACY_TIMESTAMP_OFFSET + (magic === 1 ? 8 : 0);
    const keyLength = buf.readInt32BE(field);
    field += 4;
    if (keyLength < -1 || keyLength > end - field - 4) {
      throw corrupt(`${at}: key length ${keyLength} does not fit in the message`);
    }
    view.keyStart = field;
    view.keyLength = keyLength;
    field += Math.max(keyLength, 0);
    const valueLength = buf.readInt32BE(field);
    field += 4;
    if (valueLength < -1 || field + Math.max(valueLength, 0) !== end) {
      throw corrupt(
        `${at}: value length ${valueLength} does not match the message size ${messageSize} (${end - field} bytes left for the value)`,
      );
    }
    view.valueStart = field;
    view.valueLength = valueLength;
    view.position = pos;
    view.magic = magic;
    view.attributes = attributes;
    visit(view);
    count++;
    pos = end;
  }
  return { count, validBytes: pos };
}

/**
 * Write one message at `pos` and return the position after it. Key and value are copied from `src` (a length
 * of -1 writes null), so no slice is made per message. `attributes` carries the codec and timestamp type bits;
 * `timestamp` is ignored for magic 0. The CRC is computed over what was written.
 */
export function writeLegacyMessage(
  out: Buffer,
  pos: number,
  magic: LegacyMagic,
  offset: bigint,
  attributes: number,
  timestamp: bigint,
  src: Buffer,
  keyStart: number,
  keyLength: number,
  valueStart: number,
  valueLength: number,
): number {
  const start = pos;
  out.writeBigInt64BE(offset, pos);
  out.writeInt32BE(legacyMessageSize(magic, keyLength, valueLength) - LEGACY_LOG_OVERHEAD, pos + LEGACY_SIZE_OFFSET);
  out.writeInt8(magic, pos + LEGACY_MAGIC_OFFSET);
  out.writeUInt8(attributes, pos + LEGACY_ATTRIBUTES_OFFSET);
  pos += LEGACY_TIMESTAMP_OFFSET;
  if (magic === 1) pos = out.writeBigInt64BE(timestamp, pos);
  pos = out.writeInt32BE(keyLength, pos);
  if (keyLength > 0) pos += src.copy(out, pos, keyStart, keyStart + keyLength);
  pos = out.writeInt32BE(valueLength, pos);
  if (valueLength > 0) pos += src.copy(out, pos, valueStart, valueStart + valueLength);
  out.writeUInt32BE(nativeCrc().crc32(out.subarray(start + LEGACY_MAGIC_OFFSET, pos)) >>> 0, start + LEGACY_CRC_OFFSET);
  return pos;
}

/** Decompression failures (RecordDecodeError from compression.ts) become CORRUPT_MESSAGE, naming the wrapper. */
export function decodeFailure(where: string, err: unknown): unknown {
  if (err instanceof RecordDecodeError) return corrupt(`${where}: ${err.message}`);
  return err;
}
