/**
 * Fuzz cases: a valid request of a served API and version, built from the message schemas with values
 * steered toward what the broker knows (its topics, small waits, real record batches), encoded with the
 * generated codecs, then mutated. Every case is a pure function of its seed and the fuzz context, so a
 * failure can be replayed; its bytes are printed too.
 *
 * Each case carries what the broker must do with it, worked out here by decoding the mutated frame exactly
 * as the dispatcher does: answer it (with a response that decodes), answer it with UNSUPPORTED_VERSION
 * (ApiVersions), or close the connection.
 */
import type { ApiDescriptor } from '../../src/protocol/api.js';
import { API_BY_KEY, requestHeaderVersion } from '../../src/protocol/generated/index.js';
import { MESSAGE_SCHEMAS, type MessageSchema } from '../../src/protocol/generated/schema.js';
import { DecodeError, Reader, ZERO_UUID } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { buildRecordBatchAsync, CompressionType, restampCrc } from '../../src/records/index.js';
import { Random, randomMessage } from '../unit/protocol/message-values.js';

export interface ServedRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface FuzzContext {
  /** What the broker serves (ApiVersions): decides what it must do with a frame. */
  served: ServedRange[];
  /** The APIs cases are built from: every served one, unless a run narrows them. */
  generate: ServedRange[];
  /** Topic ids the broker gave the fuzz topics, by name. */
  topicIds: Map<string, string>;
  /** Valid record batches of every codec, to send as they are or corrupted. */
  batches: Buffer[];
}

/**
 * What the broker must do with a case.
 * - answer: a response with the case's correlation id that decodes as the API's response.
 * - answer-or-none: the same, or no response at all (Produce with acks=0), or a close.
 * - unsupported: ApiVersions at an unknown version: an ApiVersions v0 body with UNSUPPORTED_VERSION.
 * - close: the connection closes without an answer to this frame.
 * - framing: the size prefix lies; the client half-closes after sending it and the broker must close.
 */
export type Expectation = 'answer' | 'answer-or-none' | 'unsupported' | 'close' | 'framing';

export interface FuzzCase {
  seed: number;
  /** The api key and version in the frame's header (a mutation may have changed them). */
  apiKey: number;
  version: number;
  /** What the request was before the mutation, e.g. `Produce v9`. */
  builtAs: string;
  mutation: string;
  correlationId: number;
  /** The whole frame, size prefix included. */
  frame: Buffer;
  expect: Expectation;
}

/** Topic names the cases use: existing topics, topics cases may create and delete, and invalid names. */
export const FUZZ_TOPICS = ['fuzz-a', 'fuzz-lat', 'fuzz-compact'];
const TOPIC_POOL = [...FUZZ_TOPICS, 'fuzz-new-0', 'fuzz-new-1', 'missing', '', 'bad name!', '..', 'x'.repeat(250)];
const GROUP_POOL = ['fuzz-g0', 'fuzz-g1', 'fuzz-g2', ''];

/** Builds the record batches the cases draw from (zstd's binding is async, hence once, up front). */
export async function buildBatchTemplates(): Promise<Buffer[]> {
  const rnd = new Random(12345);
  const out: Buffer[] = [];
  const codecs = [
    CompressionType.None,
    CompressionType.Gzip,
    CompressionType.Snappy,
    CompressionType.Lz4,
    CompressionType.Zstd,
  ];
  for (const compression of codecs) {
    for (let i = 0; i < 6; i++) {
      const count = rnd.int(1, 4);
      const records = [];
      for (let r = 0; r < count; r++) {
        records.push({
          key: rnd.chance(0.3) ? null : rnd.bytes(rnd.int(0, 8)),
          value: rnd.chance(0.1) ? null : rnd.bytes(rnd.int(0, i === 5 ? 3000 : 40)),
          headers: rnd.chance(0.3) ? [{ key: 'h', value: rnd.bytes(3) }] : [],
          timestamp: 1_700_000_000_000 + rnd.int(0, 1000),
        });
      }
      const idempotent = rnd.chance(0.3);
      out.push(
        await buildRecordBatchAsync(records, {
          compression,
          producerId: idempotent ? BigInt(rnd.int(0, 1000)) : -1n,
          producerEpoch: idempotent ? 0 : -1,
          baseSequence: idempotent ? rnd.int(0, 100) : -1,
        }),
      );
    }
  }
  return out;
}

