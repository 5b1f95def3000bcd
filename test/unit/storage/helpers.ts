/** Shared fixtures of the storage tests: both engines, batches, and an instrumented file system. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { DiskFs } from '../../../src/storage/disk-fs.js';
import { isLogError, type LogError, type StorageLogger } from '../../../src/storage/errors.js';
import { type FsCall, InterceptFs } from '../../../src/storage/intercept-fs.js';
import type { LogConfig } from '../../../src/storage/log-config.js';
import { createLogStore, type LogStore } from '../../../src/storage/log-store.js';
import { MemoryFs } from '../../../src/storage/memory-fs.js';
import type { AppendResult, ReadResult } from '../../../src/storage/partition-log.js';
import { fsError, type OpenMode, type StorageFs } from '../../../src/storage/storage-fs.js';

export interface Engine {
  name: 'memory' | 'disk';
  /** A fresh base file system and log dir; `cleanup` removes what the test left. */
  setup(): { fs: StorageFs; logDir: string; cleanup: () => void };
}

export const ENGINES: Engine[] = [
  {
    name: 'memory',
    setup: () => ({ fs: new MemoryFs(), logDir: '/data', cleanup: () => {} }),
  },
  {
    name: 'disk',
    setup: () => {
      const root = mkdtempSync(join(tmpdir(), 'sluice-storage-'));
      return {
        fs: new DiskFs(),
        logDir: join(root, 'data'),
        cleanup: () => rmSync(root, { recursive: true, force: true }),
      };
    },
  },
];

export const TOPIC_ID = '0123456789abcdef0123456789abcdef';

/** A batch of `count` records with `valueBytes`-byte values (and optional fixed timestamps). */
export function batch(count: number, opts: { valueBytes?: number; timestamps?: number[]; tag?: string } = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${i}`,
    value: Buffer.alloc(opts.valueBytes ?? 10, (opts.tag ?? 'v').charCodeAt(0)),
    ...(opts.timestamps ? { timestamp: BigInt(opts.timestamps[i] ?? opts.timestamps[0]!) } : {}),
  }));
  return buildRecordBatch(records);
}

export function ok<T extends object>(value: T | LogError): T {
  if (isLogError(value)) throw new Error(`unexpected ${value.errorCode}: ${value.message}`);
  return value;
}

export function okAppend(value: AppendResult | LogError): AppendResult {
  return ok(value);
}

export function okRead(value: ReadResult | LogError): ReadResult {
  return ok(value);
}

/** Base offsets of the batches in a read result. */
export function baseOffsets(records: Buffer): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < records.length) {
    out.push(records.readBigInt64BE(pos));
    pos += records.readInt32BE(pos + 8) + 12;
  }
  return out;
}

/** A logger that keeps what it is given. */
export function memoryLogger(): StorageLogger & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => {
    lines.push({ level, obj, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A StorageFs that records every call and lets a test fail or hold chosen calls: `failWhen` makes
 * matching calls throw (EIO, ENOSPC), `holdFsync()` pauses fdatasync calls and durable writes (on a
 * 'dsync' descriptor, which include one) until released.
 */
export class TestFs extends InterceptFs {
  calls: FsCall[] = [];
  /** Returns an errno code to make the call fail (after any side effect of its own), or null. */
  failWhen: ((call: FsCall) => string | null | Promise<string | null>) | null = null;
  private held: Array<() => void> | null = null;
  private holdSuffix = '.log';

  constructor(inner: StorageFs) {
    super(inner, (call) => this.onCall(call));
  }

  private async onCall(call: FsCall): Promise<void> {
    this.calls.push(call);
    const code = await this.failWhen?.(call);
    if (code) throw fsError(code, `injected failure of ${call.op} on ${call.path}`);
    if ((call.op === 'fdatasync' || call.durable) && this.held && call.path.endsWith(this.holdSuffix)) {
      const held = this.held;
      await new Promise<void>((resolve) => held.push(resolve));
    }
  }

  /** Descriptors open now and the most open at once (successful opens only). */
  openNow = 0;
  peakOpen = 0;

  override async open(path: string, mode: OpenMode): Promise<number> {
    const fd = await super.open(path, mode);
    this.openNow++;
    if (this.openNow > this.peakOpen) this.peakOpen = this.openNow;
    return fd;
  }

  override async close(fd: number): Promise<void> {
    await super.close(fd);
    this.openNow--;
  }

  count(op: FsCall['op'], pathSuffix = ''): number {
    return this.calls.filter((c) => c.op === op && c.path.endsWith(pathSuffix)).length;
  }

  /** Calls that made data durable on files ending with `pathSuffix`: fdatasyncs and durable writes. */
  syncs(pathSuffix = '.log'): FsCall[] {
    return this.calls.filter((c) => (c.op === 'fdatasync' || c.durable) && c.path.endsWith(pathSuffix));
  }

  /** Bytes asked of read() on files ending with `pathSuffix`. */
  bytesRead(pathSuffix: string): number {
    return this.calls
      .filter((c) => c.op === 'read' && c.path.endsWith(pathSuffix))
      .reduce((sum, c) => sum + (c.length ?? 0), 0);
  }

  /** Holds fdatasync calls on files ending with `pathSuffix` (segment logs by default). */
  holdFsync(pathSuffix = '.log'): void {
    this.held = [];
    this.holdSuffix = pathSuffix;
  }

  /** fdatasync calls and durable writes currently waiting. */
  get heldFsyncs(): number {
    return this.held?.length ?? 0;
  }

  releaseFsync(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const release of held) release();
  }

  /** Releases the waiting fdatasync calls but keeps holding new ones. */
  releaseHeldFsyncs(): void {
    const held = this.held ?? [];
    this.held = [];
    for (const release of held) release();
  }
}

export function store(
  fs: StorageFs,
  logDir: string,
  opts: { defaults?: Partial<LogConfig>; logger?: StorageLogger; now?: () => number; maxOpenFiles?: number } = {},
): LogStore {
  return createLogStore({ engine: 'disk', logDirs: [logDir], fs, ...opts });
}

/** Waits until `predicate` holds, yielding to the event loop between checks. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Reads a whole file through a StorageFs (engine-agnostic). */
export async function readFileVia(fs: StorageFs, path: string): Promise<Buffer> {
  const fd = await fs.open(path, 'r');
  try {
    const { size } = await fs.fstat(fd);
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = await fs.read(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    await fs.close(fd);
  }
}

/** Writes bytes at a position of an existing file, or sets its length, through a StorageFs. */
export async function patchFileVia(
  fs: StorageFs,
  path: string,
  edit: { at?: number; bytes?: Buffer; length?: number },
): Promise<void> {
  const fd = await fs.open(path, 'rw');
  try {
    if (edit.length !== undefined) await fs.ftruncate(fd, edit.length);
    if (edit.bytes) await fs.writev(fd, [edit.bytes], edit.at ?? 0);
  } finally {
    await fs.close(fd);
  }
}
