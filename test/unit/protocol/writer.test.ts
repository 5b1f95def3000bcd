import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defaultFetchResponse,
  defaultFetchResponseFetchableTopicResponse,
  defaultFetchResponsePartitionData,
  FetchApi,
  type FetchResponse,
  type FetchResponsePartitionData,
} from '../../../src/protocol/generated/01-fetch.js';
import { Reader, ZERO_UUID } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';

const hexOf = (fill: (w: Writer) => void): string => {
  const w = new Writer(16);
  fill(w);
  return w.toBuffer().toString('hex');
};

test('fixed-size integers are written big-endian', () => {
  assert.equal(
    hexOf((w) => {
      w.int8(-1);
      w.int16(-2);
      w.int32(-2147483648);
      w.int64(-1n);
      w.uint16(65535);
      w.uint32(4294967295);
      w.float64(1.5);
      w.bool(true);
      w.bool(false);
    }),
    'ff' + 'fffe' + '80000000' + 'ffffffffffffffff' + 'ffff' + 'ffffffff' + '3ff8000000000000' + '01' + '00',
  );
});

test('varints are written in as few bytes as their value needs', () => {
  assert.equal(
    hexOf((w) => w.uvarint(0)),
    '00',
  );
  assert.equal(
    hexOf((w) => w.uvarint(127)),
    '7f',
  );
  assert.equal(
    hexOf((w) => w.uvarint(128)),
    '8001',
  );
  assert.equal(
    hexOf((w) => w.uvarint(300)),
    'ac02',
  );
  assert.equal(
    hexOf((w) => w.uvarint(4294967295)),
    'ffffffff0f',
  );
  assert.equal(
    hexOf((w) => w.varint(-1)),
    '01',
  );
  assert.equal(
    hexOf((w) => w.varint(-2147483648)),
    'ffffffff0f',
  );
  assert.equal(
    hexOf((w) => w.varlong(150n)),
    'ac02',
  );
  assert.equal(
    hexOf((w) => w.varlong(-9223372036854775808n)),
    'ffffffffffffffffff01',
  );
});

test('every value the writer writes reads back unchanged', () => {
  const w = new Writer(16);
  const longs = [0n, 1n, -1n, 1n << 40n, -(1n << 50n), 9223372036854775807n, -9223372036854775808n];
  const ints = [0, 1, -1, 63, -64, 64, 2147483647, -2147483648];
  for (const v of longs) w.varlong(v);
  for (const v of ints) w.varint(v);
  w.uuid('00112233445566778899aabbccddeeff');
  w.uuid('');
  w.string('Grüße');
  w.compactString('日本語');
  w.nullableString(null);
  w.compactNullableString(null);
  w.bytes(Buffer.from([1, 2]));
  w.compactNullableBytes(null);
  const r = new Reader(w.toBuffer());
  for (const v of longs) assert.equal(r.varlong(), v);
  for (const v of ints) assert.equal(r.varint(), v);
  assert.equal(r.uuid(), '00112233445566778899aabbccddeeff');
  assert.equal(r.uuid(), ZERO_UUID);
  assert.equal(r.string(), 'Grüße');
  assert.equal(r.compactString(), '日本語');
  assert.equal(r.nullableString(), null);
  assert.equal(r.compactNullableString(), null);
  assert.deepEqual([...r.bytes()], [1, 2]);
  assert.equal(r.compactNullableBytes(), null);
  assert.equal(r.remaining(), 0);
});

test('int64 values on both sides of the double-precision fast path read back unchanged', () => {
  const values = [
    0n,
    -1n,
    1n,
    4294967295n,
    4294967296n,
    -4294967296n,
    -4294967297n,
    9007199254740991n,
    -9007199254740991n,
    9007199254740992n,
    -9007199254740993n,
    9223372036854775807n,
    -9223372036854775808n,
  ];
  const w = new Writer(16);
  for (const v of values) w.int64(v);
  const r = new Reader(w.toBuffer());
  for (const v of values) {
    assert.equal(r.int64(), v);
    assert.equal(w.toBuffer().readBigInt64BE(r.offset - 8), v, `${v} is not laid out as Buffer lays it out`);
  }
  assert.throws(() => w.int64(1 as unknown as bigint), TypeError);
});

