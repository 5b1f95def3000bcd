/**
 * The durable log of one partition (Kafka's UnifiedLog + LocalLog): offsets, segments, appends with
 * group-commit fsync, reads by offset and timestamp, retention, truncation and leader epochs. The same
 * code runs over the disk and the memory engine; only the StorageFs underneath differs.
 *
 * Appends take offsets synchronously, in call order, and queue their write; one writer per log runs
 * the queue in order (consecutive writes become one writev), so file order is offset order. A flusher
 * fdatasyncs everything written so far, one fsync at a time: appends that arrive during an fsync are
 * covered by the next one (group commit). A write holding an acks=all batch, when everything before it
 * is durable, is made durable by the write itself (an O_DSYNC descriptor) and needs no fsync; appends
 * that arrive during it form the next write, the same group commit with one call instead of two.
 *
 * Durability and the high watermark, by default: acks=all resolves after an fsync covering the batch,
 * and the high watermark is the end of the data covered by a completed fsync, so consumers only see
 * durable data. acks=1/0 resolve once the write reached the OS. While an acks=all append waits, the
 * flusher starts an fsync as soon as its write completes and runs them back to back; when only acks=0/1
 * data is unflushed it fsyncs FSYNC_COALESCE_MS after the write instead, covering everything written
 * meanwhile, so acks=1 load pays for one fsync every few milliseconds rather than continuous ones (the
 * high watermark then trails the written data by that much). With flush.messages or flush.ms set, fsync
 * runs only every N messages or T ms, acks=all resolves after the write, and the high watermark follows
 * the written data.
 */
import {
  baseOffsetOf,
  batchSizeAt,
  lastOffsetDeltaOf,
  lastOffsetOf,
  maxTimestampOf,
  patchBaseOffset,
  patchPartitionLeaderEpoch,
} from '../records/batch-header.js';
import { setLogAppendTime } from '../records/patch.js';
import { checkRecordBatches } from '../records/validate.js';
import {
  type EpochEntry,
  formatLeaderEpochCheckpoint,
  LEADER_EPOCH_CHECKPOINT,
  type PartitionAtClose,
} from './checkpoint-files.js';
import { type LogError, logError, type StorageLogger } from './errors.js';
import { Fifo } from './fifo.js';
import { type FileCache, writeFileAtomically } from './file-cache.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { FLUSH_NEVER, fsyncsEveryAppend, type LogConfig, rollMs, type TimestampTypeName } from './log-config.js';
import type { LoadedLog } from './log-loader.js';
import { LogSegment, type SegmentContext, type TimestampLookup } from './log-segment.js';
import {
  type BatchMetadata,
  encodeProducerSnapshot,
  hasProducerIdAt,
  type ProducerBatch,
  type ProducerStateEntry,
  ProducerStateManager,
  producerBatchAt,
  snapshotFileName,
  type TxnEvent,
} from './producer-state.js';
import type { ReadMemory } from './read-pool.js';
import { errorCode } from './storage-fs.js';
import type { AbortedTxn } from './transaction-index.js';

export type Acks = 0 | 1 | -1;

export interface AppendOptions {
  acks: Acks;
  /** Overrides the topic's message.timestamp.type. */
  timestampType?: TimestampTypeName;
  /** Overrides the topic's max.message.bytes. */
  maxMessageBytes?: number;
  /** The leader epoch stamped into each batch; defaults to the latest epoch of the log (0 for a new one). */
  leaderEpoch?: number;
  /** 'client' (default) refuses control batches, as Kafka does for producers; the coordinators use 'internal'. */
  origin?: 'client' | 'internal';
}

export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The broker time stamped into the batches with LogAppendTime, else -1. */
  logAppendTime: bigint;
  logStartOffset: bigint;
  recordCount: number;
}

export interface ReadOptions {
  /** Only batches ending below this offset are returned; default the high watermark. */
  maxOffset?: bigint;
  /** Return the first batch even when it is larger than maxBytes; default true. */
  minOneBatch?: boolean;
  /**
   * Where the bytes are read into (a Fetch's lease of pooled memory); by default memory of their own. The
   * records returned are then a view of it, valid until the caller gives it back.
   */
  memory?: ReadMemory;
  /**
   * read_committed (Fetch isolation level 1): maxOffset defaults to the last stable offset, and the result
   * lists the aborted transactions overlapping the batches read.
   */
  readCommitted?: boolean;
}

export interface ReadResult {
  /** Whole stored batches, the first one holding the fetch offset; possibly empty. */
  records: Buffer;
  highWatermark: bigint;
  lastStableOffset: bigint;
  /** With readCommitted: the aborted transactions overlapping the batches read (Kafka's collectAbortedTransactions). */
  abortedTransactions?: AbortedTxn[];
  logStartOffset: bigint;
  logEndOffset: bigint;
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
  logStartOffset: bigint;
}

export interface PartitionLogContext {
  cache: FileCache;
  logger: StorageLogger;
  now: () => number;
  /** Called when the log start offset or the recovery point moves back, so the store checkpoints them. */
  onCheckpointNeeded?: () => void;
}

interface PendingAppend {
  nextOffset: bigint;
  acks: Acks;
  result: AppendResult;
  settled: boolean;
  resolve: (value: AppendResult | LogError) => void;
}

interface WriteTask {
  kind: 'write';
  segment: LogSegment;
  buffer: Buffer;
  batchCount: number;
  recordCount: number;
  append: PendingAppend;
}

interface RollTask {
  kind: 'roll';
  sealed: LogSegment;
  created: LogSegment;
  /** The producer state as of the new segment's base offset (Kafka takes a snapshot at every roll). */
  producerSnapshot: Buffer;
}

interface RepairTask {
  kind: 'repair';
  segment: LogSegment;
  position: number;
  targetOffset: bigint;
  dropped: LogSegment[];
  reloadTimestamp: boolean;
}

interface CheckpointTask {
  kind: 'epoch-checkpoint';
}

type Task = WriteTask | RollTask | RepairTask | CheckpointTask;

/** Limits of one coalesced writev. */
const MAX_WRITEV_BUFFERS = 1024;
const MAX_WRITEV_BYTES = 16 * 1024 * 1024;
const MAX_TIMER_MS = 0x7fffffff;
/**
 * With only acks=0/1 data unflushed, how long the flusher waits before an fsync, so one fsync covers the
 * writes of that time. It bounds how far the high watermark trails those writes (plus the fsync itself).
 */
