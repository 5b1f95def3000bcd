/**
 * Per-partition producer state (Kafka's ProducerStateManager, ProducerStateEntry and ProducerAppendInfo):
 * for each producer id writing to the partition, its epoch and its last five batches (sequence range,
 * offsets, timestamp). It is what makes idempotent producers exactly-once per partition: a retried batch
 * matching one of those five is answered with its original offsets and not written again, a sequence gap
 * is refused with OUT_OF_ORDER_SEQUENCE_NUMBER and an older epoch with INVALID_PRODUCER_EPOCH.
 *
 * Everything is read from batch headers; records are never decoded. The state is saved in Kafka's
 * `<offset>.snapshot` files (same layout, so a Kafka broker could read them) and rebuilt after a crash
 * from the latest snapshot plus the batch headers written after it.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  baseOffsetOf,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
} from '../records/batch-header.js';
import { crc32c } from '../records/crc32c.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: how many batches per producer are kept for duplicates. */
export const NUM_BATCHES_TO_RETAIN = 5;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 0x7fffffff;

/** One appended batch of a producer, as duplicate detection needs it. */
export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: bigint;
  lastOffset: bigint;
  /** The batch's max timestamp (the append time with LogAppendTime). */
  timestamp: bigint;
}

export interface ProducerStateEntry {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  lastTimestamp: bigint;
  /** -1: no transaction open (transactions are not served yet, so always -1 here). */
  currentTxnFirstOffset: bigint;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
}

/** The producer fields of one batch header. */
export interface ProducerBatch {
  producerId: bigint;
  producerEpoch: number;
  firstSeq: number;
  lastSeq: number;
  lastOffsetDelta: number;
  maxTimestamp: bigint;
  isControl: boolean;
}

export type ProducerCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH'; message: string };

/** Whether the batch at `pos` carries a producer id (idempotent or transactional); reads one int32. */
export function hasProducerIdAt(buf: Buffer, pos: number): boolean {
  // The high half of a non-negative int64 is non-negative; NO_PRODUCER_ID (-1) has it at -1.
  return buf.readInt32BE(pos + PRODUCER_ID_OFFSET) >= 0;
}

