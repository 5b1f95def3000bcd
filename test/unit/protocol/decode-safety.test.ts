// Decoding hostile bytes: every truncation of valid encodings and random byte flips must either decode
// or throw DecodeError, never another error (RangeError, TypeError) and never hang or allocate wildly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiDescriptor } from '../../../src/protocol/api.js';
import { apiByKey, MESSAGE_CODECS } from '../../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../../src/protocol/generated/schema.js';
import { DecodeError, Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Random, randomMessage } from './message-values.js';

type Decode = (r: Reader, version: number) => unknown;

function decodeSafely(decode: Decode, bytes: Buffer, end: number, version: number, what: string): void {
  try {
    decode(new Reader(bytes, 0, end), version);
  } catch (err) {
    if (err instanceof DecodeError) return;
    assert.fail(`${what}: decoding threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

function encodeSample(
  name: string,
  version: number,
  seed: number,
  encode: (w: Writer, v: number, m: unknown) => void,
): Buffer {
  const schema = MESSAGE_SCHEMAS.find((m) => m.name === name);
  assert.ok(schema);
  const value = randomMessage(schema, version, new Random(seed), {
    nullChance: 0.2,
    minArrayLength: 1,
    maxArrayLength: 2,
  });
  const w = new Writer();
  encode(w, version, value);
  return Buffer.from(w.toBuffer());
}

function exercise(
  name: string,
  version: number,
  encode: (w: Writer, v: number, m: unknown) => void,
  decode: Decode,
): void {
  const bytes = encodeSample(name, version, version + 7, encode);
  for (let end = 0; end < bytes.length; end++)
    decodeSafely(decode, bytes, end, version, `${name} v${version} cut at ${end}`);
  const rnd = new Random(version * 31 + bytes.length);
  for (let i = 0; i < 300; i++) {
    const mutated = Buffer.from(bytes);
    const flips = rnd.int(1, 4);
    for (let f = 0; f < flips; f++) {
      const at = rnd.int(0, mutated.length - 1);
      // Mostly random bytes, sometimes the values that make lengths lie: 0xff, 0x7f, 0x80, 0x00.
      mutated[at] = rnd.chance(0.5) ? rnd.int(0, 255) : [0xff, 0x7f, 0x80, 0x00][rnd.int(0, 3)];
    }
    decodeSafely(decode, mutated, mutated.length, version, `${name} v${version} mutation ${i}`);
  }
}

// The client-facing APIs with the most structure, at their first, last and flexible-boundary versions.
const SAMPLE_KEYS = [0, 1, 2, 3, 8, 9, 10, 11, 14, 18, 19, 22, 32, 60, 68, 75];

for (const key of SAMPLE_KEYS) {
  const api = apiByKey(key) as ApiDescriptor;
  const versions = new Set([api.minVersion, api.maxVersion]);
  if (api.flexibleMinVersion > api.minVersion) versions.add(api.flexibleMinVersion - 1).add(api.flexibleMinVersion);
  test(`${api.name} requests and responses cut short or corrupted decode or throw DecodeError, nothing else`, () => {
    for (const version of versions) {
      exercise(`${api.name}Request`, version, api.encodeRequest.bind(api), api.decodeRequest.bind(api));
      exercise(`${api.name}Response`, version, api.encodeResponse.bind(api), api.decodeResponse.bind(api));
    }
  });
}

test('consumer protocol payloads cut short or corrupted decode or throw DecodeError, nothing else', () => {
  for (const name of ['ConsumerProtocolSubscription', 'ConsumerProtocolAssignment']) {
    const codec = MESSAGE_CODECS.get(name);
    assert.ok(codec);
    for (let v = codec.minVersion; v <= codec.maxVersion; v++)
      exercise(name, v, codec.encode.bind(codec), codec.decode.bind(codec));
  }
});

test('a lying top-level array count in a Produce request fails fast instead of allocating', () => {
  const api = apiByKey(0) as ApiDescriptor;
  // v3: transactional id (null), acks, timeout, then a topic count of 2^31-1 with nothing after it.
  const bytes = Buffer.from('ffff' + 'ffff' + '00007530' + '7fffffff', 'hex');
  const started = process.hrtime.bigint();
  assert.throws(() => api.decodeRequest(new Reader(bytes), 3), DecodeError);
  assert.ok(process.hrtime.bigint() - started < 50_000_000n, 'decoding took longer than 50 ms');
});
