/**
 * The log cleaner (Kafka's LogCleaner, LogCleanerManager and Cleaner): compaction of the logs whose
 * cleanup.policy includes compact. Every log.cleaner.backoff.ms it picks the dirtiest log whose dirty ratio
 * (bytes not yet cleaned / all cleanable bytes) reaches min.cleanable.dirty.ratio, or whose oldest dirty
 * record is older than max.compaction.lag.ms, and cleans it:
 *
 * 1. the offset map: the latest offset of every key in the dirty part [first dirty offset, first
 *    uncleanable offset), up to what log.cleaner.dedupe.buffer.size holds. The first uncleanable offset is
 *    the lowest of the active segment's base, the high watermark, and the base of the first segment with a
 *    record younger than min.compaction.lag.ms;
 * 2. the segments up to the map's end, grouped so that a group fits in segment.bytes, are each rewritten
 *    into one `<base>.log.cleaned` (records kept per cleaner-core.ts; offsets unchanged; indexes rebuilt),
 *    fsynced, renamed `.swap` and swapped into the log (PartitionLog.replaceSegments);
 * 3. the map's end becomes the log's first dirty offset, kept in `cleaner-offset-checkpoint` in the log dir.
 *
 * Files are read and written here, on the main thread, through the StorageFs (async I/O); the computation
 * runs in a worker thread (cleaner-engine.ts). Reads and writes are throttled to
 * log.cleaner.io.max.bytes.per.second. One cleaning runs at a time (log.cleaner.threads is accepted; more
 * threads would share the one disk).
 */
import { join } from 'node:path';
import { RECORD_BATCH_OVERHEAD } from '../records/batch-header.js';
import { formatOffsetCheckpoint, parseOffsetCheckpoint } from './checkpoint-files.js';
import { noteProducers } from './cleaner-core.js';
import type { CleanerEngine } from './cleaner-engine.js';
import type { StorageLogger } from './errors.js';
import { type FileCache, readWholeFile, writeFileAtomically } from './file-cache.js';
import { COMPACTION_LAG_NEVER, isCompacted } from './log-config.js';
import { LogSegment } from './log-segment.js';
import type { PartitionLog } from './partition-log.js';
import { isNotFound } from './storage-fs.js';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

export interface CleanerConfig {
  /** log.cleaner.enable: run the periodic cleaner (a pass can still be asked for with cleanOnce). */
  enable: boolean;
  /** log.cleaner.backoff.ms: the pause when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.io.max.bytes.per.second: reads plus writes; Infinity for no limit. */
  ioMaxBytesPerSecond: number;
  /** log.cleaner.dedupe.buffer.size: bytes for the offset map (24 per key). */
  dedupeBufferSize: number;
  /** log.cleaner.io.buffer.load.factor: how full the map may get. */
  loadFactor: number;
  /** log.cleaner.io.buffer.size: bytes read per chunk (grown to hold a larger batch). */
  ioBufferSize: number;
}

export function defaultCleanerConfig(): CleanerConfig {
  return {
    enable: true,
    backoffMs: 15_000,
    ioMaxBytesPerSecond: Number.POSITIVE_INFINITY,
    dedupeBufferSize: 128 * 1024 * 1024,
    loadFactor: 0.9,
    ioBufferSize: 512 * 1024,
  };
}

export interface CleanerStats {
  /** Cleanings done since start. */
  runs: number;
  /** Bytes the cleanings removed from logs. */
  bytesReclaimed: number;
  /** Dirty bytes of the compacted logs when last measured (the backlog). */
  dirtyBytes: number;
}

export interface CleanedLog {
  topic: string;
  partition: number;
  firstDirtyOffset: bigint;
  endOffset: bigint;
  bytesBefore: number;
  bytesAfter: number;
  recordsRead: number;
  recordsRetained: number;
}

export interface CleanerContext {
  logDir: string;
  cache: FileCache;
  logger: StorageLogger;
  now: () => number;
  logs: () => PartitionLog[];
  engine: CleanerEngine;
}

/** What one log offers to clean, as Kafka's LogToClean. */
interface Cleanable {
  log: PartitionLog;
  firstDirtyOffset: bigint;
  firstUncleanableOffset: bigint;
  cleanBytes: number;
  cleanableBytes: number;
  ratio: number;
  /** The oldest dirty record is older than max.compaction.lag.ms. */
  overdue: boolean;
}

