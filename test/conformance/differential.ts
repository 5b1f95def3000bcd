/**
 * The differential harness: the same request, as the same bytes, goes to Apache Kafka (the oracle) and to
 * Sluice; both answers are decoded with Sluice's codecs, normalised for what may legitimately differ (ids,
 * ports, throttle times, error wording), and compared field by field. A difference fails the test with a
 * list of the paths that differ and both values at each.
 *
 * One `Differential` per test file: Kafka costs about 5 s to start, so a file's tests share one peer and one
 * Sluice, and each test uses its own topic and group names.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { ApiDescriptor } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ListOffsetsApi } from '../../src/protocol/generated/02-list-offsets.js';
import { MetadataApi } from '../../src/protocol/generated/03-metadata.js';
import { FindCoordinatorApi } from '../../src/protocol/generated/10-find-coordinator.js';
import { DescribeGroupsApi } from '../../src/protocol/generated/15-describe-groups.js';
import { ApiVersionsApi } from '../../src/protocol/generated/18-api-versions.js';
import { CreateTopicsApi } from '../../src/protocol/generated/19-create-topics.js';
import { requestHeaderVersion } from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/reader.js';
import type { TaggedField } from '../../src/protocol/tagged-fields.js';
import { Writer } from '../../src/protocol/writer.js';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { type KafkaPeer, kafkaPeerUnavailable, startKafkaPeer } from '../helpers/kafka-peer.js';
import { decodeResponseFrame, RawClient } from '../helpers/raw-client.js';

export type SideName = 'kafka' | 'sluice';

/** What one broker did with a request: answered it (decoded), or closed the connection. */
export type Outcome<Res> = { answered: true; body: Res } | { answered: false; why: string };

/**
 * A request as a codec value, as body bytes, or as a function of the side for requests that must name
 * something each broker calls differently (topic ids).
 */
export type Request<Req> = Req | Buffer | PerSide<Req>;
export type PerSide<Req> = (side: SideName) => Req | Buffer;

export interface Answers<Res> {
  kafka: Res;
  sluice: Res;
}

/** Normalised answers, and the answers as decoded (for ids a follow-up request must repeat to each broker). */
export interface Compared<Res> extends Answers<Res> {
  raw: Answers<Res>;
}

export interface SendOptions {
  /** Bytes appended after the encoded request body (clients of newer versions may send fields we do not know). */
  trailingBytes?: Buffer;
  clientId?: string | null;
  /** Tagged fields of a v2 request header (none are defined yet; brokers must skip them). */
  headerTaggedFields?: TaggedField[];
  /**
   * Which connection to use (default 'main'): a request a broker holds (a JoinGroup waiting for the other
   * members) blocks its connection, so concurrent members each use their own lane.
   */
  lane?: string;
  /** The version to decode answers at, when it is not the request's (ApiVersions answers v0 to unknown versions). */
  responseVersion?: number;
  timeoutMs?: number;
}

export interface CompareOptions<Res> extends SendOptions {
  /** Extra per-side normalisation, applied after the generic one (e.g. drop a list Kafka fills more). */
  normalise?: (body: Res, side: SideName) => void;
  /** Normalisation that needs both answers, e.g. keeping only the configs both brokers list. */
  normaliseBoth?: (answers: Answers<Res>) => void;
}

/** A frame of `version` of `api`: header v0/v1/v2 as the version needs, then `body` as given. */
export function requestFrame(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer,
  clientId: string | null = 'conformance',
  headerTaggedFields?: TaggedField[],
): Buffer {
  const w = new Writer(64 + body.length);
  const sizeAt = w.reserveInt32();
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  const headerVersion = requestHeaderVersion(apiKey, version);
  if (headerVersion >= 1) w.nullableString(clientId);
  if (headerVersion >= 2) w.taggedFields(headerTaggedFields);
  w.writeRaw(body);
  w.patchSize(sizeAt);
  return Buffer.from(w.toBuffer());
}

/** The body bytes of a request, as Sluice's codec encodes it. */
export function encodeBody<Req>(api: ApiDescriptor<Req, unknown>, version: number, request: Req): Buffer {
  const w = new Writer(256);
  api.encodeRequest(w, version, request);
  return Buffer.from(w.toBuffer());
}

