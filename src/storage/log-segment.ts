/**
 * One segment of a partition log (Kafka's LogSegment): `<base offset>.log` holding record batches as
 * stored, its sparse `.index` and `.timeindex`. The segment knows file positions and bytes; offsets
 * are assigned and writes are ordered by the partition log above it.
 *
 * Sizes, three views: `assignedSize` counts bytes handed to queued appends (used for roll decisions),
 * `writtenSize` bytes whose write completed (reads never go beyond it), `flushedSize` bytes covered by
 * a completed fdatasync.
 */
import { join } from 'node:path';
import {
  BASE_OFFSET_OFFSET,
  batchSizeAt,
  LAST_OFFSET_DELTA_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
} from '../records/batch-header.js';
import { iterateRecordsAsync } from '../records/iterate.js';
import { scanValidPrefix } from '../records/validate.js';
import { RecordDecodeError } from '../records/varint.js';
import type { StorageLogger } from './errors.js';
import type { FileCache } from './file-cache.js';
import type { LogConfig } from './log-config.js';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index.js';
import type { ReadMemory } from './read-pool.js';
import { isNotFound, readFully, writeFully } from './storage-fs.js';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from './time-index.js';
import { TransactionIndex } from './transaction-index.js';

/**
 * Bytes preallocated for the active segment's index files. Kafka preallocates segment.index.bytes
 * (10 MiB) and memory-maps it; Sluice writes index entries with plain writes, so 1 MiB (sparse, so it
 * costs no disk until used) is enough, and a file that fills it simply grows up to segment.index.bytes.
 */
export const PREALLOCATED_INDEX_BYTES = 1024 * 1024;

/** Batches are scanned in reads of this size when a whole segment is walked (recovery, rebuilds). */
const RECOVERY_CHUNK_BYTES = 8 * 1024 * 1024;
/** Reads of this size when only batch headers are needed. */
const HEADER_WINDOW_BYTES = 64 * 1024;
/** Index entries are written to their files once this many are pending (and on roll and close). */
const INDEX_WRITE_THRESHOLD = 64;
const MAX_RELATIVE_OFFSET = 0x7fffffffn;
const EMPTY = Buffer.alloc(0);

export function segmentFileName(baseOffset: bigint, suffix: '.log' | '.index' | '.timeindex'): string {
  return `${baseOffset.toString().padStart(20, '0')}${suffix}`;
}

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;

export function parseSegmentFileName(
  name: string,
): { baseOffset: bigint; kind: 'log' | 'index' | 'timeindex' | 'txnindex' } | null {
  const m = SEGMENT_FILE.exec(name);
  if (!m) return null;
  return { baseOffset: BigInt(m[1]!), kind: m[2] as 'log' | 'index' | 'timeindex' | 'txnindex' };
}

/** Shared by the segments of one partition; `config` is replaced when the topic's config changes. */
export interface SegmentContext {
  cache: FileCache;
  logger: StorageLogger;
  config: LogConfig;
}

/** The header fields of one stored batch, with its position in the segment. */
export interface StoredBatch {
  position: number;
  size: number;
  baseOffset: bigint;
  lastOffset: bigint;
  maxTimestamp: bigint;
  partitionLeaderEpoch: number;
}

export interface SegmentRecovery {
  validBytes: number;
  truncatedBytes: number;
  nextOffset: bigint;
  stopReason?: string;
}

export interface TimestampLookup {
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

function headerAt(buf: Buffer, at: number, position: number): StoredBatch {
  const baseOffset = buf.readBigInt64BE(at + BASE_OFFSET_OFFSET);
  return {
    position,
    size: batchSizeAt(buf, at),
    baseOffset,
    lastOffset: baseOffset + BigInt(buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET)),
    maxTimestamp: buf.readBigInt64BE(at + MAX_TIMESTAMP_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(at + PARTITION_LEADER_EPOCH_OFFSET),
  };
}

export class LogSegment {
  /** The paths change only when the cleaner swaps a segment in (`.cleaned` → `.swap` → final names). */
  logPath: string;
  indexPath: string;
  timeIndexPath: string;
  /** The transactions aborted by markers in this segment (`.txnindex`), in memory. */
  readonly txnIndex: TransactionIndex;

  assignedSize: number;
  writtenSize: number;
  flushedSize: number;
  /** Batches assigned but not yet written: they may still add index entries. */
  pendingBatches = 0;
  /** The offset after the last written batch, when known (set by appends and scans). */
  nextOffset: bigint | null = null;

  /** Largest batch timestamp so far and the last offset of the batch that first reached it. */
  maxTimestamp = -1n;
  offsetOfMaxTimestamp = -1n;
  maxTimestampKnown = false;
  bytesSinceLastIndexEntry = 0;

