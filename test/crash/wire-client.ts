/**
 * A minimal Kafka client over one socket, built on the generated codecs: pipelined requests answered in
 * order, and the few calls the durability tests need (create topic, produce, fetch by offset, list offsets).
 * It knows exactly which produce requests were acknowledged, which real clients hide behind retries.
 * Group membership and offset commits over it are in group-member.ts.
 */
import { connect, type Socket } from 'node:net';
import type { ApiDescriptor } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ProduceApi } from '../../src/protocol/generated/00-produce.js';
import { FetchApi } from '../../src/protocol/generated/01-fetch.js';
import { ListOffsetsApi } from '../../src/protocol/generated/02-list-offsets.js';
import { CreateTopicsApi } from '../../src/protocol/generated/19-create-topics.js';
import { InitProducerIdApi } from '../../src/protocol/generated/22-init-producer-id.js';
import { responseHeaderVersion } from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { type BatchRecord, iterateBatches, iterateRecordsAsync } from '../../src/records/index.js';
import { encodeRequestFrame } from '../helpers/raw-client.js';

const PRODUCE_VERSION = 9;
const FETCH_VERSION = 12;
const LIST_OFFSETS_VERSION = 7;
const CREATE_TOPICS_VERSION = 5;
const INIT_PRODUCER_ID_VERSION = 5;

/** A record read back with the producer fields of its batch (sequence -1 when the batch has no producer). */
export interface LogRecord extends BatchRecord {
  producerId: bigint;
  producerEpoch: number;
  sequence: number;
}

interface Pending {
  correlationId: number;
  decode: (r: Reader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ConnectionLost extends Error {
  override name = 'ConnectionLost';
}

export class WireClient {
  private nextCorrelationId = 1;
  private readonly pending: Pending[] = [];
  private buffered: Buffer = Buffer.alloc(0);
  private closedWith: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ConnectionLost(err.message)));
    socket.on('close', () => this.fail(new ConnectionLost('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once('connect', () => {
        socket.removeListener('error', reject);
        resolve(new WireClient(socket));
      });
      socket.once('error', reject);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (!this.closedWith) this.closedWith = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size) return;
      const frame = this.buffered.subarray(4, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      const p = this.pending.shift();
      if (!p) {
        this.fail(new Error('a response arrived with no request waiting for it'));
        this.socket.destroy();
        return;
      }
      const r = new Reader(frame);
      const correlationId = r.int32();
      if (correlationId !== p.correlationId) {
        p.reject(new Error(`correlation id ${correlationId} answered while ${p.correlationId} was expected`));
        this.socket.destroy();
        return;
      }
      try {
        p.resolve(p.decode(r));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  /** Sends one request; resolves with its decoded response (responses come back in request order). */
  request<Req, Res>(api: ApiDescriptor<Req, Res>, version: number, body: Req): Promise<Res> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const correlationId = this.nextCorrelationId++;
    const frame = encodeRequestFrame(api, version, body, { correlationId, clientId: 'wire-client' });
    return new Promise<Res>((resolve, reject) => {
      this.pending.push({
        correlationId,
        decode: (r) => {
          if (responseHeaderVersion(api.apiKey, version) >= 1) r.taggedFields();
          return api.decodeResponse(r, version);
        },
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.socket.write(frame);
    });
  }

  async createTopic(name: string, numPartitions: number, configs: Record<string, string> = {}): Promise<ErrorCode> {
    const req = CreateTopicsApi.defaultRequest();
    req.timeoutMs = 10_000;
    req.topics.push({
      name,
      numPartitions,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
    });
    const res = await this.request(CreateTopicsApi, CREATE_TOPICS_VERSION, req);
    return res.topics[0]!.errorCode as ErrorCode;
  }

  /** InitProducerId without a transactional id: a new idempotent producer id and its epoch. */
  async initProducerId(): Promise<{ errorCode: ErrorCode; producerId: bigint; producerEpoch: number }> {
    const req = InitProducerIdApi.defaultRequest();
    req.transactionalId = null;
    req.transactionTimeoutMs = 60_000;
    const res = await this.request(InitProducerIdApi, INIT_PRODUCER_ID_VERSION, req);
    return { errorCode: res.errorCode as ErrorCode, producerId: res.producerId, producerEpoch: res.producerEpoch };
  }

  /** Produces one batch per entry, to several partitions in one request; answers per partition. */
  async produce(
    topic: string,
    batches: Array<{ partition: number; batch: Buffer }>,
    acks: -1 | 0 | 1 = -1,
  ): Promise<Array<{ partition: number; errorCode: ErrorCode; baseOffset: bigint }>> {
    const req = ProduceApi.defaultRequest();
    req.acks = acks;
    req.timeoutMs = 30_000;
    req.topicData.push({ name: topic, partitionData: batches.map((b) => ({ index: b.partition, records: b.batch })) });
    const res = await this.request(ProduceApi, PRODUCE_VERSION, req);
    return res.responses[0]!.partitionResponses.map((p) => ({
      partition: p.index,
      errorCode: p.errorCode as ErrorCode,
      baseOffset: p.baseOffset,
    }));
  }

  /**
   * One Fetch of several partitions, each from its own offset; the broker may wait up to `maxWaitMs` for data.
   * Answers per partition with the decoded records at or after the offset asked for (whole batches only).
   */
  async fetchMany(
    topic: string,
    positions: Array<{ partition: number; offset: bigint }>,
    maxWaitMs: number,
    partitionMaxBytes = 1024 * 1024,
  ): Promise<Array<{ partition: number; errorCode: ErrorCode; highWatermark: bigint; records: BatchRecord[] }>> {
    const req = FetchApi.defaultRequest();
    req.maxWaitMs = maxWaitMs;
    req.minBytes = 1;
    req.maxBytes = partitionMaxBytes * Math.max(1, positions.length);
    req.sessionEpoch = -1;
    req.topics.push({
      topic,
      topicId: '00000000000000000000000000000000',
      partitions: positions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: -1,
        fetchOffset: p.offset,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes,
        replicaDirectoryId: '00000000000000000000000000000000',
      })),
    });
    const res = await this.request(FetchApi, FETCH_VERSION, req);
    if (res.errorCode !== 0) throw new Error(`Fetch failed: ${ErrorCode[res.errorCode]}`);
    const wanted = new Map(positions.map((p) => [p.partition, p.offset]));
    const out = [];
    for (const p of res.responses[0]?.partitions ?? []) {
      const from = wanted.get(p.partitionIndex) ?? 0n;
      const records = p.errorCode === ErrorCode.NONE ? await decodeFrom(p.records ?? Buffer.alloc(0), from) : [];
      out.push({
        partition: p.partitionIndex,
        errorCode: p.errorCode as ErrorCode,
        highWatermark: p.highWatermark,
        records,
      });
    }
    return out;
  }

