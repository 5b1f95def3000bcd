/**
 * The codec oracle: Kafka's own message classes (kafka-clients 4.3.1) check Sluice's generated codecs,
 * for every API and version both know, requests and responses, headers included.
 *
 * - Kafka builds random frames; Sluice must decode each to its last byte, to the values Kafka's JSON
 *   converter reports, and encode it back byte for byte.
 * - Sluice builds random frames; Kafka must read each and write it back byte for byte.
 *
 * Cases per version and direction: CODEC_ORACLE_CASES (default 5). Needs java, javac and the jars that
 * tools/kafka-peer/install.sh installs; without them the tests are skipped with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiDescriptor } from '../../src/protocol/api.js';
import { API_BY_KEY } from '../../src/protocol/generated/index.js';
import { decodeRequestHeader, encodeRequestHeader } from '../../src/protocol/generated/request-header.js';
import { decodeResponseHeader, encodeResponseHeader } from '../../src/protocol/generated/response-header.js';
import { type FieldSchema, MESSAGE_SCHEMAS, type MessageSchema } from '../../src/protocol/generated/schema.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/generated/version-table.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { isPresent, Random, randomMessage } from '../unit/protocol/message-values.js';
import { CodecOracleProcess, unavailableReason } from './codec-oracle-process.js';

const CASES = Number(process.env.CODEC_ORACLE_CASES || 5);
type Kind = 'request' | 'response';
const KINDS: Kind[] = ['request', 'response'];

/** What Kafka's ApiMessageType says about one API. */
interface KafkaApi {
  apiKey: number;
  name: string;
  lowest: number;
  highest: number;
  requestHeaderVersions: number[];
  responseHeaderVersions: number[];
}

/** An API and the versions both Kafka 4.3.1 and Sluice's codecs know. */
interface Common {
  kafka: KafkaApi;
  sluice: ApiDescriptor;
  versions: number[];
}

let oracle: CodecOracleProcess | null = null;
let skipReason: string | null = null;
let common: Common[] = [];

before(async () => {
  skipReason = await unavailableReason();
  if (skipReason !== null) return;
  oracle = await CodecOracleProcess.start();
  const kafkaApis = (await oracle.askList('apis')).map((line): KafkaApi => {
    const [key, name, lowest, highest, requestHeaders, responseHeaders] = line.split(' ');
    const list = (s: string | undefined): number[] => (s ? s.split(',').map(Number) : []);
    return {
      apiKey: Number(key),
      name,
      lowest: Number(lowest),
      highest: Number(highest),
      requestHeaderVersions: list(requestHeaders),
      responseHeaderVersions: list(responseHeaders),
    };
  });
  common = [];
  for (const kafka of kafkaApis) {
    const sluice = API_BY_KEY.get(kafka.apiKey);
    if (sluice === undefined) continue;
    const versions: number[] = [];
    for (let v = Math.max(kafka.lowest, sluice.minVersion); v <= Math.min(kafka.highest, sluice.maxVersion); v++)
      versions.push(v);
    if (versions.length > 0) common.push({ kafka, sluice, versions });
  }
});

after(() => oracle?.stop());

function headerVersion(apiKey: number, version: number, kind: Kind): number {
  return kind === 'request' ? requestHeaderVersion(apiKey, version) : responseHeaderVersion(apiKey, version);
}

function schemaOf(name: string): MessageSchema {
  const schema = MESSAGE_SCHEMAS.find((m) => m.name === name);
  assert.ok(schema, `no schema for ${name}`);
  return schema;
}

/** Sluice reads the frame's header and body (every byte of it) and writes them again. */
function sluiceRoundTrip(
  api: ApiDescriptor,
  version: number,
  kind: Kind,
  frame: Buffer,
): { body: unknown; again: Buffer } {
  const r = new Reader(frame);
  const hv = headerVersion(api.apiKey, version, kind);
  const w = new Writer(frame.length + 16);
  let body: unknown;
  if (kind === 'request') {
    const header = decodeRequestHeader(r, hv);
    body = api.decodeRequest(r, version);
    encodeRequestHeader(w, hv, header);
    api.encodeRequest(w, version, body);
  } else {
    const header = decodeResponseHeader(r, hv);
    body = api.decodeResponse(r, version);
    encodeResponseHeader(w, hv, header);
    api.encodeResponse(w, version, body);
  }
  if (r.remaining() !== 0) throw new Error(`${r.remaining()} bytes left after the body`);
  return { body, again: w.toBuffer() };
}

/** Kafka's JSON with every integer of 16 or more digits quoted, so int64 values survive JSON.parse. */
function parseKafkaJson(text: string): Record<string, unknown> {
  return JSON.parse(text.replace(/(?<=[:,[])(-?\d{16,})(?=[,}\]])/g, '"$1"'));
}