class Side {
  private readonly clients = new Map<string, RawClient>();
  private correlationId = 1;
  constructor(
    readonly name: SideName,
    readonly port: number,
  ) {}

  async send<Res>(
    api: ApiDescriptor<unknown, Res>,
    version: number,
    body: Buffer,
    options: SendOptions,
  ): Promise<Outcome<Res>> {
    const lane = options.lane ?? 'main';
    let client = this.clients.get(lane);
    if (!client || client.isClosed) {
      client = await RawClient.connect(this.port);
      this.clients.set(lane, client);
    }
    const correlationId = this.correlationId++;
    const clientId = options.clientId === undefined ? 'conformance' : options.clientId;
    await client.send(requestFrame(api.apiKey, version, correlationId, body, clientId, options.headerTaggedFields));
    const frame = await client.nextFrame(options.timeoutMs ?? 10_000);
    if (!frame) {
      const why = client.isClosed ? 'closed the connection' : 'did not answer';
      client.close();
      this.clients.delete(lane);
      return { answered: false, why };
    }
    const decoded = decodeResponseFrame(api, options.responseVersion ?? version, frame);
    assert.equal(decoded.correlationId, correlationId, `${this.name} answered another request`);
    return { answered: true, body: decoded.body };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}

/** Paths (a.b[2].c) where two normalised values differ, each with both values. */
export function differences(kafka: unknown, sluice: unknown, path = ''): string[] {
  if (Object.is(kafka, sluice)) return [];
  if (Buffer.isBuffer(kafka) && Buffer.isBuffer(sluice)) {
    return kafka.equals(sluice) ? [] : [`${path}: kafka ${show(kafka)}, sluice ${show(sluice)}`];
  }
  if (Array.isArray(kafka) && Array.isArray(sluice)) {
    const out: string[] = [];
    if (kafka.length !== sluice.length) out.push(`${path}.length: kafka ${kafka.length}, sluice ${sluice.length}`);
    for (let i = 0; i < Math.min(kafka.length, sluice.length); i++) {
      out.push(...differences(kafka[i], sluice[i], `${path}[${i}]`));
    }
    return out;
  }
  if (isObject(kafka) && isObject(sluice)) {
    const out: string[] = [];
    for (const key of new Set([...Object.keys(kafka), ...Object.keys(sluice)])) {
      out.push(...differences(kafka[key], sluice[key], path ? `${path}.${key}` : key));
    }
    return out;
  }
  return [`${path}: kafka ${show(kafka)}, sluice ${show(sluice)}`];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function show(v: unknown): string {
  if (Buffer.isBuffer(v)) return `<${v.length} bytes ${v.subarray(0, 48).toString('hex')}${v.length > 48 ? '…' : ''}>`;
  if (typeof v === 'bigint') return `${v}n`;
  const text = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  return text === undefined ? String(v) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Names an error code in messages: 3 → "3 (UNKNOWN_TOPIC_OR_PARTITION)". */
export function errorName(code: number): string {
  return `${code} (${ErrorCode[code] ?? '?'})`;
}

/**
 * One Kafka peer and one Sluice, and a connection to each. Topic ids are mapped per side to names, so
 * `<topic-id of orders>` on both sides compares equal although each broker drew its own; member ids become
 * `<member N>` in order of appearance within an answer.
 */
export class Differential {
  private readonly kafkaSide: Side;
  private readonly sluiceSide: Side;
  /** Per side: topic id → topic name, learnt from CreateTopics and Metadata answers. */
  private readonly topicNames: Record<SideName, Map<string, string>> = { kafka: new Map(), sluice: new Map() };
  /** Per API key: the version range each broker advertises in ApiVersions. */
  readonly advertised: Record<SideName, Map<number, { minVersion: number; maxVersion: number }>> = {
    kafka: new Map(),
    sluice: new Map(),
  };

  private constructor(
    readonly kafka: KafkaPeer,
    readonly sluice: EmbeddedBroker,
  ) {
    this.kafkaSide = new Side('kafka', kafka.port);
    this.sluiceSide = new Side('sluice', sluice.port);
  }

  static async start(
    options: { kafka?: Record<string, string | number | boolean>; sluice?: Record<string, string | number> } = {},
  ): Promise<Differential> {
    const [kafka, sluice] = await Promise.allSettled([
      startKafkaPeer({ overrides: options.kafka }),
      startBroker({ config: options.sluice }),
    ]);
    if (kafka.status === 'rejected' || sluice.status === 'rejected') {
      if (kafka.status === 'fulfilled') await kafka.value.stop();
      if (sluice.status === 'fulfilled') await sluice.value.stop();
      throw kafka.status === 'rejected' ? kafka.reason : (sluice as PromiseRejectedResult).reason;
    }
    const harness = new Differential(kafka.value, sluice.value);
    const answers = await harness.send(ApiVersionsApi, 3, {
      clientSoftwareName: 'sluice-conformance',
      clientSoftwareVersion: '1',
    });
    for (const side of ['kafka', 'sluice'] as const) {
      for (const a of answers[side].apiKeys) harness.advertised[side].set(a.apiKey, a);
    }
    return harness;
  }

  /** The versions of an API both brokers serve: the ones a difference can be measured at. */
  commonVersions(api: { apiKey: number }): number[] {
    const k = this.advertised.kafka.get(api.apiKey);
    const s = this.advertised.sluice.get(api.apiKey);
    if (!k || !s) return [];
    const out: number[] = [];
    for (let v = Math.max(k.minVersion, s.minVersion); v <= Math.min(k.maxVersion, s.maxVersion); v++) out.push(v);
    return out;
  }

  async stop(): Promise<void> {
    this.kafkaSide.close();
    this.sluiceSide.close();
    await Promise.all([this.kafka.stop(), this.sluice.stop()]);
  }

  /** Sends one request (a codec value, or body bytes as given) to both brokers at once. */
  async exchange<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Request<Req>,
    options: SendOptions = {},
  ): Promise<Answers<Outcome<Res>>> {
    const bodyFor = (side: SideName): Buffer => {
      const value = typeof request === 'function' ? (request as PerSide<Req>)(side) : request;
      const body = Buffer.isBuffer(value) ? value : encodeBody(api, version, value);
      return options.trailingBytes ? Buffer.concat([body, options.trailingBytes]) : body;
    };
    const generic = api as unknown as ApiDescriptor<unknown, Res>;
    const [kafka, sluice] = await Promise.all([
      this.kafkaSide.send(generic, version, bodyFor('kafka'), options),
      this.sluiceSide.send(generic, version, bodyFor('sluice'), options),
    ]);
    return { kafka, sluice };
  }

  /** Sends a request to one broker only: for what Kafka does not answer at all. */
  async exchangeWith<Req, Res>(
    side: SideName,
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Req,
    options: SendOptions = {},
  ): Promise<Outcome<Res>> {
    const body = encodeBody(api, version, request);
    const generic = api as unknown as ApiDescriptor<unknown, Res>;
    const target = side === 'kafka' ? this.kafkaSide : this.sluiceSide;
    return target.send(generic, version, body, options);
  }

  /** Both answers, raw; fails if either broker did not answer. */
  async send<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Request<Req>,
    options: SendOptions = {},
  ): Promise<Answers<Res>> {
    const { kafka, sluice } = await this.exchange(api, version, request, options);
    if (!kafka.answered) throw new Error(`Kafka ${kafka.why} on ${api.name} v${version}`);
    if (!sluice.answered) throw new Error(`Sluice ${sluice.why} on ${api.name} v${version} (Kafka answered)`);
    this.learnIds(kafka.body, 'kafka');
    this.learnIds(sluice.body, 'sluice');
    return { kafka: kafka.body, sluice: sluice.body };
  }

  /**
   * Sends to both and asserts that the normalised answers are equal, or that both closed the connection.
   * Returns the normalised answers (null when both closed) for further checks.
   */
  async compare<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Request<Req>,
    options: CompareOptions<Res> = {},
  ): Promise<Compared<Res> | null> {
    const { kafka, sluice } = await this.exchange(api, version, request, options);
    const label = `${api.name} v${version}`;
    if (!kafka.answered || !sluice.answered) {
      assert.equal(
        sluice.answered ? 'answered' : sluice.why,
        kafka.answered ? 'answered' : kafka.why,
        `${label}: Kafka ${kafka.answered ? 'answered' : kafka.why}, Sluice ${sluice.answered ? 'answered' : sluice.why}`,
      );
      return null;
    }
    this.learnIds(kafka.body, 'kafka');
    this.learnIds(sluice.body, 'sluice');
    const normalised = {
      kafka: this.normalise(kafka.body, 'kafka'),
      sluice: this.normalise(sluice.body, 'sluice'),
    };
    for (const body of [normalised.kafka, normalised.sluice]) {
      // Kafka lists a group's members in hash order; named by order of appearance they sort the same.
      walk(body, (node) => {
        const members = node.members;
        if (Array.isArray(members) && members.every((m) => isObject(m) && typeof m.memberId === 'string')) {
          members.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
        }
      });
    }
    options.normalise?.(normalised.kafka, 'kafka');
    options.normalise?.(normalised.sluice, 'sluice');
    options.normaliseBoth?.(normalised);
    const diff = differences(normalised.kafka, normalised.sluice);
    if (diff.length > 0) {
      const said = (body: unknown) => messagesIn(body).join(' | ') || '-';
      assert.fail(
        `${label} answers differ from Kafka's:\n  ${diff.join('\n  ')}\n` +
          `  (Kafka's messages: ${said(kafka.body)}; Sluice's: ${said(sluice.body)})`,
      );
    }
    return { ...normalised, raw: { kafka: kafka.body, sluice: sluice.body } };
  }

