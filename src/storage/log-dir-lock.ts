/**
 * The log dir's `.lock` (Kafka takes an exclusive lock on each log dir before it reads anything in it): two
 * brokers on one data directory would each recover and append to the other's live segments, and records
 * both acknowledged would be lost.
 *
 * Node has no flock, so the lock is a file created atomically (a complete file is hard-linked to `.lock`,
 * which fails if it exists) naming its holder: pid, the process's start time and the machine's boot id,
 * and the host name. A lock whose holder is gone (killed with SIGKILL, or a machine that rebooted) is stale
 * and is taken over; a pid reused by another process is told apart by its start time. The takeover itself
 * is serialized by a second such file, so that two brokers finding one stale lock cannot both take it.
 *
 * A holder on another host (a shared volume, or a container recreated under a new host name) cannot be
 * checked from here: the lock is kept, and the error says how to remove it once no broker runs there.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { errorCode } from './storage-fs.js';

export const LOCK_FILE = '.lock';
const TAKEOVER_FILE = '.lock.takeover';
/** How long to wait for another broker's takeover of a stale lock before giving up. */
const TAKEOVER_WAIT_MS = 5_000;

/**
 * The nonces of the locks this process holds or is taking: a lock naming this process's pid is live only
 * if it is one of these, and otherwise was left by an earlier run with the same pid (a container's broker
 * is often pid 1 at every start).
 */
const heldHere = new Set<string>();

/** The data directory is locked by a broker that is still running. */
export class LogDirInUseError extends Error {
  override name = 'LogDirInUseError';
  constructor(
    readonly logDir: string,
    readonly holder: LockHolder,
    detail = '',
  ) {
    super(`data dir ${logDir} is in use by another broker (pid ${holder.pid}${detail})`);
  }
}

/** The data directory cannot be created or locked (a path under /proc, a file in the way, no permission). */
export class LogDirError extends Error {
  override name = 'LogDirError';
}

export interface LockHolder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux /proc/<pid>/stat), or '' where unknown. */
  startTime: string;
  bootId: string;
  host: string;
  /** Tells this lock file from an earlier one of the same process. */
  nonce: string;
}

/**
 * Creates the data directory and any missing parent, one plain mkdir at a time: Node's recursive mkdir
 * loops forever on paths where mkdir fails with ENOENT under an existing parent (anything under /proc).
 */
export async function createLogDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let path = dir; ; path = dirname(path)) {
    try {
      if (!(await stat(path)).isDirectory())
        throw new LogDirError(`cannot use data dir ${dir}: ${path} is not a directory`);
      break;
    } catch (err) {
      if (err instanceof LogDirError) throw err;
      if (errorCode(err) !== 'ENOENT' || dirname(path) === path) throw cannotCreate(dir, path, err);
      missing.push(path);
    }
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path);
    } catch (err) {
      // Another process made it meanwhile: fine if it is a directory.
      if (errorCode(err) === 'EEXIST' && (await stat(path).catch(() => null))?.isDirectory()) continue;
      throw cannotCreate(dir, path, err);
    }
  }
}

function cannotCreate(dir: string, path: string, err: unknown): LogDirError {
  const cause = errorCode(err) ?? (err as Error).message;
  return new LogDirError(
    `cannot create data dir ${dir}: ${path} cannot be created (${cause}); set log.dirs (--data-dir) to a writable directory`,
  );
}

/** A held log dir lock; `release()` removes it (on a clean stop). */
export class LogDirLock {
  private released = false;

  constructor(
    readonly path: string,
    readonly holder: LockHolder,
  ) {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.holder.nonce);
    // Remove only our own lock: one taken over by mistake must not be removed for its new holder.
    const current = await readHolder(this.path).catch(() => null);
    if (current?.nonce === this.holder.nonce) await unlink(this.path).catch(() => undefined);
  }
}

/** Takes the lock of `dir` (which must exist), or throws LogDirInUseError naming the broker that holds it. */
export async function lockLogDir(dir: string): Promise<LogDirLock> {
  const path = join(dir, LOCK_FILE);
  const me = await currentHolder();
  heldHere.add(me.nonce);
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await createExclusive(path, me)) return new LogDirLock(path, me);
      const holder = await readHolder(path);
      if (holder === null) continue; // released meanwhile
      const live = await liveness(holder, me);
      if (live !== null) throw new LogDirInUseError(dir, holder, live);
      await removeStale(dir, path, holder, me);
    }
  } catch (err) {
    heldHere.delete(me.nonce);
    throw err;
  }
  heldHere.delete(me.nonce);
  throw new LogDirError(`cannot lock data dir ${dir}: ${path} keeps changing (brokers starting at once?)`);
}

/** Null when the holder is gone; otherwise a detail for the error message ('' for a live local process). */
async function liveness(holder: LockHolder, me: LockHolder): Promise<string | null> {
  if (holder.host !== '' && holder.host !== me.host) {
    return ` on host ${holder.host}; if no broker runs there on this directory, remove its ${LOCK_FILE} file`;
  }
  if (holder.bootId !== '' && me.bootId !== '' && holder.bootId !== me.bootId) return null;
  if (holder.pid === me.pid) return heldHere.has(holder.nonce) ? ', in this process' : null;
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return null;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if (errorCode(err) === 'ESRCH') return null;
    // EPERM: the process exists but belongs to another user.
  }
  const startTime = await processStartTime(holder.pid);
  if (holder.startTime !== '' && startTime !== '' && startTime !== holder.startTime) return null;
  return '';
}

/** Removes a stale lock unless another broker replaced it meanwhile; the takeover is serialized by TAKEOVER_FILE. */
async function removeStale(dir: string, path: string, stale: LockHolder, me: LockHolder): Promise<void> {
  const guard = join(dir, TAKEOVER_FILE);
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  while (!(await createExclusive(guard, me))) {
    const other = await readHolder(guard);
    if (other !== null && (await liveness(other, me)) === null) {
      // Its holder died during a takeover: nothing else removes it.
      if ((await readHolder(guard))?.nonce === other.nonce) await unlink(guard).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline)
      throw new LogDirError(`cannot lock data dir ${dir}: ${guard} is held by pid ${other?.pid}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    if ((await readHolder(path))?.nonce === stale.nonce) await unlink(path);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Creates `path` holding `holder`, whole, or returns false if it exists. */
async function createExclusive(path: string, holder: LockHolder): Promise<boolean> {
  const temp = `${path}.${holder.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, formatHolder(holder), { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw new LogDirError(`cannot create ${path} (${errorCode(err) ?? (err as Error).message})`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return {
    pid: Number(fields.get('pid') ?? Number.NaN),
    startTime: fields.get('start.time') ?? '',
    bootId: fields.get('boot.id') ?? '',
    host: fields.get('host') ?? '',
    nonce: fields.get('nonce') ?? text,
  };
}

function formatHolder(h: LockHolder): string {
  return `pid=${h.pid}\nstart.time=${h.startTime}\nboot.id=${h.bootId}\nhost=${h.host}\nnonce=${h.nonce}\n`;
}

async function currentHolder(): Promise<LockHolder> {
  const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (s) => s.trim(),
    () => '',
  );
  return {
    pid: process.pid,
    startTime: await processStartTime(process.pid),
    bootId,
    host: hostname(),
    nonce: randomBytes(8).toString('hex'),
  };
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); '' where there is no /proc. */
async function processStartTime(pid: number): Promise<string> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}
