/**
 * The memory engine: StorageFs held in process memory. It behaves like POSIX where the log cares (an
 * open descriptor keeps reading a renamed or unlinked file, files extended by ftruncate read as zeros
 * without taking memory), and fdatasync is a no-op, so the log's durability logic runs unchanged.
 * Keeping one MemoryFs and opening a new LogStore over it simulates a broker restart.
 */
import { posix } from 'node:path';
import { type FileStat, fsError, type OpenMode, type StorageFs } from './storage-fs.js';

let lastMtimeMs = 0;

/**
 * A modification time that differs from every earlier one, even within a millisecond: a change is then
 * always visible in the time (on disk, two writes within a clock tick may share one).
 */
function nextMtimeMs(): number {
  lastMtimeMs = Math.max(Date.now(), lastMtimeMs + 0.001);
  return lastMtimeMs;
}

class MemoryFile {
  /** Bytes actually stored; the file may be longer (a sparse tail reads as zeros). */
  data: Buffer = Buffer.alloc(0);
  size = 0;
  mtimeMs = nextMtimeMs();

  read(buffer: Buffer, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    const stored = Math.max(0, Math.min(n, this.data.length - position));
    if (stored > 0) this.data.copy(buffer, offset, position, position + stored);
    if (stored < n) buffer.fill(0, offset + stored, offset + n);
    return n;
  }

  write(source: Buffer, position: number): void {
    const end = position + source.length;
    if (end > this.data.length) {
      const grown = Buffer.alloc(Math.max(end, Math.min(this.data.length * 2, end + 64 * 1024 * 1024)));
      this.data.copy(grown, 0, 0, Math.min(this.data.length, this.size));
      this.data = grown;
    }
    source.copy(this.data, position);
    if (end > this.size) this.size = end;
    this.mtimeMs = nextMtimeMs();
  }

  truncate(length: number): void {
    if (length < this.size && length < this.data.length) {
      this.data.fill(0, length, Math.min(this.size, this.data.length));
    }
    this.size = length;
    this.mtimeMs = nextMtimeMs();
  }
}

interface OpenFile {
  file: MemoryFile;
  writable: boolean;
}

export class MemoryFs implements StorageFs {
  private readonly files = new Map<string, MemoryFile>();
  private readonly dirs = new Set<string>(['/']);
  private readonly descriptors = new Map<number, OpenFile>();
  private nextFd = 3;

  private static normalize(path: string): string {
    const p = posix.resolve('/', path);
    return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  }

  private descriptor(fd: number): OpenFile {
    const d = this.descriptors.get(fd);
    if (!d) throw fsError('EBADF', `descriptor ${fd} is not open`);
    return d;
  }

  private requireParent(path: string): void {
    const parent = posix.dirname(path);
    if (!this.dirs.has(parent)) throw fsError('ENOENT', `no such directory '${parent}'`);
  }

  /** Number of descriptors currently open (for tests of the descriptor bound). */
  get openDescriptors(): number {
    return this.descriptors.size;
  }

  async open(path: string, mode: OpenMode): Promise<number> {
    const p = MemoryFs.normalize(path);
    let file = this.files.get(p);
    if (!file) {
      if (this.dirs.has(p)) throw fsError('EISDIR', `'${p}' is a directory`);
      if (mode !== 'rw' && mode !== 'dsync') throw fsError('ENOENT', `no such file '${p}'`);
      this.requireParent(p);
      file = new MemoryFile();
      this.files.set(p, file);
    }
    const fd = this.nextFd++;
    this.descriptors.set(fd, { file, writable: mode !== 'r' });
    return fd;
  }

  async close(fd: number): Promise<void> {
    this.descriptor(fd);
    this.descriptors.delete(fd);
  }

  async read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.descriptor(fd).file.read(buffer, offset, length, position);
  }

  private writable(fd: number): MemoryFile {
    const d = this.descriptor(fd);
    if (!d.writable) throw fsError('EBADF', `descriptor ${fd} is read only`);
    return d.file;
  }

  async write(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.writable(fd).write(buffer.subarray(offset, offset + length), position);
    return length;
  }

  async writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number> {
    const file = this.writable(fd);
    let at = position;
    for (const b of buffers) {
      file.write(b, at);
      at += b.length;
    }
    return at - position;
  }

  async fdatasync(fd: number): Promise<void> {
    this.descriptor(fd);
  }

  async ftruncate(fd: number, length: number): Promise<void> {
    this.writable(fd).truncate(length);
  }

  async fstat(fd: number): Promise<FileStat> {
    const { file } = this.descriptor(fd);
    return { size: file.size, mtimeMs: file.mtimeMs, isFile: true, isDirectory: false };
  }

  async stat(path: string): Promise<FileStat> {
    const p = MemoryFs.normalize(path);
    const file = this.files.get(p);
    if (file) return { size: file.size, mtimeMs: file.mtimeMs, isFile: true, isDirectory: false };
    if (this.dirs.has(p)) return { size: 0, mtimeMs: 0, isFile: false, isDirectory: true };
    throw fsError('ENOENT', `no such file or directory '${p}'`);
  }

  async readdir(path: string): Promise<string[]> {
    const p = MemoryFs.normalize(path);
    if (this.files.has(p)) throw fsError('ENOTDIR', `'${p}' is a file`);
    if (!this.dirs.has(p)) throw fsError('ENOENT', `no such directory '${p}'`);
    const names: string[] = [];
    for (const candidate of [...this.dirs, ...this.files.keys()]) {
      if (candidate !== p && posix.dirname(candidate) === p) names.push(posix.basename(candidate));
    }
    return names.sort();
  }

  async mkdir(path: string): Promise<void> {
    let p = MemoryFs.normalize(path);
    if (this.files.has(p)) throw fsError('EEXIST', `'${p}' is a file`);
    const missing: string[] = [];
    while (!this.dirs.has(p)) {
      missing.push(p);
      p = posix.dirname(p);
    }
    for (const dir of missing) this.dirs.add(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    const src = MemoryFs.normalize(from);
    const dst = MemoryFs.normalize(to);
    this.requireParent(dst);
    const file = this.files.get(src);
    if (file) {
      this.files.delete(src);
      this.files.set(dst, file);
      return;
    }
    if (!this.dirs.has(src)) throw fsError('ENOENT', `no such file or directory '${src}'`);
    if (this.dirs.has(dst)) throw fsError('EEXIST', `directory '${dst}' exists`);
    const prefix = `${src}/`;
    for (const dir of [...this.dirs]) {
      if (dir === src || dir.startsWith(prefix)) {
        this.dirs.delete(dir);
        this.dirs.add(dst + dir.slice(src.length));
      }
    }
    for (const [p, f] of [...this.files]) {
      if (p.startsWith(prefix)) {
        this.files.delete(p);
        this.files.set(dst + p.slice(src.length), f);
      }
    }
  }

  async unlink(path: string): Promise<void> {
    const p = MemoryFs.normalize(path);
    if (!this.files.delete(p)) throw fsError('ENOENT', `no such file '${p}'`);
  }

  async rmdir(path: string): Promise<void> {
    const p = MemoryFs.normalize(path);
    if (!this.dirs.has(p)) throw fsError('ENOENT', `no such directory '${p}'`);
    if ((await this.readdir(p)).length > 0) throw fsError('ENOTEMPTY', `directory '${p}' is not empty`);
    this.dirs.delete(p);
  }

  async syncDir(path: string): Promise<void> {
    const p = MemoryFs.normalize(path);
    if (!this.dirs.has(p)) throw fsError('ENOENT', `no such directory '${p}'`);
  }
}
