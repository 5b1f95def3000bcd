/**
 * The file-system surface the partition log runs on. Every byte the log reads or writes goes through one
 * of these calls, so a wrapper (fault injection, I/O accounting) sees all of it. Two engines implement
 * it: DiskFs (real files) and MemoryFs (in-process, for `storage: 'memory'` and fast tests).
 *
 * Writes are positional only: the log tracks where each file ends itself, which keeps writes ordered
 * even when several are in flight, so there is no separate O_APPEND call.
 * Failures are thrown as Errors carrying a Node-style `code` ('ENOENT', 'EIO', 'ENOSPC', ...).
 */

/**
 * 'r': read only. 'r+': read and write, the file must exist. 'rw': read and write, created when missing.
 * 'dsync': as 'rw', and every write returns only once its data is durable (O_DSYNC): a write and an
 * fdatasync of it in one call. No mode truncates on open.
 */
export type OpenMode = 'r' | 'r+' | 'rw' | 'dsync';

export interface FileStat {
  size: number;
  mtimeMs: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface StorageFs {
  /** Opens a file and returns a descriptor number private to this StorageFs. */
  open(path: string, mode: OpenMode): Promise<number>;
  close(fd: number): Promise<void>;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the bytes read (0 at the end). */
  read(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes at `position`; may write fewer bytes than asked (the caller loops). */
  write(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes the buffers back to back from `position`; returns the bytes written, possibly fewer than all. */
  writev(fd: number, buffers: readonly Buffer[], position: number): Promise<number>;
  /** Makes the file's data durable (fdatasync). */
  fdatasync(fd: number): Promise<void>;
  /** Sets the file's length: shortens it, or extends it with zeros (sparse where the engine can). */
  ftruncate(fd: number, length: number): Promise<void>;
  fstat(fd: number): Promise<FileStat>;
  /** Throws an ENOENT error when the path does not exist. */
  stat(path: string): Promise<FileStat>;
  /** Names of the entries of a directory (not paths). */
  readdir(path: string): Promise<string[]>;
  /** Creates the directory and its missing parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Makes a directory's entries durable (new, renamed or removed files), as Kafka's Utils.flushDir. */
  syncDir(path: string): Promise<void>;
}

/** An Error with a Node-style errno code, as engines throw. */
export function fsError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** The errno code of an error thrown by a StorageFs call, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return errorCode(err) === 'ENOENT';
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns the bytes read. */
export async function readFully(
  fs: StorageFs,
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await fs.read(fd, buffer, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes every byte of `buffers` from `position`, continuing after short writes. */
export async function writeFully(
  fs: StorageFs,
  fd: number,
  buffers: readonly Buffer[],
  position: number,
): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    const total = pending.reduce((sum, b) => sum + b.length, 0);
    const n =
      pending.length === 1
        ? await fs.write(fd, pending[0]!, 0, pending[0]!.length, at)
        : await fs.writev(fd, pending, at);
    if (n <= 0) throw fsError('EIO', `write made no progress at position ${at}`);
    at += n;
    if (n >= total) return;
    // Drop the buffers written in full and keep the unwritten tail of a partly written one.
    let skip = n;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (skip >= b.length) {
        skip -= b.length;
      } else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    pending = rest;
  }
}

/** Removes a directory and everything in it through the StorageFs, deepest entries first. */
export async function removeTree(fs: StorageFs, path: string): Promise<void> {
  let stat: FileStat;
  try {
    stat = await fs.stat(path);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (!stat.isDirectory) {
    await fs.unlink(path);
    return;
  }
  for (const name of await fs.readdir(path)) await removeTree(fs, `${path}/${name}`);
  await fs.rmdir(path);
}