const minOffset = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const maxOffset = (a: bigint, b: bigint): bigint => (a > b ? a : b);

function key(log: PartitionLog): string {
  return `${log.topic}-${log.partition}`;
}

/** Thrown inside a cleaning when the cleaner stops: the cleaning gives up, leaving its log as it was. */
class CleaningAborted extends Error {
  constructor() {
    super('the log cleaner is stopping');
  }
}

/** Kafka's Throttler: sleeps when the bytes of the last period came faster than the allowed rate. */
class Throttler {
  private periodStart = 0;
  private bytes = 0;
  constructor(
    private readonly rate: number,
    private readonly now: () => number,
  ) {}

  async maybeThrottle(bytes: number): Promise<void> {
    if (!Number.isFinite(this.rate) || this.rate <= 0) return;
    const now = this.now();
    if (this.periodStart === 0) this.periodStart = now;
    this.bytes += bytes;
    const elapsed = Math.max(1, now - this.periodStart);
    const wanted = (this.bytes * 1000) / this.rate;
    if (wanted > elapsed) await new Promise((resolve) => setTimeout(resolve, wanted - elapsed));
    if (this.now() - this.periodStart >= 1000) {
      this.periodStart = this.now();
      this.bytes = 0;
    }
  }
}

export class LogCleaner {
  private readonly firstDirty = new Map<string, bigint>();
  private checkpointLoaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private readonly throttler: Throttler;
  readonly stats: CleanerStats = { runs: 0, bytesReclaimed: 0, dirtyBytes: 0 };

  constructor(
    private readonly ctx: CleanerContext,
    readonly config: CleanerConfig,
  ) {
    this.throttler = new Throttler(config.ioMaxBytesPerSecond, () => Date.now());
  }

