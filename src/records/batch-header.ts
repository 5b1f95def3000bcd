/**
 * Record batch v2 header layout (magic 2), as documented in Kafka's "implementation" notes.
 *
 *   baseOffset: int64             0
 *   batchLength: int32            8   bytes after this field, so a batch spans batchLength + 12 bytes
 *   partitionLeaderEpoch: int32  12
 *   magic: int8                  16
 *   crc: uint32                  17   CRC32C over attributes..end of batch
 *   attributes: int16            21
 *   lastOffsetDelta: int32       23
 *   baseTimestamp: int64         27
 *   maxTimestamp: int64          35
 *   producerId: int64            43
 *   producerEpoch: int16         51
 *   baseSequence: int32          53
 *   recordsCount: int32          57
 *   records                      61
 *
 * baseOffset and partitionLeaderEpoch lie outside the CRC, so the broker may patch them in place.
 */

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the fixed batch header; also the smallest possible batch. */
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the part of a batch not counted by batchLength. */
export const LOG_OVERHEAD = 12;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

export const NO_PRODUCER_ID = -1n;
export const NO_PARTITION_LEADER_EPOCH = -1;

/** Total size in bytes of the batch starting at `pos`, read from its length field (not validated). */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
}

export function baseOffsetOf(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + BASE_OFFSET_OFFSET);
}

export function lastOffsetDeltaOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
}

/** Offset of the last record in the batch: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(buf: Buffer, pos = 0): bigint {
  return baseOffsetOf(buf, pos) + BigInt(lastOffsetDeltaOf(buf, pos));
}

export function maxTimestampOf(buf: Buffer, pos = 0): bigint {
  return buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET);
}

export function attributesOf(buf: Buffer, pos = 0): number {
  return buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
}

/** The codec bits of the attributes (a number above 4 is not a codec: validation refuses it). */
export function compressionOf(buf: Buffer, pos = 0): number {
  return attributesOf(buf, pos) & COMPRESSION_CODEC_MASK;
}

export function recordsCountOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + RECORDS_COUNT_OFFSET);
}

/** Records in whole v2 batches laid end to end, from their headers' counts: nothing is decoded. */
export function recordsCountOfBatches(buf: Buffer): number {
  let count = 0;
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= buf.length; pos += batchSizeAt(buf, pos)) {
    count += recordsCountOf(buf, pos);
  }
  return count;
}

export function partitionLeaderEpochOf(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET);
}

const MAX_SAFE_OFFSET = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_TO_32 = 2 ** 32;

/** Patch fields outside the CRC in place: the broker assigns offsets and stamps its leader epoch. */
export function patchBaseOffset(buf: Buffer, pos: number, baseOffset: bigint): void {
  // Every append patches one: below 2^53 the offset is written as two 32-bit halves of a double,
  // which allocates nothing, where writeBigInt64BE makes several intermediate BigInts.
  if (baseOffset >= 0n && baseOffset <= MAX_SAFE_OFFSET) {
    const value = Number(baseOffset);
    buf.writeUInt32BE(Math.floor(value / TWO_TO_32), pos + BASE_OFFSET_OFFSET);
    buf.writeUInt32BE(value >>> 0, pos + BASE_OFFSET_OFFSET + 4);
  } else {
    buf.writeBigInt64BE(baseOffset, pos + BASE_OFFSET_OFFSET);
  }
}

export function patchPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}
