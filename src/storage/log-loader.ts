/**
 * Opening a partition directory (Kafka's LogLoader): finds the segments, trusts those below the recovery
 * point, scans the rest batch by batch with CRC checks, cuts a torn or corrupt tail, drops segments after
 * a corrupt one, and rebuilds missing indexes. After a clean shutdown nothing is scanned: the log end
 * offset comes from the recovery point checkpoint, and when the active segment's .log has the size and
 * modification time the close recorded, nothing of it is read either (its indexes load on first use).
 */
import { basename, join } from 'node:path';
import { baseOffsetOf } from '../records/batch-header.js';
import {
  type EpochEntry,
  formatPartitionMetadata,
  LEADER_EPOCH_CHECKPOINT,
  PARTITION_METADATA,
  type PartitionAtClose,
  parseLeaderEpochCheckpoint,
  parsePartitionMetadata,
} from './checkpoint-files.js';
import type { StorageLogger } from './errors.js';
import { type FileCache, readWholeFile, writeFileAtomically } from './file-cache.js';
import { LogSegment, parseSegmentFileName, type SegmentContext } from './log-segment.js';
import {
  CorruptSnapshotError,
  decodeProducerSnapshot,
  hasProducerIdAt,
  isExpired,
  needsMarkerRead,
  type ProducerBatch,
  type ProducerStateEntry,
  ProducerStateManager,
  parseSnapshotFileName,
  producerBatchAt,
  snapshotFileName,
} from './producer-state.js';
import { errorCode, isNotFound } from './storage-fs.js';

/** Kafka's producer.id.expiration.ms default: a day. */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;

export interface LoadParams {
  ctx: SegmentContext;
  cache: FileCache;
  logger: StorageLogger;
  dir: string;
  topic: string;
  partition: number;
  /** The topic id the caller knows (32 hex digits), written to partition.metadata when missing. */
  topicId: string | null;
  /** From recovery-point-offset-checkpoint; null when the partition is not listed. */
  recoveryPoint: bigint | null;
  /** From log-start-offset-checkpoint; null when not listed. */
  logStartOffset: bigint | null;
  /** The log dir had a clean shutdown marker. */
  cleanShutdown: boolean;
  /** What the clean close recorded about this partition, if anything. */
  atClose?: PartitionAtClose | null;
  /**
   * The directory was found in the log dir (open) rather than being created: it is not created, and a
   * name that turns out to be a file gives null.
   */
  existing?: boolean;
  nowMs: number;
  /** Producers idle this long are not loaded (producer.id.expiration.ms). */
  producerIdExpirationMs?: number;
}

export interface LoadedLog {
  segments: LogSegment[];
  logEndOffset: bigint;
  logStartOffset: bigint;
  epochs: EpochEntry[];
  topicId: string | null;
  /** Whether segments were scanned (no clean shutdown for this partition). */
  recovered: boolean;
  truncatedBytes: number;
  deletedSegments: number;
  /** Idempotent producers' state: from the snapshot at the log end offset, or rebuilt from the log. */
  producers?: ProducerStateEntry[];
  /** Offsets of the producer snapshot files kept in the directory, ascending. */
  snapshotOffsets?: bigint[];
}