  /** Starts the periodic cleaning (when log.cleaner.enable). */
  start(): void {
    if (!this.config.enable || this.stopped) return;
    this.schedule(this.config.backoffMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.cleanOnce().then(
        (cleaned) => this.schedule(cleaned.length > 0 ? 0 : this.config.backoffMs),
        (err: unknown) => {
          this.ctx.logger.error({ err }, 'the log cleaner failed; it retries after log.cleaner.backoff.ms');
          this.schedule(this.config.backoffMs);
        },
      );
    }, ms);
    this.timer.unref();
  }

  /** Stops cleaning: waits for a cleaning in progress (it finishes or aborts at its swap), stops the worker. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
    await this.ctx.engine.close();
  }

  /**
   * One pass: cleans the dirtiest log that qualifies (dirty ratio, or max.compaction.lag.ms), or with
   * `all`, every compacted log with anything dirty, whatever its ratio (tests, operators). Passes run one
   * at a time.
   */
  async cleanOnce(opts: { all?: boolean } = {}): Promise<CleanedLog[]> {
    while (this.running) await this.running.catch(() => {});
    const run = this.pass(opts.all ?? false);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
    }
  }

  private async pass(all: boolean): Promise<CleanedLog[]> {
    await this.loadCheckpoint();
    const now = this.ctx.now();
    const candidates: Cleanable[] = [];
    let dirtyBytes = 0;
    for (const log of this.ctx.logs()) {
      if (log.isClosed || !isCompacted(log.config)) continue;
      const cleanable = await this.cleanableOf(log, now);
      if (!cleanable) continue;
      dirtyBytes += cleanable.cleanableBytes;
      if (cleanable.cleanableBytes > 0) candidates.push(cleanable);
    }
    this.stats.dirtyBytes = dirtyBytes;
    const chosen = all
      ? candidates
      : candidates
          // Kafka's grabFilthiestCompactedLog: strictly above the ratio, or overdue with anything to clean.
          .filter((c) => c.overdue || c.ratio > c.log.config.minCleanableDirtyRatio)
          .sort((a, b) => b.ratio - a.ratio)
          .slice(0, 1);
    const cleaned: CleanedLog[] = [];
    for (const c of chosen) {
      if (this.stopped) break;
      let result: CleanedLog | null;
      try {
        result = await this.clean(c, now);
      } catch (err) {
        if (err instanceof CleaningAborted) break;
        throw err;
      }
      if (result) {
        cleaned.push(result);
        this.stats.dirtyBytes = Math.max(0, this.stats.dirtyBytes - c.cleanableBytes);
      }
    }
    return cleaned;
  }

  /** Dirty offsets and bytes of a compacted log (Kafka's LogCleanerManager.cleanableOffsets). */
  private async cleanableOf(log: PartitionLog, now: number): Promise<Cleanable | null> {
    const view = log.cleanerView();
    if (view.segments.length === 0) return null;
    let firstDirty = this.firstDirty.get(key(log)) ?? log.logStartOffset;
    // Data below the log start offset is gone; a checkpoint past the end (a truncation) starts over.
    if (firstDirty < log.logStartOffset || firstDirty > view.logEndOffset) firstDirty = log.logStartOffset;
    let firstUncleanable = minOffset(view.activeBaseOffset, view.highWatermark);
    const config = log.config;
    let overdue = false;
    for (const s of view.segments) {
      const end = s.upperBoundOffset() ?? view.activeBaseOffset;
      if (end <= firstDirty) continue;
      if (s.baseOffset >= firstUncleanable) break;
      const { timestamp } = await s.largestTimestamp();
      if (config.minCompactionLagMs > 0 && timestamp >= 0n && now - Number(timestamp) < config.minCompactionLagMs) {
        firstUncleanable = maxOffset(s.baseOffset, firstDirty);
        break;
      }
    }
    // Overdue: the first dirty segment's first batch is older than max.compaction.lag.ms (Kafka reads it the same way).
    if (config.maxCompactionLagMs < COMPACTION_LAG_NEVER) {
      const first = view.segments.find((s) => (s.upperBoundOffset() ?? view.activeBaseOffset) > firstDirty);
      const ts = first ? await first.firstBatchTimestamp() : null;
      if (ts !== null && first && first.baseOffset < firstUncleanable && now - Number(ts) > config.maxCompactionLagMs)
        overdue = true;
    }
    let cleanBytes = 0;
    let cleanableBytes = 0;
    for (const s of view.segments) {
      const end = s.upperBoundOffset() ?? view.activeBaseOffset;
      if (end <= firstDirty) cleanBytes += s.writtenSize;
      else if (s.baseOffset < firstUncleanable) cleanableBytes += s.writtenSize;
    }
    const total = cleanBytes + cleanableBytes;
    return {
      log,
      firstDirtyOffset: firstDirty,
      firstUncleanableOffset: firstUncleanable,
      cleanBytes,
      cleanableBytes: firstDirty < firstUncleanable ? cleanableBytes : 0,
      ratio: total === 0 ? 0 : cleanableBytes / total,
      overdue,
    };
  }

  /** Reads the whole batches of [from, limit) of a segment in chunks of about log.cleaner.io.buffer.size. */
  private async *chunks(segment: LogSegment, from: number, limit: number): AsyncGenerator<Buffer> {
    let pos = from;
    let want = this.config.ioBufferSize;
    while (pos + RECORD_BATCH_OVERHEAD <= limit) {
      // Shutdown does not wait for a whole cleaning: it stops at the next chunk (Kafka's checkDone).
      if (this.stopped) throw new CleaningAborted();
      const chunk = await segment.read(pos, Math.min(want, limit - pos));
      await this.throttler.maybeThrottle(chunk.length);
      let end = 0;
      while (end + RECORD_BATCH_OVERHEAD <= chunk.length) {
        const size = chunk.readInt32BE(end + 8) + 12;
        if (size < RECORD_BATCH_OVERHEAD || end + size > chunk.length) break;
        end += size;
      }
      if (end === 0) {
        // A batch larger than the buffer: read it whole (Kafka grows its buffers the same way).
        const size = chunk.length >= 12 ? chunk.readInt32BE(8) + 12 : 0;
        if (size < RECORD_BATCH_OVERHEAD || pos + size > limit) {
          throw new Error(`${segment.logPath} has no whole batch at position ${pos}`);
        }
        want = size;
        continue;
      }
      want = this.config.ioBufferSize;
      yield end === chunk.length ? chunk : chunk.subarray(0, end);
      pos += end;
    }
  }

  private async clean(c: Cleanable, now: number): Promise<CleanedLog | null> {
    const { log } = c;
    const view = log.cleanerView();
    const config = log.config;
    const engine = this.ctx.engine;
    const started = Date.now();

    // 1. The offset map of the dirty part. Sized to what the dirty bytes could hold (a record takes at least
    // 4 bytes), within log.cleaner.dedupe.buffer.size.
    const wantedBytes = Math.ceil((c.cleanableBytes / 4 / this.config.loadFactor) * 24);
    const slots = await engine.begin(Math.min(this.config.dedupeBufferSize, Math.max(24 * 1024, wantedBytes)));
    const maxEntries = Math.floor(slots * this.config.loadFactor);
    let full = false;
    let latest = -1n;
    const dirty = view.segments.filter(
      (s) =>
        (s.upperBoundOffset() ?? view.activeBaseOffset) > c.firstDirtyOffset && s.baseOffset < c.firstUncleanableOffset,
    );
    for (const s of dirty) {
      const next = s.upperBoundOffset() ?? view.activeBaseOffset;
      const nextStart = minOffset(next, c.firstUncleanableOffset);
      const from = s.baseOffset < c.firstDirtyOffset ? ((await s.findBatch(c.firstDirtyOffset))?.position ?? 0) : 0;
      for await (const chunk of this.chunks(s, from, s.writtenSize)) {
        const answer = await engine.mapChunk(chunk, c.firstDirtyOffset, maxEntries);
        latest = answer.latestOffset;
        if (answer.full) {
          full = true;
          break;
        }
      }
      if (full) break;
      latest = await engine.updateLatestOffset(nextStart - 1n);
    }
    const endOffset = latest + 1n;
    if (endOffset <= c.firstDirtyOffset) return null;

    // Each producer's last batch stays, so its sequence numbers survive (Kafka keeps it from producer state).
    const lastOffsetOfProducer = new Map<string, bigint>();
    for (const s of [...view.segments, log.activeSegment]) {
      for await (const chunk of this.chunks(s, 0, s.writtenSize)) noteProducers(chunk, lastOffsetOfProducer);
    }

    // 2. The segments below the map's end, in groups of at most segment.bytes (Kafka's groupSegmentsBySize).
    const toClean = view.segments.filter((s) => s.baseOffset < endOffset);
    const groups: LogSegment[][] = [];
    for (const s of toClean) {
      const group = groups[groups.length - 1];
      const size = group?.reduce((sum, g) => sum + g.writtenSize, 0) ?? 0;
      const lastBound = (s.upperBoundOffset() ?? c.firstUncleanableOffset) - 1n;
      if (
        group &&
        size + s.writtenSize <= config.segmentBytes &&
        (s.writtenSize === 0 || lastBound - group[0]!.baseOffset <= 0x7fffffffn)
      ) {
        group.push(s);
      } else {
        groups.push([s]);
      }
    }
    let bytesBefore = 0;
    let bytesAfter = 0;
    let recordsRead = 0;
    let recordsRetained = 0;
    for (const group of groups) {
      // The checkpoint moves only after every group was cleaned: an interrupted cleaning is redone.
      if (this.stopped || log.isClosed) throw new CleaningAborted();
      const outcome = await this.cleanGroup(log, group, now, c.firstUncleanableOffset, lastOffsetOfProducer);
      if (!outcome) continue;
      bytesBefore += outcome.before;
      bytesAfter += outcome.after;
      recordsRead += outcome.recordsRead;
      recordsRetained += outcome.recordsRetained;
    }

    // 3. The map's end is where the next cleaning's dirty part starts.
    this.firstDirty.set(key(log), endOffset);
    await this.writeCheckpoint();
    this.stats.runs++;
    this.stats.bytesReclaimed += Math.max(0, bytesBefore - bytesAfter);
    this.ctx.logger.info(
      {
        topic: log.topic,
        partition: log.partition,
        firstDirtyOffset: String(c.firstDirtyOffset),
        endOffset: String(endOffset),
        bytesBefore,
        bytesAfter,
        recordsRead,
        recordsRetained,
        mapFull: full,
        ms: Date.now() - started,
      },
      'cleaned log',
    );
    return {
      topic: log.topic,
      partition: log.partition,
      firstDirtyOffset: c.firstDirtyOffset,
      endOffset,
      bytesBefore,
      bytesAfter,
      recordsRead,
      recordsRetained,
    };
  }

  /** Rewrites one group of segments into `<base>.log.cleaned` and swaps it in (Kafka's cleanSegments). */
  private async cleanGroup(
    log: PartitionLog,
    group: LogSegment[],
    now: number,
    upperBoundOffset: bigint,
    lastOffsetOfProducer: Map<string, bigint>,
  ): Promise<{ before: number; after: number; recordsRead: number; recordsRetained: number } | null> {
    const first = group[0]!;
    const cleaned = new LogSegment(log.segmentContext, log.dir, first.baseOffset, {
      size: 0,
      rollBaseMs: now,
      indexesDurable: false,
      fresh: true,
      suffix: '.cleaned',
    });
    let recordsRead = 0;
    let recordsRetained = 0;
    let position = 0;
    try {
      await cleaned.createFiles({ indexes: false, syncDir: false });
      for (const s of group) {
        for await (const chunk of this.chunks(s, 0, s.writtenSize)) {
          const result = await this.ctx.engine.filterChunk(chunk, {
            nowMs: now,
            deleteRetentionMs: log.config.deleteRetentionMs,
            upperBoundOffset,
            lastOffsetOfProducer,
          });
          recordsRead += result.recordsRead;
          recordsRetained += result.recordsRetained;
          const out = result.output;
          if (out.length === 0) continue;
          await cleaned.writeData([out], position);
          await this.throttler.maybeThrottle(out.length);
          for (let p = 0; p + RECORD_BATCH_OVERHEAD <= out.length; ) {
            const size = out.readInt32BE(p + 8) + 12;
            const lastOffset = out.readBigInt64BE(p) + BigInt(out.readInt32BE(p + 23));
            cleaned.onBatchWritten(position + p, size, lastOffset, out.readBigInt64BE(p + 35));
            p += size;
          }
          position += out.length;
        }
      }
      cleaned.writtenSize = cleaned.flushedSize = cleaned.assignedSize = position;
      await cleaned.fdatasync();
      await cleaned.sealIndexes();
      const before = group.reduce((sum, s) => sum + s.writtenSize, 0);
      if (!(await log.replaceSegments(cleaned, group))) {
        this.ctx.logger.info(
          { topic: log.topic, partition: log.partition, baseOffset: String(first.baseOffset) },
          'a cleaned segment was not swapped in: its segments left the log meanwhile (retention or deletion)',
        );
        await cleaned.deleteFiles();
        return null;
      }
      return { before, after: position, recordsRead, recordsRetained };
    } catch (err) {
      // Nothing was swapped: drop what was written. (A `.swap` is committed: the next open completes it.)
      if (cleaned.logPath.endsWith('.cleaned')) await cleaned.deleteFiles().catch(() => {});
      throw err;
    }
  }

  /** The first dirty offset of a log, as the cleaner checkpoint has it (tests, metrics). */
  firstDirtyOffset(topic: string, partition: number): bigint | undefined {
    return this.firstDirty.get(`${topic}-${partition}`);
  }

  /** Forgets a deleted partition, so a new one of the same name starts clean. */
  forget(topic: string, partition: number): void {
    this.firstDirty.delete(`${topic}-${partition}`);
  }

  private async loadCheckpoint(): Promise<void> {
    if (this.checkpointLoaded) return;
    this.checkpointLoaded = true;
    const path = join(this.ctx.logDir, CLEANER_OFFSET_CHECKPOINT);
    try {
      const text = (await readWholeFile(this.ctx.cache, path)).toString('utf8');
      for (const e of parseOffsetCheckpoint(text)) {
        if (!this.firstDirty.has(`${e.topic}-${e.partition}`))
          this.firstDirty.set(`${e.topic}-${e.partition}`, e.offset);
      }
    } catch (err) {
      if (!isNotFound(err))
        this.ctx.logger.warn(
          { file: path, err },
          'ignoring an unreadable cleaner checkpoint; logs are cleaned from their start',
        );
    }
  }

  private async writeCheckpoint(): Promise<void> {
    const live = new Set(this.ctx.logs().map(key));
    const entries = [...this.firstDirty]
      .filter(([k]) => live.has(k))
      .map(([k, offset]) => {
        const dash = k.lastIndexOf('-');
        return { topic: k.slice(0, dash), partition: Number(k.slice(dash + 1)), offset };
      });
    await writeFileAtomically(
      this.ctx.cache,
      this.ctx.logDir,
      join(this.ctx.logDir, CLEANER_OFFSET_CHECKPOINT),
      formatOffsetCheckpoint(entries),
    );
  }
}
