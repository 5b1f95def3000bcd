import type { TaggedField } from './tagged-fields.js';

/** The all-zero UUID, Kafka's "no topic id". UUIDs travel as 16 raw bytes and live here as 32 hex chars. */
export const ZERO_UUID = '00000000000000000000000000000000';

/**
 * Thrown when bytes cannot be decoded: they end too early, a length is negative or larger than what
 * is left, a varint is too long, or a non-nullable field is null. The network layer answers a request
 * that fails this way by closing the connection, as Kafka does.
 */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** How many more array elements and tagged fields a message may hold; shared by a reader and its sub-readers. */
interface ElementBudget {
  readonly limit: number;
  left: number;
}

/** A shared empty buffer: the default of `bytes` fields. Zero-length, so nothing can write into it. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/**
 * Reads Kafka's primitive types from `buf` between `offset` and `end`. Every read checks that its
 * bytes lie before `end`, and every length is checked against the bytes left before anything is
 * allocated, so a hostile frame can neither read out of bounds nor make us allocate much.
 * `bytes` and the record fields come back as `subarray` views of `buf`, not copies.
 */
export class Reader {
  readonly buf: Buffer;
  offset: number;
  readonly end: number;
  private budget: ElementBudget | undefined;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new RangeError(`reader window ${offset}..${end} lies outside a buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /**
   * Caps the array elements (and tagged fields) decoded through this reader and its sub-readers, in all.
   * Counts are already checked against the bytes left, but a decoded element costs far more memory than
   * its smallest encoding (an empty topic name is 2 bytes on the wire, ~70 bytes as an object), so without
   * a cap one large request of tiny elements could take gigabytes and block the event loop for seconds.
   */
  limitElements(limit: number): this {
    this.budget = { limit, left: limit };
    return this;
  }

  private underflow(what: string, needed: number): DecodeError {
    return new DecodeError(
      `cannot read ${what} at offset ${this.offset}: needs ${needed} bytes but only ${this.end - this.offset} remain`,
    );
  }

  private take(n: number, what: string): number {
    const o = this.offset;
    if (n > this.end - o) throw this.underflow(what, n);
    this.offset = o + n;
    return o;
  }

  int8(): number {
    const o = this.offset;
    if (o >= this.end) throw this.underflow('int8', 1);
    this.offset = o + 1;
    const b = this.buf[o];
    return b > 127 ? b - 256 : b;
  }

  int16(): number {
    const o = this.take(2, 'int16');
    const b = this.buf;
    const v = (b[o] << 8) | b[o + 1];
    return v > 0x7fff ? v - 0x10000 : v;
  }

  uint16(): number {
    const o = this.take(2, 'uint16');
    const b = this.buf;
    return (b[o] << 8) | b[o + 1];
  }

  int32(): number {
    const o = this.take(4, 'int32');
    const b = this.buf;
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
  }

  uint32(): number {
    const o = this.take(4, 'uint32');
    const b = this.buf;
    return b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
  }

  int64(): bigint {
    const o = this.take(8, 'int64');
    const b = this.buf;
    const hi = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
    const lo = b[o + 4] * 0x1000000 + ((b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]);
    // Most int64s (offsets, timestamps, -1) fit in a double: one BigInt conversion instead of three.
    if (hi >= -0x200000 && hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8, 'float64'));
  }

  bool(): boolean {
    const o = this.offset;
    if (o >= this.end) throw this.underflow('bool', 1);
    this.offset = o + 1;
    return this.buf[o] !== 0;
  }

  /** Unsigned varint of at most 5 bytes (a uint32), as used for compact lengths and tags. */
  uvarint(): number {
    const b = this.buf;
    const end = this.end;
    let o = this.offset;
    if (o < end && b[o] < 0x80) {
      this.offset = o + 1;
      return b[o];
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (o >= end) throw new DecodeError(`unsigned varint at offset ${this.offset} is cut off by the end of the data`);
      const byte = b[o++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > 0xffffffff) throw new DecodeError(`unsigned varint at offset ${this.offset} exceeds 32 bits`);
        this.offset = o;
        return value;
      }
      scale *= 128;
    }
    throw new DecodeError(`unsigned varint at offset ${this.offset} is longer than 5 bytes`);
  }

  /** Signed (zigzag) varint of at most 5 bytes: an int32. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Signed (zigzag) varlong of at most 10 bytes: an int64. */
  varlong(): bigint {
    const b = this.buf;
    const end = this.end;
    const start = this.offset;
    let o = start;
    // Up to 7 bytes (49 bits) are summed exactly as a double; longer values continue as bigint.
    let small = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (o >= end) throw new DecodeError(`varlong at offset ${start} is cut off by the end of the data`);
      const byte = b[o++];
      small += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.offset = o;
        const u = BigInt(small);
        return (u >> 1n) ^ -(u & 1n);
      }
      scale *= 128;
    }
    let big = BigInt(small);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (o >= end) throw new DecodeError(`varlong at offset ${start} is cut off by the end of the data`);
      const byte = b[o++];
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.offset = o;
        const u = BigInt.asUintN(64, big);
        return (u >> 1n) ^ -(u & 1n);
      }
      shift += 7n;
    }
    throw new DecodeError(`varlong at offset ${start} is longer than 10 bytes`);
  }

  /** 16 raw bytes as 32 lowercase hex characters; the zero UUID is `ZERO_UUID`. */
  uuid(): string {
    const o = this.take(16, 'uuid');
    return this.buf.toString('hex', o, o + 16);
  }

  private text(length: number, what: string): string {
    const o = this.take(length, what);
    return length === 0 ? '' : this.buf.toString('utf8', o, o + length);
  }

  private slice(length: number, what: string): Buffer {
    const o = this.take(length, what);
    return length === 0 ? EMPTY_BUFFER : this.buf.subarray(o, o + length);
  }

  private classicLength(what: string, lengthBytes: 2 | 4): number {
    const at = this.offset;
    const n = lengthBytes === 2 ? this.int16() : this.int32();
    if (n < -1) throw new DecodeError(`${what} at offset ${at} has negative length ${n}`);
    return n;
  }

  private compactLength(): number {
    return this.uvarint() - 1;
  }

  private nullError(what: string, at: number): DecodeError {
    return new DecodeError(`${what} at offset ${at} is null but the field is not nullable in this version`);
  }

  /** STRING: int16 length then UTF-8 bytes; null (-1) is an error. */
  string(): string {
    const at = this.offset;
    const n = this.classicLength('string', 2);
    if (n < 0) throw this.nullError('string', at);
    return this.text(n, 'string');
  }

  /** NULLABLE_STRING: int16 length (-1 = null) then UTF-8 bytes. */
  nullableString(): string | null {
    const n = this.classicLength('string', 2);
    return n < 0 ? null : this.text(n, 'string');
  }

  /** COMPACT_STRING: unsigned varint length+1 then UTF-8 bytes; null (0) is an error. */
  compactString(): string {
    const at = this.offset;
    const n = this.compactLength();
    if (n < 0) throw this.nullError('compact string', at);
    return this.text(n, 'compact string');
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length+1 (0 = null) then UTF-8 bytes. */
  compactNullableString(): string | null {
    const n = this.compactLength();
    return n < 0 ? null : this.text(n, 'compact string');
  }

  /** BYTES: int32 length then the bytes, as a view of the input. */
  bytes(): Buffer {
    const at = this.offset;
    const n = this.classicLength('bytes', 4);
    if (n < 0) throw this.nullError('bytes', at);
    return this.slice(n, 'bytes');
  }

  /** NULLABLE_BYTES (and RECORDS): int32 length (-1 = null) then the bytes, as a view of the input. */
  nullableBytes(): Buffer | null {
    const n = this.classicLength('bytes', 4);
    return n < 0 ? null : this.slice(n, 'bytes');
  }

  /** COMPACT_BYTES: unsigned varint length+1 then the bytes, as a view of the input. */
  compactBytes(): Buffer {
    const at = this.offset;
    const n = this.compactLength();
    if (n < 0) throw this.nullError('compact bytes', at);
    return this.slice(n, 'compact bytes');
  }

  /** COMPACT_NULLABLE_BYTES (and COMPACT_RECORDS): unsigned varint length+1 (0 = null), as a view. */
  compactNullableBytes(): Buffer | null {
    const n = this.compactLength();
    return n < 0 ? null : this.slice(n, 'compact bytes');
  }

  /** The next `length` bytes as a view of the input. */
  raw(length: number): Buffer {
    if (!Number.isInteger(length) || length < 0) throw new DecodeError(`invalid length ${length}`);
    return this.slice(length, 'raw bytes');
  }

  /** Skips `length` bytes. */
  skip(length: number): void {
    this.take(length, 'skipped bytes');
  }

  /**
   * A reader over the next `length` bytes, which this reader then skips. Known tagged fields are
   * decoded through one, so a field can never read past the size its tag announced.
   */
  sub(length: number): Reader {
    const o = this.take(length, 'sub-structure');
    const sub = new Reader(this.buf, o, o + length);
    sub.budget = this.budget;
    return sub;
  }

  private checkCount(n: number, minElementSize: number, what: string, at: number): number {
    if (n > (this.end - this.offset) / minElementSize) {
      throw new DecodeError(
        `${what} at offset ${at} claims ${n} elements of at least ${minElementSize} bytes but only ${this.end - this.offset} bytes remain`,
      );
    }
    const budget = this.budget;
    if (budget !== undefined && (budget.left -= n) < 0) {
      throw new DecodeError(
        `${what} at offset ${at} takes the message past ${budget.limit} array elements in all, the most one message may hold`,
      );
    }
    return n;
  }

  /**
   * ARRAY: int32 element count; null (-1) is an error. The count is checked against the bytes left,
   * given that one element takes at least `minElementSize` bytes, before the caller allocates.
   */
  arrayLength(minElementSize = 1): number {
    const at = this.offset;
    const n = this.classicLength('array', 4);
    if (n < 0) throw this.nullError('array', at);
    return this.checkCount(n, minElementSize, 'array', at);
  }

  /** Nullable ARRAY: int32 element count, -1 for null; checked like `arrayLength`. */
  nullableArrayLength(minElementSize = 1): number {
    const at = this.offset;
    const n = this.classicLength('array', 4);
    return n < 0 ? -1 : this.checkCount(n, minElementSize, 'array', at);
  }

  /** COMPACT_ARRAY: unsigned varint count+1; null (0) is an error; checked like `arrayLength`. */
  compactArrayLength(minElementSize = 1): number {
    const at = this.offset;
    const n = this.compactLength();
    if (n < 0) throw this.nullError('compact array', at);
    return this.checkCount(n, minElementSize, 'compact array', at);
  }

  /** Nullable COMPACT_ARRAY: unsigned varint count+1, -1 for null; checked like `arrayLength`. */
  compactNullableArrayLength(minElementSize = 1): number {
    const at = this.offset;
    const n = this.compactLength();
    return n < 0 ? -1 : this.checkCount(n, minElementSize, 'compact array', at);
  }

  /** The field count of a tagged-field section; each field takes at least 2 bytes (tag and size). */
  taggedFieldCount(): number {
    const at = this.offset;
    return this.checkCount(this.uvarint(), 2, 'tagged-field section', at);
  }

  /**
   * A whole tagged-field section, for a struct that knows none of its tags: every field is kept as
   * an unknown tagged field. Returns undefined when the section is empty (the usual case).
   */
  taggedFields(): TaggedField[] | undefined {
    const count = this.taggedFieldCount();
    if (count === 0) return undefined;
    const fields: TaggedField[] = [];
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      fields.push({ tag, data: this.slice(this.uvarint(), 'tagged field') });
    }
    return fields;
  }
}
