/**
 * The sparse offset index of one segment, Kafka's `.index` format: 8-byte entries of a 4-byte offset
 * relative to the segment's base offset and the 4-byte file position of a batch, both big-endian. An
 * entry (offset, position) says the batch at `position` ends at `offset` (Kafka indexes a batch's last
 * offset), so the batch holding any offset at or above `offset` starts at or after `position`.
 *
 * Entries live in memory (the same bytes as the file) and are written to the file in batches; the file
 * only has to be right for segments below the recovery point, the others are rebuilt after a crash.
 */
import { AbstractIndex } from './abstract-index.js';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex extends AbstractIndex {
  constructor(baseOffset: bigint, maxEntries: number, contents?: Buffer) {
    super(baseOffset, maxEntries, OFFSET_INDEX_ENTRY_SIZE, contents);
  }

  protected keyAt(i: number): bigint {
    return this.offsetAt(i);
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
    const at = this.nextSlot();
    this.buf.writeInt32BE(Number(offset - this.baseOffset), at);
    this.buf.writeInt32BE(position, at + 4);
    this.entries++;
  }

  /** The last entry at or below `target`, or the segment start when there is none. */
  lookup(target: bigint): { offset: bigint; position: number } {
    const found = this.lastAtOrBelow(target);
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.offsetAt(found), position: this.positionAt(found) };
  }

  /** Drops the entries pointing at or beyond `position` (the log was cut there). */
  truncateToPosition(position: number): void {
    let n = this.entries;
    while (n > 0 && this.positionAt(n - 1) >= position) n--;
    this.truncateToEntries(n);
  }

  /**
   * Why the entries cannot be trusted for a log of `logSize` bytes, or null when they look sane: every
   * entry inside the log and after the previous one. Position 0 never appears (the first batch of a
   * segment is never indexed), which also rejects the zero-filled tail of a preallocated file.
   */
  problem(logSize: number, fileSize: number): string | null {
    const sizeProblem = this.sizeProblem(fileSize);
    if (sizeProblem !== null) return sizeProblem;
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
