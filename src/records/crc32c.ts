import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { ATTRIBUTES_OFFSET, batchSizeAt, CRC_OFFSET } from './batch-header.js';

/** CRC32C (Castagnoli) of `buf`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array): number {
  return nativeCrc32c(buf) >>> 0;
}

/**
 * The CRC a v2 batch starting at `pos` should carry: CRC32C over attributes..end of batch.
 * The batch length is read from the header and must already be known to fit in `buf`.
 */
export function computeBatchCrc(buf: Buffer, pos = 0): number {
  const end = pos + batchSizeAt(buf, pos);
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end));
}

/** Rewrite the stored CRC of the batch at `pos`, after a field inside the CRC (attributes, maxTimestamp) changed. */
export function restampCrc(buf: Buffer, pos = 0): void {
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + CRC_OFFSET);
}

/** Whether the stored CRC of the batch at `pos` matches its content. */
export function hasValidCrc(buf: Buffer, pos = 0): boolean {
  return buf.readUInt32BE(pos + CRC_OFFSET) === computeBatchCrc(buf, pos);
}