export const FSYNC_COALESCE_MS = 2;
/** Sealed segments per partition whose indexes stay in memory after a read; older ones are unloaded. */
const MAX_LOADED_SEALED_SEGMENTS = 4;
const EMPTY = Buffer.alloc(0);
/** A batch's offset and length fields: enough to step from one batch to the next. */
const LOG_OVERHEAD_BYTES = 12;
const MAGIC_BYTE_OFFSET = 16;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PartitionLog {
  private segmentList: LogSegment[];
  private logStart: bigint;
  private leo: bigint;
  private written: bigint;
  private flushed: bigint;
  private hwm: bigint;
  private readonly epochs: LeaderEpochCache;
  private topicIdValue: string | null;
  private configValue: LogConfig;

  private readonly queue = new Fifo<Task>();
  private draining = false;
  /** Changes whenever the log is cut back: completions of older work must not touch the new state. */
  private generation = 0;
  private pendingRepair: RepairTask | null = null;
  /** Appends not yet acknowledged, in offset order (a Set keeps insertion order and deletes in O(1)). */
  private readonly inFlight = new Set<PendingAppend>();
  private flushWaiters: Array<{ offset: bigint; resolve: () => void; reject: (err: Error) => void }> = [];
  private idleWaiters: Array<() => void> = [];
  private flushing = false;
  /** flush.ms with relaxed durability; FSYNC_COALESCE_MS otherwise. */
  private flushTimer: NodeJS.Timeout | null = null;
  /** acks=all appends not yet acknowledged: while there are any, fsyncs run back to back. */
  private acksAllWaiting = 0;
  private messagesSinceFlush = 0;
  private epochCheckpointDirty = false;
  private closed = false;
  private readonly listeners = new Set<() => void>();
  /** Sealed segments with loaded indexes, least recently used first. */
  private readonly loadedSealed: LogSegment[] = [];
  /** Idempotent producers' epochs and last batches (Kafka's ProducerStateManager). */
  readonly producers: ProducerStateManager;
  /** Offsets of the producer snapshot files in the directory, ascending. */
  private snapshotOffsets: bigint[];
  /** Transaction events of the append being made (reused: appends without transactions allocate nothing). */
  private readonly txnEvents: TxnEvent[] = [];

  readonly segmentContext: SegmentContext;

  constructor(
    private readonly ctx: PartitionLogContext,
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    config: LogConfig,
    loaded: LoadedLog,
    segmentContext: SegmentContext,
  ) {
    this.configValue = config;
    this.segmentContext = segmentContext;
    this.segmentList = loaded.segments;
    this.logStart = loaded.logStartOffset;
    this.leo = loaded.logEndOffset;
    // Everything found at open was read back from the files (and synced if it was scanned): durable.
    this.written = this.flushed = this.hwm = loaded.logEndOffset;
    this.epochs = new LeaderEpochCache(loaded.epochs);
    if (this.epochs.truncateFromEnd(this.leo)) this.epochCheckpointDirty = true;
    if (this.epochs.truncateFromStart(this.logStart)) this.epochCheckpointDirty = true;
    this.topicIdValue = loaded.topicId;
    this.producers = new ProducerStateManager(loaded.producers ?? []);
    this.snapshotOffsets = [...(loaded.snapshotOffsets ?? [])];
  }

  // ---- state -------------------------------------------------------------------------------------

  get config(): LogConfig {
    return this.configValue;
  }

  /** Takes effect for the next appends, rolls and retention checks. */
  updateConfig(config: LogConfig): void {
    this.configValue = config;
    this.segmentContext.config = config;
  }

  get topicId(): string | null {
    return this.topicIdValue;
  }

  get logStartOffset(): bigint {
    return this.logStart;
  }

  /** The next offset to assign. */
  get logEndOffset(): bigint {
    return this.leo;
  }

  /** The offset after the last batch consumers may read. */
  get highWatermark(): bigint {
    return this.hwm;
  }

  /**
   * The last stable offset (Kafka's UnifiedLog.lastStableOffset): the first offset of the oldest transaction
   * not yet decided, or decided by a marker the high watermark has not passed; else the high watermark.
   * read_committed consumers read up to it. Equal to the high watermark without transactions.
   */
  get lastStableOffset(): bigint {
    const first = this.producers.firstUnstableOffset();
    if (first === null || first >= this.hwm) return this.hwm;
    // Bigints: Math.max takes numbers.
    if (first < this.logStart) return this.logStart;
    return first;
  }

  /** The offset after the last batch covered by a completed fsync. */
  get flushedOffset(): bigint {
    return this.flushed;
  }

  /**
   * Kafka's recovery point: offsets below it need no scan after a crash. Data must be flushed and the
   * segment's indexes sealed, so it never passes the base of the first segment with unsealed indexes.
   */
  get recoveryPoint(): bigint {
    let point = this.flushed;
    for (const s of this.segmentList) {
      if (!s.indexesDurable) {
        if (s.baseOffset < point) point = s.baseOffset;
        break;
      }
    }
    return point;
  }

  get latestEpoch(): number | null {
    return this.epochs.latestEpoch();
  }

  leaderEpochEntries(): EpochEntry[] {
    return this.epochs.entries();
  }

  /** Bytes in the log's segments. */
  get sizeInBytes(): number {
    return this.segmentList.reduce((sum, s) => sum + s.writtenSize, 0);
  }

  segments(): ReadonlyArray<{ baseOffset: bigint; sizeInBytes: number; path: string }> {
    return this.segmentList.map((s) => ({ baseOffset: s.baseOffset, sizeInBytes: s.writtenSize, path: s.logPath }));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private get active(): LogSegment {
    return this.segmentList[this.segmentList.length - 1]!;
  }

  /**
   * Calls `listener` whenever the high watermark moves (or the log is truncated, deleted or closed), so
   * fetch long-polls can wake without polling. Returns the function that stops the calls.
   */
  watch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.ctx.logger.error({ topic: this.topic, partition: this.partition, err }, 'a log watcher threw');
      }
    }
  }

  private setHighWatermark(offset: bigint): void {
    if (offset === this.hwm) return;
    this.hwm = offset;
    this.producers.onHighWatermarkUpdated(offset);
    this.notify();
  }

  // ---- append ------------------------------------------------------------------------------------

  /**
   * Validates the batches, assigns their offsets now (in call order), patches base offset and leader
   * epoch in place (`records` is modified and kept until written), and queues the write. Errors come
   * back as values; the promise never rejects.
   */
  append(records: Buffer, opts: AppendOptions): Promise<AppendResult | LogError> {
    if (this.closed) {
      return Promise.resolve(logError('KAFKA_STORAGE_ERROR', `the log of ${this.topic}-${this.partition} is closed`));
    }
    const config = this.configValue;
    const stampAppendTime = (opts.timestampType ?? config.messageTimestampType) === 'LogAppendTime';
    const check = checkRecordBatches(records, {
      maxBatchBytes: opts.maxMessageBytes ?? config.maxMessageBytes,
      verifyCrc: true,
      rejectControlBatches: (opts.origin ?? 'client') === 'client',
      // The time index and ListOffsets trust the header's max timestamp, so it is set from the records.
      records: stampAppendTime ? 'check-framing' : 'set-max-timestamp',
    });
    if (!check.ok) return Promise.resolve(logError(check.error, check.message));
    if (records.length > config.segmentBytes) {
      return Promise.resolve(
        logError(
          'RECORD_LIST_TOO_LARGE',
          `${records.length} bytes of batches exceed the segment size ${config.segmentBytes} (segment.bytes)`,
        ),
      );
    }

    const now = this.ctx.now();
    const logAppendTime = stampAppendTime ? BigInt(now) : -1n;

    // Idempotent producers: a batch with a producer id is checked against that producer's state (one
    // Map lookup); batches without one (producer id -1) cost a single int32 read here. The state keeps
    // each batch's max timestamp as stored, so the log append time where the topic stamps one.
    // Markers are checked whatever their origin (epochs, coordinator epoch), as Kafka's coordinator origin is.
    const validateProducers = (opts.origin ?? 'client') === 'client';
    const txnEvents = this.txnEvents;
    txnEvents.length = 0;
    let producerBatch: ProducerBatch | null = null;
    let pendingProducers: Map<bigint, ProducerStateEntry> | null = null;
    if (check.batchCount === 1) {
      if (hasProducerIdAt(records, 0)) {
        producerBatch = producerBatchAt(records, 0);
        if (stampAppendTime) producerBatch.maxTimestamp = logAppendTime;
        if (validateProducers || producerBatch.isControl) {
          const verdict = this.producers.check(producerBatch);
          if (verdict.kind === 'duplicate') return this.answerDuplicate(verdict.batch, opts.acks);
          if (verdict.kind === 'error') return Promise.resolve(logError(verdict.errorCode, verdict.message));
        }
      }
    } else {
      let delta = 0;
      for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
        const offsetDelta = delta;
        delta += lastOffsetDeltaOf(records, pos) + 1;
        if (!hasProducerIdAt(records, pos)) continue;
        const firstOffset = this.leo + BigInt(offsetDelta);
        const batch = producerBatchAt(records, pos);
        if (stampAppendTime) batch.maxTimestamp = logAppendTime;
        pendingProducers ??= new Map();
        if (validateProducers || batch.isControl) {
          const verdict = this.producers.check(batch, pendingProducers);
          // As Kafka: the first duplicate answers for the whole append.
          if (verdict.kind === 'duplicate') return this.answerDuplicate(verdict.batch, opts.acks);
          if (verdict.kind === 'error') return Promise.resolve(logError(verdict.errorCode, verdict.message));
        }
        this.producers.update(batch, firstOffset, pendingProducers, txnEvents);
      }
    }

    const baseOffset = this.leo;
    const next = baseOffset + BigInt(check.offsetCount);
    // A roll snapshots the producer state as of the new segment's base: before this append's batches.
    const segment = this.maybeRoll(records.length, check.batchCount, next - 1n, now);
    if (producerBatch !== null) this.producers.update(producerBatch, baseOffset, undefined, txnEvents);
    else if (pendingProducers !== null) this.producers.commit(pendingProducers);
    if (txnEvents.length > 0) this.applyTxnEvents(segment);

    const leaderEpoch = opts.leaderEpoch ?? this.epochs.latestEpoch() ?? 0;
    if (this.epochs.assign(leaderEpoch, baseOffset)) {
      this.epochCheckpointDirty = true;
      this.queue.push({ kind: 'epoch-checkpoint' });
    }
    // Offsets past the first batch's are counted as a number: a BigInt is made only for a later batch.
    let offsetDelta = 0;
    for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
      patchBaseOffset(records, pos, offsetDelta === 0 ? baseOffset : baseOffset + BigInt(offsetDelta));
      patchPartitionLeaderEpoch(records, pos, leaderEpoch);
      if (stampAppendTime) setLogAppendTime(records, pos, logAppendTime);
      offsetDelta += lastOffsetDeltaOf(records, pos) + 1;
    }
    this.leo = next;
    segment.assignedSize += records.length;
    segment.pendingBatches += check.batchCount;

    return new Promise((resolve) => {
      const append: PendingAppend = {
        nextOffset: next,
        acks: opts.acks,
        settled: false,
        resolve,
        result: {
          baseOffset,
          lastOffset: next - 1n,
          logAppendTime,
          logStartOffset: this.logStart,
          recordCount: check.recordCount,
        },
      };
      this.inFlight.add(append);
      if (opts.acks === -1) this.acksAllWaiting++;
      this.queue.push({
        kind: 'write',
        segment,
        buffer: records,
        batchCount: check.batchCount,
        recordCount: check.recordCount,
        append,
      });
      // An append that arrives while the writer runs is picked up by it, without a drain() call of its own.
      if (!this.draining) void this.drain();
    });
  }

  /**
   * Opens and completes the transactions of the append being made; an ABORT adds its entry to the
   * `.txnindex` of the segment the marker goes to (in memory now; the writer writes the file after the
   * marker). Its transaction's records stay below the LSO until the high watermark passes the marker.
   */
  private applyTxnEvents(segment: LogSegment): void {
    for (const txn of this.producers.applyTxnEvents(this.txnEvents)) {
      if (!txn.isAborted) continue;
      segment.txnIndex.append({
        producerId: txn.producerId,
        firstOffset: txn.firstOffset,
        lastOffset: txn.lastOffset,
        lastStableOffset: txn.lastStableOffset,
      });
    }
    this.txnEvents.length = 0;
  }

  /**
   * A retried batch already in the log (Kafka's duplicate detection): answered with the original offsets
   * and nothing is written. With acks=all the answer waits until the original is durable, as the first
   * answer would have; if the original was cut off by a failed write, the retry fails too and comes back.
   */
  private answerDuplicate(duplicate: BatchMetadata, acks: Acks): Promise<AppendResult | LogError> {
    const result: AppendResult = {
      baseOffset: duplicate.firstOffset,
      lastOffset: duplicate.lastOffset,
      // Kafka answers the duplicate's timestamp as the log append time, whatever the timestamp type.
      logAppendTime: duplicate.timestamp,
      logStartOffset: this.logStart,
      recordCount: 0,
    };
    if (acks !== -1 || this.hwm > duplicate.lastOffset) return Promise.resolve(result);
    return new Promise((resolve) => {
      const stop = this.watch(() => {
        if (this.hwm > duplicate.lastOffset) {
          stop();
          resolve({ ...result, logStartOffset: this.logStart });
        } else if (this.closed || this.leo <= duplicate.lastOffset) {
          stop();
          resolve(
            logError(
              'KAFKA_STORAGE_ERROR',
              `the original of a retried batch of ${this.topic}-${this.partition} was lost`,
            ),
          );
        }
      });
    });
  }

  /** Rolls to a new segment when the active one is full, too old or its index is full (Kafka's maybeRoll). */
  private maybeRoll(bytes: number, batches: number, lastOffset: bigint, now: number): LogSegment {
    const active = this.active;
    if (active.assignedSize === 0) return active;
    const config = this.configValue;
    const reason =
      active.assignedSize + bytes > config.segmentBytes
        ? 'segment.bytes'
        : now - active.rollBaseMs > rollMs(config)
          ? 'segment.ms'
          : !active.canHoldOffset(lastOffset)
            ? 'relative offset overflow'
            : active.indexWouldOverflow(batches)
              ? 'segment.index.bytes'
              : null;
    if (!reason) return active;
    const created = new LogSegment(this.segmentContext, this.dir, this.leo, {
      size: 0,
      rollBaseMs: now,
      indexesDurable: false,
      fresh: true,
    });
    active.upperBoundOffset = () => created.baseOffset;
    this.segmentList.push(created);
    const producerSnapshot = encodeProducerSnapshot(this.producers.entries());
    this.queue.push({ kind: 'roll', sealed: active, created, producerSnapshot });
    this.ctx.logger.debug(
      { topic: this.topic, partition: this.partition, baseOffset: String(created.baseOffset), reason },
      'rolled a new segment',
    );
    return created;
  }

  /** Notes a use of a sealed segment's indexes, unloading those of the least recently used beyond the bound. */
  private touch(segment: LogSegment): void {
    if (segment === this.active) return;
    const i = this.loadedSealed.indexOf(segment);
    if (i >= 0) this.loadedSealed.splice(i, 1);
    this.loadedSealed.push(segment);
    while (this.loadedSealed.length > MAX_LOADED_SEALED_SEGMENTS) this.loadedSealed.shift()!.unloadIndexes();
  }

  private settle(append: PendingAppend, value: AppendResult | LogError): void {
    if (append.settled) return;
    append.settled = true;
    this.inFlight.delete(append);
    if (append.acks === -1) this.acksAllWaiting--;
    append.resolve(value);
  }

  // ---- the writer --------------------------------------------------------------------------------

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 || this.pendingRepair) {
        if (this.pendingRepair) {
          const repair = this.pendingRepair;
          try {
            await this.runRepair(repair);
            if (this.pendingRepair === repair) this.pendingRepair = null;
          } catch (err) {
            this.ctx.logger.error(
              { topic: this.topic, partition: this.partition, file: repair.segment.logPath, err },
              'could not cut the log back after an I/O failure; appends fail until the disk recovers (check space and disk health)',
            );
            // Everything queued behind the repair got offsets past the cut: fail it all and wait for the next append.
            this.rewind(repair.targetOffset, repair.segment, repair.position, repair.reloadTimestamp, err);
            break;
          }
          continue;
        }
        const task = this.queue.shift()!;
        if (task.kind === 'write') {
          const group = [task];
          let bytes = task.buffer.length;
          while (group.length < MAX_WRITEV_BUFFERS) {
            const next = this.queue.peek();
            if (
              next?.kind !== 'write' ||
              next.segment !== task.segment ||
              bytes + next.buffer.length > MAX_WRITEV_BYTES
            ) {
              break;
            }
            group.push(this.queue.shift() as WriteTask);
            bytes += next.buffer.length;
          }
          await this.runWrites(group);
        } else if (task.kind === 'roll') {
          await this.runRoll(task);
        } else if (task.kind === 'epoch-checkpoint') {
          await this.writeEpochCheckpoint();
        }
      }
    } catch (err) {
      // Only a bug gets here (I/O failures are handled above); fail what is pending rather than hang it.
      this.ctx.logger.error(
        { topic: this.topic, partition: this.partition, err },
        'the log writer failed unexpectedly; pending appends fail with KAFKA_STORAGE_ERROR (please report this)',
      );
      const segment = this.segmentList[this.segmentIndexFor(this.written)]!;
      this.rewind(this.written, segment, segment.writtenSize, true, err);
    } finally {
      // Waiters check the state themselves: the queue may have stopped at a repair that failed.
      this.draining = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves once the queue has run (or stopped at a repair the disk would not let happen). */
  private idle(): Promise<void> {
    if (!this.draining && this.queue.length === 0 && !this.pendingRepair) return Promise.resolve();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      void this.drain();
    });
  }

  private async runWrites(group: WriteTask[]): Promise<void> {
    const segment = group[0]!.segment;
    const generation = this.generation;
    const position = segment.writtenSize;
    const strict = fsyncsEveryAppend(this.configValue);
    // An acks=all group written while everything before it is durable is written durably (O_DSYNC):
    // one call instead of a write then an fdatasync, and no fsync running beside the next writes (which
    // on ext4 wait for its journal commit). The appends that come meanwhile make up the next group.
    const durable = strict && this.flushed === this.written && group.some((t) => t.append.acks === -1);
    try {
      if (!segment.indexesLoaded || !segment.indexFilesPrepared) {
        await segment.prepareForAppends();
        // Loading the indexes rebuilt them from a log shorter than it was at open (changed under the
        // broker): the offsets handed out since no longer follow the file. Cut back to what it holds.
        if (segment.writtenSize !== position && generation === this.generation) {
          const err = new Error(`${segment.logPath} is ${segment.writtenSize} bytes, ${position} were expected`);
          this.rewind(segment.nextOffset ?? this.written, segment, segment.writtenSize, true, err);
          return;
        }
      }
      await segment.writeData(
        group.map((t) => t.buffer),
        position,
        durable,
      );
    } catch (err) {
      if (generation !== this.generation) return;
      this.ctx.logger.error(
        { topic: this.topic, partition: this.partition, file: segment.logPath, position, code: errorCode(err), err },
        'log write failed; the partial write is cut off and the appends fail with KAFKA_STORAGE_ERROR (check disk space and health)',
      );
      this.rewind(this.written, segment, position, false, err);
      return;
    }
    if (generation !== this.generation) return;

    let at = position;
    let records = 0;
    for (const task of group) {
      const buf = task.buffer;
      let p = 0;
      while (p < buf.length) {
        const size = batchSizeAt(buf, p);
        // The last batch of an append ends at the offset append() computed; only earlier ones are read.
        const lastOffset = p + size >= buf.length ? task.append.result.lastOffset : lastOffsetOf(buf, p);
        segment.onBatchWritten(at + p, size, lastOffset, maxTimestampOf(buf, p));
        p += size;
      }
      at += buf.length;
      segment.pendingBatches -= task.batchCount;
      records += task.recordCount;
    }
    segment.writtenSize = at;
    const flushedBefore = this.flushed === this.written;
    this.written = group[group.length - 1]!.append.nextOffset;

    if (durable && flushedBefore) {
      segment.flushedSize = at;
      this.flushed = this.written;
      this.setHighWatermark(this.flushed);
      for (const task of group) this.settle(task.append, task.append.result);
      this.resolveFlushWaiters();
    } else if (strict) {
      for (const task of group) if (task.append.acks !== -1) this.settle(task.append, task.append.result);
      if (this.acksAllWaiting > 0) void this.runFlusher();
      else this.scheduleCoalescedFlush();
    } else {
      for (const task of group) this.settle(task.append, task.append.result);
      this.setHighWatermark(this.written);
      this.messagesSinceFlush += records;
      this.scheduleRelaxedFlush();
    }
    if (segment.txnIndex.dirty) {
      try {
        await segment.txnIndex.persist();
      } catch (err) {
        this.ctx.logger.warn(
          { file: segment.txnIndex.path, err },
          'could not write transaction index entries; they stay in memory and are retried (a crash rebuilds them)',
        );
      }
    }
    if (segment.indexWriteDue) {
      try {
        await segment.persistIndexes();
      } catch (err) {
        this.ctx.logger.warn(
          { file: segment.indexPath, err },
          'could not write index entries; they stay in memory and are retried (a crash rebuilds them)',
        );
      }
    }
  }

  private async runRoll(task: RollTask): Promise<void> {
    // First, as Kafka's roll does: once the checkpoint below moves the recovery point past the sealed
    // segment, a crash recovery rebuilds the producer state from this snapshot.
    await this.writeProducerSnapshot(task.created.baseOffset, task.producerSnapshot);
    try {
      await task.sealed.sealIndexes();
      // The recovery point may now pass the sealed segment: record it, so a crash rescans only the new one.
      this.ctx.onCheckpointNeeded?.();
      await this.deleteUnneededSnapshots();
    } catch (err) {
      this.ctx.logger.warn(
        { file: task.sealed.indexPath, err },
        'could not seal the indexes of a rolled segment; it is rescanned after a crash',
      );
    }
    this.touch(task.sealed);
    try {
      await task.created.createFiles({ indexes: true, syncDir: true });
    } catch (err) {
      // The first write creates the log file anyway; a write failure there is handled as usual.
      this.ctx.logger.warn({ file: task.created.logPath, err }, 'could not create the files of a new segment');
    }
  }

  // ---- producer snapshots ------------------------------------------------------------------------

  /** Writes `<offset>.snapshot` (fsynced); returns whether it was written. */
  private async writeProducerSnapshot(offset: bigint, data: Buffer): Promise<boolean> {
    try {
      await writeFileAtomically(this.ctx.cache, this.dir, `${this.dir}/${snapshotFileName(offset)}`, data);
    } catch (err) {
      this.ctx.logger.warn(
        { dir: this.dir, offset: String(offset), err },
        'could not write a producer state snapshot; after a crash the state is rebuilt from an older one and the log',
      );
      return false;
    }
    if (!this.snapshotOffsets.includes(offset)) {
      this.snapshotOffsets.push(offset);
      this.snapshotOffsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return true;
  }

  /**
   * Deletes the snapshots no recovery needs, as Kafka's deleteSnapshotsAfterRecoveryPointCheckpoint does:
   * those below both the segment before the active one and the segment below the recovery point.
   */
  private async deleteUnneededSnapshots(): Promise<void> {
    const segments = this.segmentList;
    const twoSegmentsMin = segments[Math.max(0, segments.length - 2)]!.baseOffset;
    const recoveryPoint = this.recoveryPoint;
    // Bigints: the smaller of the two bounds, by hand (Math.min takes numbers).
    let keepFrom = recoveryPoint;
    for (const s of segments) if (s.baseOffset < recoveryPoint) keepFrom = s.baseOffset;
    if (twoSegmentsMin < keepFrom) keepFrom = twoSegmentsMin;
    await this.deleteSnapshotsBefore(keepFrom);
  }

  /** Deletes the snapshot files below `offset` (also when retention moves the log start offset). */
  private async deleteSnapshotsBefore(offset: bigint): Promise<void> {
    const doomed = this.snapshotOffsets.filter((o) => o < offset);
    if (doomed.length === 0) return;
    this.snapshotOffsets = this.snapshotOffsets.filter((o) => o >= offset);
    await this.deleteSnapshotFiles(doomed);
  }

  private async deleteSnapshotFiles(offsets: bigint[]): Promise<void> {
    const fs = this.ctx.cache.fs;
    for (const offset of offsets) {
      const path = `${this.dir}/${snapshotFileName(offset)}`;
      try {
        await this.ctx.cache.forget(path);
        await fs.unlink(path);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') {
          this.ctx.logger.warn({ file: path, err }, 'could not delete a producer snapshot; remove it by hand');
        }
      }
    }
  }

  /** Forgets producers idle longer than producer.id.expiration.ms; returns how many. */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    return this.producers.removeExpired(nowMs, expirationMs);
  }

  /** Offsets of the producer snapshot files, ascending. */
  producerSnapshotOffsets(): bigint[] {
    return [...this.snapshotOffsets];
  }

  private async writeEpochCheckpoint(): Promise<void> {
    if (!this.epochCheckpointDirty) return;
    this.epochCheckpointDirty = false;
    try {
      await writeFileAtomically(
        this.ctx.cache,
        this.dir,
        `${this.dir}/${LEADER_EPOCH_CHECKPOINT}`,
        formatLeaderEpochCheckpoint(this.epochs.entries()),
      );
    } catch (err) {
      this.epochCheckpointDirty = true;
      this.ctx.logger.warn(
        { dir: this.dir, err },
        'could not write the leader epoch checkpoint; it is retried on the next epoch change and at close',
      );
    }
  }

  // ---- the flusher -------------------------------------------------------------------------------

  /**
   * Runs an fsync covering everything written so far, and more while written data is not yet flushed and
   * someone waits for it (an acks=all append, a flush() call; with relaxed durability, always). Written
   * data nobody waits for gets an fsync FSYNC_COALESCE_MS later.
   */
  private async runFlusher(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    try {
      for (let round = 0; this.written > this.flushed && (round === 0 || this.flushUrgent()); round++) {
        const target = this.written;
        const messages = this.messagesSinceFlush;
        const work = this.segmentList
          .filter((s) => s.writtenSize > s.flushedSize)
          .map((s) => ({ s, size: s.writtenSize }));
        try {
          for (const w of work) {
            try {
              await w.s.fdatasync();
            } catch (err) {
              // A segment deleted meanwhile (retention, truncation) needs no fsync.
              if (!w.s.deleted) throw err;
            }
          }
        } catch (err) {
          this.onFlushFailure(err);
          return;
        }
        for (const w of work) w.s.flushedSize = Math.max(w.s.flushedSize, Math.min(w.size, w.s.writtenSize));
        // A cut back during the fsync may have moved the written end below the target.
        if (target <= this.written && target > this.flushed) this.flushed = target;
        else if (target > this.written && this.written > this.flushed) this.flushed = this.written;
        this.messagesSinceFlush = Math.max(0, this.messagesSinceFlush - messages);
        if (fsyncsEveryAppend(this.configValue)) {
          if (this.flushed > this.hwm) this.setHighWatermark(this.flushed);
          // In-flight appends are in offset order; those still here at or below the flushed offset are acks=all.
          for (const append of this.inFlight) {
            if (append.nextOffset > this.flushed) break;
            this.settle(append, append.result);
          }
        }
        this.resolveFlushWaiters();
      }
    } finally {
      this.flushing = false;
    }
    if (this.written > this.flushed && fsyncsEveryAppend(this.configValue)) this.scheduleCoalescedFlush();
  }

  private resolveFlushWaiters(): void {
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const w of waiters) {
      if (w.offset <= this.flushed) w.resolve();
      else this.flushWaiters.push(w);
    }
  }

  /** Whether unflushed data has someone waiting for its fsync. */
  private flushUrgent(): boolean {
    return this.acksAllWaiting > 0 || this.flushWaiters.length > 0 || !fsyncsEveryAppend(this.configValue);
  }

  /** An fsync FSYNC_COALESCE_MS from now for written data nobody waits for (a running flusher reschedules). */
  private scheduleCoalescedFlush(): void {
    if (this.flushing || this.flushTimer || this.closed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.runFlusher();
    }, FSYNC_COALESCE_MS);
  }

  private onFlushFailure(err: unknown): void {
    this.ctx.logger.error(
      { topic: this.topic, partition: this.partition, code: errorCode(err), err },
      'fsync failed; data after the last successful fsync is cut off and its appends fail with KAFKA_STORAGE_ERROR (check disk health)',
    );
    // After a failed fsync the page cache may no longer hold what was written: cut back to what is durable.
    const target = this.flushed;
    const index = this.segmentIndexFor(target);
    const segment = this.segmentList[index]!;
    this.rewind(target, segment, segment.flushedSize, true, err);
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    const error = err instanceof Error ? err : new Error(String(err));
    for (const w of waiters) w.reject(error);
  }

  /** With flush.messages / flush.ms set: fsync when enough messages are waiting or the timer fires. */
  private scheduleRelaxedFlush(): void {
    const config = this.configValue;
    if (this.messagesSinceFlush >= config.flushMessages) {
      void this.runFlusher();
      return;
    }
    if (config.flushMs < FLUSH_NEVER && !this.flushTimer && this.written > this.flushed) {
      this.flushTimer = setTimeout(
        () => {
          this.flushTimer = null;
          void this.runFlusher();
        },
        Math.min(Math.max(config.flushMs, 0), MAX_TIMER_MS),
      );
      this.flushTimer.unref();
    }
  }

  /** Fsyncs everything written so far (after the queued writes ran). */
  async flush(): Promise<void> {
    await this.idle();
    const target = this.written;
    if (target <= this.flushed) return;
    const done = new Promise<void>((resolve, reject) => this.flushWaiters.push({ offset: target, resolve, reject }));
    void this.runFlusher();
    await done;
  }

  // ---- cutting the log back ----------------------------------------------------------------------

  /**
   * Cuts the log back to `targetOffset`, which starts at `position` in `segment`: later segments go,
   * every append not yet acknowledged past the cut fails, and a repair task (queued first) cuts the
   * files. Synchronous, so appends that follow get offsets from the cut.
   */
  private rewind(
    targetOffset: bigint,
    segment: LogSegment,
    position: number,
    reloadTimestamp: boolean,
    cause: unknown,
  ): void {
    this.generation++;
    const message = `storage error on ${this.topic}-${this.partition}: ${describe(cause)}`;
    for (const append of [...this.inFlight]) {
      if (append.nextOffset > targetOffset) this.settle(append, logError('KAFKA_STORAGE_ERROR', message));
    }
    // Queued writes past the cut fail (done above); roll tasks for dropped segments go; checkpoints stay.
    this.queue.retain((t) => t.kind === 'epoch-checkpoint');
    const index = this.segmentList.indexOf(segment);
    const dropped = index >= 0 ? this.segmentList.splice(index + 1) : [];
    // A repair still pending targeted this segment or a later one (cuts only move back): keep its drops.
    const previous = this.pendingRepair;
    if (previous) for (const s of previous.dropped) if (!dropped.includes(s) && s !== segment) dropped.push(s);
    for (const s of dropped) s.deleted = true;
    segment.rewindTo(position, targetOffset);
    segment.txnIndex.truncateTo(targetOffset);
    segment.upperBoundOffset = () => null;
    this.leo = targetOffset;
    if (this.written > targetOffset) this.written = targetOffset;
    if (this.flushed > targetOffset) this.flushed = targetOffset;
    if (this.logStart > targetOffset) this.logStart = targetOffset;
    if (this.epochs.truncateFromEnd(targetOffset)) {
      this.epochCheckpointDirty = true;
      this.queue.push({ kind: 'epoch-checkpoint' });
    }
    this.producers.truncateFrom(targetOffset);
    const staleSnapshots = this.snapshotOffsets.filter((o) => o > targetOffset);
    if (staleSnapshots.length > 0) {
      this.snapshotOffsets = this.snapshotOffsets.filter((o) => o <= targetOffset);
      void this.deleteSnapshotFiles(staleSnapshots);
    }
    this.pendingRepair = {
      kind: 'repair',
      segment,
      position,
      targetOffset,
      dropped,
      reloadTimestamp: reloadTimestamp || (previous?.reloadTimestamp ?? false),
    };
    if (this.hwm > targetOffset) this.setHighWatermark(targetOffset);
    else this.notify();
    // The recovery point may have moved back (a segment became active again): record it.
    this.ctx.onCheckpointNeeded?.();
  }

  private async runRepair(task: RepairTask): Promise<void> {
    await task.segment.truncateLog(task.position);
    await task.segment.txnIndex.persist();
    // A segment whose indexes were unloaded reloads them now, checked against its new size.
    await task.segment.ensureIndexesLoaded();
    for (const s of task.dropped) await s.deleteFiles();
    task.dropped = [];
    if (task.reloadTimestamp) await task.segment.reloadLargestTimestamp();
    await task.segment.persistIndexes();
    await task.segment.preallocateIndexes();
    this.ctx.logger.info(
      { topic: this.topic, partition: this.partition, file: task.segment.logPath, position: task.position },
      'log cut back after an I/O failure; appends continue from there',
    );
  }

  /**
   * Removes every batch ending at or after `offset` (replication: a follower dropping a divergent tail).
   * Appends still in flight past the cut fail with KAFKA_STORAGE_ERROR.
   */
  async truncateTo(offset: bigint): Promise<void> {
    await this.idle();
    if (offset >= this.leo) return;
    if (offset < this.logStart)
      throw new RangeError(`cannot truncate to ${offset}, below the log start ${this.logStart}`);
    const index = this.segmentIndexFor(offset);
    const segment = this.segmentList[index]!;
    const batch = await segment.findBatch(offset);
    const position = batch ? batch.position : segment.writtenSize;
    const target = batch && batch.baseOffset < offset ? batch.baseOffset : offset;
    this.rewind(target, segment, position, true, new Error(`log truncated to offset ${target}`));
    await this.idle();
  }

  // ---- reads -------------------------------------------------------------------------------------

  /** Index of the segment holding `offset`: the last one whose base offset is at or below it. */
  private segmentIndexFor(offset: bigint): number {
    let lo = 0;
    let hi = this.segmentList.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segmentList[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private outOfRange(offset: bigint): LogError {
    return logError(
      'OFFSET_OUT_OF_RANGE',
      `offset ${offset} is outside ${this.topic}-${this.partition}'s range [${this.logStart}, ${this.leo}]`,
    );
  }

  /**
   * Reads whole batches from the one holding `fetchOffset`, from a single segment, with one file read
   * in the common case. OFFSET_OUT_OF_RANGE when `fetchOffset` is below the log start or beyond the end.
   */
  async read(fetchOffset: bigint, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult | LogError> {
    for (let attempt = 0; ; attempt++) {
      if (fetchOffset < this.logStart || fetchOffset > this.leo) return this.outOfRange(fetchOffset);
      const lastStableOffset = this.lastStableOffset;
      const maxOffset = opts.maxOffset ?? (opts.readCommitted ? lastStableOffset : this.hwm);
      const minOneBatch = opts.minOneBatch ?? true;
      const result = (records: Buffer): ReadResult => {
        const read: ReadResult = {
          records,
          highWatermark: this.hwm,
          lastStableOffset,
          logStartOffset: this.logStart,
          logEndOffset: this.leo,
        };
        if (opts.readCommitted) read.abortedTransactions = this.abortedTransactions(fetchOffset, records, segments);
        return read;
      };
      const segments = this.segmentList.slice(this.segmentIndexFor(fetchOffset));
      if (fetchOffset >= maxOffset) return result(EMPTY);
      const swaps = this.segmentSwaps;
      try {
        let replaced = false;
        for (const segment of segments) {
          if (segment.baseOffset >= maxOffset) break;
          const records = await segment.readBatches(fetchOffset, maxBytes, maxOffset, minOneBatch, opts.memory);
          // The cleaner swapped this segment out meanwhile: the read may have opened the new file under the
          // old segment's positions. Read again from the new segment list.
          if (segment.deleted && attempt < 2) {
            if (records !== null) opts.memory?.shrink(records, 0);
            replaced = true;
            break;
          }
          this.touch(segment);
          if (records !== null) return result(records);
        }
        if (replaced) continue;
        return result(EMPTY);
      } catch (err) {
        // A segment deleted by retention (or swapped by the cleaner) while being read: the offset may now be
        // out of range, or the data in another file; look again.
        if (attempt < 2 && (segments.some((s) => s.deleted) || swaps !== this.segmentSwaps)) continue;
        this.ctx.logger.error(
          { topic: this.topic, partition: this.partition, offset: String(fetchOffset), err },
          'log read failed (check disk health)',
        );
        return logError('KAFKA_STORAGE_ERROR', `read of ${this.topic}-${this.partition} failed: ${describe(err)}`);
      }
    }
  }

  /**
   * The aborted transactions overlapping the batches read from `fetchOffset` (Kafka's
   * collectAbortedTransactions): from the segment holding it onwards, until an entry's last stable offset
   * reaches the end of what was read (no later transaction can overlap it). The upper bound is the offset
   * after the last batch read, where Kafka takes a coarser one from the offset index.
   */
  private abortedTransactions(fetchOffset: bigint, records: Buffer, segments: readonly LogSegment[]): AbortedTxn[] {
    const aborted: AbortedTxn[] = [];
    if (records.length === 0 || segments.every((s) => s.txnIndex.isEmpty)) return aborted;
    let last = 0;
    for (let pos = 0; pos + LOG_OVERHEAD_BYTES <= records.length; pos += batchSizeAt(records, pos)) last = pos;
    // A legacy (magic 0/1) wrapper's offset field is already its last offset.
    const lastOffset =
      records.readInt8(last + MAGIC_BYTE_OFFSET) >= 2 ? lastOffsetOf(records, last) : baseOffsetOf(records, last);
    const upperBoundOffset = lastOffset + 1n;
    for (const segment of segments) {
      if (segment.txnIndex.collect(fetchOffset, upperBoundOffset, aborted)) break;
    }
    return aborted;
  }

  /**
   * ListOffsets by timestamp: the first record at or after the log start whose timestamp is at least
   * `timestamp`, below `maxOffset` (default the high watermark), or null when there is none.
   */
  async offsetForTimestamp(timestamp: bigint, opts: { maxOffset?: bigint } = {}): Promise<TimestampLookup | null> {
    const maxOffset = opts.maxOffset ?? this.hwm;
    for (const segment of [...this.segmentList]) {
      if (segment.baseOffset >= maxOffset) break;
      const largest = await segment.largestTimestamp();
      if (largest.timestamp < timestamp) continue;
      const found = await segment.findOffsetByTimestamp(timestamp, this.logStart, maxOffset);
      this.touch(segment);
      if (found) return found;
    }
    return null;
  }

  /**
   * ListOffsets v0 (Kafka's legacyFetchOffsetsBefore): up to `maxNumOffsets` offsets, descending, taken
   * from the segments' base offsets (at least the log start offset) paired with their files' modification
   * times, followed by the log end offset paired with now when the active segment holds data. -1 (latest)
   * starts from the last pair, -2 (earliest) and -4 (earliest local) from the first, any other timestamp
   * from the last pair whose time is at or before it. Not clamped to the high watermark: the caller does
   * that for consumers, as Kafka's Partition does.
   */
  async legacyOffsetsBefore(timestamp: bigint, maxNumOffsets: number): Promise<bigint[]> {
    const segments = [...this.segmentList];
    // A segment may still begin below the log start offset (DeleteRecords): the log start stands for it.
    const offsets = segments.map((s) => {
      if (s.baseOffset < this.logStart) return this.logStart;
      return s.baseOffset;
    });
    const times: Array<() => Promise<number>> = segments.map((s) => () => s.lastModified());
    if (segments[segments.length - 1]!.assignedSize > 0) {
      offsets.push(this.leo);
      times.push(async () => this.ctx.now());
    }
    let start: number;
    if (timestamp === -1n) start = offsets.length - 1;
    else if (timestamp === -2n || timestamp === -4n) start = 0;
    else {
      // Only a lookup by time reads the files' modification times, newest segment first.
      start = offsets.length - 1;
      while (start >= 0 && BigInt(await times[start]!()) > timestamp) start--;
    }
    const answer: bigint[] = [];
    for (let i = start; i >= 0 && answer.length < maxNumOffsets; i--) answer.push(offsets[i]!);
    return answer;
  }

  /** ListOffsets -3 (KIP-734): the record with the largest timestamp, the first one when several share it. */
  async maxTimestampOffset(): Promise<TimestampLookup | null> {
    let best: { segment: LogSegment; timestamp: bigint; offset: bigint } | null = null;
    for (const segment of [...this.segmentList]) {
      const largest = await segment.largestTimestamp();
      if (largest.timestamp >= 0n && (best === null || largest.timestamp > best.timestamp)) {
        best = { segment, timestamp: largest.timestamp, offset: largest.offset };
      }
    }
    if (!best) return null;
    return best.segment.recordWithTimestamp(best.offset, best.timestamp);
  }

  /** The leader epoch history's answer for OffsetForLeaderEpoch. */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint } {
    return this.epochs.endOffsetFor(epoch, this.leo);
  }

  // ---- deleting old data -------------------------------------------------------------------------

  /**
   * DeleteRecords: moves the log start offset up to `offset` (-1 means the high watermark) and deletes
   * the segments wholly below it. OFFSET_OUT_OF_RANGE above the high watermark.
   */
  async deleteRecordsBefore(offset: bigint): Promise<{ lowWatermark: bigint } | LogError> {
    const target = offset === -1n ? this.hwm : offset;
    if (target < 0n || target > this.hwm) {
      return logError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: the high watermark of ${this.topic}-${this.partition} is ${this.hwm}`,
      );
    }
    if (target > this.logStart) this.advanceLogStart(target);
    const doomed: LogSegment[] = [];
    for (let i = 0; i + 1 < this.segmentList.length; i++) {
      if (this.segmentList[i + 1]!.baseOffset <= this.logStart) doomed.push(this.segmentList[i]!);
      else break;
    }
    await this.deleteSegments(doomed, 'log start offset');
    return { lowWatermark: this.logStart };
  }

  private advanceLogStart(offset: bigint): void {
    if (offset <= this.logStart) return;
    this.logStart = offset;
    if (this.epochs.truncateFromStart(offset)) {
      this.epochCheckpointDirty = true;
      this.queue.push({ kind: 'epoch-checkpoint' });
      void this.drain();
    }
    this.ctx.onCheckpointNeeded?.();
    this.notify();
  }

  /**
   * Time and size retention (Kafka's deleteOldSegments): deletes the oldest non-active segments whose
   * newest record is older than retention.ms, then while the log exceeds retention.bytes, never past the
   * high watermark. Also drops segments wholly below the log start offset.
   */
  async applyRetention(nowMs: number): Promise<RetentionResult> {
    const config = this.configValue;
    const doomed: LogSegment[] = [];
    const candidates = this.segmentList.slice(0, -1);
    const deletable = (i: number) => {
      const next = this.segmentList[i + 1];
      return next !== undefined && next.baseOffset <= this.hwm;
    };
    let i = 0;
    for (; i < candidates.length && deletable(i); i++) {
      if (this.segmentList[i + 1]!.baseOffset <= this.logStart) {
        doomed.push(candidates[i]!);
        continue;
      }
      if (!config.cleanupPolicy.includes('delete') || config.retentionMs < 0) break;
      const newest = await candidates[i]!.retentionTimestamp();
      if (nowMs - newest > config.retentionMs) doomed.push(candidates[i]!);
      else break;
    }
    if (config.cleanupPolicy.includes('delete') && config.retentionBytes >= 0) {
      let excess = this.sizeInBytes - doomed.reduce((sum, s) => sum + s.writtenSize, 0) - config.retentionBytes;
      for (let j = doomed.length; j < candidates.length && deletable(j); j++) {
        const size = candidates[j]!.writtenSize;
        if (excess - size < 0) break;
        excess -= size;
        doomed.push(candidates[j]!);
      }
    }
    const deletedBytes = doomed.reduce((sum, s) => sum + s.writtenSize, 0);
    await this.deleteSegments(doomed, 'retention');
    return { deletedSegments: doomed.length, deletedBytes, logStartOffset: this.logStart };
  }

  /** Removes segments from the log at once (reads stop seeing them), then deletes their files. */
  private async deleteSegments(doomed: LogSegment[], reason: string): Promise<void> {
    if (doomed.length === 0) return;
    const set = new Set(doomed);
    this.segmentList = this.segmentList.filter((s) => !set.has(s));
    for (const s of doomed) s.deleted = true;
    this.advanceLogStart(this.segmentList[0]!.baseOffset);
    await this.deleteSnapshotsBefore(this.logStart);
    for (const s of doomed) {
      this.ctx.logger.info(
        { topic: this.topic, partition: this.partition, file: s.logPath, bytes: s.writtenSize, reason },
        'deleting segment',
      );
      try {
        await s.deleteFiles();
      } catch (err) {
        this.ctx.logger.warn({ file: s.logPath, err }, 'could not delete a segment file; remove it by hand');
      }
    }
  }

  // ---- compaction --------------------------------------------------------------------------------

  /** Counts swaps started and finished by the cleaner, so a read failing across one knows to retry. */
  private segmentSwaps = 0;

  /**
   * What the cleaner may clean: every segment but the active one (a snapshot of the list), the active
   * segment's base offset and the high watermark (Kafka cleans only below both).
   */
  cleanerView(): { segments: LogSegment[]; activeBaseOffset: bigint; highWatermark: bigint; logEndOffset: bigint } {
    return {
      segments: this.segmentList.slice(0, -1),
      activeBaseOffset: this.active.baseOffset,
      highWatermark: this.hwm,
      logEndOffset: this.leo,
    };
  }

  /** The active segment (its header scan tells the cleaner which producers wrote last). */
  get activeSegment(): LogSegment {
    return this.active;
  }

  /**
   * Swaps the cleaner's segment (written, fsynced and sealed under `.cleaned` names) in for `old`, as Kafka's
   * replaceSegments: rename to `.swap` (from then on a crash completes the swap at the next open), replace
   * the segments in the list at once on the event loop, delete the old files, then rename the new ones to
   * their final names. Returns false, leaving the log as it was, when `old` are no longer all in the log
   * (retention, DeleteRecords or a truncation removed some meanwhile); the caller then deletes its files.
   */
  async replaceSegments(cleaned: LogSegment, old: LogSegment[]): Promise<boolean> {
    const stillThere = () =>
      !this.closed && old.every((s) => !s.deleted) && this.segmentList.indexOf(old[0]!) >= 0 && this.contiguous(old);
    if (!stillThere()) return false;
    this.segmentSwaps++;
    await cleaned.changeFileSuffixes('.swap');
    if (!stillThere()) {
      this.segmentSwaps++;
      return false;
    }
    const at = this.segmentList.indexOf(old[0]!);
    this.segmentList.splice(at, old.length, cleaned);
    const next = this.segmentList[at + 1];
    cleaned.upperBoundOffset = () => next?.baseOffset ?? null;
    for (const s of old) {
      s.deleted = true;
      const loaded = this.loadedSealed.indexOf(s);
      if (loaded >= 0) this.loadedSealed.splice(loaded, 1);
    }
    // Past the commit point: a failure here leaves the `.swap` files, which the next open completes; the
    // segment serves reads under its `.swap` name meanwhile.
    // The aborted transactions of the replaced segments stay known: the cleaner keeps control batches and
    // aborted data, so read_committed consumers still need their entries (written once the old files are gone,
    // since the cleaned segment's `.txnindex` has their first segment's name).
    for (const s of old) for (const txn of s.txnIndex.entries) cleaned.txnIndex.append(txn);
    try {
      for (const s of old) await s.deleteFiles();
      await cleaned.changeFileSuffixes('');
      if (!cleaned.txnIndex.isEmpty) await cleaned.txnIndex.persist();
    } catch (err) {
      this.ctx.logger.warn(
        { topic: this.topic, partition: this.partition, file: cleaned.logPath, err },
        'could not finish swapping in a cleaned segment; the next start completes it',
      );
    } finally {
      this.segmentSwaps++;
    }
    this.touch(cleaned);
    return true;
  }

  /** Whether `run` are consecutive segments of the log, in order. */
  private contiguous(run: LogSegment[]): boolean {
    const at = this.segmentList.indexOf(run[0]!);
    return run.every((s, i) => this.segmentList[at + i] === s) && at + run.length < this.segmentList.length;
  }

  // ---- closing -----------------------------------------------------------------------------------

  /**
   * Clean close: lets queued writes finish, fsyncs, seals the indexes of segments written to and writes
   * the epoch checkpoint. Returns whether everything reached disk (a clean shutdown may then be recorded);
   * if so, `stateAtClose` describes the active segment for the clean shutdown marker.
   */
  async close(): Promise<boolean> {
    if (this.closed) return false;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    let clean = true;
    try {
      await this.idle();
      if (this.pendingRepair) clean = false;
      await this.flush();
      // An active segment not written since a lazy open still has the sealed files of the last close.
      for (const s of this.segmentList) if (!s.indexesDurable && s.indexesLoaded) await s.sealIndexes();
      if (this.epochCheckpointDirty) {
        await this.writeEpochCheckpoint();
        if (this.epochCheckpointDirty) clean = false;
      }
      // The next clean open takes the producer state from the snapshot at the log end offset, and none
      // there means no producers: so one is written when there are producers, or to replace a stale one.
      if (this.producers.size > 0 || this.snapshotOffsets.includes(this.leo)) {
        if (!(await this.writeProducerSnapshot(this.leo, encodeProducerSnapshot(this.producers.entries())))) {
          clean = false;
        }
        await this.deleteUnneededSnapshots();
      }
    } catch (err) {
      clean = false;
      this.ctx.logger.error(
        { topic: this.topic, partition: this.partition, err },
        'the log did not close cleanly; it is scanned at the next start',
      );
    }
    clean = clean && this.flushed === this.leo && this.segmentList.every((s) => s.indexesDurable);
    if (clean) this.stateAtClose = await this.describeActiveSegment();
    await this.ctx.cache.forgetUnder(this.dir);
    this.notify();
    return clean;
  }

  /** What a clean close left of the partition, recorded so the next open need not read it. */
  stateAtClose: PartitionAtClose | null = null;

  private async describeActiveSegment(): Promise<PartitionAtClose | null> {
    const active = this.active;
    try {
      let stat = active.fileStat;
      if (!stat) {
        const fs = this.ctx.cache.fs;
        const { size, mtimeMs } = await this.ctx.cache.use(active.logPath, (fd) => fs.fstat(fd));
        stat = { size, mtimeMs };
      }
      if (stat.size !== active.writtenSize) return null;
      return {
        baseOffset: active.baseOffset,
        nextOffset: this.leo,
        size: stat.size,
        mtimeMs: stat.mtimeMs,
        firstBatchTimestamp: await active.firstBatchTimestamp(),
        topicId: this.topicIdValue,
        epochs: this.epochs.entries(),
      };
    } catch (err) {
      // The next open then checks the tail by reading it, as without a record.
      this.ctx.logger.debug({ file: active.logPath, err }, 'could not describe the active segment at close');
      return null;
    }
  }

  /** Stops the log for deletion: fails what is queued, waits for writes in flight, releases descriptors. */
  async closeForDelete(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const message = `${this.topic}-${this.partition} was deleted`;
    for (const append of [...this.inFlight]) this.settle(append, logError('KAFKA_STORAGE_ERROR', message));
    this.queue.clear();
    this.pendingRepair = null;
    await this.idle();
    while (this.flushing) await new Promise((resolve) => setImmediate(resolve));
    await this.ctx.cache.forgetUnder(this.dir);
    this.notify();
  }

  /** Sets the topic id (for a partition found on disk without partition.metadata). */
  setTopicId(topicId: string): void {
    this.topicIdValue = topicId;
  }
}
