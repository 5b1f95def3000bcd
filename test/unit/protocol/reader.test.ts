import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodeError, Reader, ZERO_UUID } from '../../../src/protocol/reader.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const reader = (s: string): Reader => new Reader(hex(s));

function assertDecodeError(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('fixed-size integers are read big-endian with their sign', () => {
  const r = reader('ff fffe 80000000 7fffffff 8000000000000000 7fffffffffffffff ffff ffffffff 3ff8000000000000 01 00');
  assert.equal(r.int8(), -1);
  assert.equal(r.int16(), -2);
  assert.equal(r.int32(), -2147483648);
  assert.equal(r.int32(), 2147483647);
  assert.equal(r.int64(), -9223372036854775808n);
  assert.equal(r.int64(), 9223372036854775807n);
  assert.equal(r.uint16(), 65535);
  assert.equal(r.uint32(), 4294967295);
  assert.equal(r.float64(), 1.5);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.equal(r.remaining(), 0);
});

test('every fixed-size read one byte short of its size throws DecodeError and does not move', () => {
  const reads: [string, number, (r: Reader) => unknown][] = [
    ['int8', 1, (r) => r.int8()],
    ['bool', 1, (r) => r.bool()],
    ['int16', 2, (r) => r.int16()],
    ['uint16', 2, (r) => r.uint16()],
    ['int32', 4, (r) => r.int32()],
    ['uint32', 4, (r) => r.uint32()],
    ['int64', 8, (r) => r.int64()],
    ['float64', 8, (r) => r.float64()],
    ['uuid', 16, (r) => r.uuid()],
  ];
  for (const [name, size, read] of reads) {
    const r = new Reader(Buffer.alloc(size - 1));
    assertDecodeError(() => read(r), new RegExp(name));
    assert.equal(r.offset, 0, `${name} moved the offset`);
  }
});

test('reads stop at the window end even when the buffer holds more bytes', () => {
  const buf = hex('00000001 00000002');
  const r = new Reader(buf, 0, 6);
  assert.equal(r.int32(), 1);
  assertDecodeError(() => r.int32());
  assert.equal(new Reader(buf, 4).int32(), 2);
});

test('a reader window outside its buffer is refused', () => {
  assert.throws(() => new Reader(Buffer.alloc(4), 0, 5), RangeError);
  assert.throws(() => new Reader(Buffer.alloc(4), 3, 2), RangeError);
  assert.throws(() => new Reader(Buffer.alloc(4), -1), RangeError);
});

test('unsigned varints decode from one to five bytes', () => {
  assert.equal(reader('00').uvarint(), 0);
  assert.equal(reader('7f').uvarint(), 127);
  assert.equal(reader('8001').uvarint(), 128);
  assert.equal(reader('ac02').uvarint(), 300);
  assert.equal(reader('ffffffff0f').uvarint(), 4294967295);
});

test('an unsigned varint that is cut off, longer than five bytes or above 32 bits throws DecodeError', () => {
  assertDecodeError(() => reader('').uvarint());
  assertDecodeError(() => reader('80').uvarint(), /cut off/);
  assertDecodeError(() => reader('8080808080').uvarint(), /longer than 5 bytes/);
  assertDecodeError(() => reader('ffffffff1f').uvarint(), /exceeds 32 bits/);
});

test('signed varints are zigzag-decoded over the whole int32 range', () => {
  assert.equal(reader('00').varint(), 0);
  assert.equal(reader('01').varint(), -1);
  assert.equal(reader('02').varint(), 1);
  assert.equal(reader('03').varint(), -2);
  assert.equal(reader('feffffff0f').varint(), 2147483647);
  assert.equal(reader('ffffffff0f').varint(), -2147483648);
});

test('varlongs are zigzag-decoded over the whole int64 range, up to ten bytes', () => {
  assert.equal(reader('00').varlong(), 0n);
  assert.equal(reader('01').varlong(), -1n);
  assert.equal(reader('ac02').varlong(), 150n);
  assert.equal(reader('feffffffffffffffff01').varlong(), 9223372036854775807n);
  assert.equal(reader('ffffffffffffffffff01').varlong(), -9223372036854775808n);
  assert.equal(reader('80808080808080808001').varlong(), 4611686018427387904n);
  assertDecodeError(() => reader('8080808080808080808001').varlong(), /longer than 10 bytes/);
  assertDecodeError(() => reader('ffff').varlong(), /cut off/);
  assertDecodeError(() => reader('ffffffffffffffff').varlong(), /cut off/);
});

test('a uuid reads as 32 lowercase hex characters', () => {
  assert.equal(reader('00112233445566778899AABBCCDDEEFF').uuid(), '00112233445566778899aabbccddeeff');
  assert.equal(new Reader(Buffer.alloc(16)).uuid(), ZERO_UUID);
});

test('strings decode as UTF-8 in their classic and compact forms', () => {
  const utf8 = Buffer.from('Grüße').toString('hex');
  assert.equal(reader(`0007${utf8}`).string(), 'Grüße');
  assert.equal(reader(`08${utf8}`).compactString(), 'Grüße');
  assert.equal(reader('0000').string(), '');
  assert.equal(reader('01').compactString(), '');
  assert.equal(reader('ffff').nullableString(), null);
  assert.equal(reader('00').compactNullableString(), null);
  assert.equal(reader('000161').nullableString(), 'a');
  assert.equal(reader('0261').compactNullableString(), 'a');
});

test('a null in a non-nullable string, bytes or array throws DecodeError', () => {
  assertDecodeError(() => reader('ffff').string(), /null/);
  assertDecodeError(() => reader('00').compactString(), /null/);
  assertDecodeError(() => reader('ffffffff').bytes(), /null/);
  assertDecodeError(() => reader('00').compactBytes(), /null/);
  assertDecodeError(() => reader('ffffffff').arrayLength(), /null/);
  assertDecodeError(() => reader('00').compactArrayLength(), /null/);
});

test('negative lengths other than -1 throw DecodeError', () => {
  assertDecodeError(() => reader('fffe').string(), /negative length -2/);
  assertDecodeError(() => reader('fffe').nullableString(), /negative length -2/);
  assertDecodeError(() => reader('8000').nullableString(), /negative length/);
  assertDecodeError(() => reader('fffffffe').bytes(), /negative length -2/);
  assertDecodeError(() => reader('fffffffe').nullableBytes(), /negative length -2/);
  assertDecodeError(() => reader('80000000').nullableArrayLength(), /negative length/);
  assertDecodeError(() => reader('fffffffe').arrayLength(), /negative length -2/);
});

test('a string or bytes longer than what remains throws DecodeError before reading', () => {
  assertDecodeError(() => reader('0005616263').string(), /needs 5 bytes but only 3 remain/);
  assertDecodeError(() => reader('06616263').compactString(), /needs 5 bytes/);
  assertDecodeError(() => reader('7fffffff00').bytes(), /needs 2147483647 bytes/);
  assertDecodeError(() => reader('ffffffff0f00').compactNullableBytes(), /needs 4294967294 bytes/);
});

test('bytes come back as views of the input, not copies', () => {
  const buf = hex('00000003 010203 04 020a');
  const r = new Reader(buf);
  const b = r.bytes();
  assert.deepEqual([...b], [1, 2, 3]);
  buf[5] = 99;
  assert.equal(b[1], 99, 'the slice shares memory with the input');
  assert.equal(r.int8(), 4);
  assert.deepEqual([...(r.compactNullableBytes() ?? [])], [10]);
  assert.equal(reader('ffffffff').nullableBytes(), null);
  assert.equal(reader('00').compactNullableBytes(), null);
});

test('an array count of 2^31-1 with 3 bytes left throws DecodeError without allocating', () => {
  assertDecodeError(() => reader('7fffffff 000000').arrayLength(), /claims 2147483647 elements/);
  assertDecodeError(() => reader('7fffffff 000000').nullableArrayLength(), /claims 2147483647 elements/);
  assertDecodeError(() => reader('ffffffff07 000000').compactArrayLength(), /claims 2147483646 elements/);
  assertDecodeError(() => reader('ffffffff07 000000').compactNullableArrayLength(), /claims/);
});

test('an array count is checked against the smallest size of one element', () => {
  // Two int32 elements need 8 bytes; 7 are left.
  assertDecodeError(() => reader('00000002 00000000000000').arrayLength(4), /at least 4 bytes/);
  assert.equal(reader('00000002 0000000000000000').arrayLength(4), 2);
  assert.equal(reader('03 0000').compactArrayLength(1), 2);
  assert.equal(reader('ffffffff').nullableArrayLength(4), -1);
  assert.equal(reader('00').compactNullableArrayLength(4), -1);
});

test('a tagged-field section keeps every field as a view with its tag', () => {
  const r = reader('02 01 02 abcd 05 00 ff');
  const fields = r.taggedFields();
  assert.deepEqual(
    fields?.map((f) => [f.tag, f.data.toString('hex')]),
    [
      [1, 'abcd'],
      [5, ''],
    ],
  );
  assert.equal(r.int8(), -1);
  assert.equal(reader('00').taggedFields(), undefined);
});

test('a tagged-field section with a lying count or size throws DecodeError', () => {
  assertDecodeError(() => reader('ffffffff0f 0000').taggedFields(), /tagged-field section/);
  assertDecodeError(() => reader('01 01 05 abcd').taggedFields(), /needs 5 bytes/);
  assertDecodeError(() => reader('01 01').taggedFields());
});

test('a sub-reader cannot read past the size it was given, and its parent skips that size', () => {
  const r = reader('0000000a 0b');
  const sub = r.sub(2);
  assert.equal(sub.int16(), 0);
  assertDecodeError(() => sub.int8());
  assert.equal(r.int16(), 10);
  assertDecodeError(() => r.sub(5));
});

test('raw and skip are bounds-checked', () => {
  const r = reader('010203');
  r.skip(1);
  assert.deepEqual([...r.raw(2)], [2, 3]);
  assertDecodeError(() => r.raw(1));
  assertDecodeError(() => r.skip(1));
  assertDecodeError(() => reader('00').raw(-1));
});