// Offsets inside a record batch v2 header.
const BATCH_LENGTH = 8;
const MAGIC = 16;
const ATTRIBUTES = 21;
const LAST_OFFSET_DELTA = 23;
const RECORDS_COUNT = 57;
const HEADER_SIZE = 61;

/** A record batch for a `records` field: valid, or wrong in one of the ways a broken or hostile client would be. */
function recordsValue(ctx: FuzzContext, rnd: Random): Buffer | null {
  const template = ctx.batches[rnd.int(0, ctx.batches.length - 1)];
  const b = Buffer.from(template);
  const restamp = () => restampCrc(b, 0);
  switch (rnd.int(0, 15)) {
    case 0:
    case 1:
    case 2:
      return b;
    case 3: // corrupt bytes, CRC left stale
      for (let i = rnd.int(1, 4); i > 0; i--) b[rnd.int(0, b.length - 1)] ^= 1 << rnd.int(0, 7);
      return b;
    case 4: // corrupt record bytes with a CRC that matches them: only deeper parsing can tell
      for (let i = rnd.int(1, 6); i > 0; i--) b[rnd.int(HEADER_SIZE, b.length - 1)] = rnd.int(0, 255);
      restamp();
      return b;
    case 5: // batch length lying: larger, smaller, negative, huge
      b.writeInt32BE(
        [b.length, b.length - 12 + rnd.int(1, 100), rnd.int(0, 60), -1, -rnd.int(2, 1000), 0x7fffffff][rnd.int(0, 5)],
        BATCH_LENGTH,
      );
      return b;
    case 6: // record count lying, CRC restamped
      b.writeInt32BE([0, -1, 0x7fffffff, rnd.int(2, 100000)][rnd.int(0, 3)], RECORDS_COUNT);
      if (rnd.chance(0.5)) b.writeInt32BE(b.readInt32BE(RECORDS_COUNT) - 1, LAST_OFFSET_DELTA);
      restamp();
      return b;
    case 7: // another magic
      b.writeInt8([0, 1, 3, -1][rnd.int(0, 3)], MAGIC);
      return b;
    case 8: // cut short
      return b.subarray(0, rnd.int(0, b.length - 1));
    case 9: // two batches where one is allowed, or a batch and some trailing bytes
      return Buffer.concat([b, rnd.chance(0.5) ? template : rnd.bytes(rnd.int(1, 70))]);
    case 10: // attribute bits: unknown codec, control, transactional, timestamp type
      b.writeInt16BE(rnd.int(0, 0xffff) & 0x7f, ATTRIBUTES);
      restamp();
      return b;
    case 11:
      return rnd.chance(0.5) ? Buffer.alloc(0) : null;
    case 12: // random bytes
      return rnd.bytes(rnd.int(0, 200));
    case 13: {
      // a plausible header over garbage: right length, magic and CRC
      const g = rnd.bytes(rnd.int(HEADER_SIZE, 300));
      g.writeInt32BE(g.length - 12, BATCH_LENGTH);
      g.writeInt8(2, MAGIC);
      restampCrc(g, 0);
      return g;
    }
    case 14: // huge offset deltas with a matching count, under compression (no count-fits check)
      b.writeInt32BE(0x7ffffffe, LAST_OFFSET_DELTA);
      b.writeInt32BE(0x7fffffff, RECORDS_COUNT);
      b.writeInt16BE((b.readInt16BE(ATTRIBUTES) & ~7) | rnd.int(1, 4), ATTRIBUTES);
      restamp();
      return b;
    default: // truncated compressed payload with a matching CRC
      if (b.length > HEADER_SIZE + 2) {
        const cut = Buffer.from(b.subarray(0, rnd.int(HEADER_SIZE, b.length - 1)));
        cut.writeInt32BE(cut.length - 12, BATCH_LENGTH);
        restampCrc(cut, 0);
        return cut;
      }
      return b;
  }
}