  /** One Fetch of one partition from `offset`, without waiting for new data. */
  async fetch(
    topic: string,
    partition: number,
    offset: bigint,
    maxBytes = 4 * 1024 * 1024,
  ): Promise<{ errorCode: ErrorCode; highWatermark: bigint; logStartOffset: bigint; records: Buffer }> {
    const req = FetchApi.defaultRequest();
    req.maxWaitMs = 0;
    req.minBytes = 1;
    req.maxBytes = maxBytes;
    req.sessionEpoch = -1;
    req.topics.push({
      topic,
      topicId: '00000000000000000000000000000000',
      partitions: [
        {
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: maxBytes,
          replicaDirectoryId: '00000000000000000000000000000000',
        },
      ],
    });
    const res = await this.request(FetchApi, FETCH_VERSION, req);
    if (res.errorCode !== 0) throw new Error(`Fetch failed: ${ErrorCode[res.errorCode]}`);
    const p = res.responses[0]!.partitions[0]!;
    return {
      errorCode: p.errorCode as ErrorCode,
      highWatermark: p.highWatermark,
      logStartOffset: p.logStartOffset,
      records: p.records ?? Buffer.alloc(0),
    };
  }

  /** Every record of a partition from `from` up to the high watermark, decoded, with its batch's producer fields. */
  async readAll(topic: string, partition: number, from = 0n): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    let offset = from;
    for (;;) {
      const f = await this.fetch(topic, partition, offset);
      if (f.errorCode !== ErrorCode.NONE) {
        throw new Error(`Fetch ${topic}-${partition}@${offset}: ${ErrorCode[f.errorCode]}`);
      }
      if (offset >= f.highWatermark) return out;
      let progressed = false;
      for (const info of iterateBatches(wholeBatches(f.records))) {
        for (const rec of await iterateRecordsAsync(f.records, info.position)) {
          if (rec.offset < offset) continue;
          const sequence = info.baseSequence < 0 ? -1 : info.baseSequence + rec.offsetDelta;
          out.push({ ...rec, producerId: info.producerId, producerEpoch: info.producerEpoch, sequence });
          offset = rec.offset + 1n;
          progressed = true;
        }
        // A batch whose records were all removed (compaction) still moves the position.
        const next = info.baseOffset + BigInt(info.lastOffsetDelta) + 1n;
        if (next > offset) {
          offset = next;
          progressed = true;
        }
      }
      if (!progressed)
        throw new Error(`Fetch ${topic}-${partition}@${offset} returned nothing below ${f.highWatermark}`);
    }
  }

  /** ListOffsets with a timestamp (-1 latest, -2 earliest). */
  async listOffset(topic: string, partition: number, timestamp: bigint): Promise<bigint> {
    const req = ListOffsetsApi.defaultRequest();
    req.replicaId = -1;
    req.topics.push({
      name: topic,
      partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
    });
    const res = await this.request(ListOffsetsApi, LIST_OFFSETS_VERSION, req);
    const p = res.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`ListOffsets ${topic}-${partition}: ${ErrorCode[p.errorCode]}`);
    return p.offset;
  }
}

/** The records of the whole batches in a fetched buffer, from offset `from` on (a batch may start before it). */
async function decodeFrom(records: Buffer, from: bigint): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  for (const info of iterateBatches(wholeBatches(records))) {
    for (const rec of await iterateRecordsAsync(records, info.position)) if (rec.offset >= from) out.push(rec);
  }
  return out;
}

/** The prefix of a fetched records buffer made of whole batches (a fetch may end in a partial batch). */
export function wholeBatches(records: Buffer): Buffer {
  let pos = 0;
  while (records.length - pos >= 12) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    pos += size;
  }
  return records.subarray(0, pos);
}
