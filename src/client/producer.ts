/**
 * The producer: records → one record batch per partition (buildRecordBatch) → one Produce request per
 * partition leader. Keyed records are placed like Kafka's Java producer places them (murmur2); records
 * without a key follow the sticky partitioner unless told otherwise.
 *
 * `sendBatches` takes batches built beforehand and sends them as they are, so a load generator can build
 * its batches once and reuse them: the broker patches base offsets in its own copy.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ProduceApi, type ProduceRequest } from '../protocol/generated/00-produce.js';
import {
  buildRecordBatch,
  buildRecordBatchAsync,
  CompressionType,
  isSyncCodec,
  type RecordInput,
} from '../records/index.js';
import type { KafkaClient } from './client.js';
import { isRetriableError, KafkaError } from './errors.js';
import { type NullKeyPartitioner, partitionForKey, RoundRobinPartitioner, StickyPartitioner } from './partitioner.js';

export type Acks = -1 | 0 | 1;

export interface ProducerOptions {
  /** 0: no answer; 1: the leader wrote it; -1 (all): every in-sync replica has it (default). */
  acks?: Acks;
  compression?: CompressionType;
  /** How long the broker may wait for acks=all. Default 30 s. */
  timeoutMs?: number;
  /** Where records without a key go: 'sticky' (default, KIP-480) or 'round-robin'. */
  nullKeyPartitioner?: 'sticky' | 'round-robin' | NullKeyPartitioner;
  /** Ask the broker to create a topic it does not know (Metadata allow_auto_topic_creation). Default true. */
  autoCreateTopics?: boolean;
}

export interface ProduceRecord extends RecordInput {
  /** Explicit partition; otherwise the key (or the null-key partitioner) decides. */
  partition?: number;
}

export interface BatchToSend {
  topic: string;
  partition: number;
  batch: Buffer;
  /** Records in the batch, for the result; read from the batch header when missing. */
  recordCount?: number;
}

export interface PartitionProduceResult {
  topic: string;
  partition: number;
  /** Offset of the batch's first record; -1 with acks=0. */
  baseOffset: bigint;
  /** The broker's append time when the topic uses LogAppendTime, else -1. */
  logAppendTimeMs: bigint;
  recordCount: number;
}

const RECORDS_COUNT_OFFSET = 57;

export function compressionFromName(name: string): CompressionType {
  switch (name.toLowerCase()) {
    case 'none':
      return CompressionType.None;
    case 'gzip':
      return CompressionType.Gzip;
    case 'snappy':
      return CompressionType.Snappy;
    case 'lz4':
      return CompressionType.Lz4;
    case 'zstd':
      return CompressionType.Zstd;
    default:
      throw new Error(`unknown compression "${name}": use none, gzip, snappy, lz4 or zstd`);
  }
}

export class Producer {
  readonly acks: Acks;
  readonly compression: CompressionType;
  private readonly timeoutMs: number;
  private readonly nullKey: NullKeyPartitioner;
  private readonly autoCreate: boolean;

  constructor(
    readonly client: KafkaClient,
    options: ProducerOptions = {},
  ) {
    this.acks = options.acks ?? -1;
    this.compression = options.compression ?? CompressionType.None;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.autoCreate = options.autoCreateTopics ?? true;
    const p = options.nullKeyPartitioner ?? 'sticky';
    this.nullKey = p === 'sticky' ? new StickyPartitioner() : p === 'round-robin' ? new RoundRobinPartitioner() : p;
  }

  /** Number of partitions of `topic` (creating it when the broker auto-creates topics). */
  async partitionCount(topic: string): Promise<number> {
    return (await this.client.topic(topic, { autoCreate: this.autoCreate })).partitions.length;
  }

