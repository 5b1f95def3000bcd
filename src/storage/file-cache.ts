/**
 * A bounded pool of open file descriptors shared by every partition of a LogStore. Segment and index
 * files are opened on first use and kept in least-recently-used order; when the pool is full the
 * oldest idle descriptor is closed. A descriptor in use (reference count above zero) is never closed,
 * so closing cannot race a read, write or fsync on it; when every descriptor is busy, new users wait.
 * Short-lived files (checkpoints) count against the same bound, so the bound is a hard limit.
 * Every use opens, touches and releases one file: nobody holds two at once, so waiting cannot deadlock.
 */
import { readFully, type StorageFs, writeFully } from './storage-fs.js';

interface Entry {
  path: string;
  fd: number | null;
  opening: Promise<number> | null;
  refs: number;
  /** Forgotten (renamed, deleted): closed when the last user releases it. */
  doomed: boolean;
}

export const DEFAULT_MAX_OPEN_FILES = 1000;

export class FileCache {
  /** Map iteration order is the LRU order: oldest use first. */
  private readonly entries = new Map<string, Entry>();
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
   * otherwise a missing file fails with ENOENT, so a late reader never resurrects a deleted segment.
   */
  async use<T>(path: string, fn: (fd: number) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
    const entry = await this.acquire(path, opts.create ?? false);
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
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    entry.doomed = true;
    if (entry.refs === 0 && entry.fd !== null) await this.closeEntry(entry);
  }

  /** Forgets every path under a directory prefix (a partition being deleted or closed). */
  async forgetUnder(dir: string): Promise<void> {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    await Promise.all([...this.entries.keys()].filter((p) => p.startsWith(prefix)).map((p) => this.forget(p)));
  }

  /** Closes every idle descriptor; busy ones close when released. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((p) => this.forget(p)));
  }

  private async acquire(path: string, create: boolean): Promise<Entry> {
    for (;;) {
      const existing = this.entries.get(path);
      if (existing) {
        existing.refs++;
        this.entries.delete(path);
        this.entries.set(path, existing);
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
      if (this.entries.has(path)) {
        // Another caller opened it while this one waited for a slot.
        this.freeSlot();
        continue;
      }
      const entry: Entry = { path, fd: null, opening: null, refs: 1, doomed: false };
      entry.opening = this.fs.open(path, create ? 'rw' : 'r+');
      this.entries.set(path, entry);
      try {
        entry.fd = await entry.opening;
      } catch (err) {
        if (this.entries.get(path) === entry) this.entries.delete(path);
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
      if (this.entries.get(entry.path) === entry) this.entries.delete(entry.path);
      entry.doomed = true;
      if (entry.fd !== null) void this.closeEntry(entry);
      return;
    }
    this.wake();
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
        this.entries.delete(victim.path);
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

/** Reads a whole small file (checkpoints, metadata) through the cache's bound. */
export async function readWholeFile(cache: FileCache, path: string): Promise<Buffer> {
  return cache.useOnce(path, 'r', async (fd) => {
    const { size } = await cache.fs.fstat(fd);
    const buf = Buffer.allocUnsafe(size);
    const n = await readFully(cache.fs, fd, buf, 0, size, 0);
    return buf.subarray(0, n);
  });
}

/**
 * Replaces a small file atomically and durably, as Kafka writes its checkpoints: write `<path>.tmp`,
 * fdatasync it, rename it over `path`, then sync the directory so the rename survives a crash.
 */
export async function writeFileAtomically(cache: FileCache, dir: string, path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  await cache.useOnce(tmp, 'rw', async (fd) => {
    await cache.fs.ftruncate(fd, 0);
    await writeFully(cache.fs, fd, [data], 0);
    await cache.fs.fdatasync(fd);
  });
  await cache.fs.rename(tmp, path);
  await cache.fs.syncDir(dir);
}
