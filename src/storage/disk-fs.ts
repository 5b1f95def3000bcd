/** The disk engine: StorageFs over real files with node:fs/promises (never the sync API). */
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises';
import { type FileStat, fsError, type OpenMode, type StorageFs } from './storage-fs.js';

const READ_WRITE_CREATE = constants.O_RDWR | constants.O_CREAT;

function toStat(s: { size: number; mtimeMs: number; isFile(): boolean; isDirectory(): boolean }): FileStat {
  return { size: s.size, mtimeMs: s.mtimeMs, isFile: s.isFile(), isDirectory: s.isDirectory() };
}

export class DiskFs implements StorageFs {
  private readonly handles = new Map<number, FileHandle>();

  private handle(fd: number): FileHandle {
    const h = this.handles.get(fd);
    if (!h) throw fsError('EBADF', `descriptor ${fd} is not open`);
    return h;
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    const h = await open(path, mode === 'rw' ? READ_WRITE_CREATE : mode, 0o644);
    this.handles.set(h.fd, h);
    return h.fd;
  }

  async close(fd: number): Promise<void> {
    const h = this.handle(fd);
    this.handles.delete(fd);
    await h.close();
  }

  async read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const { bytesRead } = await this.handle(fd).read(buffer, offset, length, position);
    return bytesRead;
  }

  async write(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    const { bytesWritten } = await this.handle(fd).write(buffer, offset, length, position);
    return bytesWritten;
  }

  async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    const { bytesWritten } = await this.handle(fd).writev(buffers as Buffer[], position);
    return bytesWritten;
  }

  async fdatasync(fd: number): Promise<void> {
    await this.handle(fd).datasync();
  }

  async ftruncate(fd: number, length: number): Promise<void> {
    await this.handle(fd).truncate(length);
  }

  async fstat(fd: number): Promise<FileStat> {
    return toStat(await this.handle(fd).stat());
  }

  async stat(path: string): Promise<FileStat> {
    return toStat(await stat(path));
  }

  async readdir(path: string): Promise<string[]> {
    return readdir(path);
  }

  async mkdir(path: string): Promise<void> {
    await mkdir(path, { recursive: true });
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    await unlink(path);
  }

  async rmdir(path: string): Promise<void> {
    await rmdir(path);
  }

  async syncDir(path: string): Promise<void> {
    const h = await open(path, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}
