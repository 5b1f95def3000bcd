/**
 * Where the cleaner's computation runs: in a worker thread (the broker), or inline (tests that want one
 * thread). Both hold one offset map, for the log being cleaned, and answer the same requests.
 */
import { Worker } from 'node:worker_threads';
import { type FilterOptions, type FilterResult, filterChunk, type MapChunkResult, mapChunk } from './cleaner-core.js';
import { OffsetMap } from './offset-map.js';

export type CleanerRequest =
  | { kind: 'begin'; mapBytes: number }
  | { kind: 'map'; chunk: Uint8Array; startOffset: bigint; maxEntries: number }
  | { kind: 'latest'; offset: bigint }
  | { kind: 'filter'; chunk: Uint8Array; options: FilterOptions }
  | { kind: 'end' };

export interface MapAnswer extends MapChunkResult {
  size: number;
  latestOffset: bigint;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The computation behind both engines. */
export class CleanerComputation {
  private map: OffsetMap | null = null;

  async handle(request: CleanerRequest): Promise<unknown> {
    switch (request.kind) {
      case 'begin':
        // One map for the cleaner's life, as Kafka allocates its dedupe buffer once; cleared per log.
        if (!this.map || this.map.slots !== Math.max(1, Math.floor(request.mapBytes / 24)))
          this.map = new OffsetMap(request.mapBytes);
        else this.map.clear();
        return this.map.slots;
      case 'map': {
        const map = this.requireMap();
        const result = await mapChunk(map, asBuffer(request.chunk), request.startOffset, request.maxEntries);
        return { ...result, size: map.size, latestOffset: map.latestOffset } satisfies MapAnswer;
      }
      case 'latest':
        this.requireMap().updateLatestOffset(request.offset);
        return this.requireMap().latestOffset;
      case 'filter':
        return filterChunk(this.requireMap(), asBuffer(request.chunk), request.options);
      case 'end':
        return null;
    }
  }

  private requireMap(): OffsetMap {
    if (!this.map) throw new Error('the cleaner computation has no map: begin was not called');
    return this.map;
  }
}

export interface CleanerEngine {
  /** Starts a cleaning with a cleared map of `mapBytes`; returns its slot count. */
  begin(mapBytes: number): Promise<number>;
  mapChunk(chunk: Buffer, startOffset: bigint, maxEntries: number): Promise<MapAnswer>;
  updateLatestOffset(offset: bigint): Promise<bigint>;
  filterChunk(chunk: Buffer, options: FilterOptions): Promise<FilterResult>;
  close(): Promise<void>;
}

export class InlineCleanerEngine implements CleanerEngine {
  private readonly computation = new CleanerComputation();
  begin(mapBytes: number) {
    return this.computation.handle({ kind: 'begin', mapBytes }) as Promise<number>;
  }
  mapChunk(chunk: Buffer, startOffset: bigint, maxEntries: number) {
    return this.computation.handle({ kind: 'map', chunk, startOffset, maxEntries }) as Promise<MapAnswer>;
  }
  updateLatestOffset(offset: bigint) {
    return this.computation.handle({ kind: 'latest', offset }) as Promise<bigint>;
  }
  filterChunk(chunk: Buffer, options: FilterOptions) {
    return this.computation.handle({ kind: 'filter', chunk, options }) as Promise<FilterResult>;
  }
  async close() {}
}

/** The computation in a worker thread, started on first use and unref'd (it never keeps the process up). */
export class WorkerCleanerEngine implements CleanerEngine {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private call<T>(request: CleanerRequest): Promise<T> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./cleaner-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) waiter.reject(new Error(m.error));
      else waiter.resolve(m.result);
    });
    const failAll = (err: Error) => {
      for (const w of this.pending.values()) w.reject(err);
      this.pending.clear();
      this.worker = null;
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => failAll(new Error(`the cleaner worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  begin(mapBytes: number) {
    return this.call<number>({ kind: 'begin', mapBytes });
  }
  mapChunk(chunk: Buffer, startOffset: bigint, maxEntries: number) {
    return this.call<MapAnswer>({ kind: 'map', chunk, startOffset, maxEntries });
  }
  updateLatestOffset(offset: bigint) {
    return this.call<bigint>({ kind: 'latest', offset });
  }
  async filterChunk(chunk: Buffer, options: FilterOptions) {
    const result = await this.call<FilterResult & { output: Uint8Array }>({ kind: 'filter', chunk, options });
    return { ...result, output: asBuffer(result.output) };
  }
  async close() {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
