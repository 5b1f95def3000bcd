/**
 * Zigzag varints as used inside v2 records (protobuf encoding): int32 fields as varint, int64 as varlong.
 * Readers are bounds-checked and throw RecordDecodeError, never RangeError, on malformed input.
 */

export class RecordDecodeError extends Error {
  override name = 'RecordDecodeError';
}

/** Bytes a zigzag varint takes for a signed 32-bit value. */
export function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (v >= 0x80) {
    v >>>= 7;
    size++;
  }
  return size;
}

/** Write a zigzag varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

const MASK_64 = (1n << 64n) - 1n;

function zigzag64(value: bigint): bigint {
  return ((value << 1n) ^ (value >> 63n)) & MASK_64;
}

/** Bytes a zigzag varlong takes for a signed 64-bit value. */
export function varlongSize(value: bigint): number {
  if (value >= -0x8000_0000n && value <= 0x7fff_ffffn) return varintSize(Number(value));
  let v = zigzag64(value);
  let size = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    size++;
  }
  return size;
}

/** Write a zigzag varlong at `pos`; returns the position after it. */
export function writeVarlong(buf: Buffer, pos: number, value: bigint): number {
  if (value >= -0x8000_0000n && value <= 0x7fff_ffffn) return writeVarint(buf, pos, Number(value));
  let v = zigzag64(value);
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}

/**
 * A bounds-checked cursor over `buf[pos, end)`. Every read checks the remaining length first, so a
 * lying length or a truncated varint raises RecordDecodeError rather than reading past `end`.
 */
export class RecordReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  readInt8(): number {
    if (this.pos >= this.end) throw new RecordDecodeError(`truncated record at byte ${this.pos}`);
    return this.buf.readInt8(this.pos++);
  }

  /** A zigzag varint of at most 5 bytes, decoded to a signed 32-bit number. */
  readVarint(): number {
    let raw = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw new RecordDecodeError(`truncated varint at byte ${this.pos}`);
      const byte = this.buf[this.pos++]!;
      raw |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (i === 4 && byte > 0x0f) throw new RecordDecodeError(`varint overflows 32 bits at byte ${this.pos - 1}`);
        raw >>>= 0;
        return (raw >>> 1) ^ -(raw & 1);
      }
      shift += 7;
    }
    throw new RecordDecodeError(`varint longer than 5 bytes at byte ${this.pos}`);
  }

  /** A zigzag varlong of at most 10 bytes, decoded to a signed 64-bit bigint. */
  readVarlong(): bigint {
    // Fast path: timestamp deltas are small, so up to 7 bytes (49 bits) are summed exactly as a number.
    const start = this.pos;
    let small = 0;
    for (let i = 0; i < 7 && this.pos < this.end; i++) {
      const byte = this.buf[this.pos++]!;
      small += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return BigInt(small % 2 === 0 ? small / 2 : -(small + 1) / 2);
    }
    this.pos = start;
    return this.readVarlongSlow();
  }

  private readVarlongSlow(): bigint {
    let raw = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RecordDecodeError(`truncated varlong at byte ${this.pos}`);
      const byte = this.buf[this.pos++]!;
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (i === 9 && byte > 0x01) throw new RecordDecodeError(`varlong overflows 64 bits at byte ${this.pos - 1}`);
        return (raw >> 1n) ^ -(raw & 1n);
      }
      shift += 7n;
    }
    throw new RecordDecodeError(`varlong longer than 10 bytes at byte ${this.pos}`);
  }

  /** `length` bytes as a slice of the underlying buffer (no copy). */
  readSlice(length: number): Buffer {
    if (length < 0 || length > this.remaining) {
      throw new RecordDecodeError(`length ${length} at byte ${this.pos} exceeds the ${this.remaining} bytes left`);
    }
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  /** A varint length then that many bytes; length -1 is null. */
  readNullableBytes(): Buffer | null {
    const length = this.readVarint();
    if (length === -1) return null;
    if (length < -1) throw new RecordDecodeError(`negative length ${length} at byte ${this.pos}`);
    return this.readSlice(length);
  }
}
