/**
 * The coordinator runtime, after Kafka's `CoordinatorRuntime`: one shard of state per partition of an internal
 * topic (`__consumer_offsets` today, `__transaction_state` later), loaded and unloaded as a unit.
 *
 * State is event-sourced. An operation runs against its shard and returns a CoordinatorResult: the records
 * it needs written and its response. The runtime appends the records to the shard's partition and, once
 * they are durable, applies them through the shard's `replay`, the same method that loading uses; so what a
 * shard holds after any sequence of operations is what a fresh load of its partition rebuilds. Replays run
 * in the order the appends were made, which is the order of the log.
 *
 * A partition is either loading (requests answer COORDINATOR_LOAD_IN_PROGRESS), active, or not owned
 * (NOT_COORDINATOR), as Kafka answers for groups whose partition is loading or is not here. Soft state
 * (parked requests, timers) lives in the shard and is dropped by `onUnloaded`.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { buildRecordBatch } from '../../records/builder.js';
import { parseControlRecord } from '../../records/control.js';
import { iterateBatches, iterateRecords } from '../../records/iterate.js';
import type { CoordinatorLog } from './coordinator-log.js';
import type { Timers } from './timers.js';

/** One record of an internal topic: an encoded key and value (null: a tombstone). */
export interface CoordinatorRecord {
  key: Buffer;
  value: Buffer | null;
}

/** Kafka's `CoordinatorResult<Response, Record>`: what an operation wants written, and its answer. */
export interface CoordinatorResult<T> {
  records: CoordinatorRecord[];
  response: T;
  /**
   * False when the operation has already made its change in memory and the records only make it durable,
   * as Kafka does for the metadata of classic groups (their membership is soft state driven by requests).
   */
  replayRecords?: boolean;
  /** Kafka's appendFuture: called once the records are durable and replayed (NONE), or with the error. */
  onAppended?: (errorCode: number) => void;
}

/** What a shard must offer the runtime. */
export interface CoordinatorShard {
  /** Applies one record of the partition; `transactionalProducerId` is set for records of a transaction. */
  replay(key: Buffer | null, value: Buffer | null, transactionalProducerId: bigint | null): void;
  /** A transaction's end marker: its records count (COMMIT) or are dropped (ABORT). */
  replayEndTransactionMarker(producerId: bigint, committed: boolean): void;
  /** The partition is loaded: start timers (session timeouts, offset expiry). */
  onLoaded(): void;
  /** The partition is leaving this broker: stop timers and answer parked requests with NOT_COORDINATOR. */
  onUnloaded(): void;
}

/** What the runtime gives a shard: its partition, the clock, and the way to write. */
export interface ShardContext {
  readonly partition: number;
  readonly timers: Timers;
  /**
   * Appends the result's records to this shard's partition, then replays them (unless `replayRecords` is
   * false). Resolves with NONE, or with the error code to answer (storage failure, shard unloaded).
   */
  write(result: CoordinatorResult<unknown>, what: string, subject?: Record<string, unknown>): Promise<number>;
  /** Runs `operation` after `delayMs`, replacing a timer of the same key; unloading the shard cancels it. */
  schedule(key: string, delayMs: number, operation: () => void): void;
  cancel(key: string): void;
}

export interface CoordinatorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface CoordinatorRuntimeOptions<S extends CoordinatorShard> {
  /** The internal topic, for log lines. */
  topic: string;
  log: CoordinatorLog;
  timers: Timers;
  logger?: CoordinatorLogger;
  newShard(context: ShardContext): S;
}

/** What loading a partition found. */
export interface LoadSummary {
  partition: number;
  records: number;
  skipped: number;
  loaded: boolean;
}

interface ShardEntry<S> {
  status: 'loading' | 'active';
  shard: S | null;
  /** The load under way, which a second load of the same partition joins. */
  loading: Promise<LoadSummary> | null;
  /** The last replay scheduled: the next one waits for it, so replays follow the log's order. */
  tail: Promise<void>;
  readonly timers: Map<string, unknown>;
}

const LOAD_READ_BYTES = 1024 * 1024;

export class CoordinatorRuntime<S extends CoordinatorShard> {
  private readonly entries = new Map<number, ShardEntry<S>>();
  private closed = false;

  constructor(private readonly options: CoordinatorRuntimeOptions<S>) {
    // A coordinator owns every partition of its topic from the start (one broker) and loads them next.
    for (let p = 0; p < options.log.partitionCount; p++) this.entries.set(p, this.newEntry());
  }

