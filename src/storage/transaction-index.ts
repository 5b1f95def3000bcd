/**
 * A segment's `.txnindex` (Kafka's TransactionIndex): one entry per transaction aborted by a marker in
 * that segment, so a read_committed Fetch can tell consumers which producers' records to drop. Entries are
 * Kafka's AbortedTxn, 34 bytes: version int16 (0), producer_id int64, first_offset int64, last_offset
 * int64 (the ABORT marker's offset), last_stable_offset int64 (the LSO once the marker was written).
 *
 * Aborts are rare, so the entries stay in memory: a segment's file is read once when the partition opens
 * (only when the directory lists one), and appends go to memory at once and to the file from the log's
 * writer. Like Kafka, the file only exists once it holds an entry, and is fsynced when its segment's
 * indexes are sealed (roll, clean close); the active segment's is rebuilt by the recovery scan after a crash.
 */
import { join } from 'node:path';
import type { StorageLogger } from './errors.js';
import { type FileCache, readWholeFile } from './file-cache.js';
import { isNotFound, writeFully } from './storage-fs.js';

export const ABORTED_TXN_VERSION = 0;
export const ABORTED_TXN_ENTRY_SIZE = 34;
export const TXN_INDEX_SUFFIX = '.txnindex';

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: bigint;
  /** The offset of the ABORT marker. */
  lastOffset: bigint;
  lastStableOffset: bigint;
}

export function encodeAbortedTxns(entries: readonly AbortedTxn[]): Buffer {
  const buf = Buffer.alloc(entries.length * ABORTED_TXN_ENTRY_SIZE);
  let at = 0;
  for (const e of entries) {
    buf.writeInt16BE(ABORTED_TXN_VERSION, at);
    buf.writeBigInt64BE(e.producerId, at + 2);
    buf.writeBigInt64BE(e.firstOffset, at + 10);
    buf.writeBigInt64BE(e.lastOffset, at + 18);
    buf.writeBigInt64BE(e.lastStableOffset, at + 26);
    at += ABORTED_TXN_ENTRY_SIZE;
  }
  return buf;
}

/**
 * The entries of a `.txnindex` file. Reading stops at a partial entry or one of an unknown version (a torn
 * write): what follows cannot be trusted, and the caller cuts it off.
 */
export function decodeAbortedTxns(buf: Buffer): { entries: AbortedTxn[]; problem: string | null } {
  const entries: AbortedTxn[] = [];
  let at = 0;
  for (; at + ABORTED_TXN_ENTRY_SIZE <= buf.length; at += ABORTED_TXN_ENTRY_SIZE) {
    const version = buf.readInt16BE(at);
    if (version !== ABORTED_TXN_VERSION) return { entries, problem: `entry ${entries.length} has version ${version}` };
    entries.push({
      producerId: buf.readBigInt64BE(at + 2),
      firstOffset: buf.readBigInt64BE(at + 10),
      lastOffset: buf.readBigInt64BE(at + 18),
      lastStableOffset: buf.readBigInt64BE(at + 26),
    });
  }
  return { entries, problem: at === buf.length ? null : `${buf.length - at} trailing bytes` };
}

export class TransactionIndex {
  readonly path: string;
  private list: AbortedTxn[] = [];
  /** Entries the file holds (its size / 34), as far as this process wrote or read it. */
  private fileEntries = 0;
  /** The file is longer than its good entries (a cut, a torn tail read at open): cut it on the next write. */
  private fileTooLong = false;
  private unsynced = false;
  /** Counts truncations, so a write that ran meanwhile knows its count of file entries is stale. */
  private cuts = 0;

  constructor(
    private readonly cache: FileCache,
    dir: string,
    baseOffset: bigint,
  ) {
    this.path = join(dir, `${baseOffset.toString().padStart(20, '0')}${TXN_INDEX_SUFFIX}`);
  }

  get entries(): readonly AbortedTxn[] {
    return this.list;
  }

  get isEmpty(): boolean {
    return this.list.length === 0;
  }