  /** When this process created the segment; for a reopened one, its first batch's timestamp if any. */
  rollBaseMs: number;
  /** Whether the index files on disk are complete and synced (true for segments that rolled cleanly). */
  indexesDurable: boolean;
  /**
   * Whether the index files are ready for appends (preallocated). A segment opened after a clean
   * shutdown, or created with its partition, prepares them before its first write (Kafka's LazyIndex):
   * a broker with thousands of idle partitions then starts without touching their index files.
   */
  indexFilesPrepared = false;
  deleted = false;
  /**
   * Size and modification time of the .log as last seen, while nothing was written to or cut from it
   * since; null once it changed (a clean close then asks the file again).
   */
  fileStat: { size: number; mtimeMs: number } | null = null;
  /** The first batch's max timestamp (null: no batch, or no timestamp); undefined while unknown. */
  firstBatchTimestampValue: bigint | null | undefined = undefined;

  private offsetIndexState: OffsetIndex | null = null;
  private timeIndexState: TimeIndex | null = null;
  private loading: Promise<void> | null = null;
  /** Upper bound for offsets in this segment (the next segment's base), used to sanity-check indexes. */
  upperBoundOffset: () => bigint | null = () => null;

  constructor(
    private readonly ctx: SegmentContext,
    readonly dir: string,
    readonly baseOffset: bigint,
    init: { size: number; rollBaseMs: number; indexesDurable: boolean; fresh: boolean; suffix?: string },
  ) {
    const suffix = init.suffix ?? '';
    this.logPath = join(dir, segmentFileName(baseOffset, '.log') + suffix);
    this.indexPath = join(dir, segmentFileName(baseOffset, '.index') + suffix);
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, '.timeindex') + suffix);
    this.txnIndex = new TransactionIndex(ctx.cache, dir, baseOffset);
    this.assignedSize = init.size;
    this.writtenSize = init.size;
    this.flushedSize = init.size;
    this.rollBaseMs = init.rollBaseMs;
    this.indexesDurable = init.indexesDurable;
    if (init.fresh) {
      this.offsetIndexState = new OffsetIndex(baseOffset, this.maxOffsetIndexEntries());
      this.timeIndexState = new TimeIndex(baseOffset, this.maxTimeIndexEntries());
      this.maxTimestampKnown = true;
      this.nextOffset = baseOffset;
      this.firstBatchTimestampValue = null;
    }
  }

  private maxOffsetIndexEntries(): number {
    return Math.floor(this.ctx.config.segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE);
  }

  private maxTimeIndexEntries(): number {
    return Math.floor(this.ctx.config.segmentIndexBytes / TIME_INDEX_ENTRY_SIZE);
  }

  get indexesLoaded(): boolean {
    return this.offsetIndexState !== null;
  }

  /** The offset index; only valid once loaded (the active segment always is). */
  get offsetIndex(): OffsetIndex {
    if (!this.offsetIndexState) throw new Error(`index of ${this.logPath} used before it was loaded`);
    return this.offsetIndexState;
  }

  get timeIndex(): TimeIndex {
    if (!this.timeIndexState) throw new Error(`time index of ${this.logPath} used before it was loaded`);
    return this.timeIndexState;
  }

  /** Whether appending `batches` more batches could overflow an index (a full index rolls the segment). */
  indexWouldOverflow(batches: number): boolean {
    // Indexes not loaded yet (a segment reopened lazily): an entry needs more than index.interval.bytes
    // since the previous one, so the written size bounds how many there can be.
    const bound = Math.ceil(this.writtenSize / Math.max(1, this.ctx.config.indexIntervalBytes)) + 1;
    const offsetEntries = this.offsetIndexState?.entries ?? bound;
    const timeEntries = this.timeIndexState?.entries ?? bound;
    const pending = this.pendingBatches + batches + 1;
    return offsetEntries + pending > this.maxOffsetIndexEntries() || timeEntries + pending > this.maxTimeIndexEntries();
  }

  /** Whether `lastOffset` still fits in the indexes' 4-byte relative offsets. */
  canHoldOffset(lastOffset: bigint): boolean {
    return lastOffset - this.baseOffset <= MAX_RELATIVE_OFFSET;
  }

  // ---- file access -------------------------------------------------------------------------------

  /** Reads `length` bytes at `position` (fewer at the end of the file), into `memory` when given. */
  async read(position: number, length: number, memory?: ReadMemory): Promise<Buffer> {
    const buf = memory ? memory.alloc(length) : Buffer.allocUnsafe(length);
    const n = await this.ctx.cache.use(this.logPath, (fd) =>
      readFully(this.ctx.cache.fs, fd, buf, 0, length, position),
    );
    if (n === length) return buf;
    memory?.shrink(buf, n);
    return buf.subarray(0, n);
  }

  /** Writes at `position`; `durable` writes through the 'dsync' descriptor, so they are fsynced on return. */
  async writeData(buffers: readonly Buffer[], position: number, durable = false): Promise<void> {
    this.fileStat = null;
    await this.ctx.cache.use(this.logPath, (fd) => writeFully(this.ctx.cache.fs, fd, buffers, position), {
      create: true,
      durable,
    });
  }

  async fdatasync(): Promise<void> {
    await this.ctx.cache.use(this.logPath, (fd) => this.ctx.cache.fs.fdatasync(fd));
  }

  async truncateLog(size: number): Promise<void> {
    this.fileStat = null;
    await this.ctx.cache.use(this.logPath, (fd) => this.ctx.cache.fs.ftruncate(fd, size), { create: true });
  }

  async logFileSize(): Promise<number> {
    return this.ctx.cache.use(this.logPath, async (fd) => (await this.ctx.cache.fs.fstat(fd)).size);
  }

  /**
   * Creates the files of a new segment: its .log and, with `indexes` (a roll, where appends follow at
   * once), its preallocated indexes; then syncs the directory unless the caller does.
   */
  async createFiles(opts: { indexes: boolean; syncDir: boolean }): Promise<void> {
    await this.ctx.cache.use(this.logPath, async () => {}, { create: true });
    if (opts.indexes) await this.preallocateIndexes();
    if (opts.syncDir) await this.ctx.cache.fs.syncDir(this.dir);
  }

  /**
   * Readies the segment for appends, before its first write: loads (and checks) its indexes if a lazy
   * open left them on disk, and preallocates the index files. From then on the files are not sealed.
   */
  async prepareForAppends(): Promise<void> {
    await this.ensureIndexesLoaded();
    this.indexesDurable = false;
    if (this.indexFilesPrepared) return;
    try {
      await this.preallocateIndexes();
    } catch (err) {
      // Preallocation only spares the files growing entry by entry; appends go on without it.
      this.indexFilesPrepared = true;
      this.ctx.logger.warn({ file: this.indexPath, err }, 'could not preallocate index files; they grow as needed');
    }
  }

  /** Extends the index files to the preallocated size (the active segment's), keeping their entries. */
  async preallocateIndexes(): Promise<void> {
    const fs = this.ctx.cache.fs;
    const limit = this.ctx.config.segmentIndexBytes;
    for (const [path, entrySize, used] of [
      [this.indexPath, OFFSET_INDEX_ENTRY_SIZE, this.offsetIndex.sizeInBytes],
      [this.timeIndexPath, TIME_INDEX_ENTRY_SIZE, this.timeIndex.sizeInBytes],
    ] as const) {
      const target = Math.max(used, Math.min(PREALLOCATED_INDEX_BYTES, limit - (limit % entrySize)));
      await this.ctx.cache.use(
        path,
        async (fd) => {
          const { size } = await fs.fstat(fd);
          if (size < target) await fs.ftruncate(fd, target);
        },
        { create: true },
      );
    }
    this.indexFilesPrepared = true;
  }

  /** Writes the index entries not yet in the files. */
  async persistIndexes(): Promise<void> {
    const fs = this.ctx.cache.fs;
    for (const [path, index] of [
      [this.indexPath, this.offsetIndexState],
      [this.timeIndexPath, this.timeIndexState],
    ] as const) {
      if (!index || index.fileEntries >= index.entries) continue;
      const pending = index.pending();
      await this.ctx.cache.use(path, (fd) => writeFully(fs, fd, [pending.bytes], pending.position), { create: true });
      index.markWritten(pending.upTo, pending.version);
    }
  }

  /** Whether enough index entries are pending to be worth a write now. */
  get indexWriteDue(): boolean {
    const o = this.offsetIndexState;
    const t = this.timeIndexState;
    return (
      (o !== null && o.entries - o.fileEntries >= INDEX_WRITE_THRESHOLD) ||
      (t !== null && t.entries - t.fileEntries >= INDEX_WRITE_THRESHOLD)
    );
  }

  /**
   * Seals the index files when the segment stops being active (roll, clean close): adds the final time
   * index entry as Kafka does, writes pending entries, cuts the files to their real size and syncs them.
   */
  async sealIndexes(): Promise<void> {
    await this.txnIndex.flush();
    if (!this.offsetIndexState) return;
    if (this.maxTimestamp >= 0n) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    await this.persistIndexes();
    const fs = this.ctx.cache.fs;
    for (const [path, size] of [
      [this.indexPath, this.offsetIndex.sizeInBytes],
      [this.timeIndexPath, this.timeIndex.sizeInBytes],
    ] as const) {
      await this.ctx.cache.use(
        path,
        async (fd) => {
          await fs.ftruncate(fd, size);
          await fs.fdatasync(fd);
        },
        { create: true },
      );
    }
    this.indexesDurable = true;
    this.indexFilesPrepared = false;
  }

  /** Rewrites both index files from the in-memory entries (after a rebuild). */
  private async rewriteIndexes(): Promise<void> {
    const fs = this.ctx.cache.fs;
    for (const [path, index] of [
      [this.indexPath, this.offsetIndex],
      [this.timeIndexPath, this.timeIndex],
    ] as const) {
      const bytes = Buffer.from(index.contents());
      await this.ctx.cache.use(
        path,
        async (fd) => {
          await fs.ftruncate(fd, 0);
          await writeFully(fs, fd, [bytes], 0);
          await fs.fdatasync(fd);
        },
        { create: true },
      );
      index.markWritten(index.entries, index.version);
    }
  }

  /**
   * Renames the segment's files to the names with `suffix` ('' for the final names), the index files first:
   * the cleaner's swap is committed when the `.log` gets its new name. Reads in flight keep their open
   * descriptors (they follow the file); later ones open the new name. Missing index files are skipped.
   */
  async changeFileSuffixes(suffix: string): Promise<void> {
    const fs = this.ctx.cache.fs;
    const base = (path: string) => path.replace(/\.(cleaned|swap)$/, '');
    const moves: Array<[keyof Pick<LogSegment, 'indexPath' | 'timeIndexPath' | 'logPath'>, boolean]> = [
      ['indexPath', true],
      ['timeIndexPath', true],
      ['logPath', false],
    ];
    for (const [field, optional] of moves) {
      const from = this[field];
      const to = base(from) + suffix;
      if (from === to) continue;
      await this.ctx.cache.forget(from);
      try {
        await fs.rename(from, to);
      } catch (err) {
        if (!optional || !isNotFound(err)) throw err;
      }
      this[field] = to;
    }
    await fs.syncDir(this.dir);
  }

  /** Renames the files to `.deleted` and removes them, as Kafka deletes segments. */
  async deleteFiles(): Promise<void> {
    this.deleted = true;
    const fs = this.ctx.cache.fs;
    const paths = [this.logPath, this.indexPath, this.timeIndexPath, this.txnIndex.path];
    for (const p of paths) {
      await this.ctx.cache.forget(p);
      try {
        await fs.rename(p, `${p}.deleted`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    for (const p of paths) {
      try {
        await fs.unlink(`${p}.deleted`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ---- appends -----------------------------------------------------------------------------------

  /**
   * Accounts for one batch whose write completed at `position`: the largest timestamp, and an index
   * entry when more than index.interval.bytes were written since the last one (Kafka's rule).
   */
  onBatchWritten(position: number, size: number, lastOffset: bigint, maxTimestamp: bigint): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (position === 0) this.firstBatchTimestampValue = maxTimestamp >= 0n ? maxTimestamp : null;
    if (this.bytesSinceLastIndexEntry > this.ctx.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1n;
  }

  /**
   * Cuts the in-memory state back to `position` (a batch boundary) where the next offset is `nextOffset`.
   * The file itself is cut by truncateLog, queued by the caller.
   */
  rewindTo(position: number, nextOffset: bigint): void {
    this.assignedSize = position;
    this.writtenSize = Math.min(this.writtenSize, position);
    this.flushedSize = Math.min(this.flushedSize, position);
    this.pendingBatches = 0;
    this.nextOffset = nextOffset;
    this.indexesDurable = false;
    if (position === 0) this.firstBatchTimestampValue = null;
    if (this.offsetIndexState) {
      this.offsetIndexState.truncateToPosition(position);
      this.timeIndex.truncateToOffset(nextOffset);
      const entries = this.offsetIndexState.entries;
      this.bytesSinceLastIndexEntry = position - (entries > 0 ? this.offsetIndexState.positionAt(entries - 1) : 0);
    }
    if (this.offsetOfMaxTimestamp >= nextOffset) this.maxTimestampKnown = false;
  }

  // ---- loading and recovery ----------------------------------------------------------------------

  /**
   * Loads the index files (lazily for segments trusted at open) and checks them; an index that is
   * missing or does not fit the log is rebuilt from the log.
   */
  async ensureIndexesLoaded(): Promise<{ offsetIndex: OffsetIndex; timeIndex: TimeIndex }> {
    if (!this.offsetIndexState) {
      if (!this.loading) {
        this.loading = this.loadIndexes().finally(() => {
          this.loading = null;
        });
      }
      await this.loading;
    }
    // Callers use what this returns, not the fields: an idle sealed segment may be unloaded meanwhile.
    return { offsetIndex: this.offsetIndex, timeIndex: this.timeIndex };
  }

  /**
   * Frees the in-memory indexes of a sealed segment (they are on disk and load again on demand), so
   * a consumer reading old data does not pin every segment's indexes in memory.
   */
  unloadIndexes(): void {
    const o = this.offsetIndexState;
    const t = this.timeIndexState;
    if (!o || !t || this.loading || !this.indexesDurable) return;
    if (o.fileEntries < o.entries || t.fileEntries < t.entries) return;
    this.offsetIndexState = null;
    this.timeIndexState = null;
  }

  private async readIndexFile(path: string): Promise<Buffer | null> {
    try {
      return await this.ctx.cache.use(path, async (fd) => {
        const fs = this.ctx.cache.fs;
        const { size } = await fs.fstat(fd);
        const buf = Buffer.allocUnsafe(size);
        const n = await readFully(fs, fd, buf, 0, size, 0);
        return buf.subarray(0, n);
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  private async loadIndexes(): Promise<void> {
    const [offsetBytes, timeBytes] = [
      await this.readIndexFile(this.indexPath),
      await this.readIndexFile(this.timeIndexPath),
    ];
    let problem: string | null = null;
    if (offsetBytes === null) problem = `${this.indexPath} is missing`;
    else if (timeBytes === null) problem = `${this.timeIndexPath} is missing`;
    let offsetIndex: OffsetIndex | null = null;
    let timeIndex: TimeIndex | null = null;
    if (offsetBytes && timeBytes) {
      offsetIndex = new OffsetIndex(this.baseOffset, this.maxOffsetIndexEntries(), offsetBytes);
      timeIndex = new TimeIndex(this.baseOffset, this.maxTimeIndexEntries(), timeBytes);
      const upper = this.nextOffset ?? this.upperBoundOffset();
      problem =
        offsetIndex.problem(this.writtenSize, offsetBytes.length) ??
        timeIndex.problem(upper, timeBytes.length) ??
        (await this.spotCheck(offsetIndex, upper));
      if (problem) problem = `${problem} (${offsetIndex.entries > 0 ? this.indexPath : this.timeIndexPath})`;
    }
    if (problem || !offsetIndex || !timeIndex) {
      this.ctx.logger.warn(
        { file: this.logPath, problem },
        'rebuilding the index files of a segment from its log; nothing to do, this takes one read of the segment',
      );
      await this.recover();
      return;
    }
    this.offsetIndexState = offsetIndex;
    this.timeIndexState = timeIndex;
    const last = timeIndex.lastEntry();
    if (!this.maxTimestampKnown) {
      this.maxTimestamp = last ? last.timestamp : -1n;
      this.offsetOfMaxTimestamp = last ? last.offset : -1n;
      this.maxTimestampKnown = true;
    }
    const entries = offsetIndex.entries;
    this.bytesSinceLastIndexEntry = this.writtenSize - (entries > 0 ? offsetIndex.positionAt(entries - 1) : 0);
  }

  /** Checks that the last offset index entry points at a batch ending at its offset, as Kafka writes them. */
  private async spotCheck(index: OffsetIndex, upper: bigint | null): Promise<string | null> {
    if (index.entries === 0) return null;
    const offset = index.offsetAt(index.entries - 1);
    const position = index.positionAt(index.entries - 1);
    if (upper !== null && offset >= upper)
      return `last entry names offset ${offset}, beyond the segment's end ${upper}`;
    const header = await this.read(position, RECORD_BATCH_OVERHEAD);
    if (header.length < RECORD_BATCH_OVERHEAD) return `last entry points at a torn batch at ${position}`;
    const batch = headerAt(header, 0, position);
    if (batch.lastOffset !== offset) {
      return `last entry says offset ${offset} ends at position ${position}, the batch there ends at ${batch.lastOffset}`;
    }
    return null;
  }

  /**
   * Scans the whole log file batch by batch with CRC checks (Kafka's LogSegment.recover): rebuilds both
   * indexes and the largest timestamp, and cuts the file at the first torn or corrupt batch. `onBatch`
   * sees each batch kept, in its chunk at `at` (the producer state is rebuilt from the same reads).
   */
  async recover(onBatch?: (chunk: Buffer, at: number) => void): Promise<SegmentRecovery> {
    const fileSize = await this.logFileSize();
    const interval = this.ctx.config.indexIntervalBytes;
    const offsetIndex = new OffsetIndex(this.baseOffset, this.maxOffsetIndexEntries());
    const timeIndex = new TimeIndex(this.baseOffset, this.maxTimeIndexEntries());
    let maxTimestamp = -1n;
    let offsetOfMaxTimestamp = -1n;
    let nextOffset = this.baseOffset;
    let lastIndexEntry = 0;
    let firstBatchTimestamp: bigint | null = null;
    let pos = 0;
    let need = 0;
    let stopReason: string | undefined;
    scan: while (pos < fileSize) {
      const chunk = await this.read(pos, Math.min(Math.max(RECOVERY_CHUNK_BYTES, need), fileSize - pos));
      need = 0;
      const scanned = scanValidPrefix(chunk, { verifyCrc: true });
      for (const b of scanned.batches) {
        const position = pos + b.position;
        const lastOffset = b.baseOffset + BigInt(b.lastOffsetDelta);
        if (b.baseOffset < nextOffset) {
          stopReason = `batch at position ${position} starts at offset ${b.baseOffset}, below the expected ${nextOffset}`;
          pos = position;
          break scan;
        }
        if (!this.canHoldOffset(lastOffset)) {
          stopReason = `batch at position ${position} ends at offset ${lastOffset}, too far from the segment base`;
          pos = position;
          break scan;
        }
        if (b.maxTimestamp > maxTimestamp) {
          maxTimestamp = b.maxTimestamp;
          offsetOfMaxTimestamp = lastOffset;
        }
        if (position === 0 && b.maxTimestamp >= 0n) firstBatchTimestamp = b.maxTimestamp;
        onBatch?.(chunk, b.position);
        if (position - lastIndexEntry > interval) {
          offsetIndex.append(lastOffset, position);
          timeIndex.maybeAppend(maxTimestamp, offsetOfMaxTimestamp);
          lastIndexEntry = position;
        }
        nextOffset = lastOffset + 1n;
      }
      const chunkEnd = pos + chunk.length;
      pos += scanned.validBytes;
      if (scanned.validBytes === chunk.length) continue;
      // The scan stopped inside this chunk: either the chunk cut a batch short (read more) or the log
      // really ends in a torn or corrupt batch there.
      const rest = chunk.length - scanned.validBytes;
      if (chunkEnd < fileSize) {
        if (rest < RECORD_BATCH_OVERHEAD) {
          need = RECORD_BATCH_OVERHEAD;
          continue;
        }
        const declared = batchSizeAt(chunk, scanned.validBytes);
        if (declared > rest && declared >= RECORD_BATCH_OVERHEAD && pos + declared <= fileSize) {
          need = declared;
          continue;
        }
      }
      stopReason = scanned.stopReason ?? 'torn batch';
      break;
    }
    const truncatedBytes = fileSize - pos;
    if (truncatedBytes > 0) {
      this.ctx.logger.warn(
        { file: this.logPath, position: pos, droppedBytes: truncatedBytes, reason: stopReason },
        `truncating ${this.logPath} at position ${pos}, dropping ${truncatedBytes} bytes of torn or corrupt data (${stopReason}); producers re-send unacknowledged data`,
      );
      await this.truncateLog(pos);
    }
    this.offsetIndexState = offsetIndex;
    this.timeIndexState = timeIndex;
    this.maxTimestamp = maxTimestamp;
    this.offsetOfMaxTimestamp = offsetOfMaxTimestamp;
    this.maxTimestampKnown = true;
    this.nextOffset = nextOffset;
    this.firstBatchTimestampValue = firstBatchTimestamp;
    // Appends may already be assigned to a segment whose indexes load lazily: keep counting their bytes.
    const pendingBytes = Math.max(0, this.assignedSize - this.writtenSize);
    this.writtenSize = this.flushedSize = pos;
    this.assignedSize = pos + pendingBytes;
    this.bytesSinceLastIndexEntry = pos - lastIndexEntry;
    await this.rewriteIndexes();
    this.indexesDurable = true;
    return { validBytes: pos, truncatedBytes, nextOffset, ...(stopReason ? { stopReason } : {}) };
  }

  /** The first batch's max timestamp (Kafka measures segment.ms from it for reopened segments). */
  async firstBatchTimestamp(): Promise<bigint | null> {
    if (this.firstBatchTimestampValue !== undefined) return this.firstBatchTimestampValue;
    let ts: bigint | null = null;
    if (this.writtenSize >= RECORD_BATCH_OVERHEAD) {
      const header = await this.read(0, RECORD_BATCH_OVERHEAD);
      if (header.length >= RECORD_BATCH_OVERHEAD) ts = header.readBigInt64BE(MAX_TIMESTAMP_OFFSET);
    }
    this.firstBatchTimestampValue = ts !== null && ts >= 0n ? ts : null;
    return this.firstBatchTimestampValue;
  }

  /**
   * Recomputes the largest timestamp after a truncation, as Kafka's loadLargestTimestamp: the last
   * time index entry, then the batches written after it.
   */
  async reloadLargestTimestamp(): Promise<void> {
    const { offsetIndex, timeIndex } = await this.ensureIndexesLoaded();
    const last = timeIndex.lastEntry();
    let maxTimestamp = last ? last.timestamp : -1n;
    let offsetOfMax = last ? last.offset : -1n;
    const from = last ? offsetIndex.lookup(last.offset).position : 0;
    await this.forEachBatch(from, this.writtenSize, (b) => {
      if (b.maxTimestamp > maxTimestamp) {
        maxTimestamp = b.maxTimestamp;
        offsetOfMax = b.lastOffset;
      }
      return true;
    });
    this.maxTimestamp = maxTimestamp;
    this.offsetOfMaxTimestamp = offsetOfMax;
    this.maxTimestampKnown = true;
  }

  /** The largest timestamp in the segment, or -1 when no batch carries one. */
  async largestTimestamp(): Promise<{ timestamp: bigint; offset: bigint }> {
    if (!this.maxTimestampKnown && !this.indexesLoaded && this.indexesDurable) await this.peekLastTimeIndexEntry();
    if (!this.maxTimestampKnown) await this.ensureIndexesLoaded();
    if (!this.maxTimestampKnown) await this.reloadLargestTimestamp();
    return { timestamp: this.maxTimestamp, offset: this.offsetOfMaxTimestamp };
  }

  /**
   * A sealed segment's time index ends with its largest timestamp (added when it was sealed): reading that
   * one entry spares loading the whole index, e.g. for retention checks over every old segment.
   */
  private async peekLastTimeIndexEntry(): Promise<void> {
    try {
      const entry = await this.ctx.cache.use(this.timeIndexPath, async (fd) => {
        const fs = this.ctx.cache.fs;
        const { size } = await fs.fstat(fd);
        if (size === 0) return null;
        if (size % TIME_INDEX_ENTRY_SIZE !== 0) return undefined;
        const buf = Buffer.alloc(TIME_INDEX_ENTRY_SIZE);
        const n = await readFully(fs, fd, buf, 0, TIME_INDEX_ENTRY_SIZE, size - TIME_INDEX_ENTRY_SIZE);
        return n === TIME_INDEX_ENTRY_SIZE ? buf : undefined;
      });
      if (entry === undefined) return;
      this.maxTimestamp = entry ? entry.readBigInt64BE(0) : -1n;
      this.offsetOfMaxTimestamp = entry ? this.baseOffset + BigInt(entry.readInt32BE(8)) : -1n;
      this.maxTimestampKnown = true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The time used for time-based retention: the largest timestamp, else the file's modification time. */
  async retentionTimestamp(): Promise<number> {
    const { timestamp } = await this.largestTimestamp();
    if (timestamp >= 0n) return Number(timestamp);
    try {
      return (await this.ctx.cache.fs.stat(this.logPath)).mtimeMs;
    } catch {
      return Date.now();
    }
  }

  /**
   * The .log file's modification time in ms, which ListOffsets v0 compares timestamps with (Kafka's
   * LogSegment.lastModified); 0 when the file is gone, as Java's File.lastModified answers.
   */
  async lastModified(): Promise<number> {
    try {
      return Math.floor((await this.ctx.cache.fs.stat(this.logPath)).mtimeMs);
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }

  // ---- reads -------------------------------------------------------------------------------------

  /**
   * Visits the headers of the whole batches in [from, limit), reading in windows; stops when `visit`
   * returns false or at a batch that does not fit (never the case below the written size).
   */
  async forEachBatch(
    from: number,
    limit: number,
    visit: (b: StoredBatch, window: Buffer, at: number) => boolean | Promise<boolean>,
  ): Promise<void> {
    let window: Buffer = EMPTY;
    let windowPos = from;
    let pos = from;
    while (pos + RECORD_BATCH_OVERHEAD <= limit) {
      if (pos + RECORD_BATCH_OVERHEAD > windowPos + window.length) {
        window = await this.read(pos, Math.min(HEADER_WINDOW_BYTES, limit - pos));
        windowPos = pos;
        if (window.length < RECORD_BATCH_OVERHEAD) return;
      }
      const batch = headerAt(window, pos - windowPos, pos);
      if (batch.size < RECORD_BATCH_OVERHEAD || pos + batch.size > limit) return;
      // The window holds the whole header at `at`, for visitors that need more fields (producer state).
      if (!(await visit(batch, window, pos - windowPos))) return;
      pos += batch.size;
    }
  }

  /**
   * After a clean shutdown: walks the batches after the last offset index entry (at most
   * index.interval.bytes and one batch, as Kafka's readNextOffset does) and checks that the file ends
   * on a whole batch whose next offset is `expected`. Returns what is wrong, or null.
   */
  async checkTail(expected: bigint): Promise<string | null> {
    const { offsetIndex } = await this.ensureIndexesLoaded();
    const entries = offsetIndex.entries;
    let end = entries > 0 ? offsetIndex.positionAt(entries - 1) : 0;
    let next = this.baseOffset;
    await this.forEachBatch(end, this.writtenSize, (b) => {
      end = b.position + b.size;
      next = b.lastOffset + 1n;
      return true;
    });
    if (end !== this.writtenSize) {
      return `the file is ${this.writtenSize} bytes but its batches end at position ${end}`;
    }
    if (this.writtenSize > 0 && next !== expected) {
      return `its last batch ends at offset ${next - 1n}, the recovery point checkpoint says ${expected - 1n}`;
    }
    return null;
  }

  /** The first whole batch ending at or after `offset` below `limit`, or null. */
  async findBatch(offset: bigint, limit = this.writtenSize): Promise<StoredBatch | null> {
    const { offsetIndex } = await this.ensureIndexesLoaded();
    const start = offsetIndex.lookup(offset).position;
    let found: StoredBatch | null = null;
    await this.forEachBatch(start < limit ? start : 0, limit, (b) => {
      if (b.lastOffset >= offset) {
        found = b;
        return false;
      }
      return true;
    });
    return found;
  }

  /**
   * Reads whole batches from the one holding `fetchOffset`: up to `maxBytes` (but at least one batch when
   * `minOneBatch`), only batches ending below `maxOffset`, never beyond the written size. Returns null
   * when no batch in this segment reaches `fetchOffset` (the caller moves on to the next segment).
   * Normally one read: the window from the index entry covers the scan and the result. With `memory`, the
   * window is taken from it (and what follows the result given back), and the result is a view of it.
   */
  async readBatches(
    fetchOffset: bigint,
    maxBytes: number,
    maxOffset: bigint,
    minOneBatch: boolean,
    memory?: ReadMemory,
  ): Promise<Buffer | null> {
    const { offsetIndex } = await this.ensureIndexesLoaded();
    const limit = this.writtenSize;
    let scanFrom = offsetIndex.lookup(fetchOffset).position;
    if (scanFrom >= limit) scanFrom = 0;
    const windowBytes = Math.max(maxBytes, 0) + 2 * this.ctx.config.indexIntervalBytes + RECORD_BATCH_OVERHEAD;
    let window: Buffer = EMPTY;
    let windowPos = 0;
    const covers = (from: number, to: number) => from >= windowPos && to <= windowPos + window.length;
    const load = async (anchor: number, to: number) => {
      // The previous window is dropped: its memory may serve the next one.
      memory?.shrink(window, 0);
      window = await this.read(anchor, Math.min(Math.max(to - anchor, windowBytes), limit - anchor), memory);
      windowPos = anchor;
    };

    // Find the batch holding fetchOffset: clients skip the records before it themselves.
    let start = scanFrom;
    for (;;) {
      if (start + RECORD_BATCH_OVERHEAD > limit) return this.dropWindow(window, memory, null);
      if (!covers(start, start + RECORD_BATCH_OVERHEAD)) await load(start, start + RECORD_BATCH_OVERHEAD);
      const b = headerAt(window, start - windowPos, start);
      if (b.size < RECORD_BATCH_OVERHEAD || start + b.size > limit) return this.dropWindow(window, memory, null);
      if (b.lastOffset >= fetchOffset) break;
      start += b.size;
    }

    // Take whole batches from there.
    let end = start;
    while (end + RECORD_BATCH_OVERHEAD <= limit) {
      if (!covers(end, end + RECORD_BATCH_OVERHEAD)) await load(start, end + RECORD_BATCH_OVERHEAD);
      const b = headerAt(window, end - windowPos, end);
      if (b.size < RECORD_BATCH_OVERHEAD || end + b.size > limit || b.lastOffset >= maxOffset) break;
      const first = end === start;
      if (end - start + b.size > maxBytes && !(first && minOneBatch)) break;
      end += b.size;
    }
    if (end === start) return this.dropWindow(window, memory, EMPTY);
    if (!covers(start, end)) await load(start, end);
    memory?.shrink(window, end - windowPos);
    return window.subarray(start - windowPos, end - windowPos);
  }

  /** Gives a window no result refers to back to `memory`, and returns `result`. */
  private dropWindow<T>(window: Buffer, memory: ReadMemory | undefined, result: T): T {
    memory?.shrink(window, 0);
    return result;
  }

  /**
   * The first record at or after `minOffset` whose timestamp is at least `timestamp` (Kafka's
   * findOffsetByTimestamp): the time index gives where to start, batch headers say which batch, and
   * that one batch is decoded to find the record.
   */
  async findOffsetByTimestamp(
    timestamp: bigint,
    minOffset: bigint,
    maxOffset: bigint,
  ): Promise<TimestampLookup | null> {
    const { offsetIndex, timeIndex } = await this.ensureIndexesLoaded();
    const indexed = timeIndex.lookup(timestamp);
    const from = offsetIndex.lookup(indexed > minOffset ? indexed : minOffset).position;
    let result: TimestampLookup | null = null;
    await this.forEachBatch(from < this.writtenSize ? from : 0, this.writtenSize, async (b) => {
      if (b.baseOffset >= maxOffset) return false;
      if (b.lastOffset < minOffset || b.maxTimestamp < timestamp) return true;
      const bytes = await this.read(b.position, b.size);
      try {
        for (const record of await iterateRecordsAsync(bytes)) {
          if (record.offset >= minOffset && record.offset < maxOffset && record.timestamp >= timestamp) {
            result = { offset: record.offset, timestamp: record.timestamp, leaderEpoch: b.partitionLeaderEpoch };
            return false;
          }
        }
      } catch (err) {
        if (!(err instanceof RecordDecodeError)) throw err;
        // Appends check batch headers and CRCs, not records: a batch whose records do not decode is
        // answered by its header, as the batch's first offset (within range) and its max timestamp.
        const offset = b.baseOffset > minOffset ? b.baseOffset : minOffset;
        result = { offset, timestamp: b.maxTimestamp, leaderEpoch: b.partitionLeaderEpoch };
        return false;
      }
      return true;
    });
    return result;
  }

  /** The first record of the batch ending at `batchLastOffset` carrying `timestamp` (for ListOffsets -3). */
  async recordWithTimestamp(batchLastOffset: bigint, timestamp: bigint): Promise<TimestampLookup | null> {
    const b = await this.findBatch(batchLastOffset);
    if (!b) return null;
    const bytes = await this.read(b.position, b.size);
    try {
      for (const record of await iterateRecordsAsync(bytes)) {
        if (record.timestamp === timestamp) {
          return { offset: record.offset, timestamp, leaderEpoch: b.partitionLeaderEpoch };
        }
      }
    } catch (err) {
      // Records that do not decode (see findOffsetByTimestamp): the batch's last offset stands for them.
      if (!(err instanceof RecordDecodeError)) throw err;
    }
    return { offset: b.lastOffset, timestamp, leaderEpoch: b.partitionLeaderEpoch };
  }
}
