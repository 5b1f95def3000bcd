/**
 * In-place changes the broker makes to a stored batch. baseOffset and partitionLeaderEpoch lie outside
 * the CRC (see batch-header.ts); the timestamp type and maxTimestamp lie inside it, so the CRC is restamped.
 */
import { ATTRIBUTES_OFFSET, MAX_TIMESTAMP_OFFSET, TIMESTAMP_TYPE_MASK } from './batch-header.js';
import { restampCrc } from './crc32c.js';

export { patchBaseOffset, patchPartitionLeaderEpoch } from './batch-header.js';

/**
 * Mark the batch at `pos` as LogAppendTime and set its maxTimestamp to the broker's append time, as Kafka
 * does for topics with message.timestamp.type=LogAppendTime. The base timestamp and the records' deltas
 * stay as sent: readers take every record's timestamp from maxTimestamp when the type bit is set.
 */
export function setLogAppendTime(buf: Buffer, pos: number, timestampMs: bigint): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const alreadySet =
    (attributes & TIMESTAMP_TYPE_MASK) !== 0 && buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET) === timestampMs;
  if (alreadySet) return;
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(timestampMs, pos + MAX_TIMESTAMP_OFFSET);
  restampCrc(buf, pos);
}