test('strings are measured in UTF-8 bytes, not characters', () => {
  assert.equal(
    hexOf((w) => w.string('é')),
    '0002c3a9',
  );
  assert.equal(
    hexOf((w) => w.compactString('é')),
    '03c3a9',
  );
});

test('the buffer grows past its initial capacity and keeps what was written', () => {
  const w = new Writer(16);
  for (let i = 0; i < 10_000; i++) w.int32(i);
  w.writeRaw(Buffer.alloc(100_000, 7));
  assert.equal(w.length, 140_000);
  const r = new Reader(w.toBuffer());
  for (let i = 0; i < 10_000; i++) assert.equal(r.int32(), i);
  assert.ok(r.raw(100_000).every((b) => b === 7));
});

test('a reserved size prefix is patched with the length of what follows it', () => {
  const w = new Writer(16);
  const at = w.reserveInt32();
  w.int32(42);
  w.string('hello, a longer body to make the buffer grow');
  w.patchSize(at);
  const frame = w.toBuffer();
  assert.equal(frame.readInt32BE(0), frame.length - 4);
  assert.equal(frame.readInt32BE(4), 42);
  assert.throws(() => w.patchInt32(frame.length - 2, 1), RangeError);
});

test('a value out of its type range is refused and nothing is written', () => {
  const w = new Writer(16);
  assert.throws(() => w.int8(128), RangeError);
  assert.throws(() => w.int16(40000), RangeError);
  assert.throws(() => w.int32(2 ** 31), RangeError);
  assert.throws(() => w.uint16(-1), RangeError);
  assert.throws(() => w.int64(1n << 63n), RangeError);
  assert.throws(() => w.uvarint(-1), RangeError);
  assert.throws(() => w.uvarint(2 ** 32), RangeError);
  assert.throws(() => w.uvarint(1.5), RangeError);
  assert.throws(() => w.varint(2 ** 31), RangeError);
  assert.throws(() => w.varlong(1n << 63n), RangeError);
  assert.throws(() => w.string('x'.repeat(40000)), RangeError);
  assert.throws(() => w.uuid('not-a-uuid'), TypeError);
  assert.equal(w.length, 0);
});

test('a tagged-field section merges known and unknown fields in ascending tag order', () => {
  const data = (b: number): Buffer => Buffer.from([b]);
  assert.equal(
    hexOf((w) => w.taggedFields(undefined)),
    '00',
  );
  assert.equal(
    hexOf((w) => w.taggedFields([], [])),
    '00',
  );
  assert.equal(
    hexOf((w) =>
      w.taggedFields(
        [
          { tag: 9, data: data(0x99) },
          { tag: 2, data: data(0x22) },
        ],
        [
          { tag: 0, data: data(0x00) },
          { tag: 5, data: Buffer.alloc(0) },
        ],
      ),
    ),
    '04' + '000100' + '020122' + '0500' + '090199',
  );
});

test('toBuffer is a view of the bytes written so far', () => {
  const w = new Writer(16);
  w.int16(1);
  const view = w.toBuffer();
  assert.equal(view.toString('hex'), '0001');
  w.reset();
  assert.equal(w.length, 0);
  w.int16(2);
  assert.equal(view.toString('hex'), '0002', 'a reused writer overwrites earlier views');
});

/** Fills `w` with a frame holding byte fields of several sizes, the way a response encoder would. */
function writeMixedFrame(w: Writer, large: Buffer, medium: Buffer): void {
  const at = w.reserveInt32();
  w.int32(7);
  w.compactNullableBytes(large);
  w.string('between the large fields');
  w.nullableBytes(medium);
  w.nullableBytes(null);
  w.bytes(Buffer.from('small'));
  const inner = w.reserveInt32();
  w.compactBytes(large);
  w.patchSize(inner);
  w.int64(123456789n);
  w.patchSize(at);
}

