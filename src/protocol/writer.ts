import type { TaggedField } from './tagged-fields.js';

const UUID_HEX = /^[0-9a-fA-F]{32}$/;

export interface WriterOptions {
  /**
   * BYTES fields (and RECORDS, which are written the same way) of at least this many bytes are kept by
   * reference instead of copied in: `toBuffers()` then returns the frame as several buffers, for one
   * vectored socket write. The caller must not change such a buffer until the frame has been written.
   * Off (Infinity) by default.
   */
  shareBytesFrom?: number;
}

/**
 * Writes Kafka's primitive types into a buffer that doubles when full. Integers go through Buffer's
 * own methods (int64 through a faster path when it fits a double), which reject values out of range,
 * so a wrong value fails loudly here instead of reaching a client as a corrupt frame; a failed write
 * leaves the writer as it was.
 *
 * A frame's int32 size prefix is written with `reserveInt32()` before the body and `patchSize()`
 * after it. `toBuffer()` returns a view of the bytes written, not a copy: do not reuse the writer
 * while that view is still in use.
 *
 * With `shareBytesFrom`, a large byte field (a Fetch response's records) ends the part being written
 * and becomes a part of its own, so a 1 MiB response costs a few hundred bytes of encoding instead of a
 * 1 MiB copy into a buffer that doubled its way there. Positions (`length`, `reserveInt32`) count
 * every part; the parts are `parts` followed by `buf[partStart, offset)`.
 */
export class Writer {
  buf: Buffer;
  offset = 0;
  private readonly shareBytesFrom: number;
  /** Finished parts in order (views of earlier buffers and shared byte fields), or null while there are none. */
  private parts: Buffer[] | null = null;
  /** Which of `parts` are the writer's own bytes (the others are shared fields: never patched). */
  private ownParts: boolean[] | null = null;
  /** Bytes in `parts`. */
  private partsLength = 0;
  /** Where the bytes of `buf` not yet in `parts` begin. */
  private partStart = 0;

