/**
 * A bounded pool of open file descriptors shared by every partition of a LogStore. Segment and index
 * files are opened on first use and kept in least-recently-used order; when the pool is full the
 * oldest idle descriptor is closed. A descriptor in use (reference count above zero) is never closed,
 * so closing cannot race a read, write or fsync on it; when every descriptor is busy, new users wait.
 * Short-lived files (checkpoints) count against the same bound, so the bound is a hard limit.
 * Every use opens, touches and releases one file: nobody holds two at once, so waiting cannot deadlock.
 */
import { dirname } from 'node:path';
import { type StorageFs, writeFully } from './storage-fs.js';

interface Entry {
  /** The path, or the path and DURABLE_KEY for its 'dsync' descriptor. */
  key: string;
  path: string;
  dir: string;
  fd: number | null;
  opening: Promise<number> | null;
  refs: number;
  /** Forgotten (renamed, deleted): closed when the last user releases it. */
  doomed: boolean;
}

export const DEFAULT_MAX_OPEN_FILES = 1000;
/** Cache key suffix of a file's second descriptor, opened 'dsync' for durable writes. */
const DURABLE_KEY = '\u0000dsync';

export class FileCache {
  /** Map iteration order is the LRU order: oldest use first. */
  private readonly entries = new Map<string, Entry>();
  /** The cached paths of each directory, so closing one partition does not walk every entry. */
  private readonly byDir = new Map<string, Set<string>>();
  /** Descriptors open, being opened or being closed. */
  private slots = 0;
  private waiters: Array<() => void> = [];
  private peak = 0;

  constructor(
    readonly fs: StorageFs,
    readonly maxOpen: number = DEFAULT_MAX_OPEN_FILES,
  ) {
    if (!(maxOpen >= 1)) throw new RangeError(`maxOpen must be at least 1, got ${maxOpen}`);
  }

  /** Descriptors currently held (open or in transition). */
  get openCount(): number {
    return this.slots;
  }

  /** The most descriptors held at once since creation. */
  get peakOpenCount(): number {
    return this.peak;
  }

  /**
   * Runs `fn` with a cached descriptor for `path` (read-write). With `create`, a missing file is created;
   * otherwise a missing file fails with ENOENT, so a late reader never resurrects a deleted segment. With
   * `durable`, the descriptor is a second one, opened 'dsync' (created when missing): its writes are durable
   * when they return.
   */
  async use<T>(
    path: string,
    fn: (fd: number) => Promise<T>,
    opts: { create?: boolean; durable?: boolean } = {},
  ): Promise<T> {
    const entry = await this.acquire(path, opts.durable ? 'dsync' : opts.create ? 'rw' : 'r+');
    try {
      return await fn(entry.fd!);
    } finally {
      this.release(entry);
    }
  }

  /** Runs `fn` with a descriptor opened for this call only (checkpoints, metadata files). */
  async useOnce<T>(path: string, mode: 'r' | 'rw', fn: (fd: number) => Promise<T>): Promise<T> {
    await this.takeSlot();
    let fd: number;
    try {
      fd = await this.fs.open(path, mode);
    } catch (err) {
      this.freeSlot();
      throw err;
    }
    try {
      return await fn(fd);
    } finally {
      try {
        await this.fs.close(fd);
      } finally {
        this.freeSlot();
      }
    }
  }

  /**
   * Stops caching `path` (before a rename or unlink): its descriptor closes once idle, and the next use
   * opens the path afresh.
   */
  async forget(path: string): Promise<void> {
    await Promise.all([this.forgetKey(path), this.forgetKey(path + DURABLE_KEY)]);
  }

  private async forgetKey(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.remove(entry);
    entry.doomed = true;
    if (entry.refs === 0 && entry.fd !== null) await this.closeEntry(entry);
  }

  /** Forgets every file of a directory (a partition being deleted or closed). */
  async forgetUnder(dir: string): Promise<void> {
    const keys = this.byDir.get(dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir);
    if (keys) await Promise.all([...keys].map((k) => this.forgetKey(k)));
  }