function pick<T>(rnd: Random, items: readonly T[]): T {
  return items[rnd.int(0, items.length - 1)];
}

/**
 * Steers random field values toward the broker's state, so requests get past the first checks: topic names
 * from the pool, small partition numbers, short waits, real record batches. Each rule applies most of the
 * time, not always, so the random values still get through now and then.
 */
function steer(value: unknown, ctx: FuzzContext, rnd: Random): void {
  if (Array.isArray(value)) {
    for (const v of value) steer(v, ctx, rnd);
    return;
  }
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (k === '_unknownTaggedFields') continue;
    if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) {
      if (k === 'topicNames' && Array.isArray(v)) o[k] = v.map(() => pick(rnd, TOPIC_POOL));
      else if ((k === 'partitions' || k === 'partitionIndexes') && Array.isArray(v) && typeof v[0] === 'number')
        o[k] = v.map(() => rnd.int(0, 3));
      else steer(v, ctx, rnd);
      continue;
    }
    if (!rnd.chance(0.9)) continue;
    switch (k) {
      case 'name':
      case 'topic':
      case 'topicName':
        if (typeof v === 'string') o[k] = pick(rnd, TOPIC_POOL);
        break;
      case 'resourceName':
        o[k] = pick(rnd, TOPIC_POOL);
        break;
      case 'resourceType':
        o[k] = pick(rnd, [2, 2, 2, 4, 0]);
        break;
      case 'topicId':
        o[k] = rnd.chance(0.8) ? (ctx.topicIds.get(pick(rnd, FUZZ_TOPICS)) ?? ZERO_UUID) : ZERO_UUID;
        break;
      case 'index':
      case 'partition':
      case 'partitionIndex':
        o[k] = rnd.chance(0.95) ? rnd.int(0, 3) : -1;
        break;
      case 'maxWaitMs':
        o[k] = rnd.int(0, 5);
        break;
      case 'minBytes':
        o[k] = rnd.int(0, 1);
        break;
      case 'maxBytes':
      case 'partitionMaxBytes':
        o[k] = rnd.int(0, 1 << 20);
        break;
      case 'timeoutMs':
        o[k] = rnd.int(0, 500);
        break;
      case 'numPartitions':
        o[k] = rnd.int(-1, 3);
        break;
      case 'replicationFactor':
        o[k] = rnd.int(-1, 1);
        break;
      case 'acks':
        o[k] = pick(rnd, [-1, 1, 1, 0, 2]);
        break;
      case 'sessionId':
        o[k] = rnd.chance(0.9) ? 0 : rnd.int(1, 10);
        break;
      case 'sessionEpoch':
        o[k] = pick(rnd, [-1, 0, 0, 5]);
        break;
      case 'currentLeaderEpoch':
      case 'leaderEpoch':
        o[k] = pick(rnd, [-1, 0, 1]);
        break;
      case 'fetchOffset':
      case 'offset':
      case 'timestamp':
      case 'logStartOffset':
        o[k] = BigInt(rnd.int(-3, 20));
        break;
      case 'records':
        o[k] = recordsValue(ctx, rnd);
        break;
      case 'groupId':
        o[k] = pick(rnd, GROUP_POOL);
        break;
      case 'sessionTimeoutMs':
        o[k] = rnd.int(5000, 12000);
        break;
      case 'rebalanceTimeoutMs':
        o[k] = rnd.int(0, 200);
        break;
      case 'transactionalId':
        o[k] = null;
        break;
      case 'clientSoftwareName':
      case 'clientSoftwareVersion':
        o[k] = rnd.chance(0.8) ? 'fuzz-1.0' : v;
        break;
    }
  }
}

/** Where the encoder wrote a length or count, and in which form: mutation targets. */
interface Mark {
  offset: number;
  kind: 'len16' | 'len32' | 'count32' | 'uvar' | 'ucount' | 'tags';
}

