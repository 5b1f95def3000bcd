/**
 * What the offset and time indexes of a segment share, as in Kafka's AbstractIndex: fixed-size entries
 * held in memory as the very bytes of the file, a cap on their number, a binary search over a key that
 * rises from entry to entry, truncation, and writing to the file in batches.
 *
 * The file only has to be right for segments below the recovery point; the others are rebuilt after a
 * crash. So entries are appended in memory and written later (`pending`, then `markWritten`).
 */
export abstract class AbstractIndex {
  protected buf: Buffer;
  /** Entries held in memory. */
  entries = 0;
  /** Entries known to be in the file (a prefix of the in-memory ones). */
  fileEntries = 0;
  /** Bumped on every truncation, so a write that raced a truncation does not claim stale entries. */
  version = 0;

  constructor(
    readonly baseOffset: bigint,
    readonly maxEntries: number,
    private readonly entrySize: number,
    contents?: Buffer,
  ) {
    if (contents) {
      // A torn last entry (a crash mid-write) is left out.
      this.entries = Math.floor(contents.length / entrySize);
      this.buf = Buffer.from(contents.subarray(0, this.entries * entrySize));
      this.fileEntries = this.entries;
    } else {
      this.buf = Buffer.alloc(64 * entrySize);
    }
  }

  /** The key the entries rise by, and lookups search: an offset or a timestamp. */
  protected abstract keyAt(i: number): bigint;

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.entries * this.entrySize;
  }

  /** The byte position of a new entry after the last one, the buffer grown if needed; `entries` is not yet counted. */
  protected nextSlot(): number {
    const at = this.entries * this.entrySize;
    if (at + this.entrySize > this.buf.length) {
      // A buffer loaded from an empty file has no room to double.
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, 64 * this.entrySize));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    return at;
  }

  /** The index of the last entry whose key is at or below `target`, or -1 when there is none. */
  protected lastAtOrBelow(target: bigint): number {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keyAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Keeps the first `n` entries (the log was cut after them). */
  truncateToEntries(n: number): void {
    if (n >= this.entries) return;
    this.entries = n;
    this.fileEntries = Math.min(this.fileEntries, n);
    this.version++;
  }

  /** The entries not yet written to the file, and where they go. */
  pending(): { position: number; bytes: Buffer; upTo: number; version: number } {
    const from = this.fileEntries * this.entrySize;
    const to = this.entries * this.entrySize;
    return {
      position: from,
      bytes: Buffer.from(this.buf.subarray(from, to)),
      upTo: this.entries,
      version: this.version,
    };
  }

  markWritten(upTo: number, version: number): void {
    if (version === this.version) this.fileEntries = Math.max(this.fileEntries, upTo);
  }

  /** All entries as file bytes (for a full rewrite). */
  contents(): Buffer {
    return this.buf.subarray(0, this.entries * this.entrySize);
  }

  /** Why a file of `fileSize` bytes cannot hold whole entries, or null. */
  protected sizeProblem(fileSize: number): string | null {
    return fileSize % this.entrySize === 0 ? null : `size ${fileSize} is not a multiple of ${this.entrySize}`;
  }
}