async function tryRead(cache: FileCache, path: string): Promise<string | null> {
  try {
    return (await readWholeFile(cache, path)).toString('utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function removeQuietly(cache: FileCache, path: string, logger: StorageLogger): Promise<void> {
  try {
    await cache.forget(path);
    await cache.fs.unlink(path);
  } catch (err) {
    if (!isNotFound(err)) logger.warn({ file: path, err }, 'could not remove a leftover file; remove it by hand');
  }
}

/**
 * Completes the swap of a cleaned segment interrupted by a crash (Kafka's LogLoader does the same): the
 * `.log.swap` is scanned (CRCs checked, indexes rebuilt), the old segments whose base offsets fall in its
 * range [base, next offset) are deleted, and the swap files take the final names.
 */
async function completeSwap(p: LoadParams, name: string, present: Set<string>): Promise<void> {
  const parsed = parseSegmentFileName(name.slice(0, -'.swap'.length));
  if (!parsed) return;
  const { cache, dir, logger } = p;
  const { size } = await cache.fs.stat(join(dir, name));
  const swap = new LogSegment(p.ctx, dir, parsed.baseOffset, {
    size,
    rollBaseMs: p.nowMs,
    indexesDurable: false,
    fresh: false,
    suffix: '.swap',
  });
  await swap.recover();
  await swap.fdatasync();
  const next = swap.nextOffset ?? parsed.baseOffset;
  for (const other of [...present]) {
    const o = parseSegmentFileName(other);
    if (o?.kind !== 'log' || o.baseOffset < parsed.baseOffset) continue;
    if (o.baseOffset !== parsed.baseOffset && o.baseOffset >= next) continue;
    const old = new LogSegment(p.ctx, dir, o.baseOffset, {
      size: 0,
      rollBaseMs: 0,
      indexesDurable: true,
      fresh: false,
    });
    await old.deleteFiles();
    for (const path of [old.logPath, old.indexPath, old.timeIndexPath]) present.delete(path.slice(dir.length + 1));
  }
  await swap.changeFileSuffixes('');
  for (const path of [swap.logPath, swap.indexPath, swap.timeIndexPath]) present.add(path.slice(dir.length + 1));
  logger.info(
    { file: swap.logPath, nextOffset: String(next) },
    'completed the swap of a cleaned segment interrupted by a crash',
  );
}

/**
 * Loads (or, when missing, creates) one partition directory. A created partition gets its .log file and
 * the directory is synced; the caller syncs the log dir (once for many partitions).
 */
export async function loadPartitionLog(p: LoadParams & { existing: true }): Promise<LoadedLog | null>;
export async function loadPartitionLog(p: LoadParams): Promise<LoadedLog>;
export async function loadPartitionLog(p: LoadParams): Promise<LoadedLog | null> {
  const { cache, logger, dir } = p;
  const fs = cache.fs;
  if (!p.existing) await fs.mkdir(dir);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (p.existing && errorCode(err) === 'ENOTDIR') return null;
    throw err;
  }
  const present = new Set(names);

  // Leftovers of interrupted deletions, checkpoint writes and cleanings go first, as in Kafka. A `.log.swap`
  // is a cleaned segment whose swap was committed: it is completed below. Index `.swap` files are dropped
  // (the swap's scan rebuilds them), as is everything `.cleaned` (a cleaning that did not reach its swap).
  const swaps: string[] = [];
  for (const name of names) {
    if (name.endsWith('.log.swap')) {
      swaps.push(name);
      present.delete(name);
    } else if (
      name.endsWith('.deleted') ||
      name.endsWith('.tmp') ||
      name.endsWith('.cleaned') ||
      name.endsWith('.swap')
    ) {
      await removeQuietly(cache, join(dir, name), logger);
      present.delete(name);
    }
  }
  for (const name of swaps) await completeSwap(p, name, present);

  const bases: bigint[] = [];
  for (const name of present) {
    const parsed = parseSegmentFileName(name);
    if (parsed?.kind === 'log') bases.push(parsed.baseOffset);
  }
  bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const baseSet = new Set(bases);
  for (const name of present) {
    const parsed = parseSegmentFileName(name);
    if (parsed && parsed.kind !== 'log' && !baseSet.has(parsed.baseOffset)) {
      logger.warn({ file: join(dir, name) }, 'removing an index file whose segment log is missing');
      await removeQuietly(cache, join(dir, name), logger);
    }
  }

  // Batches with a producer id seen by the recovery scans, for the producer state (no second read).
  const scanned: ScannedProducerBatches = { from: null, batches: [] };
  const collect = (chunk: Buffer, at: number) => {
    if (hasProducerIdAt(chunk, at)) {
      scanned.batches.push({ firstOffset: baseOffsetOf(chunk, at), batch: producerBatchAt(chunk, at) });
    }
  };
  const result: LoadedLog = {
    segments: [],
    logEndOffset: 0n,
    logStartOffset: 0n,
    epochs: [],
    topicId: p.topicId,
    recovered: false,
    truncatedBytes: 0,
    deletedSegments: 0,
  };

  /** Reads partition.metadata and the leader epoch checkpoint; writes partition.metadata when missing. */
  const readPartitionFiles = async (syncDir: boolean): Promise<void> => {
    const metadataText = present.has(PARTITION_METADATA) ? await tryRead(cache, join(dir, PARTITION_METADATA)) : null;
    if (metadataText !== null) {
      try {
        result.topicId = parsePartitionMetadata(metadataText);
      } catch (err) {
        logger.warn({ file: join(dir, PARTITION_METADATA), err }, 'ignoring an unreadable partition.metadata');
      }
    }
    if (metadataText === null && result.topicId) {
      const data = formatPartitionMetadata(result.topicId);
      await writeFileAtomically(cache, dir, join(dir, PARTITION_METADATA), data, { syncDir });
    }
    const epochText = present.has(LEADER_EPOCH_CHECKPOINT)
      ? await tryRead(cache, join(dir, LEADER_EPOCH_CHECKPOINT))
      : null;
    if (epochText !== null) {
      try {
        result.epochs = parseLeaderEpochCheckpoint(epochText);
      } catch (err) {
        logger.warn(
          { file: join(dir, LEADER_EPOCH_CHECKPOINT), err },
          'ignoring an unreadable leader epoch checkpoint',
        );
      }
    }
  };

  if (bases.length === 0) {
    // A new partition's directory sync below covers the rename of partition.metadata too.
    await readPartitionFiles(false);
    const start = p.logStartOffset ?? p.recoveryPoint ?? 0n;
    const segment = new LogSegment(p.ctx, dir, start, {
      size: 0,
      rollBaseMs: p.nowMs,
      indexesDurable: false,
      fresh: true,
    });
    // The index files are made before the first append (LogSegment.prepareForAppends).
    await segment.createFiles({ indexes: false, syncDir: true });
    result.segments = [segment];
    result.logEndOffset = start;
    result.logStartOffset = start;
    await loadProducerState(p, result, present, scanned);
    return result;
  }

  const segments: LogSegment[] = [];
  for (const base of bases) {
    const { size, mtimeMs } = await fs.stat(join(dir, `${base.toString().padStart(20, '0')}.log`));
    const segment = new LogSegment(p.ctx, dir, base, { size, rollBaseMs: p.nowMs, indexesDurable: true, fresh: false });
    segment.fileStat = { size, mtimeMs };
    segments.push(segment);
  }
  for (let i = 0; i + 1 < segments.length; i++) {
    const next = segments[i + 1]!.baseOffset;
    segments[i]!.upperBoundOffset = () => next;
  }
  const active = segments[segments.length - 1]!;
  const hasIndexes = (s: LogSegment) =>
    present.has(s.indexPath.slice(dir.length + 1)) && present.has(s.timeIndexPath.slice(dir.length + 1));

  // After a clean shutdown the recovery point is the log end offset; trust it unless it contradicts the files.
  const rp = p.recoveryPoint;
  const trustAll =
    p.cleanShutdown &&
    rp !== null &&
    rp >= active.baseOffset &&
    (active.writtenSize === 0 ? rp === active.baseOffset : rp > active.baseOffset);

  // The clean close recorded the active .log's size and modification time: if the file still has both,
  // nothing wrote to it or cut it since, and its tail is the one the close checked. Its indexes then load
  // on first use (LogSegment.prepareForAppends, reads), checked as those of sealed segments are.
  const atClose = p.atClose;
  const tailProven =
    trustAll &&
    hasIndexes(active) &&
    atClose != null &&
    atClose.baseOffset === active.baseOffset &&
    atClose.nextOffset === rp &&
    atClose.size === active.fileStat?.size &&
    atClose.mtimeMs === active.fileStat?.mtimeMs;

  // partition.metadata and the epoch checkpoint as the close recorded them, if those files are still there
  // (and no others); otherwise they are read.
  if (
    tailProven &&
    atClose.topicId !== undefined &&
    present.has(PARTITION_METADATA) === (atClose.topicId !== null) &&
    present.has(LEADER_EPOCH_CHECKPOINT) === atClose.epochs.length > 0
  ) {
    result.topicId = atClose.topicId ?? p.topicId;
    result.epochs = atClose.epochs;
    if (atClose.topicId === null && p.topicId) await readPartitionFiles(true);
  } else {
    await readPartitionFiles(true);
  }

  let logEndOffset: bigint;
  if (trustAll) {
    logEndOffset = rp;
    active.nextOffset = rp;
    for (const s of segments) {
      if (!hasIndexes(s)) {
        logger.warn({ file: s.logPath }, 'index files missing; rebuilding them from the log');
        await s.recover();
      }
    }
    if (tailProven) {
      active.firstBatchTimestampValue = atClose.firstBatchTimestamp;
    } else {
      await active.ensureIndexesLoaded();
      // The marker vouches for what was written, not for what happened to the files since: a tail cut or
      // overwritten while the broker was down would otherwise be served, and appended after, as it is.
      const problem = await active.checkTail(active.nextOffset ?? rp);
      if (problem) {
        logger.warn(
          { file: active.logPath, problem },
          'the active segment changed after the clean shutdown; scanning it and cutting what does not check out',
        );
        scanned.from = active.baseOffset;
        const recovery = await active.recover(collect);
        await active.fdatasync();
        result.recovered = true;
        result.truncatedBytes += recovery.truncatedBytes;
      }
      logEndOffset = active.nextOffset ?? rp;
    }
  } else {
    result.recovered = true;
    // Segments from the one holding the recovery point onwards may hold unflushed data: scan them.
    let first = 0;
    if (rp !== null) {
      for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= rp) first = i;
    }
    for (let i = 0; i < first; i++) {
      const s = segments[i]!;
      if (!hasIndexes(s)) {
        logger.warn({ file: s.logPath }, 'index files missing; rebuilding them from the log');
        await s.recover();
      }
    }
    let kept = segments.length;
    scanned.from = segments[first]!.baseOffset;
    for (let i = first; i < segments.length; i++) {
      const s = segments[i]!;
      const recovery = await s.recover(collect);
      result.truncatedBytes += recovery.truncatedBytes;
      await s.fdatasync();
      if (recovery.truncatedBytes > 0 && i + 1 < segments.length) {
        kept = i + 1;
        break;
      }
    }
    for (const s of segments.slice(kept)) {
      logger.warn(
        { file: s.logPath, afterCorruptSegment: segments[kept - 1]!.logPath },
        `deleting segment ${s.logPath}: it follows a corrupt segment, so its offsets cannot be trusted`,
      );
      await s.deleteFiles();
      result.deletedSegments++;
    }
    segments.length = kept;
    const last = segments[segments.length - 1]!;
    last.upperBoundOffset = () => null;
    logEndOffset = last.nextOffset ?? last.baseOffset;
  }

  // The active segment's index files are preallocated before its first append, not here.
  const newActive = segments[segments.length - 1]!;
  const firstTimestamp = await newActive.firstBatchTimestamp();
  if (firstTimestamp !== null) newActive.rollBaseMs = Number(firstTimestamp);

  const firstBase = segments[0]!.baseOffset;
  let logStartOffset = p.logStartOffset !== null && p.logStartOffset > firstBase ? p.logStartOffset : firstBase;
  if (logStartOffset > logEndOffset) logStartOffset = logEndOffset;

  result.segments = segments;
  result.logEndOffset = logEndOffset;
  result.logStartOffset = logStartOffset;
  // Transaction indexes: those of trusted segments are read (only where the directory lists one); those of
  // scanned segments are rebuilt from the markers the scan found, as Kafka's LogSegment.recover does.
  for (const s of segments) {
    if (scanned.from !== null && s.baseOffset >= scanned.from) s.txnIndex.reset();
    else if (present.has(basename(s.txnIndex.path))) await s.txnIndex.load(logger);
  }
  await loadProducerState(p, result, present, scanned);
  if (scanned.from !== null) {
    for (const s of segments) if (s.baseOffset >= scanned.from) await s.txnIndex.flush();
  }
  return result;
}