  /** Whether entries or a cut are not yet in the file. */
  get dirty(): boolean {
    return this.fileEntries !== this.list.length || this.fileTooLong;
  }

  /** Reads the file (a missing one is empty); a torn or unknown tail is dropped and cut at the next write. */
  async load(logger: StorageLogger): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readWholeFile(this.cache, this.path);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const { entries, problem } = decodeAbortedTxns(bytes);
    if (problem) {
      logger.warn({ file: this.path, problem }, 'ignoring the unreadable tail of a transaction index');
      this.fileTooLong = true;
    }
    this.list = entries;
    this.fileEntries = entries.length;
  }

  /** Adds the entry of an ABORT marker (in memory; `persist` writes it). Markers come in offset order. */
  append(txn: AbortedTxn): void {
    const last = this.list[this.list.length - 1];
    if (last && txn.lastOffset < last.lastOffset) {
      throw new RangeError(
        `aborted transaction ending at ${txn.lastOffset} comes after one ending at ${last.lastOffset} in ${this.path}`,
      );
    }
    this.list.push(txn);
  }

  /** Forgets the entries whose marker is at or after `offset` (the log was cut back there). */
  truncateTo(offset: bigint): void {
    let keep = this.list.length;
    while (keep > 0 && this.list[keep - 1]!.lastOffset >= offset) keep--;
    if (keep === this.list.length) return;
    this.list = this.list.slice(0, keep);
    this.cuts++;
    if (this.fileEntries > keep) {
      this.fileEntries = keep;
      this.fileTooLong = true;
    }
  }

  /** Forgets every entry (the segment is rescanned after a crash and its index rebuilt). */
  reset(): void {
    this.truncateTo(-1n);
    this.cuts++;
    this.fileEntries = 0;
    // A file left by the crash may hold entries this process never read: cut it whatever the count.
    this.fileTooLong = true;
  }

  /** Writes the entries not yet in the file, after cutting what a truncation removed. */
  async persist(): Promise<void> {
    if (!this.dirty) return;
    const fs = this.cache.fs;
    const from = this.fileEntries;
    const upTo = this.list.length;
    const cut = this.fileTooLong;
    const cuts = this.cuts;
    if (upTo === 0 && !(await this.exists())) {
      if (cuts === this.cuts) this.fileTooLong = false;
      return;
    }
    await this.cache.use(
      this.path,
      async (fd) => {
        if (cut) await fs.ftruncate(fd, from * ABORTED_TXN_ENTRY_SIZE);
        if (upTo > from) {
          await writeFully(fs, fd, [encodeAbortedTxns(this.list.slice(from, upTo))], from * ABORTED_TXN_ENTRY_SIZE);
        }
      },
      { create: true },
    );
    this.unsynced = true;
    if (cuts !== this.cuts) {
      // Cut back while writing: the file may hold entries past the new end, cut at the next write.
      this.fileEntries = Math.min(upTo, this.list.length);
      this.fileTooLong = true;
    } else {
      this.fileEntries = upTo;
      if (cut) this.fileTooLong = false;
    }
  }

  /** Writes and fsyncs the file (its segment's indexes are being sealed). */
  async flush(): Promise<void> {
    await this.persist();
    if (!this.unsynced) return;
    await this.cache.use(this.path, (fd) => this.cache.fs.fdatasync(fd));
    this.unsynced = false;
  }

  private async exists(): Promise<boolean> {
    try {
      await this.cache.fs.stat(this.path);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * The aborted transactions overlapping [fetchOffset, upperBoundOffset) (Kafka's collectAbortedTxns);
   * `complete` when an entry's last stable offset reaches the upper bound, so no later segment can hold
   * another transaction overlapping the range.
   */
  collect(fetchOffset: bigint, upperBoundOffset: bigint, into: AbortedTxn[]): boolean {
    for (const txn of this.list) {
      if (txn.lastOffset >= fetchOffset && txn.firstOffset < upperBoundOffset) into.push(txn);
      if (txn.lastStableOffset >= upperBoundOffset) return true;
    }
    return false;
  }
}