export function producerBatchAt(buf: Buffer, pos: number): ProducerBatch {
  const firstSeq = buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
  return {
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    firstSeq,
    lastSeq: incrementSequence(firstSeq, lastOffsetDelta),
    lastOffsetDelta,
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    isControl: (buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0,
  };
}

/** Sequences wrap from Int32.MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > INT32_MAX - increment) return increment - (INT32_MAX - sequence) - 1;
  return sequence + increment;
}

export function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT32_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function lastSeqOf(entry: ProducerStateEntry): number {
  const last = entry.batches[entry.batches.length - 1];
  return last ? last.lastSeq : NO_SEQUENCE;
}

export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerStateEntry>();

  constructor(entries: Iterable<ProducerStateEntry> = []) {
    for (const e of entries) this.producers.set(e.producerId, e);
  }

  get size(): number {
    return this.producers.size;
  }

  entry(producerId: bigint): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  entries(): ProducerStateEntry[] {
    return [...this.producers.values()];
  }

  /**
   * Validates a client's batch against the producer's state, as Kafka's UnifiedLog (duplicates) and
   * ProducerAppendInfo (epoch, then sequence) do; a negative base sequence was refused by validation
   * already. `pending` holds what earlier batches of the same append
   * changed, so several batches of one producer in one append are checked in order.
   */
  check(batch: ProducerBatch, pending?: Map<bigint, ProducerStateEntry>): ProducerCheck {
    const current = pending?.get(batch.producerId) ?? this.producers.get(batch.producerId);
    if (!current) return { kind: 'append' };
    if (batch.producerEpoch === current.producerEpoch) {
      for (const b of current.batches) {
        if (b.firstSeq === batch.firstSeq && b.lastSeq === batch.lastSeq) return { kind: 'duplicate', batch: b };
      }
    }
    if (batch.producerEpoch < current.producerEpoch) {
      return {
        kind: 'error',
        errorCode: 'INVALID_PRODUCER_EPOCH',
        message: `Epoch of producer ${batch.producerId} is ${batch.producerEpoch}, which is smaller than the last seen epoch ${current.producerEpoch}`,
      };
    }
    if (batch.producerEpoch !== current.producerEpoch) {
      // A bumped epoch starts its sequences again at 0.
      if (batch.firstSeq !== 0 && current.producerEpoch !== NO_PRODUCER_EPOCH) {
        return {
          kind: 'error',
          errorCode: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
          message: `Invalid sequence number for new epoch of producer ${batch.producerId}: ${batch.producerEpoch} (request epoch), ${batch.firstSeq} (seq. number), ${current.producerEpoch} (current producer epoch)`,
        };
      }
      return { kind: 'append' };
    }
    const lastSeq = lastSeqOf(current);
    // A producer whose batches all left the log (retention, DeleteRecords) may go on with any sequence (KIP-360).
    if (current.producerEpoch !== NO_PRODUCER_EPOCH && !inSequence(lastSeq, batch.firstSeq)) {
      return {
        kind: 'error',
        errorCode: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        message: `Out of order sequence number for producer ${batch.producerId}: ${batch.firstSeq} (incoming seq. number), ${lastSeq} (current end sequence number)`,
      };
    }
    return { kind: 'append' };
  }

  /**
   * Records an appended batch (Kafka's ProducerStateEntry.addBatch): a new epoch forgets the old
   * epoch's batches; only the last NUM_BATCHES_TO_RETAIN are kept. Into `target` when given (the pending
   * changes of an append), else into the state.
   */
  update(batch: ProducerBatch, firstOffset: bigint, target?: Map<bigint, ProducerStateEntry>): void {
    const map = target ?? this.producers;
    let entry = map.get(batch.producerId);
    if (!entry && target) {
      const known = this.producers.get(batch.producerId);
      if (known) {
        entry = { ...known, batches: [...known.batches] };
        target.set(batch.producerId, entry);
      }
    }
    if (!entry) {
      entry = {
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        coordinatorEpoch: -1,
        lastTimestamp: -1n,
        currentTxnFirstOffset: -1n,
        batches: [],
      };
      map.set(batch.producerId, entry);
    }
    if (entry.producerEpoch !== batch.producerEpoch) {
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    if (batch.isControl) {
      // Transaction markers carry no sequence: they only move the epoch and the timestamp.
      entry.lastTimestamp = batch.maxTimestamp;
      return;
    }
    if (entry.batches.length === NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    entry.batches.push({
      firstSeq: batch.firstSeq,
      lastSeq: batch.lastSeq,
      firstOffset,
      lastOffset: firstOffset + BigInt(batch.lastOffsetDelta),
      timestamp: batch.maxTimestamp,
    });
    entry.lastTimestamp = batch.maxTimestamp;
  }

  /** Applies the pending changes of an append that was given its offsets. */
  commit(pending: Map<bigint, ProducerStateEntry>): void {
    for (const [id, entry] of pending) this.producers.set(id, entry);
  }

  /** Rebuilding from the log: every batch with a producer id, without validation (Kafka's replication origin). */
  replayBatchAt(buf: Buffer, pos: number): void {
    if (!hasProducerIdAt(buf, pos)) return;
    this.update(producerBatchAt(buf, pos), baseOffsetOf(buf, pos));
  }

  /**
   * The log was cut back to `offset` (a failed write): batches at or past it are forgotten; a producer left
   * with none is dropped, so its retry is accepted as from an unknown producer rather than refused.
   */
  truncateFrom(offset: bigint): void {
    for (const [id, entry] of this.producers) {
      const kept = entry.batches.filter((b) => b.lastOffset < offset);
      if (kept.length === entry.batches.length) continue;
      if (kept.length === 0) this.producers.delete(id);
      else entry.batches = kept;
    }
  }

  /** Forgets producers idle for `expirationMs` (producer.id.expiration.ms), judged by their last timestamp. */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (isExpired(entry, nowMs, expirationMs)) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }
}

export function isExpired(entry: ProducerStateEntry, nowMs: number, expirationMs: number): boolean {
  return entry.currentTxnFirstOffset < 0n && nowMs - Number(entry.lastTimestamp) >= expirationMs;
}

// ---- snapshot files ------------------------------------------------------------------------------

/**
 * Kafka's producer snapshot, version 1: version int16, crc uint32 (CRC32C of everything after it), then
 * an int32 count of entries of producer_id int64, epoch int16, last_sequence int32, last_offset int64,
 * offset_delta int32, timestamp int64, coordinator_epoch int32, current_txn_first_offset int64. Only the
 * last batch of each producer is kept, as in Kafka.
 */
export const PRODUCER_SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER_BYTES = 2 + 4;
const SNAPSHOT_ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
export const SNAPSHOT_SUFFIX = '.snapshot';

export function snapshotFileName(offset: bigint): string {
  return `${offset.toString().padStart(20, '0')}${SNAPSHOT_SUFFIX}`;
}

const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;

export function parseSnapshotFileName(name: string): bigint | null {
  const m = SNAPSHOT_FILE.exec(name);
  return m ? BigInt(m[1]!) : null;
}

export function encodeProducerSnapshot(entries: readonly ProducerStateEntry[]): Buffer {
  const buf = Buffer.alloc(SNAPSHOT_HEADER_BYTES + 4 + entries.length * SNAPSHOT_ENTRY_BYTES);
  buf.writeInt16BE(PRODUCER_SNAPSHOT_VERSION, 0);
  let at = SNAPSHOT_HEADER_BYTES;
  buf.writeInt32BE(entries.length, at);
  at += 4;
  for (const e of entries) {
    const last = e.batches[e.batches.length - 1];
    buf.writeBigInt64BE(e.producerId, at);
    buf.writeInt16BE(e.producerEpoch, at + 8);
    buf.writeInt32BE(last ? last.lastSeq : NO_SEQUENCE, at + 10);
    buf.writeBigInt64BE(last ? last.lastOffset : -1n, at + 14);
    buf.writeInt32BE(last ? Number(last.lastOffset - last.firstOffset) : 0, at + 22);
    buf.writeBigInt64BE(e.lastTimestamp, at + 26);
    buf.writeInt32BE(e.coordinatorEpoch, at + 34);
    buf.writeBigInt64BE(e.currentTxnFirstOffset, at + 38);
    at += SNAPSHOT_ENTRY_BYTES;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(SNAPSHOT_HEADER_BYTES)), 2);
  return buf;
}