interface ScannedProducerBatches {
  /** The base offset of the first segment the recovery scanned, null when none was. */
  from: bigint | null;
  batches: Array<{ firstOffset: bigint; batch: ProducerBatch }>;
}

/**
 * The producer state (Kafka's LogLoader.rebuildProducerState). Snapshots past the log end offset describe
 * data that is gone and are deleted. After a clean shutdown the state is the snapshot at the log end
 * offset (the close wrote one when there were producers), so only partitions that had producers read a
 * file. After a crash it is the latest readable snapshot plus the batch headers written after it, read
 * from the segments without decoding any record.
 */
async function loadProducerState(
  p: LoadParams,
  result: LoadedLog,
  present: Set<string>,
  scanned: ScannedProducerBatches,
): Promise<void> {
  const { cache, logger, dir } = p;
  const offsets: bigint[] = [];
  for (const name of present) {
    const offset = parseSnapshotFileName(name);
    if (offset !== null) offsets.push(offset);
  }
  offsets.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const remove = async (offset: bigint) => {
    await removeQuietly(cache, join(dir, snapshotFileName(offset)), logger);
    offsets.splice(offsets.indexOf(offset), 1);
  };
  for (const offset of [...offsets]) if (offset > result.logEndOffset) await remove(offset);
  const expirationMs = p.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
  const live = (entries: ProducerStateEntry[]) => entries.filter((e) => !isExpired(e, p.nowMs, expirationMs));

  // The latest snapshot at or below `bound` that reads back whole; a corrupt one is deleted and the one
  // before it tried.
  const latestSnapshot = async (bound: bigint) => {
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i]!;
      if (offset > bound) continue;
      if (!result.recovered && offset !== result.logEndOffset) return null;
      try {
        const bytes = await readWholeFile(cache, join(dir, snapshotFileName(offset)));
        return { offset, entries: decodeProducerSnapshot(bytes) };
      } catch (err) {
        if (!(err instanceof CorruptSnapshotError) && !isNotFound(err)) throw err;
        logger.warn({ file: join(dir, snapshotFileName(offset)), err }, 'deleting an unreadable producer snapshot');
        await remove(offset);
      }
    }
    return null;
  };
  let snapshot = await latestSnapshot(result.logEndOffset);
  // The scanned segments' transaction indexes are rebuilt by replaying their markers, which needs the
  // transactions open at the first scanned offset: with transactional batches scanned below the snapshot,
  // the replay starts from one at or below the scan instead (Kafka's recovery of a segment likewise
  // rebuilds the producer state up to its base).
  const scannedFrom = scanned.from;
  if (
    snapshot !== null &&
    scannedFrom !== null &&
    snapshot.offset > scannedFrom &&
    scanned.batches.some((b) => b.batch.isTransactional && b.firstOffset < snapshot!.offset)
  ) {
    snapshot = await latestSnapshot(scannedFrom);
  }
  result.snapshotOffsets = offsets;
  if (!result.recovered) {
    result.producers = snapshot ? live(snapshot.entries) : [];
    return;
  }
  const state = new ProducerStateManager(snapshot?.entries ?? []);
  const from = snapshot?.offset ?? result.logStartOffset;
  // Segments between the snapshot and the first scanned one are read for their batch headers only.
  const replayTo = scanned.from ?? result.logEndOffset;
  for (const segment of result.segments) {
    if (segment.baseOffset >= replayTo) break;
    const upper = segment.upperBoundOffset();
    if (upper !== null && upper <= from) continue;
    const start = segment.baseOffset < from ? ((await segment.findBatch(from))?.position ?? segment.writtenSize) : 0;
    await segment.forEachBatch(start, segment.writtenSize, async (b, window, at) => {
      if (b.baseOffset < from) return true;
      // A marker is read from its record: a control batch cut by the header window is read whole.
      if (needsMarkerRead(window, at)) state.replayBatchAt(await segment.read(b.position, b.size), 0);
      else state.replayBatchAt(window, at);
      return true;
    });
  }
  for (const { firstOffset, batch } of scanned.batches) {
    if (firstOffset < from || firstOffset >= result.logEndOffset) continue;
    const completed = state.replay(batch, firstOffset);
    if (completed?.isAborted && scannedFrom !== null && completed.lastOffset >= scannedFrom) {
      const segment = segmentHolding(result.segments, completed.lastOffset);
      segment.txnIndex.append({
        producerId: completed.producerId,
        firstOffset: completed.firstOffset,
        lastOffset: completed.lastOffset,
        lastStableOffset: completed.lastStableOffset,
      });
    }
  }
  result.producers = live(state.entries());
}

function segmentHolding(segments: readonly LogSegment[], offset: bigint): LogSegment {
  let found = segments[0]!;
  for (const s of segments) if (s.baseOffset <= offset) found = s;
  return found;
}