  get partitionCount(): number {
    return this.options.log.partitionCount;
  }

  /** NONE when `partition`'s shard takes requests; else what Kafka answers for it. */
  errorFor(partition: number): number {
    const entry = this.entries.get(partition);
    if (!entry) return ErrorCode.NOT_COORDINATOR;
    return entry.status === 'loading' ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /** The active shard of `partition`, or undefined while it loads or when it is not here. */
  shard(partition: number): S | undefined {
    const entry = this.entries.get(partition);
    return entry?.status === 'active' ? (entry.shard ?? undefined) : undefined;
  }

  activeShards(): S[] {
    const shards: S[] = [];
    for (const entry of this.entries.values()) if (entry.status === 'active' && entry.shard) shards.push(entry.shard);
    return shards;
  }

  /** Whether some owned partition is still loading (ListGroups reports it). */
  get anyLoading(): boolean {
    for (const entry of this.entries.values()) if (entry.status === 'loading') return true;
    return false;
  }

  /**
   * Runs `operation` on the active shard of `partition` and writes its records. Resolves with the response
   * and NONE, or with the error code that replaces it (not loaded, loading, storage failure).
   */
  async scheduleWriteOperation<T>(
    partition: number,
    what: string,
    operation: (shard: S) => CoordinatorResult<T>,
  ): Promise<{ errorCode: number; response: T | undefined }> {
    const errorCode = this.errorFor(partition);
    const entry = this.entries.get(partition);
    if (errorCode !== ErrorCode.NONE || !entry?.shard) return { errorCode, response: undefined };
    const result = operation(entry.shard);
    return { errorCode: await this.write(partition, entry, result, what), response: result.response };
  }

  /** Loads every owned partition, one after another. */
  async loadAll(): Promise<LoadSummary[]> {
    const summaries: LoadSummary[] = [];
    for (const partition of [...this.entries.keys()].sort((a, b) => a - b)) summaries.push(await this.load(partition));
    return summaries;
  }

  /**
   * Takes ownership of `partition` and rebuilds its shard from the log. Requests for it answer
   * COORDINATOR_LOAD_IN_PROGRESS meanwhile. An unload during the load abandons it.
   */
  load(partition: number): Promise<LoadSummary> {
    const { topic } = this.options;
    if (partition < 0 || partition >= this.partitionCount) throw new Error(`${topic} has no partition ${partition}`);
    const current = this.entries.get(partition);
    if (current?.status === 'active') return Promise.resolve({ partition, records: 0, skipped: 0, loaded: true });
    if (current?.loading) return current.loading;
    const entry = current ?? this.newEntry();
    this.entries.set(partition, entry);
    entry.loading = this.loadInto(partition, entry).finally(() => {
      entry.loading = null;
    });
    return entry.loading;
  }

  private async loadInto(partition: number, entry: ShardEntry<S>): Promise<LoadSummary> {
    const { topic, logger } = this.options;
    const shard = this.options.newShard(this.contextFor(partition, entry));
    entry.shard = shard;
    const summary = { partition, records: 0, skipped: 0, loaded: false };
    await this.replayPartition(partition, shard, summary, () => this.entries.get(partition) === entry);
    if (this.entries.get(partition) !== entry || this.closed) return summary;
    entry.status = 'active';
    summary.loaded = true;
    shard.onLoaded();
    logger?.debug({ partition, records: summary.records }, `loaded ${topic}-${partition}`);
    return summary;
  }

  /** Gives up `partition`: its shard stops its timers and answers parked requests; requests get NOT_COORDINATOR. */
  unload(partition: number): void {
    const entry = this.entries.get(partition);
    if (!entry) return;
    this.entries.delete(partition);
    this.dropShard(entry);
    this.options.logger?.debug({ partition }, `unloaded ${this.options.topic}-${partition}`);
  }

  /** Unloads every shard; nothing is owned afterwards. */
  close(): void {
    this.closed = true;
    for (const partition of [...this.entries.keys()]) this.unload(partition);
  }

  private newEntry(): ShardEntry<S> {
    return { status: 'loading', shard: null, loading: null, tail: Promise.resolve(), timers: new Map() };
  }

  private dropShard(entry: ShardEntry<S>): void {
    for (const handle of entry.timers.values()) this.options.timers.clearTimeout(handle);
    entry.timers.clear();
    const shard = entry.shard;
    entry.shard = null;
    if (shard && entry.status === 'active') shard.onUnloaded();
  }

  private contextFor(partition: number, entry: ShardEntry<S>): ShardContext {
    const timers = this.options.timers;
    return {
      partition,
      timers,
      write: (result, what, subject) => this.write(partition, entry, result, what, subject),
      schedule: (key, delayMs, operation) => {
        const previous = entry.timers.get(key);
        if (previous !== undefined) timers.clearTimeout(previous);
        if (this.entries.get(partition) !== entry) return;
        entry.timers.set(
          key,
          timers.setTimeout(() => {
            entry.timers.delete(key);
            operation();
          }, delayMs),
        );
      },
      cancel: (key) => {
        const handle = entry.timers.get(key);
        if (handle !== undefined) timers.clearTimeout(handle);
        entry.timers.delete(key);
      },
    };
  }

  private write(
    partition: number,
    entry: ShardEntry<S>,
    result: CoordinatorResult<unknown>,
    what: string,
    subject: Record<string, unknown> = {},
  ): Promise<number> {
    const { log, timers, logger, topic } = this.options;
    if (result.records.length === 0) {
      result.onAppended?.(ErrorCode.NONE);
      return Promise.resolve(ErrorCode.NONE);
    }
    const now = timers.now();
    const batch = buildRecordBatch(result.records.map((r) => ({ key: r.key, value: r.value, timestamp: now })));
    const appended = log.append(partition, batch).then(
      () => ErrorCode.NONE,
      (err: Error) => {
        logger?.warn(
          { ...subject, partition, err: err.message },
          `could not write ${what} to ${topic}-${partition}; the client will retry — check the broker's log directory (disk full or read-only?)`,
        );
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      },
    );
    const done = entry.tail
      .then(() => appended)
      .then((errorCode) => {
        // A shard unloaded meanwhile is gone; its successor replays these records when it loads.
        const current = this.entries.get(partition) === entry && entry.status === 'active' ? entry.shard : null;
        if (errorCode === ErrorCode.NONE && current === null) errorCode = ErrorCode.NOT_COORDINATOR;
        if (errorCode === ErrorCode.NONE && current !== null && result.replayRecords !== false) {
          for (const r of result.records) current.replay(r.key, r.value, null);
        }
        result.onAppended?.(errorCode);
        return errorCode;
      });
    entry.tail = done.then(
      () => undefined,
      () => undefined,
    );
    return done;
  }

  private async replayPartition(
    partition: number,
    shard: S,
    summary: LoadSummary,
    stillWanted: () => boolean,
  ): Promise<void> {
    const { log, logger, topic } = this.options;
    let offset = 0n;
    while (stillWanted()) {
      const { records, highWatermark } = await log.read(partition, offset, LOAD_READ_BYTES);
      if (records.length === 0 || !stillWanted()) break;
      let next = offset;
      try {
        for (const info of iterateBatches(records)) {
          next = info.baseOffset + BigInt(info.lastOffsetDelta) + 1n;
          if (info.baseOffset + BigInt(info.lastOffsetDelta) < offset) continue;
          for (const record of iterateRecords(records, info.position)) {
            if (record.offset < offset) continue;
            try {
              if (info.isControl) {
                const marker = parseControlRecord(record.key, record.value);
                if (marker.type === 'COMMIT' || marker.type === 'ABORT') {
                  shard.replayEndTransactionMarker(info.producerId, marker.type === 'COMMIT');
                }
              } else {
                if (record.key !== null) summary.records++;
                shard.replay(record.key, record.value, info.isTransactional ? info.producerId : null);
              }
            } catch (err) {
              // One record this coordinator cannot read (written by something else) must not hide the rest.
              summary.skipped++;
              if (summary.skipped <= 10) {
                logger?.warn(
                  { partition, offset: String(record.offset), err: (err as Error).message },
                  `skipping an unreadable record in ${topic}-${partition}`,
                );
              }
            }
          }
        }
      } catch (err) {
        logger?.warn(
          { partition, offset: String(next), err: (err as Error).message },
          `unreadable batch in ${topic}-${partition}; loading stops there for this partition`,
        );
        break;
      }
      if (next <= offset || next >= highWatermark) break;
      offset = next;
    }
  }
}
