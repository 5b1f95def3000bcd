// Builds message values from the generated schema (generated/schema.ts) for the round-trip and
// decode-safety tests: random non-default values for the fields a version carries, and exactly what
// the decoder fills in (the defaults) for the fields it does not.

import type { FieldSchema, MessageSchema, VersionRange } from '../../../src/protocol/generated/schema.js';
import { ZERO_UUID } from '../../../src/protocol/reader.js';

/** A small deterministic generator (mulberry32), so a failing case can be replayed from its seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
}

export function inRange(r: VersionRange | null | undefined, v: number): boolean {
  return r !== null && r !== undefined && v >= r[0] && v <= r[1];
}

export function isFlexible(m: MessageSchema, version: number): boolean {
  return inRange(m.flexibleVersions, version);
}

/** Whether the field is on the wire in this version (in the fixed part or as a tagged field). */
export function isPresent(f: FieldSchema, version: number): boolean {
  return f.tag === null
    ? inRange(f.versions, version)
    : inRange(f.versions, version) && inRange(f.taggedVersions, version);
}

function zeroOf(f: FieldSchema): unknown {
  if (f.array) return [];
  switch (f.type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
    case 'records':
      return Buffer.alloc(0);
    case 'uuid':
      return ZERO_UUID;
    case 'struct':
      return defaultStruct(f.fields ?? []);
    default:
      return 0;
  }
}

/** The value a decoder gives a field the version does not carry. */
export function defaultOf(f: FieldSchema): unknown {
  return f.default !== undefined ? f.default : zeroOf(f);
}

export function defaultStruct(fields: readonly FieldSchema[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f.name] = defaultOf(f);
  return out;
}

const TEXT = ['', 'a', 'topic-1', 'Grüße', '日本語', 'x'.repeat(40), '😀 emoji'];

function randomPrimitive(type: string, rnd: Random): unknown {
  switch (type) {
    case 'bool':
      return rnd.chance(0.5);
    case 'int8':
      return rnd.int(-128, 127);
    case 'int16':
      return rnd.int(-32768, 32767);
    case 'uint16':
      return rnd.int(0, 65535);
    case 'int32':
      return rnd.int(-2147483648, 2147483647);
    case 'uint32':
      return rnd.int(0, 4294967295);
    case 'int64':
      return BigInt.asIntN(64, (BigInt(rnd.int(0, 0xffffffff)) << 32n) | BigInt(rnd.int(0, 0xffffffff)));
    case 'float64':
      return (rnd.next() - 0.5) * 1e6;
    case 'string':
      return TEXT[rnd.int(0, TEXT.length - 1)];
    case 'bytes':
    case 'records':
      return rnd.bytes(rnd.int(0, 12));
    case 'uuid':
      return rnd.bytes(16).toString('hex');
    default:
      throw new Error(`no generator for ${type}`);
  }
}

export interface ValueOptions {
  /** Chance that a nullable field is null. */
  nullChance: number;
  /** Chance that a struct of a flexible version carries unknown tagged fields. */
  unknownTagChance: number;
  minArrayLength: number;
  maxArrayLength: number;
}

const DEFAULT_OPTIONS: ValueOptions = { nullChance: 0.25, unknownTagChance: 0.3, minArrayLength: 0, maxArrayLength: 3 };

function randomField(f: FieldSchema, version: number, flexible: boolean, rnd: Random, o: ValueOptions): unknown {
  if (inRange(f.nullableVersions, version) && rnd.chance(o.nullChance)) return null;
  const one = (): unknown =>
    f.type === 'struct' ? randomStruct(f.fields ?? [], version, flexible, rnd, o) : randomPrimitive(f.type, rnd);
  if (!f.array) return one();
  const n = rnd.int(o.minArrayLength, o.maxArrayLength);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(one());
  return out;
}

/** A struct with random values for the fields this version carries and defaults for the others. */
export function randomStruct(
  fields: readonly FieldSchema[],
  version: number,
  flexible: boolean,
  rnd: Random,
  options: Partial<ValueOptions> = {},
): Record<string, unknown> {
  const o = { ...DEFAULT_OPTIONS, ...options };
  const out: Record<string, unknown> = {};
  for (const f of fields)
    out[f.name] = isPresent(f, version) ? randomField(f, version, flexible, rnd, o) : defaultOf(f);
  if (flexible && rnd.chance(o.unknownTagChance)) {
    const count = rnd.int(1, 2);
    const tags = [];
    for (let i = 0; i < count; i++) tags.push({ tag: 1000 + i * rnd.int(1, 50), data: rnd.bytes(rnd.int(0, 5)) });
    out._unknownTaggedFields = tags;
  }
  return out;
}

/** A random message of `schema` at `version`. */
export function randomMessage(
  schema: MessageSchema,
  version: number,
  rnd: Random,
  options: Partial<ValueOptions> = {},
): Record<string, unknown> {
  return randomStruct(schema.fields, version, isFlexible(schema, version), rnd, options);
}
