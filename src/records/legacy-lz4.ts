/**
 * The LZ4 frame header checksum of legacy message sets (KAFKA-3160).
 *
 * A frame's header checksum byte is the second byte of xxh32 (seed 0) over the frame descriptor (the FLG and
 * BD bytes, plus the content size and dictionary id when present). Kafka before 0.10 hashed the 4-byte magic
 * number too, and magic 0 messages keep that miscomputed byte: Kafka writes it for magic 0 and accepts it when
 * reading. The codecs in compression.ts check the correct byte, so frames carrying the old one are given the
 * correct one before decompressing, and frames written for magic 0 are given the old one.
 */
import { RecordDecodeError } from './varint.js';

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  return Math.imul(rotl((acc + Math.imul(lane, PRIME32_2)) | 0, 13), PRIME32_1);
}

/** xxh32 of `data` (the LZ4 frame format's checksum), as an unsigned 32-bit number. */
export function xxh32(data: Uint8Array, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let pos = 0;
  let h: number;
  if (length >= 16) {
    let v1 = (seed + PRIME32_1 + PRIME32_2) | 0;
    let v2 = (seed + PRIME32_2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME32_1) | 0;
    for (; pos + 16 <= length; pos += 16) {
      v1 = round(v1, view.getUint32(pos, true));
      v2 = round(v2, view.getUint32(pos + 4, true));
      v3 = round(v3, view.getUint32(pos + 8, true));
      v4 = round(v4, view.getUint32(pos + 12, true));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME32_5) | 0;
  }
  h = (h + length) | 0;
  for (; pos + 4 <= length; pos += 4) {
    h = Math.imul(rotl((h + Math.imul(view.getUint32(pos, true), PRIME32_3)) | 0, 17), PRIME32_4);
  }
  for (; pos < length; pos++) {
    h = Math.imul(rotl((h + Math.imul(data[pos]!, PRIME32_5)) | 0, 11), PRIME32_1);
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME32_2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

const LZ4_FRAME_MAGIC = 0x184d2204;
const DESCRIPTOR_START = 4;

/** Position of the header checksum byte of the LZ4 frame in `frame`. */
function headerChecksumPosition(frame: Buffer): number {
  if (frame.length < 7 || frame.readUInt32LE(0) !== LZ4_FRAME_MAGIC) throw new RecordDecodeError('not an LZ4 frame');
  const flags = frame[DESCRIPTOR_START]!;
  const position = DESCRIPTOR_START + 2 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0);
  if (position >= frame.length) throw new RecordDecodeError('truncated LZ4 frame header');
  return position;
}

function correctChecksum(frame: Buffer, position: number): number {
  return (xxh32(frame.subarray(DESCRIPTOR_START, position)) >>> 8) & 0xff;
}

/** The checksum Kafka's magic 0 writer computed: over the magic number and the descriptor. */
function legacyChecksum(frame: Buffer, position: number): number {
  return (xxh32(frame.subarray(0, position)) >>> 8) & 0xff;
}

/**
 * The frame with a correct header checksum: `frame` itself when its checksum is right (or wrong in some other
 * way, which the decompressor then reports), else a copy with the miscomputed KAFKA-3160 byte corrected.
 */
export function withCorrectLz4HeaderChecksum(frame: Buffer): Buffer {
  const position = headerChecksumPosition(frame);
  const stored = frame[position]!;
  if (stored === correctChecksum(frame, position) || stored !== legacyChecksum(frame, position)) return frame;
  const fixed = Buffer.from(frame);
  fixed[position] = correctChecksum(frame, position);
  return fixed;
}

/** Rewrite, in place, the header checksum of a frame to the one Kafka's magic 0 readers expect. */
export function useLegacyLz4HeaderChecksum(frame: Buffer): void {
  const position = headerChecksumPosition(frame);
  frame[position] = legacyChecksum(frame, position);
}
