/**
 * All partition logs of a broker in one log dir (Kafka's LogManager): opens and recovers them at start,
 * creates and deletes them, runs retention, writes the dir's checkpoints, and records a clean shutdown
 * so the next start scans nothing. Every file goes through one StorageFs and one descriptor pool.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  CLEAN_SHUTDOWN_MARKER,
  type CleanShutdownState,
  formatCleanShutdown,
  formatOffsetCheckpoint,
  formatPartitionMetadata,
  LOG_START_OFFSET_CHECKPOINT,
  PARTITION_METADATA,
  type PartitionAtClose,
  type PartitionOffset,
  parseCleanShutdown,
  parseOffsetCheckpoint,
  RECOVERY_POINT_CHECKPOINT,
} from './checkpoint-files.js';
import { type CleanerEngine, InlineCleanerEngine, WorkerCleanerEngine } from './cleaner-engine.js';
import { Coalescer, mapBounded, PARTITION_CONCURRENCY } from './concurrency.js';
import { DiskFs } from './disk-fs.js';
import { type StorageLogger, silentLogger } from './errors.js';
import { DEFAULT_MAX_OPEN_FILES, FileCache, readWholeFile, writeFileAtomically } from './file-cache.js';
import { type CleanerConfig, defaultCleanerConfig, LogCleaner } from './log-cleaner.js';
import { defaultLogConfig, type LogConfig, mergeLogConfig } from './log-config.js';
import { loadPartitionLog } from './log-loader.js';
import type { SegmentContext } from './log-segment.js';
import { MemoryFs } from './memory-fs.js';
import { PartitionLog, type RetentionResult } from './partition-log.js';
import { ProducerIdManager } from './producer-ids.js';
import { isNotFound, removeTree, type StorageFs, writeFully } from './storage-fs.js';

export interface LogStoreOptions {
  engine: 'disk' | 'memory';
  /** Kafka's log.dirs; the first one is used. The memory engine defaults to a virtual '/sluice-data'. */
  logDirs?: string[];
  /** The file system to run on (fault injection wraps one here); defaults to the engine's. */
  fs?: StorageFs;
  /** Broker-level defaults (Kafka's log.* properties), completed with Kafka's defaults. */
  defaults?: Partial<LogConfig>;
  logger?: StorageLogger;
  /** The bound of the descriptor pool shared by all partitions; default 1000. */
  maxOpenFiles?: number;
  /** Clock in ms, for segment.ms, retention and LogAppendTime; default Date.now. */
  now?: () => number;
  /** Kafka's producer.id.expiration.ms: producers idle this long are forgotten; default a day. */
  producerIdExpirationMs?: number;
  /**
   * The log cleaner's settings (log.cleaner.*). `inline` runs its computation on the calling thread
   * instead of a worker thread (tests).
   */
  cleaner?: Partial<CleanerConfig> & { inline?: boolean };
}

export interface OpenedPartition {
  topic: string;
  partition: number;
  topicId: string | null;
  logStartOffset: bigint;
  logEndOffset: bigint;
  /** Segments were scanned because the partition was not shut down cleanly. */
  recovered: boolean;
  /** Bytes of torn or corrupt data cut off during recovery. */
  truncatedBytes: number;
}

export interface GetOrCreateOptions {
  /** 32 hex digits; written to partition.metadata. */
  topicId?: string | null;
  /** Topic-level overrides on top of the store's defaults. */
  config?: Partial<LogConfig>;
}

export interface RetentionReport {
  deletedSegments: number;
  deletedBytes: number;
  partitions: Array<{ topic: string; partition: number } & RetentionResult>;
}

const PARTITION_DIR = /^(.+)-(\d+)$/;
const DELETE_DIR_SUFFIX = '-delete';
const PROGRESS_INTERVAL_MS = 1000;

