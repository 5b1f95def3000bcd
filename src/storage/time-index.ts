/**
 * The sparse time index of one segment, Kafka's `.timeindex` format: 12-byte entries of an 8-byte
 * timestamp and a 4-byte offset relative to the segment's base offset. An entry (t, o) says the largest
 * timestamp in the segment up to offset o is t; entries are added only when that maximum grows, so
 * timestamps strictly increase.
 */
import { AbstractIndex } from './abstract-index.js';

export const TIME_INDEX_ENTRY_SIZE = 12;

export class TimeIndex extends AbstractIndex {
  constructor(baseOffset: bigint, maxEntries: number, contents?: Buffer) {
    super(baseOffset, maxEntries, TIME_INDEX_ENTRY_SIZE, contents);
  }

  protected keyAt(i: number): bigint {
    return this.timestampAt(i);
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
    const at = this.nextSlot();
    this.buf.writeBigInt64BE(timestamp, at);
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at + 8);
    this.entries++;
  }

  /** The offset of the last entry whose timestamp is at or below `target`, or the base offset. */
  lookup(target: bigint): bigint {
    const found = this.lastAtOrBelow(target);
    return found < 0 ? this.baseOffset : this.offsetAt(found);
  }

  /** Drops the entries at or above `offset` (the log was cut there). */
  truncateToOffset(offset: bigint): void {
    let n = this.entries;
    while (n > 0 && this.offsetAt(n - 1) >= offset) n--;
    this.truncateToEntries(n);
  }

  /** Why the entries cannot be trusted for a segment ending before `nextOffset`, or null. */
  problem(nextOffset: bigint | null, fileSize: number): string | null {
    const sizeProblem = this.sizeProblem(fileSize);
    if (sizeProblem !== null) return sizeProblem;
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