/** A Writer that remembers where lengths, counts and tagged-field sections start. */
class MarkingWriter extends Writer {
  readonly marks: Mark[] = [];

  private mark(kind: Mark['kind']): void {
    const last = this.marks[this.marks.length - 1];
    if (last?.offset !== this.offset) this.marks.push({ offset: this.offset, kind });
  }

  override string(s: string): void {
    this.mark('len16');
    super.string(s);
  }
  override nullableString(s: string | null): void {
    this.mark('len16');
    super.nullableString(s);
  }
  override compactString(s: string): void {
    this.mark('uvar');
    super.compactString(s);
  }
  override compactNullableString(s: string | null): void {
    this.mark('uvar');
    super.compactNullableString(s);
  }
  override bytes(b: Buffer): void {
    this.mark('len32');
    super.bytes(b);
  }
  override nullableBytes(b: Buffer | null): void {
    this.mark('len32');
    super.nullableBytes(b);
  }
  override compactBytes(b: Buffer): void {
    this.mark('uvar');
    super.compactBytes(b);
  }
  override compactNullableBytes(b: Buffer | null): void {
    this.mark('uvar');
    super.compactNullableBytes(b);
  }
  override arrayLength(n: number): void {
    this.mark('count32');
    super.arrayLength(n);
  }
  override compactArrayLength(n: number): void {
    this.mark('ucount');
    super.compactArrayLength(n);
  }
  override taggedFields(
    unknown: Parameters<Writer['taggedFields']>[0],
    known?: Parameters<Writer['taggedFields']>[1],
  ): void {
    this.mark('tags');
    super.taggedFields(unknown, known);
  }
}

function uvarintBytes(v: number): Buffer {
  const out: number[] = [];
  let x = v >>> 0;
  while (x >= 0x80) {
    out.push((x & 0x7f) | 0x80);
    x >>>= 7;
  }
  out.push(x);
  return Buffer.from(out);
}

/** Length in bytes of the unsigned varint at `at` (at most 5 are looked at). */
function uvarintLength(b: Buffer, at: number): number {
  let n = 0;
  while (at + n < b.length && n < 5) {
    if ((b[at + n++] & 0x80) === 0) return n;
  }
  return n;
}

function splice(b: Buffer, at: number, removed: number, inserted: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), inserted, b.subarray(Math.min(b.length, at + removed))]);
}

function withSize(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v, 0);
  return b;
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0, 0);
  return b;
}

