/**
 * Per-partition producer state (Kafka's ProducerStateManager, ProducerStateEntry and ProducerAppendInfo):
 * for each producer id writing to the partition, its epoch and its last five batches (sequence range,
 * offsets, timestamp). It is what makes idempotent producers exactly-once per partition: a retried batch
 * matching one of those five is answered with its original offsets and not written again, a sequence gap
 * is refused with OUT_OF_ORDER_SEQUENCE_NUMBER and an older epoch with INVALID_PRODUCER_EPOCH.
 *
 * Transactions (the partition's side): a transactional batch opens a transaction for its producer at its
 * first offset (`currentTxnFirstOffset`) unless one is open; a COMMIT or ABORT marker closes it. Open
 * transactions, ordered by first offset, hold the last stable offset (LSO) back; a closed one keeps
 * holding it until the high watermark passes its marker (Kafka's unreplicated transactions), so a
 * read_committed consumer never reads a transaction whose outcome could still be lost.
 *
 * Everything is read from batch headers (markers: their one control record); data records are never
 * decoded. The state is saved in Kafka's
 * `<offset>.snapshot` files (same layout, so a Kafka broker could read them) and rebuilt after a crash
 * from the latest snapshot plus the batch headers written after it.
 */
import {
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  baseOffsetOf,
  batchSizeAt,
  CONTROL_FLAG_MASK,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  TRANSACTIONAL_FLAG_MASK,
} from '../records/batch-header.js';
import { parseControlRecord } from '../records/control.js';
import { crc32c } from '../records/crc32c.js';
import { iterateRecords } from '../records/iterate.js';

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
  /** The first offset of the producer's open transaction on this partition; -1 when none is open. */
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
  isTransactional: boolean;
  /**
   * A control batch's transaction marker (type and coordinator epoch), null for data batches and other
   * control batches. Read only when the whole batch is in the buffer; see `needsMarkerRead`.
   */
  marker: TxnMarker | null;
}

export interface TxnMarker {
  type: 'COMMIT' | 'ABORT';
  coordinatorEpoch: number;
}

/** An open transaction of one producer on this partition (Kafka's TxnMetadata). */
export interface TxnMetadata {
  producerId: bigint;
  firstOffset: bigint;
  /** The marker's offset once the transaction completed; -1 while open. */
  lastOffset: bigint;
}

/** A transaction a marker completed (Kafka's CompletedTxn). */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  isAborted: boolean;
}

/** What appends did to transactions, applied in order once the append holds its offsets. */
export type TxnEvent = { kind: 'start'; txn: TxnMetadata } | { kind: 'complete'; txn: CompletedTxn };

export type ProducerCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | {
      kind: 'error';
      errorCode:
        | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
        | 'INVALID_PRODUCER_EPOCH'
        | 'INVALID_TXN_STATE'
        | 'TRANSACTION_COORDINATOR_FENCED';
      message: string;
    };

/** Whether the batch at `pos` carries a producer id (idempotent or transactional); reads one int32. */
export function hasProducerIdAt(buf: Buffer, pos: number): boolean {
  // The high half of a non-negative int64 is non-negative; NO_PRODUCER_ID (-1) has it at -1.
  return buf.readInt32BE(pos + PRODUCER_ID_OFFSET) >= 0;
}

/**
 * The producer fields of the batch at `pos`. A control batch's marker is read from its first record when
 * the whole batch is in `buf`; callers holding only its header check `needsMarkerRead` and read it whole.
 */
export function producerBatchAt(buf: Buffer, pos: number): ProducerBatch {
  const firstSeq = buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  const isControl = (attributes & CONTROL_FLAG_MASK) !== 0;
  return {
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    firstSeq,
    lastSeq: incrementSequence(firstSeq, lastOffsetDelta),
    lastOffsetDelta,
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    isControl,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    marker: isControl && !needsMarkerRead(buf, pos) ? markerAt(buf, pos) : null,
  };
}

/** Whether the batch at `pos` is a control batch not wholly in `buf`: its marker needs the whole batch. */
export function needsMarkerRead(buf: Buffer, pos: number): boolean {
  return (
    (buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & CONTROL_FLAG_MASK) !== 0 && pos + batchSizeAt(buf, pos) > buf.length
  );
}

/**
 * The transaction marker of a whole control batch, as Kafka's ProducerAppendInfo reads it (its first
 * record); null for an empty control batch (its transaction was cleaned away), another control type, a
 * compressed batch (markers are written uncompressed) or malformed records.
 */