  /** Closes every idle descriptor; busy ones close when released. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((k) => this.forgetKey(k)));
  }

  private async acquire(path: string, mode: 'r+' | 'rw' | 'dsync'): Promise<Entry> {
    const key = mode === 'dsync' ? path + DURABLE_KEY : path;
    for (;;) {
      const existing = this.entries.get(key);
      if (existing) {
        existing.refs++;
        this.entries.delete(key);
        this.entries.set(key, existing);
        if (existing.fd === null) {
          try {
            await existing.opening;
          } catch (err) {
            existing.refs--;
            throw err;
          }
        }
        return existing;
      }
      await this.takeSlot();
      if (this.entries.has(key)) {
        // Another caller opened it while this one waited for a slot.
        this.freeSlot();
        continue;
      }
      const entry: Entry = { key, path, dir: dirname(path), fd: null, opening: null, refs: 1, doomed: false };
      entry.opening = this.fs.open(path, mode);
      this.add(entry);
      try {
        entry.fd = await entry.opening;
      } catch (err) {
        this.remove(entry);
        entry.refs = 0;
        this.freeSlot();
        throw err;
      }
      entry.opening = null;
      return entry;
    }
  }

  private release(entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    if (entry.doomed || this.slots > this.maxOpen) {
      this.remove(entry);
      entry.doomed = true;
      if (entry.fd !== null) void this.closeEntry(entry);
      return;
    }
    this.wake();
  }

  private add(entry: Entry): void {
    this.entries.set(entry.key, entry);
    let keys = this.byDir.get(entry.dir);
    if (!keys) this.byDir.set(entry.dir, (keys = new Set()));
    keys.add(entry.key);
  }

  /** Drops `entry` from the maps if it is still the one cached for its key. */
  private remove(entry: Entry): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    const keys = this.byDir.get(entry.dir);
    keys?.delete(entry.key);
    if (keys?.size === 0) this.byDir.delete(entry.dir);
  }

  private async takeSlot(): Promise<void> {
    while (this.slots >= this.maxOpen) {
      let victim: Entry | undefined;
      for (const e of this.entries.values()) {
        if (e.refs === 0 && e.fd !== null) {
          victim = e;
          break;
        }
      }
      if (victim) {
        this.remove(victim);
        victim.doomed = true;
        await this.closeEntry(victim);
      } else {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    }
    this.slots++;
    if (this.slots > this.peak) this.peak = this.slots;
  }

  private freeSlot(): void {
    this.slots--;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async closeEntry(entry: Entry): Promise<void> {
    const fd = entry.fd;
    if (fd === null) return;
    entry.fd = null;
    try {
      await this.fs.close(fd);
    } catch {
      // The descriptor is gone either way; a failed close loses nothing the log relies on.
    } finally {
      this.freeSlot();
    }
  }
}

/**
 * Reads a whole small file (checkpoints, metadata) through the cache's bound, without asking its size
 * first: a read of a regular file that returns less than asked has reached the end (these files are
 * replaced by rename, never written in place), so the usual file of a few dozen bytes takes one read.
 */
export async function readWholeFile(cache: FileCache, path: string): Promise<Buffer> {
  return cache.useOnce(path, 'r', async (fd) => {
    let buf = Buffer.allocUnsafe(4096);
    let size = 0;
    for (;;) {
      if (size === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, size);
        buf = bigger;
      }
      const want = buf.length - size;
      const n = await cache.fs.read(fd, buf, size, want, size);
      size += n;
      if (n < want) return buf.subarray(0, size);
    }
  });
}

/**
 * Replaces a small file atomically and durably, as Kafka writes its checkpoints: write `<path>.tmp`,
 * fdatasync it, rename it over `path`, then sync the directory so the rename survives a crash.
 */
export async function writeFileAtomically(
  cache: FileCache,
  dir: string,
  path: string,
  data: Buffer,
  opts: { syncDir?: boolean } = {},
): Promise<void> {
  const tmp = `${path}.tmp`;
  await cache.useOnce(tmp, 'rw', async (fd) => {
    await cache.fs.ftruncate(fd, 0);
    await writeFully(cache.fs, fd, [data], 0);
    await cache.fs.fdatasync(fd);
  });
  await cache.fs.rename(tmp, path);
  // A caller that syncs the directory itself right after (a new partition) passes syncDir: false.
  if (opts.syncDir ?? true) await cache.fs.syncDir(dir);
}