/** A new value for the length or count at a mark: null, negative, huge, off by a little, or past the end. */
function lengthLie(body: Buffer, mark: Mark, rnd: Random): Buffer {
  const at = mark.offset;
  const left = body.length - at;
  switch (mark.kind) {
    case 'len16': {
      const old = at + 2 <= body.length ? body.readInt16BE(at) : 0;
      const v = pick(rnd, [-1, -2, -32768, 32767, 0, old + 1, old - 1, Math.min(32767, left + 1)]);
      return splice(body, at, 2, int16(v));
    }
    case 'len32':
    case 'count32': {
      const old = at + 4 <= body.length ? body.readInt32BE(at) : 0;
      const v = pick(rnd, [-1, -2, -(2 ** 31), 2 ** 31 - 1, 0x00ffffff, 0, old + 1, old - 1, left + 1, 1 << 20]);
      return splice(body, at, 4, int32(v));
    }
    case 'uvar':
    case 'ucount':
    case 'tags': {
      const n = uvarintLength(body, at);
      if (rnd.chance(0.1)) return splice(body, at, n, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
      const v = pick(rnd, [0, 1, 2, 0x7fffffff, 0xffffffff, 0x10000, left + 2, rnd.int(0, 300)]);
      return splice(body, at, n, uvarintBytes(v));
    }
  }
}

/** Unknown tagged fields where a flexible struct has an empty section: small, empty, or lying about their size. */
function taggedFieldsAt(body: Buffer, mark: Mark, rnd: Random): Buffer {
  const count = rnd.int(1, 3);
  const parts: Buffer[] = [uvarintBytes(count)];
  let tag = rnd.int(0, 20);
  for (let i = 0; i < count; i++) {
    parts.push(uvarintBytes(tag));
    const data = rnd.bytes(rnd.int(0, 6));
    const size = rnd.chance(0.2) ? pick(rnd, [0xffffffff, 0x7fffffff, data.length + 3]) : data.length;
    parts.push(uvarintBytes(size), data);
    tag += rnd.chance(0.2) ? 0 : rnd.int(1, 5000); // sometimes a repeated tag
  }
  return splice(body, mark.offset, uvarintLength(body, mark.offset), Buffer.concat(parts));
}

/** The request header and body of a valid request, and the marks of its lengths. */
function encode(
  api: ApiDescriptor,
  version: number,
  request: unknown,
  correlationId: number,
  rnd: Random,
): { body: Buffer; marks: Mark[] } {
  const w = new MarkingWriter(256);
  w.int16(api.apiKey);
  w.int16(version);
  w.int32(correlationId);
  const headerVersion = requestHeaderVersion(api.apiKey, version);
  if (headerVersion >= 1) w.nullableString(rnd.chance(0.1) ? null : pick(rnd, ['fuzz', '', 'client-ü']));
  if (headerVersion >= 2) w.taggedFields(undefined);
  api.encodeRequest(w, version, request);
  return { body: Buffer.from(w.toBuffer()), marks: w.marks };
}

const MUTATIONS = [
  'none',
  'none',
  'none',
  'none',
  'bitflip',
  'bitflip',
  'interesting-bytes',
  'truncate',
  'extend',
  'length-lie',
  'length-lie',
  'huge-count',
  'negative-length',
  'version-swap',
  'api-swap',
  'tagged-fields',
  'size-lie',
  'tiny-frame',
  'splice',
] as const;

function mutate(
  mutation: (typeof MUTATIONS)[number],
  body: Buffer,
  marks: Mark[],
  ctx: FuzzContext,
  rnd: Random,
): { body: Buffer; sizeDelta: number } {
  const b = Buffer.from(body);
  switch (mutation) {
    case 'none':
      return { body: b, sizeDelta: 0 };
    case 'bitflip':
      for (let i = rnd.int(1, 8); i > 0; i--) {
        const at = rnd.int(0, b.length - 1);
        b[at] ^= 1 << rnd.int(0, 7);
      }
      return { body: b, sizeDelta: 0 };
    case 'interesting-bytes':
      for (let i = rnd.int(1, 3); i > 0; i--) b[rnd.int(0, b.length - 1)] = pick(rnd, [0, 0xff, 0x7f, 0x80, 0x01]);
      return { body: b, sizeDelta: 0 };
    case 'truncate':
      return { body: b.subarray(0, rnd.int(0, b.length - 1)), sizeDelta: 0 };
    case 'extend':
      return { body: Buffer.concat([b, rnd.bytes(rnd.int(1, 16))]), sizeDelta: 0 };
    case 'length-lie':
    case 'negative-length':
    case 'huge-count': {
      const wanted =
        mutation === 'huge-count'
          ? marks.filter((m) => m.kind === 'count32' || m.kind === 'ucount')
          : mutation === 'negative-length'
            ? marks.filter((m) => m.kind === 'len16' || m.kind === 'len32' || m.kind === 'count32')
            : marks;
      if (wanted.length === 0) return { body: b, sizeDelta: 0 };
      const mark = pick(rnd, wanted);
      if (mutation === 'huge-count') {
        const n = mark.kind === 'count32' ? 4 : uvarintLength(b, mark.offset);
        const v =
          mark.kind === 'count32' ? int32(pick(rnd, [2 ** 31 - 1, 1 << 24, 1 << 30])) : uvarintBytes(0xffffffff);
        return { body: splice(b, mark.offset, n, v), sizeDelta: 0 };
      }
      if (mutation === 'negative-length') {
        const n = mark.kind === 'len16' ? 2 : 4;
        const v = mark.kind === 'len16' ? int16(pick(rnd, [-2, -32768])) : int32(pick(rnd, [-2, -(2 ** 31)]));
        return { body: splice(b, mark.offset, n, v), sizeDelta: 0 };
      }
      return { body: lengthLie(b, mark, rnd), sizeDelta: 0 };
    }
    case 'version-swap': {
      const served = ctx.served.find((s) => s.apiKey === b.readInt16BE(0));
      const max = served?.maxVersion ?? 0;
      b.writeInt16BE(pick(rnd, [rnd.int(0, max), rnd.int(0, max), max + 1, max + rnd.int(2, 100), -1, 32767]), 2);
      return { body: b, sizeDelta: 0 };
    }
    case 'api-swap':
      b.writeInt16BE(rnd.chance(0.8) ? pick(rnd, ctx.served).apiKey : rnd.int(-5, 200), 0);
      return { body: b, sizeDelta: 0 };
    case 'tagged-fields': {
      const sections = marks.filter((m) => m.kind === 'tags' && b[m.offset] === 0);
      if (sections.length === 0) return { body: b, sizeDelta: 0 };
      return { body: taggedFieldsAt(b, pick(rnd, sections), rnd), sizeDelta: 0 };
    }
    case 'size-lie':
      return { body: b, sizeDelta: pick(rnd, [1, rnd.int(2, 1000), -1, -rnd.int(2, b.length), 1 << 20]) };
    case 'tiny-frame':
      return { body: b.subarray(0, rnd.int(0, 7)), sizeDelta: 0 };
    case 'splice': {
      const from = rnd.int(0, b.length);
      const to = rnd.int(from, b.length);
      const other = recordsValue(ctx, rnd) ?? Buffer.alloc(0);
      return {
        body: splice(b, from, to - from, other.subarray(0, rnd.int(0, Math.min(other.length, 80)))),
        sizeDelta: 0,
      };
    }
  }
}

const schemaCache = new Map<string, MessageSchema>();
function requestSchema(api: ApiDescriptor): MessageSchema {
  let s = schemaCache.get(api.name);
  if (!s) {
    s = MESSAGE_SCHEMAS.find((m) => m.name === `${api.name}Request`);
    if (!s) throw new Error(`no schema for ${api.name}Request`);
    schemaCache.set(api.name, s);
  }
  return s;
}

export interface Decoded {
  expect: Exclude<Expectation, 'framing'>;
  apiKey: number;
  version: number;
  request?: unknown;
  reason?: string;
}

/** What the broker must do with a frame (without size prefix), decided the way the dispatcher decides it. */
export function expectationOf(frame: Buffer, served: readonly ServedRange[]): Decoded {
  if (frame.length < 8) return { expect: 'close', apiKey: -1, version: -1, reason: 'short header' };
  const apiKey = frame.readInt16BE(0);
  const version = frame.readInt16BE(2);
  const range = served.find((s) => s.apiKey === apiKey);
  const api = API_BY_KEY.get(apiKey);
  if (!range || !api) return { expect: 'close', apiKey, version, reason: 'unknown api' };
  if (version < range.minVersion || version > range.maxVersion) {
    return { expect: apiKey === 18 ? 'unsupported' : 'close', apiKey, version, reason: 'version' };
  }
  const r = new Reader(frame, 8);
  try {
    r.nullableString();
    if (requestHeaderVersion(apiKey, version) >= 2) r.taggedFields();
    const request = api.decodeRequest(r, version);
    // Bytes after the body are ignored, as Kafka ignores them.
    const acks = apiKey === 0 ? (request as { acks: number }).acks : 1;
    return { expect: acks === 0 ? 'answer-or-none' : 'answer', apiKey, version, request };
  } catch (err) {
    if (err instanceof DecodeError) return { expect: 'close', apiKey, version, reason: err.message };
    throw err;
  }
}

/**
 * Requests that are valid but expensive in ways that are not the broker's fault: many partitions created,
 * topics created by the thousand over a long run, long waits. Such a mutation is drawn again.
 */
function tooExpensive(d: Decoded, ctx: FuzzContext): boolean {
  const req = d.request as Record<string, unknown> | undefined;
  if (!req) return false;
  switch (d.apiKey) {
    case 20: {
      // Deleting the fuzz topics would leave nothing for Produce and Fetch to work on.
      const ids = new Set(ctx.topicIds.values());
      const topics = req.topics as Array<{ name: string | null; topicId: string }>;
      const names = [...(req.topicNames as string[]), ...topics.map((t) => t.name ?? '')];
      return names.some((n) => FUZZ_TOPICS.includes(n)) || topics.some((t) => ids.has(t.topicId));
    }
    case 1:
      return (req.maxWaitMs as number) > 1000;
    case 19: {
      const topics = req.topics as Array<{ name: string; numPartitions: number; assignments: unknown[] }>;
      return topics.some(
        (t) => !TOPIC_POOL.includes(t.name) || t.numPartitions > 8 || t.assignments.length > 8 || topics.length > 4,
      );
    }
    case 37: {
      const topics = req.topics as Array<{ name: string; count: number }>;
      return topics.length > 4 || topics.some((t) => t.count > 8);
    }
    case 33:
    case 44: {
      // Config changes on the shared fuzz topics (segment.bytes=14, max.message.bytes=0) would steer every
      // later case; the topics cases create for themselves may be changed at will.
      if (req.validateOnly) return false;
      const resources = req.resources as Array<{ resourceName: string }>;
      return resources.some((r) => FUZZ_TOPICS.includes(r.resourceName));
    }
    case 11:
    case 14:
      return (req.rebalanceTimeoutMs as number) > 1000 || (req.sessionTimeoutMs as number) > 30_000;
    default:
      return false;
  }
}

/** Spreads a run's seed and a case's index into that case's seed. */
export function caseSeed(runSeed: number, index: number): number {
  let h = (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

/** The case of `seed`: a served API and version, a steered random request, one mutation. */
export function makeCase(ctx: FuzzContext, seed: number, correlationId: number): FuzzCase {
  for (let attempt = 0; ; attempt++) {
    const rnd = new Random(attempt === 0 ? seed : caseSeed(seed, attempt));
    // Produce and Fetch carry the most structure (and the record batches): they get extra weight.
    const range = rnd.chance(0.25)
      ? (ctx.generate.find((s) => s.apiKey === pick(rnd, [0, 0, 1])) ?? pick(rnd, ctx.generate))
      : pick(rnd, ctx.generate);
    const api = API_BY_KEY.get(range.apiKey)!;
    const version = rnd.int(range.minVersion, range.maxVersion);
    const request = randomMessage(requestSchema(api), version, rnd, {
      nullChance: 0.1,
      unknownTagChance: 0.15,
      minArrayLength: 0,
      maxArrayLength: 3,
    });
    steer(request, ctx, rnd);
    const { body, marks } = encode(api, version, request, correlationId, rnd);
    const mutation = attempt < 10 ? pick(rnd, MUTATIONS) : 'none';
    const mutated = mutate(mutation, body, marks, ctx, rnd);
    // The correlation id is what matches answers to cases: keep it, whatever the mutation did.
    if (mutated.body.length >= 8) mutated.body.writeInt32BE(correlationId, 4);
    const frame = withSize(mutated.body);
    const builtAs = `${api.name} v${version}`;
    if (mutated.sizeDelta !== 0) {
      frame.writeInt32BE(Math.max(0, mutated.body.length + mutated.sizeDelta), 0);
      return { seed, apiKey: api.apiKey, version, builtAs, mutation, correlationId, frame, expect: 'framing' };
    }
    const decoded = expectationOf(mutated.body, ctx.served);
    if (tooExpensive(decoded, ctx)) continue;
    return {
      seed,
      apiKey: decoded.apiKey,
      version: decoded.version,
      builtAs,
      mutation,
      correlationId,
      frame,
      expect: decoded.expect,
    };
  }
}