  /** The id `side` gave topic `name` (learnt from CreateTopics or Metadata). */
  topicId(side: SideName, name: string): string {
    for (const [id, n] of this.topicNames[side]) if (n === name) return id;
    throw new Error(`${side} has not told the id of topic ${name}`);
  }

  private learnIds(body: unknown, side: SideName): void {
    walk(body, (node) => {
      const id = node.topicId;
      const name = node.name ?? node.topic;
      if (typeof id === 'string' && id !== ZERO_UUID && typeof name === 'string' && name) {
        this.topicNames[side].set(id, name);
      }
    });
  }

  /** A deep copy with what may legitimately differ replaced by placeholders. */
  normalise<T>(body: T, side: SideName): T {
    const topics = this.topicNames[side];
    // Numbered per answer, in order of appearance: an answer's own structure (leader = which member) is
    // compared, and a difference in one answer cannot shift the names in all later ones.
    const members = new Map<string, string>();
    return copyWith(body, (key, value) => {
      switch (key) {
        case 'throttleTimeMs':
          return 0;
        case 'clusterId':
          return typeof value === 'string' ? '<cluster-id>' : value;
        case 'port':
          return typeof value === 'number' && value > 0 ? '<port>' : value;
        case 'errorMessage':
          // Error wording is the broker's own; the codes must match, the sentences need not.
          return null;
        case 'topicId': {
          if (typeof value !== 'string' || value === ZERO_UUID) return value;
          const name = topics.get(value);
          return name ? `<topic-id of ${name}>` : value;
        }
        case 'memberId':
        case 'leader':
        case 'groupInstanceId':
          if (typeof value !== 'string' || value === '') return value;
          if (key === 'groupInstanceId') return value;
          if (!members.has(value)) members.set(value, `<member ${members.size + 1}>`);
          return members.get(value);
        case '_unknownTaggedFields':
          return undefined;
        default:
          return value;
      }
    });
  }