/** Sluice's UUID (32 hex digits) as Kafka's Uuid.toString writes it: URL-safe base64 without padding. */
function kafkaUuid(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** Fields Kafka 4.3.1 names differently from Sluice's definitions (same place, same wire format). */
const renamed = new Set<string>();

/**
 * Where Sluice's decoded value differs from the value Kafka's JSON converter wrote for the same frame:
 * the check that two codecs which agree on bytes also agree on what the bytes mean (signs, UUIDs, which
 * bytes belong to which field). A field Kafka renamed since Sluice's definitions is matched by its place.
 */
function valueDifferences(
  fields: readonly FieldSchema[],
  version: number,
  sluice: Record<string, unknown>,
  kafka: Record<string, unknown>,
  path: string,
  out: string[],
): void {
  const present = fields.filter((f) => isPresent(f, version));
  const entries = Object.entries(kafka);
  for (const [i, [key, expected]] of entries.entries()) {
    const sizeOnly = key.endsWith('SizeInBytes');
    const name = sizeOnly ? key.slice(0, -'SizeInBytes'.length) : key;
    let field = fields.find((f) => f.name === name);
    if (field === undefined && entries.length === present.length && !(present[i].name in kafka)) {
      field = present[i];
      renamed.add(`${path.replace(/\[\d+\]/g, '')}.${field.name} (Kafka: ${name})`);
    }
    if (field === undefined) {
      out.push(`${path}.${key}: Kafka has this field, Sluice does not`);
      continue;
    }
    const actual = sluice[field.name];
    const where = `${path}.${key}`;
    if (expected === null || actual === null) {
      if (expected !== actual) out.push(`${where}: Kafka ${JSON.stringify(expected)}, Sluice ${String(actual)}`);
    } else if (field.array) {
      if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) {
        out.push(
          `${where}: Kafka has ${JSON.stringify(expected)?.slice(0, 80)}, Sluice ${String(actual).slice(0, 80)}`,
        );
        continue;
      }
      for (const [j, e] of expected.entries())
        scalarDifference(field, version, actual[j], e, `${where}[${j}]`, false, out);
    } else {
      scalarDifference(field, version, actual, expected, where, sizeOnly, out);
    }
  }
}

function scalarDifference(
  field: FieldSchema,
  version: number,
  actual: unknown,
  expected: unknown,
  where: string,
  sizeOnly: boolean,
  out: string[],
): void {
  if (field.type === 'struct') {
    valueDifferences(
      field.fields ?? [],
      version,
      actual as Record<string, unknown>,
      expected as Record<string, unknown>,
      where,
      out,
    );
    return;
  }
  let same: boolean;
  switch (field.type) {
    case 'int64':
      same = String(actual) === String(expected);
      break;
    case 'uuid':
      same = kafkaUuid(actual as string) === expected;
      break;
    case 'bytes':
      same = (actual as Buffer).toString('base64') === expected;
      break;
    case 'records':
      // Kafka writes a records field as its size (or an empty string when it writes no size).
      same = sizeOnly ? (actual as Buffer).length === expected : expected === '';
      break;
    default:
      same = actual === expected;
  }
  if (!same) out.push(`${where}: Kafka ${JSON.stringify(expected)}, Sluice ${String(actual)}`);
}

/** A random frame built by Sluice's encoders from the generated schema. */
function sluiceFrame(api: ApiDescriptor, version: number, kind: Kind, seed: number): Buffer {
  const rnd = new Random(seed);
  const hv = headerVersion(api.apiKey, version, kind);
  const w = new Writer(256);
  const headerSchema = schemaOf(kind === 'request' ? 'RequestHeader' : 'ResponseHeader');
  const header = randomMessage(headerSchema, hv, rnd);
  const body = randomMessage(schemaOf(`${api.name}${kind === 'request' ? 'Request' : 'Response'}`), version, rnd);
  if (kind === 'request') {
    encodeRequestHeader(w, hv, { ...header, requestApiKey: api.apiKey, requestApiVersion: version } as never);
    api.encodeRequest(w, version, body);
  } else {
    encodeResponseHeader(w, hv, header as never);
    api.encodeResponse(w, version, body);
  }
  return w.toBuffer();
}

interface Case {
  api: ApiDescriptor;
  version: number;
  kind: Kind;
  seed: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const { sluice, versions } of common)
    for (const version of versions)
      for (const kind of KINDS)
        for (let i = 0; i < CASES; i++)
          out.push({
            api: sluice,
            version,
            kind,
            seed: ((sluice.apiKey * 64 + version) * 2 + (kind === 'request' ? 0 : 1)) * 100_000 + i,
          });
  return out;
}

/**
 * A version that Sluice's definitions mark unstable (the newest one, with latestVersionUnstable): Kafka
 * changes such versions without a new version number until it releases them, so the definitions Sluice
 * was generated from may describe an earlier draft than Kafka 4.3.1's (ReadShareGroupStateSummary v0
 * gained LeaderEpoch that way). Its mismatches are reported, not failed.
 */
function isUnstable(c: Case): boolean {
  return c.api.latestVersionUnstable && c.version === c.api.maxVersion;
}

/** Collects failures by API, version and kind, keeping the first example of each. */
class Failures {
  private readonly byCase = new Map<string, { count: number; example: string }>();
  private readonly unstable = new Set<string>();

