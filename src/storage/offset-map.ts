/**
 * The cleaner's key → last offset map (Kafka's SkimpyOffsetMap): a fixed-size open-addressing table in one
 * buffer, 24 bytes a slot (the key's 16-byte MD5 digest and an 8-byte offset), so its memory is what
 * log.cleaner.dedupe.buffer.size grants and no more. Two keys with the same digest count as one, as in Kafka.
 */
import { createHash } from 'node:crypto';

const HASH_BYTES = 16;
const SLOT_BYTES = HASH_BYTES + 8;

export class OffsetMap {
  readonly slots: number;
  private readonly table: Buffer;
  private entries = 0;
  /** The last offset the map covers: records after it were not looked at when it was built. */
  latestOffset = -1n;

  constructor(bytes: number) {
    this.slots = Math.max(1, Math.floor(bytes / SLOT_BYTES));
    this.table = Buffer.alloc(this.slots * SLOT_BYTES);
  }

  get size(): number {
    return this.entries;
  }

  clear(): void {
    this.table.fill(0);
    this.entries = 0;
    this.latestOffset = -1n;
  }

  private static digest(key: Buffer): Buffer {
    return createHash('md5').update(key).digest();
  }

  /** The slot holding `hash`, or the empty slot where it would go (an empty slot's stored offset is 0). */
  private find(hash: Buffer): { slot: number; found: boolean } {
    let slot = hash.readUInt32BE(0) % this.slots;
    for (let probes = 0; probes < this.slots; probes++) {
      const at = slot * SLOT_BYTES;
      if (this.table.readBigInt64BE(at + HASH_BYTES) === 0n) return { slot, found: false };
      if (this.table.compare(hash, 0, HASH_BYTES, at, at + HASH_BYTES) === 0) return { slot, found: true };
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
    return { slot: -1, found: false };
  }

  /** Records `offset` as the latest of `key`. Offsets are stored plus one, so an empty slot reads 0. */
  put(key: Buffer, offset: bigint): void {
    const hash = OffsetMap.digest(key);
    const { slot, found } = this.find(hash);
    if (slot < 0) throw new Error('offset map is full');
    const at = slot * SLOT_BYTES;
    if (!found) {
      hash.copy(this.table, at);
      this.entries++;
    }
    this.table.writeBigInt64BE(offset + 1n, at + HASH_BYTES);
    if (offset > this.latestOffset) this.latestOffset = offset;
  }

  /** The latest offset of `key`, or -1 when the map has none. */
  get(key: Buffer): bigint {
    const { slot, found } = this.find(OffsetMap.digest(key));
    if (!found) return -1n;
    return this.table.readBigInt64BE(slot * SLOT_BYTES + HASH_BYTES) - 1n;
  }

  updateLatestOffset(offset: bigint): void {
    if (offset > this.latestOffset) this.latestOffset = offset;
  }
}