  /**
   * Creates a topic on both brokers with the same settings and waits until Kafka's metadata knows its
   * leader (Kafka propagates a new topic to its metadata cache asynchronously).
   */
  async createTopic(name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
    const request = {
      ...CreateTopicsApi.defaultRequest(),
      topics: [
        {
          name,
          numPartitions: partitions,
          replicationFactor: 1,
          assignments: [],
          configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        },
      ],
      timeoutMs: 30_000,
    };
    const { kafka, sluice } = await this.send(CreateTopicsApi, 7, request);
    for (const [side, body] of [
      ['kafka', kafka],
      ['sluice', sluice],
    ] as const) {
      const code = body.topics[0]!.errorCode;
      assert.equal(code, ErrorCode.NONE, `${side} could not create ${name}: ${errorName(code)}`);
    }
    await this.untilKafka(async () => {
      const { kafka: m } = await this.send(MetadataApi, 12, {
        ...MetadataApi.defaultRequest(),
        topics: [{ topicId: ZERO_UUID, name }],
        allowAutoTopicCreation: false,
      });
      const topic = m.topics[0];
      return (
        topic?.errorCode === 0 &&
        topic.partitions.length === partitions &&
        topic.partitions.every((p) => p.leaderId >= 0)
      );
    }, `topic ${name} to have a leader on Kafka`);
    // Metadata knows the leader a moment before the partition accepts writes (NOT_LEADER_OR_FOLLOWER).
    await this.untilKafka(async () => {
      const { kafka } = await this.send(ListOffsetsApi, 8, {
        ...ListOffsetsApi.defaultRequest(),
        replicaId: -1,
        topics: [
          {
            name,
            partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
              partitionIndex,
              currentLeaderEpoch: -1,
              timestamp: -1n,
              maxNumOffsets: 1,
            })),
          },
        ],
      });
      return kafka.topics[0]?.partitions.every((p) => p.errorCode === 0) ?? false;
    }, `topic ${name} to be writable on Kafka`);
  }

  /**
   * Waits until Kafka's group coordinator has loaded (the first FindCoordinator after start-up may answer
   * COORDINATOR_NOT_AVAILABLE while __consumer_offsets is created and loaded).
   */
  async groupCoordinatorReady(group: string): Promise<void> {
    await this.untilKafka(async () => {
      const { kafka, sluice } = await this.send(FindCoordinatorApi, 4, {
        ...FindCoordinatorApi.defaultRequest(),
        keyType: 0,
        coordinatorKeys: [group],
      });
      return kafka.coordinators[0]?.errorCode === 0 && sluice.coordinators[0]?.errorCode === 0;
    }, 'the group coordinator to be found');
    // Found is not loaded: the group's __consumer_offsets partition answers NOT_COORDINATOR or
    // COORDINATOR_LOAD_IN_PROGRESS until Kafka has loaded it.
    await this.untilKafka(async () => {
      const { kafka } = await this.send(DescribeGroupsApi, 5, { groups: [group], includeAuthorizedOperations: false });
      return kafka.groups[0]?.errorCode === 0;
    }, 'the group coordinator to be loaded');
  }

  private async untilKafka(ready: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The error messages in an answer, to show beside a difference (they are not compared). */
function messagesIn(body: unknown): string[] {
  const out: string[] = [];
  walk(body, (node) => {
    if (typeof node.errorMessage === 'string') out.push(node.errorMessage);
  });
  return out;
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const v of value) walk(v, visit);
  else if (isObject(value)) {
    visit(value);
    for (const v of Object.values(value)) walk(v, visit);
  }
}

function copyWith(value: unknown, replace: (key: string, value: unknown) => unknown): never {
  if (Array.isArray(value)) return value.map((v) => copyWith(v, replace)) as never;
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const replaced = replace(k, v);
      if (replaced !== undefined) out[k] = copyWith(replaced, replace);
    }
    return out as never;
  }
  return value as never;
}

/** A topic or group name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * Starts one Differential for the calling test file (in `before`) and stops it (in `after`). Without the
 * Kafka peer the file's tests skip, except under CI where a missing peer fails the suite.
 */
export function useDifferential(options: Parameters<typeof Differential.start>[0] = {}): {
  get(): Differential;
  skip: string | false;
} {
  const why = kafkaPeerUnavailable();
  if (why && process.env.CI === 'true') throw new Error(`the Kafka peer is required under CI: ${why}`);
  let harness: Differential | undefined;
  if (!why) {
    before(async () => {
      harness = await Differential.start(options);
    });
    after(async () => {
      await harness?.stop();
    });
  }
  return {
    get: () => {
      if (!harness) throw new Error('the differential harness did not start');
      return harness;
    },
    skip: why ?? false,
  };
}