test('large byte fields kept by reference encode to exactly the bytes of the flat path, size prefix included', () => {
  const large = Buffer.alloc(20_000, 0xab);
  const medium = Buffer.alloc(9_000, 0xcd);
  const flat = new Writer(16);
  writeMixedFrame(flat, large, medium);
  const chunked = new Writer(16, { shareBytesFrom: 8192 });
  writeMixedFrame(chunked, large, medium);

  assert.ok(chunked.chunked);
  assert.equal(chunked.length, flat.length);
  const parts = chunked.toBuffers();
  assert.ok(
    parts.some((p) => p === large),
    'the large field is one of the parts, not a copy',
  );
  assert.ok(parts.some((p) => p === medium));
  const joined = Buffer.concat(parts);
  assert.deepEqual(joined, flat.toBuffer());
  assert.equal(joined.readInt32BE(0), joined.length - 4);
  assert.deepEqual(chunked.toBuffer(), flat.toBuffer());
});

test('a writer without shareBytesFrom copies every byte field into one buffer', () => {
  const w = new Writer(16);
  writeMixedFrame(w, Buffer.alloc(20_000, 1), Buffer.alloc(9_000, 2));
  assert.equal(w.chunked, false);
  assert.equal(w.toBuffers().length, 1);
});

test('a chunked writer that grows after a shared field keeps the parts written before it', () => {
  const w = new Writer(16, { shareBytesFrom: 100 });
  const at = w.reserveInt32();
  w.int32(1);
  w.bytes(Buffer.alloc(200, 9));
  for (let i = 0; i < 1000; i++) w.int32(i);
  w.patchSize(at);
  const out = Buffer.concat(w.toBuffers());
  assert.equal(out.length, 4 + 4 + 4 + 200 + 4000);
  const r = new Reader(out);
  assert.equal(r.int32(), out.length - 4);
  assert.equal(r.int32(), 1);
  assert.ok(r.bytes().every((b) => b === 9));
  for (let i = 0; i < 1000; i++) assert.equal(r.int32(), i);
});

test('a chunked writer refuses to patch inside a shared field', () => {
  const shared = Buffer.alloc(64, 5);
  const w = new Writer(16, { shareBytesFrom: 32 });
  w.int32(0);
  w.bytes(shared);
  w.int32(0);
  assert.throws(() => w.patchInt32(10, 1), RangeError);
  assert.ok(shared.every((b) => b === 5));
  w.patchInt32(0, 3);
  w.patchInt32(72, 4);
  const out = Buffer.concat(w.toBuffers());
  assert.equal(out.readInt32BE(0), 3);
  assert.equal(out.readInt32BE(72), 4);
});

test('a Fetch response with large records encodes the same chunked and flat, in every version', () => {
  const big = Buffer.alloc(50_000, 0x11);
  const partition = (index: number, records: Buffer | null): FetchResponsePartitionData => ({
    ...defaultFetchResponsePartitionData(),
    partitionIndex: index,
    highWatermark: 1000n,
    abortedTransactions: [],
    records,
  });
  const response: FetchResponse = {
    ...defaultFetchResponse(),
    responses: [
      {
        ...defaultFetchResponseFetchableTopicResponse(),
        topic: 'events',
        topicId: '0123456789abcdef0123456789abcdef',
        partitions: [partition(0, big), partition(1, Buffer.alloc(100, 0x22)), partition(2, null), partition(3, big)],
      },
    ],
  };
  for (let version = FetchApi.minVersion; version <= FetchApi.maxVersion; version++) {
    const encode = (w: Writer): Buffer[] => {
      const at = w.reserveInt32();
      w.int32(99);
      FetchApi.encodeResponse(w, version, response);
      w.patchSize(at);
      return w.toBuffers();
    };
    const flat = Buffer.concat(encode(new Writer(1024)));
    const parts = encode(new Writer(1024, { shareBytesFrom: 8192 }));
    assert.ok(parts.length > 1, `v${version} keeps the records by reference`);
    assert.deepEqual(Buffer.concat(parts), flat, `v${version}`);
  }
});