  constructor(initialCapacity = 256, options?: WriterOptions) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacity));
    this.shareBytesFrom = options?.shareBytesFrom ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.partsLength + this.offset - this.partStart;
  }

  /** Whether the bytes written are more than one buffer (a large byte field was kept by reference). */
  get chunked(): boolean {
    return this.parts !== null;
  }

  private grow(needed: number): void {
    // Only the bytes not yet in a finished part move: the parts keep viewing the old buffer.
    const live = this.offset - this.partStart;
    let capacity = this.buf.length * 2;
    while (capacity < live + needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, this.partStart, this.offset);
    this.buf = next;
    this.offset = live;
    this.partStart = 0;
  }

  /** Makes room for `n` more bytes and returns the offset to write them at (the current offset). */
  private ensure(n: number): number {
    if (this.offset + n > this.buf.length) this.grow(n);
    return this.offset;
  }

  /** Makes room for `n` more bytes, counts them as written, and returns the offset to fill them at. */
  private claim(n: number): number {
    const o = this.ensure(n);
    this.offset = o + n;
    return o;
  }

  /** Ends the current part and appends `b` as a part of its own, by reference. */
  private share(b: Buffer): void {
    const parts = (this.parts ??= []);
    const own = (this.ownParts ??= []);
    const pending = this.offset - this.partStart;
    if (pending > 0) {
      parts.push(this.buf.subarray(this.partStart, this.offset));
      own.push(true);
    }
    parts.push(b);
    own.push(false);
    this.partsLength += pending + b.length;
    this.partStart = this.offset;
  }

  int8(v: number): void {
    const o = this.ensure(1);
    this.offset = this.buf.writeInt8(v, o);
  }

  int16(v: number): void {
    const o = this.ensure(2);
    this.offset = this.buf.writeInt16BE(v, o);
  }

  uint16(v: number): void {
    const o = this.ensure(2);
    this.offset = this.buf.writeUInt16BE(v, o);
  }

  int32(v: number): void {
    const o = this.ensure(4);
    this.offset = this.buf.writeInt32BE(v, o);
  }

  uint32(v: number): void {
    const o = this.ensure(4);
    this.offset = this.buf.writeUInt32BE(v, o);
  }

  int64(v: bigint): void {
    const o = this.ensure(8);
    // Buffer#writeBigInt64BE costs several bigint operations; offsets and timestamps fit in a double, so
    // they are split into two 32-bit halves as numbers instead.
    if (typeof v === 'bigint' && v >= -0x1fffffffffffffn && v <= 0x1fffffffffffffn) {
      const n = Number(v);
      const hi = Math.floor(n / 0x100000000);
      const lo = n - hi * 0x100000000;
      const b = this.buf;
      b[o] = hi >>> 24;
      b[o + 1] = hi >>> 16;
      b[o + 2] = hi >>> 8;
      b[o + 3] = hi;
      b[o + 4] = lo >>> 24;
      b[o + 5] = lo >>> 16;
      b[o + 6] = lo >>> 8;
      b[o + 7] = lo;
      this.offset = o + 8;
      return;
    }
    this.offset = this.buf.writeBigInt64BE(v, o);
  }

  float64(v: number): void {
    const o = this.ensure(8);
    this.offset = this.buf.writeDoubleBE(v, o);
  }

  bool(v: boolean): void {
    const o = this.claim(1);
    this.buf[o] = v ? 1 : 0;
  }

  /** Unsigned varint of a uint32. */
  uvarint(v: number): void {
    if ((v & 0x7f) === v) {
      const o = this.claim(1);
      this.buf[o] = v;
      return;
    }
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`unsigned varint value ${v} is not an integer in 0..2^32-1`);
    }
    let o = this.claim(v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
    const b = this.buf;
    while (v >= 0x80) {
      b[o++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[o] = v;
  }

  /** Signed (zigzag) varint of an int32. */
  varint(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new RangeError(`varint value ${v} is not an int32`);
    }
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Signed (zigzag) varlong of an int64. */
  varlong(v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) {
      // Zigzag of an int32 is the same number whether taken over 32 or 64 bits.
      this.varint(Number(v));
      return;
    }
    if (v < -0x8000000000000000n || v > 0x7fffffffffffffffn) throw new RangeError(`varlong value ${v} is not an int64`);
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (u >= 0x80n) {
      const o = this.claim(1);
      this.buf[o] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    const o = this.claim(1);
    this.buf[o] = Number(u);
  }

  /** 32 hex characters as 16 raw bytes; an empty string counts as the zero UUID. */
  uuid(hex: string): void {
    if (hex === '') {
      const o = this.claim(16);
      this.buf.fill(0, o, o + 16);
      return;
    }
    if (!UUID_HEX.test(hex)) throw new TypeError(`uuid must be 32 hex characters, got ${JSON.stringify(hex)}`);
    const o = this.claim(16);
    this.buf.write(hex, o, 16, 'hex');
  }

  private utf8(s: string, length: number): void {
    if (length === 0) return;
    const o = this.claim(length);
    this.buf.write(s, o, length, 'utf8');
  }

  /** STRING: int16 length then UTF-8 bytes. */
  string(s: string): void {
    const length = Buffer.byteLength(s, 'utf8');
    if (length > 0x7fff) throw new RangeError(`string of ${length} bytes does not fit an int16 length`);
    this.int16(length);
    this.utf8(s, length);
  }

  /** NULLABLE_STRING: int16 length (-1 = null) then UTF-8 bytes. */
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }

  /** COMPACT_STRING: unsigned varint length+1 then UTF-8 bytes. */
  compactString(s: string): void {
    const length = Buffer.byteLength(s, 'utf8');
    if (length > 0x7fff) throw new RangeError(`string of ${length} bytes is longer than Kafka allows`);
    this.uvarint(length + 1);
    this.utf8(s, length);
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length+1 (0 = null) then UTF-8 bytes. */
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }

  /** BYTES: int32 length then the bytes. */
  bytes(b: Buffer): void {
    this.int32(b.length);
    if (b.length >= this.shareBytesFrom) this.share(b);
    else this.writeRaw(b);
  }

  /** NULLABLE_BYTES (and RECORDS): int32 length (-1 = null) then the bytes. */
  nullableBytes(b: Buffer | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  /** COMPACT_BYTES: unsigned varint length+1 then the bytes. */
  compactBytes(b: Buffer): void {
    this.uvarint(b.length + 1);
    if (b.length >= this.shareBytesFrom) this.share(b);
    else this.writeRaw(b);
  }

  /** COMPACT_NULLABLE_BYTES (and COMPACT_RECORDS): unsigned varint length+1 (0 = null) then the bytes. */
  compactNullableBytes(b: Buffer | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  /** ARRAY count as int32; -1 means null. */
  arrayLength(n: number): void {
    this.int32(n);
  }

  /** COMPACT_ARRAY count as unsigned varint count+1; -1 means null (written as 0). */
  compactArrayLength(n: number): void {
    this.uvarint(n + 1);
  }

  /**
   * A tagged-field section: the known fields a struct chose to write (already in tag order) and the
   * unknown ones it kept from decoding, merged in ascending tag order as the protocol requires.
   */
  taggedFields(unknown: readonly TaggedField[] | undefined, known?: readonly TaggedField[]): void {
    let fields: readonly TaggedField[];
    if (unknown === undefined || unknown.length === 0) {
      if (known === undefined || known.length === 0) {
        const o = this.claim(1);
        this.buf[o] = 0;
        return;
      }
      fields = known;
    } else {
      fields = known === undefined || known.length === 0 ? unknown : [...known, ...unknown];
      if (!isSortedByTag(fields)) fields = [...fields].sort((a, b) => a.tag - b.tag);
    }
    this.uvarint(fields.length);
    for (const field of fields) {
      this.uvarint(field.tag);
      this.uvarint(field.data.length);
      this.writeRaw(field.data);
    }
  }

  /** Appends bytes as they are. */
  writeRaw(b: Uint8Array): void {
    const n = b.length;
    if (n === 0) return;
    const o = this.claim(n);
    this.buf.set(b, o);
  }

  /** Writes a placeholder int32 (0) and returns its position, for a size patched in later. */
  reserveInt32(): number {
    const o = this.claim(4);
    this.buf.writeInt32BE(0, o);
    return this.partsLength + o - this.partStart;
  }

  /** Overwrites the int32 at position `at` (as returned by `reserveInt32`). */
  patchInt32(at: number, v: number): void {
    if (at < 0 || at + 4 > this.length) throw new RangeError(`no reserved int32 at offset ${at}`);
    if (at >= this.partsLength) {
      this.buf.writeInt32BE(v, this.partStart + at - this.partsLength);
      return;
    }
    // A reserved int32 was written whole into one of the writer's own parts, before any later part began.
    const parts = this.parts!;
    let start = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (at < start + part.length) {
        if (!this.ownParts![i] || at + 4 > start + part.length) {
          throw new RangeError(`no reserved int32 at offset ${at}`);
        }
        part.writeInt32BE(v, at - start);
        return;
      }
      start += part.length;
    }
  }

  /** Patches the int32 at `at` with the number of bytes written after it: a frame's size prefix. */
  patchSize(at: number): void {
    this.patchInt32(at, this.length - at - 4);
  }

  /**
   * The bytes written so far as one buffer: a view of the internal buffer or, when large byte fields
   * were kept by reference, a copy of every part joined.
   */
  toBuffer(): Buffer {
    if (this.parts === null) return this.buf.subarray(0, this.offset);
    return Buffer.concat(this.toBuffers(), this.length);
  }

  /** The bytes written so far as a list of buffers to be written in order (one, unless `chunked`). */
  toBuffers(): Buffer[] {
    const tail = this.buf.subarray(this.partStart, this.offset);
    if (this.parts === null) return [tail];
    return tail.length > 0 ? [...this.parts, tail] : [...this.parts];
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  reset(): void {
    this.offset = 0;
    this.partStart = 0;
    this.partsLength = 0;
    this.parts = null;
    this.ownParts = null;
  }
}

function isSortedByTag(fields: readonly TaggedField[]): boolean {
  for (let i = 1; i < fields.length; i++) if (fields[i - 1].tag > fields[i].tag) return false;
  return true;
}
