import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiDescriptor, MessageCodec } from '../../../src/protocol/api.js';
import { ALL_APIS, MESSAGE_CODECS } from '../../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS, type MessageSchema } from '../../../src/protocol/generated/schema.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { Random, randomMessage, type ValueOptions } from './message-values.js';

// Each version is tried with a few kinds of values: full (every array has elements, nothing is null),
// random, mostly null, and full with unknown tagged fields on every struct of a flexible version.
const SAMPLE_OPTIONS: Partial<ValueOptions>[] = [
  { nullChance: 0, minArrayLength: 1, maxArrayLength: 2, unknownTagChance: 0 },
  {},
  { nullChance: 0.6 },
  { nullChance: 0, minArrayLength: 1, maxArrayLength: 2, unknownTagChance: 1 },
  {},
];

function schemaOf(name: string): MessageSchema {
  const schema = MESSAGE_SCHEMAS.find((m) => m.name === name);
  assert.ok(schema, `no schema for ${name}`);
  return schema;
}

type Encode = (w: Writer, version: number, msg: unknown) => void;
type Decode = (r: Reader, version: number) => unknown;

/** Encodes, decodes, compares, and encodes the decoded value again: both encodings must be identical. */
function assertRoundTrip(
  name: string,
  version: number,
  encode: Encode,
  decode: Decode,
  value: unknown,
  seed: number,
): void {
  const w = new Writer(16);
  encode(w, version, value);
  const bytes = Buffer.from(w.toBuffer());
  const r = new Reader(bytes);
  const decoded = decode(r, version);
  const where = `${name} v${version} (seed ${seed})`;
  assert.equal(r.remaining(), 0, `${where}: decoding left ${r.remaining()} bytes`);
  assert.deepStrictEqual(decoded, value, `${where}: decoded value differs`);
  const again = new Writer(16);
  encode(again, version, decoded);
  assert.ok(again.toBuffer().equals(bytes), `${where}: re-encoding the decoded value gives different bytes`);
}

function roundTripEveryVersion(
  name: string,
  min: number,
  max: number,
  encode: Encode,
  decode: Decode,
  makeDefault: () => unknown,
): void {
  const schema = schemaOf(name);
  for (let version = min; version <= max; version++) {
    assertRoundTrip(name, version, encode, decode, makeDefault(), -1);
    SAMPLE_OPTIONS.forEach((options, i) => {
      const seed = version * 1000 + i;
      assertRoundTrip(name, version, encode, decode, randomMessage(schema, version, new Random(seed), options), seed);
    });
  }
}

for (const api of ALL_APIS as readonly ApiDescriptor[]) {
  test(`${api.name} requests survive encode and decode unchanged in every version ${api.minVersion}-${api.maxVersion}`, () => {
    roundTripEveryVersion(
      `${api.name}Request`,
      api.minVersion,
      api.maxVersion,
      api.encodeRequest.bind(api),
      api.decodeRequest.bind(api),
      api.defaultRequest.bind(api),
    );
  });
  test(`${api.name} responses survive encode and decode unchanged in every version ${api.minVersion}-${api.maxVersion}`, () => {
    roundTripEveryVersion(
      `${api.name}Response`,
      api.minVersion,
      api.maxVersion,
      api.encodeResponse.bind(api),
      api.decodeResponse.bind(api),
      api.defaultResponse.bind(api),
    );
  });
}

for (const codec of MESSAGE_CODECS.values() as Iterable<MessageCodec>) {
  test(`${codec.name} survives encode and decode unchanged in every version ${codec.minVersion}-${codec.maxVersion}`, () => {
    roundTripEveryVersion(
      codec.name,
      codec.minVersion,
      codec.maxVersion,
      codec.encode.bind(codec),
      codec.decode.bind(codec),
      codec.defaultValue.bind(codec),
    );
  });
}

test('every API key from 0 to 87 has a descriptor whose request and response schemas agree with it', () => {
  assert.deepEqual(
    ALL_APIS.map((a) => a.apiKey),
    Array.from({ length: 88 }, (_, i) => i),
  );
  for (const api of ALL_APIS) {
    for (const kind of ['Request', 'Response']) {
      const schema = schemaOf(api.name + kind);
      assert.equal(schema.apiKey, api.apiKey);
      assert.deepEqual(schema.validVersions, [api.minVersion, api.maxVersion]);
      assert.equal(schema.flexibleVersions === null ? -1 : schema.flexibleVersions[0], api.flexibleMinVersion);
    }
  }
});