export class CorruptSnapshotError extends Error {}

/** Reads a snapshot; throws CorruptSnapshotError for an unknown version, a bad CRC or a bad length. */
export function decodeProducerSnapshot(buf: Buffer): ProducerStateEntry[] {
  if (buf.length < SNAPSHOT_HEADER_BYTES + 4)
    throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes is too short`);
  const version = buf.readInt16BE(0);
  if (version !== PRODUCER_SNAPSHOT_VERSION) throw new CorruptSnapshotError(`unknown snapshot version ${version}`);
  const stored = buf.readUInt32BE(2);
  const computed = crc32c(buf.subarray(SNAPSHOT_HEADER_BYTES));
  if (stored !== computed)
    throw new CorruptSnapshotError(`snapshot CRC ${stored} does not match its data (${computed})`);
  const count = buf.readInt32BE(SNAPSHOT_HEADER_BYTES);
  if (count < 0 || buf.length !== SNAPSHOT_HEADER_BYTES + 4 + count * SNAPSHOT_ENTRY_BYTES) {
    throw new CorruptSnapshotError(`snapshot of ${buf.length} bytes cannot hold ${count} entries`);
  }
  const entries: ProducerStateEntry[] = [];
  let at = SNAPSHOT_HEADER_BYTES + 4;
  for (let i = 0; i < count; i++, at += SNAPSHOT_ENTRY_BYTES) {
    const producerId = buf.readBigInt64BE(at);
    const producerEpoch = buf.readInt16BE(at + 8);
    const lastSeq = buf.readInt32BE(at + 10);
    const lastOffset = buf.readBigInt64BE(at + 14);
    const offsetDelta = buf.readInt32BE(at + 22);
    const timestamp = buf.readBigInt64BE(at + 26);
    const batches: BatchMetadata[] =
      lastOffset >= 0n
        ? [
            {
              firstSeq: decrementSequence(lastSeq, offsetDelta),
              lastSeq,
              firstOffset: lastOffset - BigInt(offsetDelta),
              lastOffset,
              timestamp,
            },
          ]
        : [];
    entries.push({
      producerId,
      producerEpoch,
      coordinatorEpoch: buf.readInt32BE(at + 34),
      lastTimestamp: timestamp,
      currentTxnFirstOffset: buf.readBigInt64BE(at + 38),
      batches,
    });
  }
  return entries;
}