  add(c: Case, problem: string): void {
    const key = `${c.api.name} v${c.version} ${c.kind}`;
    if (isUnstable(c)) {
      this.unstable.add(key);
      return;
    }
    const entry = this.byCase.get(key);
    if (entry) entry.count++;
    else this.byCase.set(key, { count: 1, example: `seed ${c.seed}: ${problem}` });
  }

  report(): string {
    return [...this.byCase].map(([key, { count, example }]) => `${key} (${count} of ${CASES}): ${example}`).join('\n');
  }

  get size(): number {
    return this.byCase.size;
  }

  /** The unstable versions that differ, for the test's diagnostics. */
  unstableReport(): string {
    return this.unstable.size === 0 ? 'none' : [...this.unstable].join(', ');
  }
}

function truncated(hex: string): string {
  return hex.length > 400 ? `${hex.slice(0, 400)}…` : hex;
}

test('Kafka and Sluice give every version both know the same request and response header versions', (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const wrong: string[] = [];
  for (const { kafka, versions } of common) {
    for (const v of versions) {
      const i = v - kafka.lowest;
      if (requestHeaderVersion(kafka.apiKey, v) !== kafka.requestHeaderVersions[i])
        wrong.push(`${kafka.name} v${v} request header: Kafka ${kafka.requestHeaderVersions[i]}`);
      if (responseHeaderVersion(kafka.apiKey, v) !== kafka.responseHeaderVersions[i])
        wrong.push(`${kafka.name} v${v} response header: Kafka ${kafka.responseHeaderVersions[i]}`);
    }
  }
  assert.deepEqual(wrong, []);
  const matrix = common.map(
    ({ kafka, versions }) => `${kafka.apiKey} ${kafka.name} v${versions[0]}-${versions[versions.length - 1]}`,
  );
  t.diagnostic(
    `${common.length} APIs, ${common.reduce((n, c) => n + c.versions.length, 0)} versions: ${matrix.join('; ')}`,
  );
});

test("random frames built by Kafka's message classes decode in Sluice to the same values and encode back to the same bytes", async (t) => {
  if (skipReason !== null || oracle === null) return t.skip(skipReason ?? 'no oracle');
  const all = cases();
  const answers = await oracle.ask(all.map((c) => `gen ${c.api.apiKey} ${c.version} ${c.kind} ${c.seed}`));
  const failures = new Failures();
  for (const [i, c] of all.entries()) {
    const answer = answers[i];
    const space = answer.indexOf(' ', 3);
    if (!answer.startsWith('ok ') || space < 0) {
      failures.add(c, `Kafka could not build one: ${answer}`);
      continue;
    }
    const hex = answer.slice(3, space);
    try {
      const { body, again } = sluiceRoundTrip(c.api, c.version, c.kind, Buffer.from(hex, 'hex'));
      const schema = schemaOf(`${c.api.name}${c.kind === 'request' ? 'Request' : 'Response'}`);
      const differences: string[] = [];
      valueDifferences(
        schema.fields,
        c.version,
        body as Record<string, unknown>,
        parseKafkaJson(answer.slice(space + 1)),
        schema.name,
        differences,
      );
      if (differences.length > 0) failures.add(c, `values differ: ${differences.slice(0, 3).join('; ')}`);
      else if (again.toString('hex') !== hex)
        failures.add(c, `Kafka ${truncated(hex)}\n    Sluice ${truncated(again.toString('hex'))}`);
    } catch (err) {
      failures.add(c, `Sluice cannot decode ${truncated(hex)}: ${(err as Error).message}`);
    }
  }
  assert.equal(failures.size, 0, `mismatches:\n${failures.report()}`);
  t.diagnostic(`${all.length} frames; unstable versions that differ: ${failures.unstableReport()}`);
  t.diagnostic(`fields Kafka has renamed: ${[...renamed].sort().join(', ') || 'none'}`);
});

test("random frames built by Sluice's encoders are read by Kafka's message classes and written back to the same bytes", async (t) => {
  if (skipReason !== null || oracle === null) return t.skip(skipReason ?? 'no oracle');
  const all = cases();
  const frames = all.map((c) => sluiceFrame(c.api, c.version, c.kind, c.seed).toString('hex'));
  const answers = await oracle.ask(all.map((c, i) => `echo ${c.api.apiKey} ${c.version} ${c.kind} ${frames[i]}`));
  const failures = new Failures();
  for (const [i, c] of all.entries()) {
    const answer = answers[i];
    if (!answer.startsWith('ok ')) failures.add(c, `Kafka cannot read ${truncated(frames[i])}: ${answer}`);
    else if (answer.slice(3) !== frames[i])
      failures.add(c, `Sluice ${truncated(frames[i])}\n    Kafka ${truncated(answer.slice(3))}`);
  }
  assert.equal(failures.size, 0, `mismatches:\n${failures.report()}`);
  t.diagnostic(`${all.length} frames; unstable versions that differ: ${failures.unstableReport()}`);
});
