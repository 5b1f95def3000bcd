/**
 * How a coordinator reaches its internal topic (`__consumer_offsets`). The broker implements it over its
 * partition logs; tests use MemoryCoordinatorLog. The runtime appends one batch per operation and answers
 * the request that caused it only once `append` resolves (the batch is durable). Appends to one partition
 * must become durable in the order they were made: replays follow that order.
 */
import { LAST_OFFSET_DELTA_OFFSET } from '../../records/batch-header.js';

export interface CoordinatorLog {
  readonly partitionCount: number;
  /** Appends one record batch (built with buildRecordBatch) to a partition of __consumer_offsets; resolves once durable. Rejects with an Error on storage failure. */
  append(partition: number, batch: Buffer): Promise<{ baseOffset: bigint }>;
  /** Reads whole batches from `offset` up to `maxBytes` (at least one batch); `records` empty at the end. */
  read(partition: number, offset: bigint, maxBytes: number): Promise<{ records: Buffer; highWatermark: bigint }>;
}

/**
 * An in-memory CoordinatorLog: batches kept as appended, with their base offsets patched in, like a
 * partition log that never loses anything. For tests and for the replay check.
 */
export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions: Array<Array<{ baseOffset: bigint; batch: Buffer }>>;
  /** When set, the next appends reject with it (storage-failure tests). */
  failAppends: Error | null = null;
  /** Appends wait for this many ms of real time before resolving (0: next microtask). */
  appendDelayMs = 0;

  constructor(readonly partitionCount = 50) {
    this.partitions = Array.from({ length: partitionCount }, () => []);
  }

  async append(partition: number, batch: Buffer): Promise<{ baseOffset: bigint }> {
    if (this.appendDelayMs > 0) await new Promise((r) => setTimeout(r, this.appendDelayMs));
    if (this.failAppends) throw this.failAppends;
    const log = this.partitions[partition];
    if (!log) throw new Error(`no partition ${partition} of __consumer_offsets`);
    const last = log.at(-1);
    const baseOffset = last ? last.baseOffset + BigInt(last.batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET)) + 1n : 0n;
    const copy = Buffer.from(batch);
    copy.writeBigInt64BE(baseOffset, 0);
    log.push({ baseOffset, batch: copy });
    return { baseOffset };
  }

  async read(partition: number, offset: bigint, maxBytes: number): Promise<{ records: Buffer; highWatermark: bigint }> {
    const log = this.partitions[partition];
    const last = log.at(-1);
    const highWatermark = last ? last.baseOffset + BigInt(last.batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET)) + 1n : 0n;
    const chunks: Buffer[] = [];
    let size = 0;
    for (const entry of log) {
      const lastOffset = entry.baseOffset + BigInt(entry.batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET));
      if (lastOffset < offset) continue;
      if (chunks.length > 0 && size + entry.batch.length > maxBytes) break;
      chunks.push(entry.batch);
      size += entry.batch.length;
    }
    return { records: Buffer.concat(chunks), highWatermark };
  }

  /** Number of batches appended to every partition together. */
  get batchCount(): number {
    return this.partitions.reduce((n, p) => n + p.length, 0);
  }
}
