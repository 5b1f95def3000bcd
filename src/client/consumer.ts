/**
 * Consumer primitives: Fetch from partition leaders, ListOffsets (earliest, latest, by timestamp), the
 * records inside fetched batches, and `PartitionConsumer`, which follows a set of partitions from given
 * offsets. Group membership lives in group-consumer.ts.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { FetchApi, type FetchRequest } from '../protocol/generated/01-fetch.js';
import { ListOffsetsApi } from '../protocol/generated/02-list-offsets.js';
import { ZERO_UUID } from '../protocol/reader.js';
import {
  CONTROL_FLAG_MASK,
  CURRENT_MAGIC,
  iterateRecordsAsync,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  type RecordHeader,
} from '../records/index.js';
import type { KafkaClient } from './client.js';
import { KafkaError } from './errors.js';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface FetchOptions {
  /** How long the broker may wait for minBytes. Default 500 ms. */
  maxWaitMs?: number;
  minBytes?: number;
  /** Per response. Default 50 MiB. */
  maxBytes?: number;
  /** Per partition. Default 1 MiB. */
  partitionMaxBytes?: number;
  /** 0: read uncommitted (default); 1: read committed. */
  isolationLevel?: 0 | 1;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** Whole and possibly one partial trailing batch, as the broker sent them (a view of the response). */
  records: Buffer | null;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: bigint };

const LATEST_TIMESTAMP = -1n;
const EARLIEST_TIMESTAMP = -2n;

/** Fetches each partition from its leader (one Fetch request per leader, all at once). */
export async function fetchPartitions(
  client: KafkaClient,
  positions: TopicPartitionOffset[],
  options: FetchOptions = {},
): Promise<FetchedPartition[]> {
  const byLeader = new Map<number, TopicPartitionOffset[]>();
  for (const p of positions) {
    const leader = await client.leaderFor(p.topic, p.partition);
    let list = byLeader.get(leader);
    if (!list) byLeader.set(leader, (list = []));
    list.push(p);
  }
  const maxWaitMs = options.maxWaitMs ?? 500;
  const answers = await Promise.all(
    [...byLeader].map(async ([leader, list]) => {
      const connection = await client.connectToNode(leader);
      let version = connection.version(FetchApi);
      // Fetch v13+ names topics by id; without ids (an older Metadata answer) stay on names.
      const ids = new Map<string, string>();
      for (const p of list) ids.set(p.topic, (await client.topic(p.topic)).topicId);
      if (version >= 13 && [...ids.values()].some((id) => id === ZERO_UUID)) version = 12;
      const request = buildFetchRequest(list, ids, version, options);
      const response = await connection.send(FetchApi, request, {
        version,
        timeoutMs: maxWaitMs + client.requestTimeoutMs,
      });
      if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, 'Fetch');
      const names = new Map([...ids].map(([name, id]) => [id, name]));
      const out: FetchedPartition[] = [];
      for (const t of response.responses) {
        const topic = version >= 13 ? (names.get(t.topicId) ?? t.topic) : t.topic;
        for (const p of t.partitions) {
          out.push({
            topic,
            partition: p.partitionIndex,
            errorCode: p.errorCode,
            highWatermark: p.highWatermark,
            lastStableOffset: p.lastStableOffset,
            logStartOffset: p.logStartOffset,
            records: p.records,
          });
        }
      }
      return out;
    }),
  );
  return answers.flat();
}

export function buildFetchRequest(
  list: TopicPartitionOffset[],
  ids: Map<string, string>,
  version: number,
  options: FetchOptions,
): FetchRequest {
  const request = FetchApi.defaultRequest();
  request.replicaId = -1;
  request.maxWaitMs = options.maxWaitMs ?? 500;
  request.minBytes = options.minBytes ?? 1;
  request.maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
  request.isolationLevel = options.isolationLevel ?? 0;
  request.sessionId = 0;
  request.sessionEpoch = -1; // no fetch session (KIP-227): every request names all its partitions
  const byTopic = new Map<string, FetchRequest['topics'][number]>();
  for (const p of list) {
    let t = byTopic.get(p.topic);
    if (!t) {
      t = { topic: p.topic, topicId: version >= 13 ? (ids.get(p.topic) ?? ZERO_UUID) : ZERO_UUID, partitions: [] };
      byTopic.set(p.topic, t);
    }
    t.partitions.push({
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: p.offset,
      lastFetchedEpoch: -1,
      logStartOffset: -1n,
      partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
      replicaDirectoryId: ZERO_UUID,
    });
  }
  request.topics = [...byTopic.values()];
  return request;
}

/**
 * The records of the whole batches in `records` at or after `fromOffset`, skipping control batches
 * (transaction markers) and a partial batch at the end. `nextOffset` is where the next fetch starts:
 * after the last whole batch, control batches included.
 */
export async function decodeFetchedRecords(
  topic: string,
  partition: number,
  records: Buffer | null,
  fromOffset: bigint,
): Promise<{ records: ConsumedRecord[]; nextOffset: bigint }> {
  const out: ConsumedRecord[] = [];
  let nextOffset = fromOffset;
  if (!records) return { records: out, nextOffset };
  let pos = 0;
  while (records.length - pos >= RECORD_BATCH_OVERHEAD) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
    if (records.length - pos < size) break;
    const magic = records.readInt8(pos + 16);
    if (magic !== CURRENT_MAGIC) {
      throw new Error(
        `${topic}-${partition}: message format v${magic} at offset ${records.readBigInt64BE(pos)} is not supported (v2 only)`,
      );
    }
    const lastOffset = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23));
    const isControl = (records.readInt16BE(pos + 21) & CONTROL_FLAG_MASK) !== 0;
    if (!isControl && lastOffset >= fromOffset) {
      for (const r of await iterateRecordsAsync(records.subarray(pos, pos + size))) {
        if (r.offset < fromOffset) continue;
        out.push({
          topic,
          partition,
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value,
          headers: r.headers,
        });
      }
    }
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
    pos += size;
  }
  return { records: out, nextOffset };
}

