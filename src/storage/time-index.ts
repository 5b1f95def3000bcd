/**
 * The sparse time index of one segment, Kafka's `.timeindex` format: 12-byte entries of an 8-byte
 * timestamp and a 4-byte offset relative to the segment's base offset. An entry (t, o) says the largest
 * timestamp in the segment up to offset o is t; entries are added only when that maximum grows, so
 * timestamps strictly increase.
 */

export const TIME_INDEX_ENTRY_SIZE = 12;

export class TimeIndex {
  private buf: Buffer;
  entries = 0;
  fileEntries = 0;
  version = 0;

  constructor(
    readonly baseOffset: bigint,
    readonly maxEntries: number,
    contents?: Buffer,
  ) {
    if (contents) {
      this.entries = Math.floor(contents.length / TIME_INDEX_ENTRY_SIZE);
      this.buf = Buffer.from(contents.subarray(0, this.entries * TIME_INDEX_ENTRY_SIZE));
      this.fileEntries = this.entries;
    } else {
      this.buf = Buffer.alloc(64 * TIME_INDEX_ENTRY_SIZE);
    }
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeInBytes(): number {
    return this.entries * TIME_INDEX_ENTRY_SIZE;
  }

  timestampAt(i: number): bigint {
    return this.buf.readBigInt64BE(i * TIME_INDEX_ENTRY_SIZE);
  }

  offsetAt(i: number): bigint {
    return this.baseOffset + BigInt(this.buf.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8));
  }

  lastEntry(): { timestamp: bigint; offset: bigint } | null {
    if (this.entries === 0) return null;
    return { timestamp: this.timestampAt(this.entries - 1), offset: this.offsetAt(this.entries - 1) };
  }

  /** Adds an entry when `timestamp` is above the last one's, as Kafka's TimeIndex.maybeAppend. */
  maybeAppend(timestamp: bigint, offset: bigint): void {
    if (timestamp < 0n) return;
    if (this.entries > 0) {
      if (timestamp <= this.timestampAt(this.entries - 1)) return;
      if (offset < this.offsetAt(this.entries - 1)) return;
    }
    const at = this.entries * TIME_INDEX_ENTRY_SIZE;
    if (at + TIME_INDEX_ENTRY_SIZE > this.buf.length) {
      // A buffer loaded from an empty file has no room to double.
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, 64 * TIME_INDEX_ENTRY_SIZE));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.buf.writeBigInt64BE(timestamp, at);
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at + 8);
    this.entries++;
  }

  /** The offset of the last entry whose timestamp is at or below `target`, or the base offset. */
  lookup(target: bigint): bigint {
    let lo = 0;
    let hi = this.entries - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.baseOffset : this.offsetAt(found);
  }

  /** Drops the entries at or above `offset` (the log was cut there). */
  truncateToOffset(offset: bigint): void {
    let n = this.entries;
    while (n > 0 && this.offsetAt(n - 1) >= offset) n--;
    if (n >= this.entries) return;
    this.entries = n;
    this.fileEntries = Math.min(this.fileEntries, n);
    this.version++;
  }

  pending(): { position: number; bytes: Buffer; upTo: number; version: number } {
    const from = this.fileEntries * TIME_INDEX_ENTRY_SIZE;
    const to = this.entries * TIME_INDEX_ENTRY_SIZE;
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

  contents(): Buffer {
    return this.buf.subarray(0, this.entries * TIME_INDEX_ENTRY_SIZE);
  }

  /** Why the entries cannot be trusted for a segment ending before `nextOffset`, or null. */
  problem(nextOffset: bigint | null, fileSize: number): string | null {
    if (fileSize % TIME_INDEX_ENTRY_SIZE !== 0) return `size ${fileSize} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`;
    let lastTimestamp = -1n;
    let lastRelative = 0;
    for (let i = 0; i < this.entries; i++) {
      const timestamp = this.timestampAt(i);
      const relative = this.buf.readInt32BE(i * TIME_INDEX_ENTRY_SIZE + 8);
      if (timestamp <= lastTimestamp || relative < lastRelative) return `entry ${i} does not follow entry ${i - 1}`;
      if (nextOffset !== null && this.baseOffset + BigInt(relative) >= nextOffset) {
        return `entry ${i} names offset ${this.baseOffset + BigInt(relative)}, beyond the segment's end ${nextOffset}`;
      }
      lastTimestamp = timestamp;
      lastRelative = relative;
    }
    return null;
  }
}
