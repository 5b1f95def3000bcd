/**
 * A StorageFs wrapper that calls a hook before every operation, with the path the operation touches
 * (descriptor calls are traced back to the path they were opened with). The hook may throw to inject a
 * failure (EIO, ENOSPC) or return a promise to hold the call (a slow or paused fsync). Used by the
 * storage tests and by fault injection in the embedding API.
 */
import type { FileStat, OpenMode, StorageFs } from './storage-fs.js';

export type FsOperation = keyof StorageFs;

export interface FsCall {
  op: FsOperation;
  path: string;
  fd?: number;
  /** Bytes asked for, for read/write/writev. */
  length?: number;
  position?: number;
  /** For open: the mode asked for. */
  mode?: OpenMode;
  /** A write on a descriptor opened 'dsync': it includes an fdatasync of what it writes. */
  durable?: boolean;
}

export type FsHook = (call: FsCall) => void | Promise<void>;

export class InterceptFs implements StorageFs {
  private readonly paths = new Map<number, string>();
  private readonly durable = new Set<number>();

  constructor(
    readonly inner: StorageFs,
    private readonly hook: FsHook,
  ) {}

  private durability(fd: number): { durable?: true } {
    return this.durable.has(fd) ? { durable: true } : {};
  }

  private pathOf(fd: number): string {
    return this.paths.get(fd) ?? `<fd ${fd}>`;
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    await this.hook({ op: 'open', path, mode });
    const fd = await this.inner.open(path, mode);
    this.paths.set(fd, path);
    if (mode === 'dsync') this.durable.add(fd);
    else this.durable.delete(fd);
    return fd;
  }

  async close(fd: number): Promise<void> {
    await this.hook({ op: 'close', path: this.pathOf(fd), fd });
    this.paths.delete(fd);
    this.durable.delete(fd);
    await this.inner.close(fd);
  }

  async read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    await this.hook({ op: 'read', path: this.pathOf(fd), fd, length, position });
    return this.inner.read(fd, buffer, offset, length, position);
  }

  async write(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    await this.hook({ op: 'write', path: this.pathOf(fd), fd, length, position, ...this.durability(fd) });
    return this.inner.write(fd, buffer, offset, length, position);
  }

  async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    const length = buffers.reduce((sum, b) => sum + b.length, 0);
    await this.hook({ op: 'writev', path: this.pathOf(fd), fd, length, position, ...this.durability(fd) });
    return this.inner.writev(fd, buffers, position);
  }

  async fdatasync(fd: number): Promise<void> {
    await this.hook({ op: 'fdatasync', path: this.pathOf(fd), fd });
    await this.inner.fdatasync(fd);
  }

  async ftruncate(fd: number, length: number): Promise<void> {
    await this.hook({ op: 'ftruncate', path: this.pathOf(fd), fd, length });
    await this.inner.ftruncate(fd, length);
  }

  async fstat(fd: number): Promise<FileStat> {
    await this.hook({ op: 'fstat', path: this.pathOf(fd), fd });
    return this.inner.fstat(fd);
  }

  async stat(path: string): Promise<FileStat> {
    await this.hook({ op: 'stat', path });
    return this.inner.stat(path);
  }

  async readdir(path: string): Promise<string[]> {
    await this.hook({ op: 'readdir', path });
    return this.inner.readdir(path);
  }

  async mkdir(path: string): Promise<void> {
    await this.hook({ op: 'mkdir', path });
    await this.inner.mkdir(path);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.hook({ op: 'rename', path: from });
    await this.inner.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await this.hook({ op: 'unlink', path });
    await this.inner.unlink(path);
  }

  async rmdir(path: string): Promise<void> {
    await this.hook({ op: 'rmdir', path });
    await this.inner.rmdir(path);
  }

  async syncDir(path: string): Promise<void> {
    await this.hook({ op: 'syncDir', path });
    await this.inner.syncDir(path);
  }
}