function key(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class LogStore {
  readonly logDir: string;
  readonly fs: StorageFs;
  readonly defaults: LogConfig;
  private readonly cache: FileCache;
  private readonly logger: StorageLogger;
  private readonly now: () => number;
  private readonly logs = new Map<string, PartitionLog>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private checkpointChain: Promise<void> = Promise.resolve();
  /** New partition directories become durable with one sync of the log dir, shared by concurrent creations. */
  private readonly logDirSync: Coalescer;
  private checkpointScheduled = false;
  private opened = false;
  private closed = false;
  private readonly engine: 'disk' | 'memory';
  private readonly producerIdExpirationMs: number | undefined;
  /** Producer ids for InitProducerId, reserved in blocks recorded in the log dir. */
  readonly producerIds: ProducerIdManager;
  /** Compaction of the logs whose cleanup.policy includes compact; started by open(). */
  readonly cleaner: LogCleaner;

  constructor(opts: LogStoreOptions) {
    this.engine = opts.engine;
    const dirs = opts.logDirs ?? [];
    if (opts.engine === 'disk' && dirs.length === 0) throw new Error('the disk engine needs log.dirs');
    this.logDir = dirs[0] ?? '/sluice-data';
    this.fs = opts.fs ?? (opts.engine === 'memory' ? new MemoryFs() : new DiskFs());
    this.defaults = mergeLogConfig(defaultLogConfig(), opts.defaults);
    this.cache = new FileCache(this.fs, opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.logDirSync = new Coalescer(() => this.fs.syncDir(this.logDir));
    this.producerIdExpirationMs = opts.producerIdExpirationMs;
    this.producerIds = new ProducerIdManager(this.cache, this.logDir);
    const { inline, ...cleanerConfig } = opts.cleaner ?? {};
    const engine: CleanerEngine = inline ? new InlineCleanerEngine() : new WorkerCleanerEngine();
    this.cleaner = new LogCleaner(
      {
        logDir: this.logDir,
        cache: this.cache,
        logger: this.logger,
        now: this.now,
        logs: () => this.partitions(),
        engine,
      },
      { ...defaultCleanerConfig(), ...cleanerConfig },
    );
  }

  /** Descriptors held by the pool right now, and the most held at once. */
  get openFiles(): { open: number; peak: number; max: number } {
    return { open: this.cache.openCount, peak: this.cache.peakOpenCount, max: this.cache.maxOpen };
  }

  private async readCheckpoint(name: string): Promise<Map<string, bigint>> {
    const map = new Map<string, bigint>();
    try {
      const text = (await readWholeFile(this.cache, join(this.logDir, name))).toString('utf8');
      for (const e of parseOffsetCheckpoint(text)) map.set(key(e.topic, e.partition), e.offset);
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger.warn(
          { file: join(this.logDir, name), err },
          'ignoring an unreadable checkpoint; affected logs are scanned',
        );
      }
    }
    return map;
  }

  /** The clean shutdown marker's state, or null when there is no marker (the last stop was not clean). */
  private async readCleanShutdown(path: string): Promise<CleanShutdownState | null> {
    try {
      return parseCleanShutdown((await readWholeFile(this.cache, path)).toString('utf8'));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * Loads every `<topic>-<partition>` directory of the log dir, recovering those not shut down cleanly,
   * and removes leftovers of interrupted deletions. Returns what it found, in directory name order.
   * Partitions load PARTITION_CONCURRENCY at a time.
   */
  async open(): Promise<OpenedPartition[]> {
    if (this.opened) throw new Error('log store already open');
    this.opened = true;
    await this.fs.mkdir(this.logDir);
    const markerPath = join(this.logDir, CLEAN_SHUTDOWN_MARKER);
    const [atClose, recoveryPoints, logStarts, names] = await Promise.all([
      this.readCleanShutdown(markerPath),
      this.readCheckpoint(RECOVERY_POINT_CHECKPOINT),
      this.readCheckpoint(LOG_START_OFFSET_CHECKPOINT),
      this.fs.readdir(this.logDir).then((n) => n.sort()),
    ]);
    const cleanShutdown = atClose !== null;
    const total = names.filter((n) => PARTITION_DIR.test(n) && !n.endsWith(DELETE_DIR_SUFFIX)).length;
    if (!cleanShutdown && total > 0) {
      this.logger.info({ logDir: this.logDir, partitions: total }, 'not shut down cleanly: checking partition logs');
    }
    const opened: Array<{ log: PartitionLog; opened: OpenedPartition } | null> = [];
    let done = 0;
    let recoveredSoFar = 0;
    // Opening thousands of partitions (or scanning large logs after a crash) takes a while: say how far it got.
    let lastProgress = this.now();
    await mapBounded(names, PARTITION_CONCURRENCY, async (name, i) => {
      opened[i] = null;
      const path = join(this.logDir, name);
      if (name.endsWith(DELETE_DIR_SUFFIX)) {
        this.logger.info({ dir: path }, 'removing a partition directory left over by an interrupted deletion');
        await removeTree(this.fs, path);
        return;
      }
      const m = PARTITION_DIR.exec(name);
      // Other names (files, `-future`/`-stray` directories of Kafka's replica moves) are not logs.
      if (!m || name.startsWith('.')) return;
      const topic = m[1]!;
      const partition = Number(m[2]);
      const k = key(topic, partition);
      const loaded = await this.load(topic, partition, {
        topicId: null,
        config: this.defaults,
        recoveryPoint: recoveryPoints.get(k) ?? null,
        logStartOffset: logStarts.get(k) ?? null,
        cleanShutdown,
        atClose: atClose?.get(k) ?? null,
        existing: true,
      });
      if (!loaded) return;
      opened[i] = loaded;
      done++;
      if (loaded.opened.recovered) recoveredSoFar++;
      if (this.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = this.now();
        this.logger.info(
          { opened: done, of: total, recovered: recoveredSoFar },
          `loading partition logs: ${done}/${total}`,
        );
      }
    });
    // Registered in name order, whatever order they finished in, so listings and checkpoints are stable.
    const found: OpenedPartition[] = [];
    for (const o of opened) {
      if (!o) continue;
      this.logs.set(key(o.opened.topic, o.opened.partition), o.log);
      found.push(o.opened);
    }
    const recovered = found.filter((f) => f.recovered).length;
    // Recovery fsynced what it scanned: record the new recovery points before anything else is written, or
    // every later crash would rescan everything written since the last clean shutdown.
    if (recovered > 0) await this.checkpoint();
    if (cleanShutdown) {
      await this.fs.unlink(markerPath);
      await this.fs.syncDir(this.logDir);
    }
    // A fresh directory has no marker, but nothing to recover either; the memory engine always starts fresh.
    const fields = { logDir: this.logDir, partitions: found.length, recovered, cleanShutdown };
    if (this.engine === 'memory') this.logger.debug(fields, 'memory log store opened');
    else if (cleanShutdown) this.logger.info(fields, 'log dir opened after a clean shutdown');
    else if (total === 0) this.logger.info(fields, 'log dir opened: no partition logs yet');
    else this.logger.info(fields, 'log dir opened; logs not shut down cleanly were scanned');
    this.cleaner.start();
    return found;
  }

  /** Loads (or creates) one partition; null when `existing` and the name is not a directory. */
  private async load(
    topic: string,
    partition: number,
    p: {
      topicId: string | null;
      config: LogConfig;
      recoveryPoint: bigint | null;
      logStartOffset: bigint | null;
      cleanShutdown: boolean;
      atClose?: PartitionAtClose | null;
      existing: boolean;
    },
  ): Promise<{ log: PartitionLog; opened: OpenedPartition } | null> {
    const dir = join(this.logDir, key(topic, partition));
    const segmentContext: SegmentContext = { cache: this.cache, logger: this.logger, config: p.config };
    const loaded = await loadPartitionLog({
      ctx: segmentContext,
      cache: this.cache,
      logger: this.logger,
      dir,
      topic,
      partition,
      topicId: p.topicId,
      recoveryPoint: p.recoveryPoint,
      logStartOffset: p.logStartOffset,
      cleanShutdown: p.cleanShutdown,
      atClose: p.atClose ?? null,
      existing: p.existing,
      nowMs: this.now(),
      producerIdExpirationMs: this.producerIdExpirationMs,
    });
    if (!loaded) return null;
    if (loaded.truncatedBytes > 0 || loaded.deletedSegments > 0) {
      this.logger.warn(
        { topic, partition, truncatedBytes: loaded.truncatedBytes, deletedSegments: loaded.deletedSegments },
        'partition recovered with data loss at its tail (unacknowledged or corrupt writes)',
      );
    }
    const log = new PartitionLog(
      {
        cache: this.cache,
        logger: this.logger,
        now: this.now,
        onCheckpointNeeded: () => this.scheduleCheckpoint(),
      },
      topic,
      partition,
      dir,
      p.config,
      loaded,
      segmentContext,
    );
    const opened: OpenedPartition = {
      topic,
      partition,
      topicId: loaded.topicId,
      logStartOffset: loaded.logStartOffset,
      logEndOffset: loaded.logEndOffset,
      recovered: loaded.recovered,
      truncatedBytes: loaded.truncatedBytes,
    };
    return { log, opened };
  }

  /**
   * The log of a partition, created (directory, metadata, first segment) when missing. For an existing
   * log, a given config replaces its current one and a missing topic id is recorded.
   */
  async getOrCreate(topic: string, partition: number, opts: GetOrCreateOptions = {}): Promise<PartitionLog> {
    if (this.closed) throw new Error('log store is closed');
    if (topic.length === 0 || topic.includes('/') || !Number.isInteger(partition) || partition < 0) {
      throw new Error(`invalid topic partition '${topic}-${partition}'`);
    }
    const k = key(topic, partition);
    const config = mergeLogConfig(this.defaults, opts.config);
    const existing = this.logs.get(k);
    if (existing) {
      if (opts.config) existing.updateConfig(config);
      await this.recordTopicId(existing, opts.topicId ?? null);
      return existing;
    }
    const pending = this.creating.get(k);
    if (pending) return pending;
    const creation = this.load(topic, partition, {
      topicId: opts.topicId ?? null,
      config,
      recoveryPoint: null,
      logStartOffset: null,
      cleanShutdown: false,
      existing: false,
    })
      .then(async (loaded) => {
        // Shared with the creations running alongside: one log dir sync covers all their directories.
        await this.logDirSync.run();
        this.logs.set(k, loaded!.log);
        return loaded!.log;
      })
      .finally(() => this.creating.delete(k));
    this.creating.set(k, creation);
    return creation;
  }

  /**
   * getOrCreate for many partitions of one topic, PARTITION_CONCURRENCY at a time (a topic created with
   * a thousand partitions, the broker's topics at start-up). Returns the logs in the order asked.
   */
  getOrCreateMany(
    topic: string,
    partitions: readonly number[],
    opts: GetOrCreateOptions = {},
  ): Promise<PartitionLog[]> {
    return mapBounded(partitions, PARTITION_CONCURRENCY, (p) => this.getOrCreate(topic, p, opts));
  }

  private async recordTopicId(log: PartitionLog, topicId: string | null): Promise<void> {
    if (!topicId || log.topicId === topicId) return;
    if (log.topicId !== null) {
      throw new Error(
        `${log.topic}-${log.partition} on disk belongs to topic id ${log.topicId}, not ${topicId}; delete the stale directory ${log.dir}`,
      );
    }
    await writeFileAtomically(this.cache, log.dir, join(log.dir, PARTITION_METADATA), formatPartitionMetadata(topicId));
    log.setTopicId(topicId);
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(key(topic, partition));
  }

  partitions(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /**
   * Deletes a partition as Kafka does: the directory is renamed to `<topic>-<partition>.<id>-delete`
   * (so a crash leaves no half-deleted log under its name), then removed.
   */
  async delete(topic: string, partition: number): Promise<boolean> {
    const k = key(topic, partition);
    const log = this.logs.get(k);
    if (!log) return false;
    this.logs.delete(k);
    this.cleaner.forget(topic, partition);
    await log.closeForDelete();
    const doomed = join(this.logDir, `${k}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`);
    await this.fs.rename(log.dir, doomed);
    await this.fs.syncDir(this.logDir);
    this.scheduleCheckpoint();
    await removeTree(this.fs, doomed);
    return true;
  }

  /** Retention over every log (the broker calls this every log.retention.check.interval.ms). */
  async applyRetention(nowMs: number = this.now()): Promise<RetentionReport> {
    const report: RetentionReport = { deletedSegments: 0, deletedBytes: 0, partitions: [] };
    for (const log of this.partitions()) {
      if (log.isClosed) continue;
      const result = await log.applyRetention(nowMs);
      if (result.deletedSegments > 0) {
        report.deletedSegments += result.deletedSegments;
        report.deletedBytes += result.deletedBytes;
        report.partitions.push({ topic: log.topic, partition: log.partition, ...result });
      }
    }
    return report;
  }

  /**
   * Forgets idle producers in every log (the broker calls this every
   * producer.id.expiration.check.interval.ms). Returns how many were forgotten.
   */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const log of this.partitions()) if (!log.isClosed) removed += log.removeExpiredProducers(nowMs, expirationMs);
    return removed;
  }

  /** Writes recovery-point-offset-checkpoint and log-start-offset-checkpoint (serialized). */
  checkpoint(): Promise<void> {
    const run = this.checkpointChain.then(() => this.writeCheckpoints(this.partitions()));
    this.checkpointChain = run.catch((err) => {
      this.logger.warn(
        { logDir: this.logDir, err },
        'could not write the log dir checkpoints; retried at the next change',
      );
    });
    return run;
  }

  private scheduleCheckpoint(): void {
    if (this.checkpointScheduled || this.closed) return;
    this.checkpointScheduled = true;
    setImmediate(() => {
      this.checkpointScheduled = false;
      if (!this.closed) this.checkpoint().catch(() => {});
    });
  }

  private async writeCheckpoints(logs: PartitionLog[]): Promise<void> {
    const points: PartitionOffset[] = [];
    const starts: PartitionOffset[] = [];
    for (const log of logs) {
      points.push({ topic: log.topic, partition: log.partition, offset: log.recoveryPoint });
      starts.push({ topic: log.topic, partition: log.partition, offset: log.logStartOffset });
    }
    await writeFileAtomically(
      this.cache,
      this.logDir,
      join(this.logDir, RECOVERY_POINT_CHECKPOINT),
      formatOffsetCheckpoint(points),
    );
    await writeFileAtomically(
      this.cache,
      this.logDir,
      join(this.logDir, LOG_START_OFFSET_CHECKPOINT),
      formatOffsetCheckpoint(starts),
    );
  }

  /**
   * Clean shutdown: closes every log (flush, seal indexes), writes the checkpoints and, when all of it
   * reached disk, the clean shutdown marker, so the next open trusts the logs without scanning them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A cleaning in progress finishes (or gives up at its swap) before the logs close under it.
    await this.cleaner.stop();
    await Promise.allSettled([...this.creating.values()]);
    const logs = this.partitions();
    let clean = true;
    const state: CleanShutdownState = new Map();
    await mapBounded(logs, PARTITION_CONCURRENCY, async (log) => {
      if (!(await log.close())) clean = false;
      else if (log.stateAtClose) state.set(key(log.topic, log.partition), log.stateAtClose);
    });
    try {
      await this.checkpointChain;
      await this.writeCheckpoints(logs);
      if (clean) {
        // Written in place: a marker cut short by a crash here parses as empty, and the next open then
        // reads each active segment's tail instead of trusting this record.
        const content = formatCleanShutdown(state);
        await this.cache.useOnce(join(this.logDir, CLEAN_SHUTDOWN_MARKER), 'rw', async (fd) => {
          await this.fs.ftruncate(fd, 0);
          await writeFully(this.fs, fd, [content], 0);
          await this.fs.fdatasync(fd);
        });
        await this.fs.syncDir(this.logDir);
      } else {
        this.logger.warn({ logDir: this.logDir }, 'not every log closed cleanly; those are scanned at the next start');
      }
    } catch (err) {
      this.logger.error(
        { logDir: this.logDir, err },
        'could not record a clean shutdown; logs are scanned at the next start',
      );
    }
    await this.cache.closeAll();
  }
}

export function createLogStore(opts: LogStoreOptions): LogStore {
  return new LogStore(opts);
}