/**
 * Offsets for `partitions` of `topic` by spec: the log start ('earliest'), the log end ('latest'), or
 * the first offset whose timestamp is at or after a time (the log end when there is none).
 */
export async function listOffsets(
  client: KafkaClient,
  topic: string,
  partitions: number[],
  spec: OffsetSpec,
): Promise<Map<number, { offset: bigint; timestamp: bigint }>> {
  const timestamp = spec === 'latest' ? LATEST_TIMESTAMP : spec === 'earliest' ? EARLIEST_TIMESTAMP : spec.timestamp;
  const out = new Map<number, { offset: bigint; timestamp: bigint }>();
  await client.retry(
    async () => {
      const byLeader = new Map<number, number[]>();
      for (const p of partitions) {
        if (out.has(p)) continue;
        const leader = await client.leaderFor(topic, p);
        let list = byLeader.get(leader);
        if (!list) byLeader.set(leader, (list = []));
        list.push(p);
      }
      await Promise.all(
        [...byLeader].map(async ([leader, list]) => {
          const response = await client.sendTo(leader, ListOffsetsApi, () => {
            const request = ListOffsetsApi.defaultRequest();
            request.replicaId = -1;
            request.isolationLevel = 0;
            request.topics = [
              {
                name: topic,
                partitions: list.map((p) => ({
                  partitionIndex: p,
                  currentLeaderEpoch: -1,
                  timestamp,
                  maxNumOffsets: 1,
                })),
              },
            ];
            return request;
          });
          for (const t of response.topics) {
            for (const p of t.partitions) {
              if (p.errorCode !== ErrorCode.NONE) throw new KafkaError(p.errorCode, `${topic}-${p.partitionIndex}`);
              out.set(p.partitionIndex, { offset: p.offset, timestamp: p.timestamp });
            }
          }
        }),
      );
    },
    () => client.invalidateTopic(topic),
  );
  // A timestamp after the last record has no offset (-1): the consumer starts at the log end then.
  if (typeof spec === 'object') {
    const missing = partitions.filter((p) => (out.get(p)?.offset ?? -1n) < 0n);
    if (missing.length > 0) {
      const ends = await listOffsets(client, topic, missing, 'latest');
      for (const [p, v] of ends) out.set(p, v);
    }
  }
  return out;
}

export interface PartitionConsumerOptions extends FetchOptions {
  /** Stop once every partition has reached the high watermark seen at that moment. Default false (follow). */
  exitAtEnd?: boolean;
  /** What to do when a position is outside the log: move to the log start or end, or fail. Default 'error'. */
  onOutOfRange?: 'earliest' | 'latest' | 'error';
}

/** Follows partitions from given offsets, yielding their records in order per partition. */
export class PartitionConsumer {
  /** The next offset to fetch, per `topic\0partition`. */
  readonly positions = new Map<string, TopicPartitionOffset>();
  private stopped = false;

  constructor(
    private readonly client: KafkaClient,
    start: TopicPartitionOffset[],
    private readonly options: PartitionConsumerOptions = {},
  ) {
    for (const s of start) this.positions.set(`${s.topic}\0${s.partition}`, { ...s });
  }

  stop(): void {
    this.stopped = true;
  }

  async *records(): AsyncGenerator<ConsumedRecord> {
    const atEnd = new Set<string>();
    while (!this.stopped) {
      const wanted = [...this.positions].filter(([id]) => !atEnd.has(id)).map(([, p]) => p);
      if (wanted.length === 0) return;
      const fetched = await this.client.retry(
        () => fetchPartitions(this.client, wanted, this.options),
        () => {
          for (const p of wanted) this.client.invalidateTopic(p.topic);
        },
      );
      for (const f of fetched) {
        const id = `${f.topic}\0${f.partition}`;
        const position = this.positions.get(id);
        if (!position) continue;
        if (
          f.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE &&
          this.options.onOutOfRange !== undefined &&
          this.options.onOutOfRange !== 'error'
        ) {
          const reset = await listOffsets(this.client, f.topic, [f.partition], this.options.onOutOfRange);
          position.offset = reset.get(f.partition)?.offset ?? 0n;
          continue;
        }
        if (f.errorCode !== ErrorCode.NONE) {
          const err = new KafkaError(f.errorCode, `${f.topic}-${f.partition} at offset ${position.offset}`);
          if (!err.retriable) throw err;
          this.client.invalidateTopic(f.topic);
          continue;
        }
        const { records, nextOffset } = await decodeFetchedRecords(f.topic, f.partition, f.records, position.offset);
        for (const r of records) {
          if (this.stopped) return;
          // Moved before the yield: a caller that stops after this record has consumed it.
          position.offset = r.offset + 1n;
          yield r;
        }
        if (this.stopped) return;
        position.offset = nextOffset;
        if (this.options.exitAtEnd && position.offset >= f.highWatermark) atEnd.add(id);
      }
    }
  }
}
