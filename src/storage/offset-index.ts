/**
 * The sparse offset index of one segment, Kafka's `.index` format: 8-byte entries of a 4-byte offset
 * relative to the segment's base offset and the 4-byte file position of a batch, both big-endian. An
 * entry (offset, position) says the batch at `position` ends at `offset` (Kafka indexes a batch's last
 * offset), so the batch holding any offset at or above `offset` starts at or after `position`.
 *
 * Entries live in memory (the same bytes as the file) and are written to the file in batches; the file
 * only has to be right for segments below the recovery point, the others are rebuilt after a crash.
 */

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex {
  private buf: Buffer;
  /** Entries held in memory. */
  entries = 0;
  /** Entries known to be in the file (a prefix of the in-memory ones). */
  fileEntries = 0;
  /** Bumped on every truncation, so a write that raced a truncation does not claim stale entries. */
  version = 0;

  constructor(
    readonly baseOffset: bigint,
    readonly maxEntries: number,
    contents?: Buffer,
  ) {
    if (contents) {
      this.entries = Math.floor(contents.length / OFFSET_INDEX_ENTRY_SIZE);
      this.buf = Buffer.from(contents.subarray(0, this.entries * OFFSET_INDEX_ENTRY_SIZE));
      this.fileEntries = this.entries;
    } else {
      this.buf = Buffer.alloc(64 * OFFSET_INDEX_ENTRY_SIZE);
    }
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.entries * OFFSET_INDEX_ENTRY_SIZE;
  }

  offsetAt(i: number): bigint {
    return this.baseOffset + BigInt(this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE));
  }

  positionAt(i: number): number {
    return this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE + 4);
  }

  lastOffset(): bigint | null {
    return this.entries === 0 ? null : this.offsetAt(this.entries - 1);
  }

  append(offset: bigint, position: number): void {
    if (
      this.entries > 0 &&
      (offset <= this.offsetAt(this.entries - 1) || position <= this.positionAt(this.entries - 1))
    ) {
      throw new Error(`offset index entry (${offset}, ${position}) does not follow the last one`);
    }
    const at = this.entries * OFFSET_INDEX_ENTRY_SIZE;
    if (at + OFFSET_INDEX_ENTRY_SIZE > this.buf.length) {
      // A buffer loaded from an empty file has no room to double.
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, 64 * OFFSET_INDEX_ENTRY_SIZE));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at);
    this.buf.writeInt32BE(position, at + 4);
    this.entries++;
  }

  /** The last entry at or below `target`, or the segment start when there is none. */
  lookup(target: bigint): { offset: bigint; position: number } {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsetAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.offsetAt(found), position: this.positionAt(found) };
  }

  /** Drops the entries pointing at or beyond `position` (the log was cut there). */
  truncateToPosition(position: number): void {
    let n = this.entries;
    while (n > 0 && this.positionAt(n - 1) >= position) n--;
    this.truncateToEntries(n);
  }

  truncateToEntries(n: number): void {
    if (n >= this.entries) return;
    this.entries = n;
    this.fileEntries = Math.min(this.fileEntries, n);
    this.version++;
  }

  /** The entries not yet written to the file, and where they go. */
  pending(): { position: number; bytes: Buffer; upTo: number; version: number } {
    const from = this.fileEntries * OFFSET_INDEX_ENTRY_SIZE;
    const to = this.entries * OFFSET_INDEX_ENTRY_SIZE;
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
    return this.buf.subarray(0, this.entries * OFFSET_INDEX_ENTRY_SIZE);
  }

  /**
   * Why the entries cannot be trusted for a log of `logSize` bytes, or null when they look sane: every
   * entry inside the log and after the previous one. Position 0 never appears (the first batch of a
   * segment is never indexed), which also rejects the zero-filled tail of a preallocated file.
   */
  problem(logSize: number, fileSize: number): string | null {
    if (fileSize % OFFSET_INDEX_ENTRY_SIZE !== 0) {
      return `size ${fileSize} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`;
    }
    let lastRelative = -1;
    let lastPosition = 0;
    for (let i = 0; i < this.entries; i++) {
      const relative = this.buf.readInt32BE(i * OFFSET_INDEX_ENTRY_SIZE);
      const position = this.positionAt(i);
      if (relative <= lastRelative || position <= lastPosition) return `entry ${i} does not follow entry ${i - 1}`;
      if (position >= logSize) return `entry ${i} points at position ${position}, beyond the log's ${logSize} bytes`;
      lastRelative = relative;
      lastPosition = position;
    }
    return null;
  }
}
