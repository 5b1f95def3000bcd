/**
 * Memory for Fetch reads, reused instead of allocated per read. A Fetch response carries the bytes read
 * from segment files to the socket by reference; allocating them afresh for every Fetch (a megabyte per
 * partition) made consume spend about half its time in garbage collection.
 *
 * The pool keeps a few large slabs. Reads take regions of the current slab one after another, whoever
 * asks; each region belongs to a `ReadLease`, which a Fetch holds until the socket write that carried its
 * response completed. A slab is reused only when every region taken from it was released: no byte a
 * response may still be sending is ever overwritten. When every slab is held, or a read is larger than a
 * slab, the lease allocates ordinary memory instead, so the pool never makes a read wait or fail.
 */

/** Memory a read fills: the taker's until it is given back. */
export interface ReadMemory {
  /** `length` bytes of uninitialized memory. */
  alloc(length: number): Buffer;
  /** Gives back the end of `buf` (from `alloc`) after its first `keep` bytes, where that can be reused. */
  shrink(buf: Buffer, keep: number): void;
}

export interface ReadPoolOptions {
  /** Size of one slab; reads larger than this get memory of their own. */
  slabBytes: number;
  /** Most slabs the pool makes; they stay allocated once made (the pool's memory is at most both multiplied). */
  maxSlabs: number;
  /**
   * Tests: fills a slab with this byte whenever it becomes free, so a response still referencing it would
   * send the fill (and fail its CRC) instead of silently sending the right bytes by luck.
   */
  poison?: number;
}

/**
 * 4 MiB slabs hold three 1 MiB partition reads (Kafka's default max.partition.fetch.bytes, plus the
 * window before the fetch offset); 8 of them bound the pool to 32 MiB.
 */
export const DEFAULT_READ_POOL_OPTIONS: ReadPoolOptions = { slabBytes: 4 * 1024 * 1024, maxSlabs: 8 };

const EMPTY = Buffer.alloc(0);

class Slab {
  readonly bytes: Buffer;
  /** Where the next region starts. */
  used = 0;
  /** Regions taken and not yet released. */
  holders = 0;

  constructor(
    size: number,
    /** The pool configuration it was made under: slabs of an earlier one are not reused. */
    readonly generation: number,
  ) {
    // A slab of its own, not a view of Node's shared allocation pool.
    this.bytes = Buffer.allocUnsafeSlow(size);
  }
}

export class ReadPool {
  private options: ReadPoolOptions;
  /** The slab regions are taken from, or null before the first read. */
  private current: Slab | null = null;
  /** Slabs with no holders, other than the current one. */
  private readonly free: Slab[] = [];
  /** Slabs made and not dropped (current, held or free). */
  private slabs = 0;
  private generation = 0;

  constructor(options: Partial<ReadPoolOptions> = {}) {
    this.options = { ...DEFAULT_READ_POOL_OPTIONS, ...options };
  }

  /**
   * Replaces the options; slabs made before are dropped once free, so new leases only see new slabs
   * (tests make the pool small or poisoned this way).
   */
  configure(options: Partial<ReadPoolOptions>): void {
    this.options = { ...DEFAULT_READ_POOL_OPTIONS, ...options };
    this.generation++;
    this.current = null;
    this.free.length = 0;
    this.slabs = 0;
  }

  /** Memory for the reads of one response; release it once nothing references the bytes. */
  lease(): ReadLease {
    return new ReadLease(this);
  }

  /** Counts, for tests and metrics: slabs made, free, and regions held in the current slab. */
  get stats(): { slabs: number; free: number; currentHolders: number } {
    return { slabs: this.slabs, free: this.free.length, currentHolders: this.current?.holders ?? 0 };
  }

  /** A region of `length` bytes (0 < length <= slabBytes) and its slab, or null when every slab is held. */
  take(length: number): { slab: Slab; bytes: Buffer } | null {
    if (length > this.options.slabBytes) return null;
    let slab = this.current;
    if (slab === null || slab.bytes.length - slab.used < length) {
      // The current slab stays held by its regions and joins the free list when the last one is released.
      slab = this.free.pop() ?? null;
      if (slab === null) {
        if (this.slabs >= this.options.maxSlabs) return null;
        slab = new Slab(this.options.slabBytes, this.generation);
        this.slabs++;
      }
      this.current = slab;
    }
    const start = slab.used;
    slab.used += length;
    slab.holders++;
    return { slab, bytes: slab.bytes.subarray(start, start + length) };
  }

  /** Gives back the end of the last region taken from `slab`, when `bytes` is that region. */
  untake(slab: Slab, bytes: Buffer, keep: number): void {
    const end = bytes.byteOffset - slab.bytes.byteOffset + bytes.length;
    if (end === slab.used && keep < bytes.length) slab.used -= bytes.length - keep;
  }

  /** Releases `count` regions of `slab`; a slab with none left is free again. */
  give(slab: Slab, count: number): void {
    slab.holders -= count;
    if (slab.holders > 0) return;
    if (slab.holders < 0) throw new Error('read pool: a slab was released more often than taken (a broker bug)');
    if (this.options.poison !== undefined) slab.bytes.fill(this.options.poison, 0, slab.used);
    slab.used = 0;
    // A slab of an earlier configuration is left to the garbage collector.
    if (slab !== this.current && slab.generation === this.generation) this.free.push(slab);
  }
}

/**
 * The memory one response's reads took. Every region is given back at once by `release()`, which the
 * caller runs only when no byte of it can be used any more (for a Fetch: its response was written).
 */
export class ReadLease implements ReadMemory {
  /** The slab of each region taken, in order (a slab appears once per region). */
  private readonly regions: Slab[] = [];
  private last: { slab: Slab; bytes: Buffer } | null = null;
  private released = false;

  constructor(private readonly pool: ReadPool) {}

  alloc(length: number): Buffer {
    if (this.released) throw new Error('read pool: memory taken from a released lease (a broker bug)');
    if (length === 0) return EMPTY;
    const region = this.pool.take(length);
    this.last = region;
    if (region === null) return Buffer.allocUnsafe(length);
    this.regions.push(region.slab);
    return region.bytes;
  }

  shrink(buf: Buffer, keep: number): void {
    const last = this.last;
    if (last !== null && last.bytes.buffer === buf.buffer && last.bytes.byteOffset === buf.byteOffset) {
      this.pool.untake(last.slab, buf, keep);
    }
  }

  /** Gives every region back to the pool; later calls do nothing. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.last = null;
    const regions = this.regions;
    let i = 0;
    while (i < regions.length) {
      // Regions of one slab are usually consecutive: give them back together.
      const slab = regions[i]!;
      let count = 1;
      while (i + count < regions.length && regions[i + count] === slab) count++;
      this.pool.give(slab, count);
      i += count;
    }
    regions.length = 0;
  }
}

/** The pool Fetch responses read into, shared by every broker of the process. */
export const fetchReadPool = new ReadPool();