function markerAt(buf: Buffer, pos: number): TxnMarker | null {
  if ((buf.readInt16BE(pos + ATTRIBUTES_OFFSET) & 0x07) !== 0) return null;
  try {
    for (const record of iterateRecords(buf, pos)) {
      const control = parseControlRecord(record.key, record.value);
      if (control.type !== 'COMMIT' && control.type !== 'ABORT') return null;
      return { type: control.type, coordinatorEpoch: control.coordinatorEpoch ?? 0 };
    }
  } catch {
    return null;
  }
  return null;
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
  /**
   * Open transactions by first offset. Appends open them in offset order, so the Map's insertion order is
   * offset order and its first entry the oldest (Kafka keeps a TreeMap).
   */
  private ongoingTxns = new Map<bigint, TxnMetadata>();
  /** Completed transactions whose marker the high watermark has not passed yet, by first offset. */
  private readonly unreplicatedTxns = new Map<bigint, TxnMetadata>();

  constructor(entries: Iterable<ProducerStateEntry> = []) {
    const open: TxnMetadata[] = [];
    for (const e of entries) {
      this.producers.set(e.producerId, e);
      if (e.currentTxnFirstOffset >= 0n) {
        open.push({ producerId: e.producerId, firstOffset: e.currentTxnFirstOffset, lastOffset: -1n });
      }
    }
    open.sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
    for (const txn of open) this.ongoingTxns.set(txn.firstOffset, txn);
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
    if (batch.isControl) return checkMarker(batch, current);
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
      return checkTxnState(batch, current);
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
    return checkTxnState(batch, current);
  }

  /**
   * Records an appended batch (Kafka's ProducerStateEntry.addBatch): a new epoch forgets the old
   * epoch's batches; only the last NUM_BATCHES_TO_RETAIN are kept. Into `target` when given (the pending
   * changes of an append), else into the state.
   */
  update(
    batch: ProducerBatch,
    firstOffset: bigint,
    target?: Map<bigint, ProducerStateEntry>,
    txnEvents?: TxnEvent[],
  ): void {
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
      // Transaction markers carry no sequence: they move the epoch, the timestamp and the coordinator
      // epoch, and complete the open transaction if there is one (Kafka's appendEndTxnMarker).
      entry.lastTimestamp = batch.maxTimestamp;
      if (batch.marker === null) return;
      entry.coordinatorEpoch = batch.marker.coordinatorEpoch;
      if (entry.currentTxnFirstOffset < 0n) return;
      const completed: CompletedTxn = {
        producerId: batch.producerId,
        firstOffset: entry.currentTxnFirstOffset,
        lastOffset: firstOffset,
        isAborted: batch.marker.type === 'ABORT',
      };
      entry.currentTxnFirstOffset = -1n;
      if (txnEvents) txnEvents.push({ kind: 'complete', txn: completed });
      else this.completeTxn(completed);
      return;
    }
    if (batch.isTransactional && entry.currentTxnFirstOffset < 0n) {
      entry.currentTxnFirstOffset = firstOffset;
      const started: TxnMetadata = { producerId: batch.producerId, firstOffset, lastOffset: -1n };
      if (txnEvents) txnEvents.push({ kind: 'start', txn: started });
      else this.ongoingTxns.set(firstOffset, started);
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

  /**
   * Applies an append's transaction events in order; returns the transactions it completed, each with the
   * last stable offset its `.txnindex` entry records (the first offset of the oldest other open transaction,
   * else the offset after the marker: Kafka's lastStableOffset(CompletedTxn)).
   */
  applyTxnEvents(events: readonly TxnEvent[]): Array<CompletedTxn & { lastStableOffset: bigint }> {
    const completed: Array<CompletedTxn & { lastStableOffset: bigint }> = [];
    for (const event of events) {
      if (event.kind === 'start') {
        this.ongoingTxns.set(event.txn.firstOffset, event.txn);
      } else {
        completed.push({ ...event.txn, lastStableOffset: this.lastStableOffsetOf(event.txn) });
        this.completeTxn(event.txn);
      }
    }
    return completed;
  }

  private lastStableOffsetOf(txn: CompletedTxn): bigint {
    for (const open of this.ongoingTxns.values()) if (open.producerId !== txn.producerId) return open.firstOffset;
    return txn.lastOffset + 1n;
  }

  private completeTxn(txn: CompletedTxn): void {
    const open = this.ongoingTxns.get(txn.firstOffset);
    if (!open) return;
    this.ongoingTxns.delete(txn.firstOffset);
    open.lastOffset = txn.lastOffset;
    this.unreplicatedTxns.set(open.firstOffset, open);
  }

  /**
   * The first offset no read_committed consumer may pass (Kafka's firstUnstableOffset): the oldest open
   * transaction, or a completed one whose marker the high watermark has not passed; null when none.
   */
  firstUnstableOffset(): bigint | null {
    if (this.ongoingTxns.size === 0 && this.unreplicatedTxns.size === 0) return null;
    let first: bigint | null = null;
    for (const txn of this.ongoingTxns.values()) {
      first = txn.firstOffset;
      break;
    }
    for (const txn of this.unreplicatedTxns.values()) {
      if (first === null || txn.firstOffset < first) first = txn.firstOffset;
    }
    return first;
  }

  /** The high watermark moved: completed transactions whose marker it passed no longer hold the LSO. */
  onHighWatermarkUpdated(highWatermark: bigint): void {
    if (this.unreplicatedTxns.size === 0) return;
    for (const [firstOffset, txn] of this.unreplicatedTxns) {
      if (txn.lastOffset < highWatermark) this.unreplicatedTxns.delete(firstOffset);
    }
  }

  /** Open transactions, oldest first. */
  openTransactions(): TxnMetadata[] {
    return [...this.ongoingTxns.values()];
  }

  /**
   * Rebuilding from the log: every batch with a producer id, without validation (Kafka's replication
   * origin). Returns the transaction a marker completed, with its last stable offset, for the txn index.
   */
  replayBatchAt(buf: Buffer, pos: number): (CompletedTxn & { lastStableOffset: bigint }) | null {
    if (!hasProducerIdAt(buf, pos)) return null;
    return this.replay(producerBatchAt(buf, pos), baseOffsetOf(buf, pos));
  }

  /** `replayBatchAt` for a batch already read. */
  replay(batch: ProducerBatch, firstOffset: bigint): (CompletedTxn & { lastStableOffset: bigint }) | null {
    const events: TxnEvent[] = [];
    this.update(batch, firstOffset, undefined, events);
    if (events.length === 0) return null;
    const completed = this.applyTxnEvents(events);
    // Everything replayed is in the log already: nothing waits for the high watermark.
    this.unreplicatedTxns.clear();
    return completed[0] ?? null;
  }

  /**
   * The log was cut back to `offset` (a failed write): batches at or past it are forgotten; a producer left
   * with none is dropped, so its retry is accepted as from an unknown producer rather than refused.
   */
  truncateFrom(offset: bigint): void {
    // Transactions opened at or after the cut are gone; those whose marker was cut are open again. (A cut
    // below the high watermark, which only replication would make, may miss markers it passed already.)
    for (const [firstOffset, txn] of this.unreplicatedTxns) {
      if (txn.lastOffset < offset) continue;
      this.unreplicatedTxns.delete(firstOffset);
      const entry = this.producers.get(txn.producerId);
      if (txn.firstOffset < offset && entry) {
        txn.lastOffset = -1n;
        entry.currentTxnFirstOffset = txn.firstOffset;
        this.ongoingTxns.set(txn.firstOffset, txn);
      }
    }
    for (const [firstOffset, txn] of this.ongoingTxns) {
      if (firstOffset < offset) continue;
      this.ongoingTxns.delete(firstOffset);
      const entry = this.producers.get(txn.producerId);
      if (entry && entry.currentTxnFirstOffset === firstOffset) entry.currentTxnFirstOffset = -1n;
    }
    this.ongoingTxns = new Map([...this.ongoingTxns].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
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

/**
 * A marker from the transaction coordinator (Kafka's appendEndTxnMarker checks, transaction versions 0 and
 * 1): an older producer epoch is refused, and so is an older coordinator epoch (a zombie coordinator).
 */
function checkMarker(batch: ProducerBatch, current: ProducerStateEntry): ProducerCheck {
  if (batch.producerEpoch < current.producerEpoch) {
    return {
      kind: 'error',
      errorCode: 'INVALID_PRODUCER_EPOCH',
      message: `Epoch of producer ${batch.producerId} is ${batch.producerEpoch}, which is smaller than the last seen epoch ${current.producerEpoch}`,
    };
  }
  if (batch.marker !== null && batch.marker.coordinatorEpoch < current.coordinatorEpoch) {
    return {
      kind: 'error',
      errorCode: 'TRANSACTION_COORDINATOR_FENCED',
      message: `Invalid coordinator epoch for producer ${batch.producerId}: ${batch.marker.coordinatorEpoch} (zombie), ${current.coordinatorEpoch} (current)`,
    };
  }
  return { kind: 'append' };
}

/** A producer with an open transaction may only write transactional batches until its marker. */
function checkTxnState(batch: ProducerBatch, current: ProducerStateEntry): ProducerCheck {
  if (!batch.isTransactional && current.currentTxnFirstOffset >= 0n) {
    return {
      kind: 'error',
      errorCode: 'INVALID_TXN_STATE',
      message: `Expected transactional write from producer ${batch.producerId}: its transaction opened at offset ${current.currentTxnFirstOffset} is not complete`,
    };
  }
  return { kind: 'append' };
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
