/**
 * Hand-built legacy message sets for tests, written from the documented layout (Kafka's "Message sets"
 * section) rather than with src/records' writer, so the tests check the code against the format itself.
 */
import { gzipSync } from 'node:zlib';
import { crc32 } from '@node-rs/crc32';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyRaw } from 'snappy';
import { CompressionType, compressRecords } from '../../../src/records/index.js';
import { xxh32 } from '../../../src/records/legacy-lz4.js';

export interface MessageSpec {
  magic: 0 | 1;
  offset?: bigint;
  /** Codec bits and (magic 1) the timestamp type bit. */
  attributes?: number;
  /** Magic 1 only; default 0. */
  timestamp?: bigint;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
}

function bytes(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

/** offset int64, size int32, crc uint32, magic int8, attributes int8, [timestamp int64], key, value. */
export function legacyMessage(spec: MessageSpec): Buffer {
  const key = bytes(spec.key);
  const value = spec.value === undefined ? Buffer.from('v') : bytes(spec.value);
  const body: Buffer[] = [Buffer.from([spec.magic, spec.attributes ?? 0])];
  if (spec.magic === 1) {
    const ts = Buffer.alloc(8);
    ts.writeBigInt64BE(spec.timestamp ?? 0n);
    body.push(ts);
  }
  for (const field of [key, value]) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(field === null ? -1 : field.length);
    body.push(len);
    if (field !== null) body.push(field);
  }
  const afterCrc = Buffer.concat(body);
  const head = Buffer.alloc(16);
  head.writeBigInt64BE(spec.offset ?? 0n, 0);
  head.writeInt32BE(4 + afterCrc.length, 8);
  head.writeUInt32BE(crc32(afterCrc) >>> 0, 12);
  return Buffer.concat([head, afterCrc]);
}

/** Recompute the CRC of the message at `pos` after a test changed its bytes (size field trusted). */
export function restampLegacyCrc(set: Buffer, pos = 0): Buffer {
  const end = pos + 12 + set.readInt32BE(pos + 8);
  set.writeUInt32BE(crc32(set.subarray(pos + 16, end)) >>> 0, pos + 12);
  return set;
}

export type LegacyCodecName = 'gzip' | 'snappy-xerial' | 'snappy-raw' | 'lz4' | 'lz4-kafka-3160';

export const CODEC_OF: Record<LegacyCodecName, CompressionType> = {
  gzip: CompressionType.Gzip,
  'snappy-xerial': CompressionType.Snappy,
  'snappy-raw': CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  'lz4-kafka-3160': CompressionType.Lz4,
};

/** Compress an inner message set as the various producers did. */
export function compressInner(codec: LegacyCodecName, inner: Buffer): Buffer {
  switch (codec) {
    case 'gzip':
      return gzipSync(inner);
    case 'snappy-xerial':
      return compressRecords(CompressionType.Snappy, inner);
    case 'snappy-raw':
      return snappyRaw(inner);
    case 'lz4':
      return Buffer.from(compressFrameSync(inner));
    case 'lz4-kafka-3160': {
      // Magic 0 producers hashed the frame magic too when computing the header checksum.
      const frame = Buffer.from(compressFrameSync(inner));
      const hcAt = 4 + 2 + ((frame[4]! & 0x08) !== 0 ? 8 : 0);
      frame[hcAt] = (xxh32(frame.subarray(0, hcAt)) >>> 8) & 0xff;
      return frame;
    }
  }
}

/** A wrapper message whose value is `inner` compressed with `codec`. */
export function wrapperMessage(
  magic: 0 | 1,
  codec: LegacyCodecName,
  inner: Buffer,
  opts: { offset?: bigint; timestamp?: bigint; logAppendTime?: boolean } = {},
): Buffer {
  return legacyMessage({
    magic,
    offset: opts.offset ?? 0n,
    attributes: CODEC_OF[codec] | (opts.logAppendTime ? 0x08 : 0),
    timestamp: opts.timestamp ?? 0n,
    key: null,
    value: compressInner(codec, inner),
  });
}

/** `n` messages with keys k0…, values v0…, offsets 0…, timestamps 1000+i (magic 1). */
export function plainMessages(magic: 0 | 1, n: number, from = 0): Buffer {
  const parts: Buffer[] = [];
  for (let i = from; i < from + n; i++) {
    parts.push(
      legacyMessage({ magic, offset: BigInt(i - from), timestamp: 1000n + BigInt(i), key: `k${i}`, value: `v${i}` }),
    );
  }
  return Buffer.concat(parts);
}
