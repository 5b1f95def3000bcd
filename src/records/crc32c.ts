import { createRequire } from 'node:module';
import { ATTRIBUTES_OFFSET, batchSizeAt, CRC_OFFSET } from './batch-header.js';

// The native CRC library is loaded on first use: it costs a broker about 15 ms and 4 MiB at start-up, and
// a broker that was shut down cleanly computes no CRC before its first produce. It is CommonJS, so a
// synchronous require keeps the CRC functions synchronous.
const require = createRequire(import.meta.url);
type NativeCrc = typeof import('@node-rs/crc32');
let nativeModule: NativeCrc | undefined;

/** The native CRC functions: CRC32C for record batches, CRC32 (IEEE) for legacy messages. */
export const nativeCrc = (): NativeCrc => (nativeModule ??= require('@node-rs/crc32') as NativeCrc);

/** CRC32C (Castagnoli) of `buf`, as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array): number {
  return nativeCrc().crc32c(buf) >>> 0;
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