  /** Places each record on a partition, builds one batch per partition and sends them. */
  async send(topic: string, records: ProduceRecord[]): Promise<PartitionProduceResult[]> {
    if (records.length === 0) return [];
    const partitions = await this.partitionCount(topic);
    const byPartition = new Map<number, RecordInput[]>();
    for (const record of records) {
      let p: number;
      if (record.partition !== undefined) {
        p = record.partition;
        if (!Number.isInteger(p) || p < 0 || p >= partitions) {
          throw new KafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `topic "${topic}" has ${partitions} partitions; there is no partition ${p}`,
          );
        }
      } else if (record.key !== undefined && record.key !== null) {
        p = partitionForKey(record.key, partitions);
      } else {
        p = this.nullKey.partition(topic, partitions);
      }
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push(record);
    }
    const batches: BatchToSend[] = [];
    for (const [partition, list] of byPartition) {
      const batch = isSyncCodec(this.compression)
        ? buildRecordBatch(list, { compression: this.compression })
        : await buildRecordBatchAsync(list, { compression: this.compression });
      batches.push({ topic, partition, batch, recordCount: list.length });
      this.nullKey.batchClosed(topic, partition, partitions);
    }
    return this.sendBatches(batches);
  }

  /**
   * Sends ready-made batches: one Produce request per leader, all leaders at once. Partitions that fail
   * with a retriable error (a moved leader) are sent again after fresh metadata.
   */
  async sendBatches(batches: BatchToSend[]): Promise<PartitionProduceResult[]> {
    const results: PartitionProduceResult[] = [];
    let pending = batches;
    await this.client.retry(
      async () => {
        const byLeader = new Map<number, BatchToSend[]>();
        for (const b of pending) {
          const leader = await this.client.leaderFor(b.topic, b.partition);
          let list = byLeader.get(leader);
          if (!list) byLeader.set(leader, (list = []));
          list.push(b);
        }
        const outcomes = await Promise.all(
          [...byLeader].map(([leader, list]) =>
            this.produceOnce(leader, list).catch((err: Error) => {
              if (!isRetriableError(err)) throw err;
              return { done: [], retry: list, error: err };
            }),
          ),
        );
        pending = [];
        let error: Error | null = null;
        for (const o of outcomes) {
          results.push(...o.done);
          pending.push(...o.retry);
          error ??= o.error;
        }
        if (error) throw error;
      },
      () => {
        for (const b of pending) this.client.invalidateTopic(b.topic);
      },
    );
    return results;
  }

  /**
   * One Produce request to broker `leader` carrying `batches`. Throws non-retriable errors; returns the
   * partitions that failed with a retriable error code for another attempt.
   */
  async produceOnce(
    leader: number,
    batches: BatchToSend[],
  ): Promise<{ done: PartitionProduceResult[]; retry: BatchToSend[]; error: KafkaError | null }> {
    const request = buildProduceRequest(batches, this.acks, this.timeoutMs);
    const connection = await this.client.connectToNode(leader);
    const countOf = (b: BatchToSend) => b.recordCount ?? b.batch.readInt32BE(RECORDS_COUNT_OFFSET);
    if (this.acks === 0) {
      await connection.sendWithoutResponse(ProduceApi, request);
      const done = batches.map((b) => ({
        topic: b.topic,
        partition: b.partition,
        baseOffset: -1n,
        logAppendTimeMs: -1n,
        recordCount: countOf(b),
      }));
      return { done, retry: [], error: null };
    }
    // acks=all may wait up to timeoutMs on the broker; the request must not time out before that.
    const response = await connection.send(ProduceApi, request, {
      timeoutMs: this.timeoutMs + this.client.requestTimeoutMs,
    });
    const sent = new Map(batches.map((b) => [`${b.topic}\0${b.partition}`, b]));
    const done: PartitionProduceResult[] = [];
    const retry: BatchToSend[] = [];
    let error: KafkaError | null = null;
    for (const t of response.responses) {
      for (const p of t.partitionResponses) {
        const batch = sent.get(`${t.name}\0${p.index}`);
        if (!batch) continue;
        if (p.errorCode !== ErrorCode.NONE) {
          const err = new KafkaError(p.errorCode, `${t.name}-${p.index}${p.errorMessage ? `: ${p.errorMessage}` : ''}`);
          if (!err.retriable) throw err;
          error ??= err;
          retry.push(batch);
          continue;
        }
        done.push({
          topic: t.name,
          partition: p.index,
          baseOffset: p.baseOffset,
          logAppendTimeMs: p.logAppendTimeMs,
          recordCount: countOf(batch),
        });
      }
    }
    return { done, retry, error };
  }
}

/** The Produce request for `batches` (grouped by topic), with the batches' bytes as they are. */
export function buildProduceRequest(batches: BatchToSend[], acks: Acks, timeoutMs: number): ProduceRequest {
  const byTopic = new Map<string, Array<{ index: number; records: Buffer }>>();
  for (const b of batches) {
    let list = byTopic.get(b.topic);
    if (!list) byTopic.set(b.topic, (list = []));
    list.push({ index: b.partition, records: b.batch });
  }
  return {
    transactionalId: null,
    acks,
    timeoutMs,
    topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })),
  };
}
