/**
 * The requests tests send to play a transaction coordinator's part on one partition, with a RawClient:
 * producer ids from InitProducerId without a transactional id, transactional batches sent with Produce,
 * transactions ended with WriteTxnMarkers, and the reads that check them (Fetch at an isolation level,
 * ListOffsets latest). Each returns the broker's answer unchecked, so a test asserts what it expects.
 */
import { ProduceApi, type ProduceResponsePartitionProduceResponse } from '../../src/protocol/generated/00-produce.js';
import {
  defaultFetchRequestFetchPartition,
  FetchApi,
  type FetchResponsePartitionData,
} from '../../src/protocol/generated/01-fetch.js';
import { ListOffsetsApi } from '../../src/protocol/generated/02-list-offsets.js';
import { InitProducerIdApi, type InitProducerIdResponse } from '../../src/protocol/generated/22-init-producer-id.js';
import { WriteTxnMarkersApi, type WriteTxnMarkersResponse } from '../../src/protocol/generated/27-write-txn-markers.js';
import { baseOffsetOf, batchSizeAt } from '../../src/records/batch-header.js';
import { buildRecordBatch, type RecordInput } from '../../src/records/builder.js';
import type { RawClient } from './raw-client.js';

/** InitProducerId v4 without a transactional id: a fresh producer id at epoch 0. */
export function initProducerId(client: RawClient): Promise<InitProducerIdResponse> {
  const req = InitProducerIdApi.defaultRequest();
  req.transactionalId = null;
  req.transactionTimeoutMs = 60_000;
  req.producerId = -1n;
  req.producerEpoch = -1;
  return client.request(InitProducerIdApi, 4, req);
}

/** One transactional batch of `producerId` at epoch 0 unless told otherwise. */
export function transactionalBatch(
  records: RecordInput[],
  producerId: bigint,
  baseSequence = 0,
  producerEpoch = 0,
): Buffer {
  return buildRecordBatch(records, { producerId, producerEpoch, baseSequence, isTransactional: true });
}

/** Produce v9 of one batch to partition 0 of `topic`, acks=all; returns the partition's answer. */
export async function produceBatch(
  client: RawClient,
  topic: string,
  batch: Buffer,
  transactionalId: string | null = null,
): Promise<ProduceResponsePartitionProduceResponse> {
  const req = ProduceApi.defaultRequest();
  req.acks = -1;
  req.timeoutMs = 10_000;
  req.transactionalId = transactionalId;
  req.topicData.push({ name: topic, partitionData: [{ index: 0, records: batch }] });
  return (await client.request(ProduceApi, 9, req)).responses[0]!.partitionResponses[0]!;
}

export interface TxnMarker {
  topic: string;
  producerId: bigint;
  committed: boolean;
  /** Defaults to [0]. */
  partitions?: number[];
  producerEpoch?: number;
  coordinatorEpoch?: number;
}

/** WriteTxnMarkers with one marker (v1 unless told otherwise): a COMMIT or ABORT on the listed partitions. */
export function writeTxnMarker(client: RawClient, marker: TxnMarker, version = 1): Promise<WriteTxnMarkersResponse> {
  const req = WriteTxnMarkersApi.defaultRequest();
  req.markers.push({
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch ?? 0,
    transactionResult: marker.committed,
    coordinatorEpoch: marker.coordinatorEpoch ?? 0,
    topics: [{ name: marker.topic, partitionIndexes: marker.partitions ?? [0] }],
  });
  return client.request(WriteTxnMarkersApi, version, req);
}

/** Fetch (v12 unless told otherwise) of partition 0 of `topic` at an isolation level, without waiting. */
export async function fetchPartition(
  client: RawClient,
  topic: string,
  isolationLevel: number,
  fetchOffset = 0n,
  version = 12,
): Promise<FetchResponsePartitionData> {
  const req = FetchApi.defaultRequest();
  req.replicaId = -1;
  req.maxWaitMs = 0;
  req.minBytes = 0;
  req.maxBytes = 1 << 20;
  req.isolationLevel = isolationLevel;
  req.sessionEpoch = -1;
  const p = defaultFetchRequestFetchPartition();
  p.partition = 0;
  p.fetchOffset = fetchOffset;
  p.partitionMaxBytes = 1 << 20;
  p.currentLeaderEpoch = -1;
  req.topics.push({ topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: [p] });
  return (await client.request(FetchApi, version, req)).responses[0]!.partitions[0]!;
}

/** ListOffsets v7 latest of partition 0 of `topic` at an isolation level: the LSO for read_committed. */
export async function latestOffset(client: RawClient, topic: string, isolationLevel: number): Promise<bigint> {
  const req = ListOffsetsApi.defaultRequest();
  req.replicaId = -1;
  req.isolationLevel = isolationLevel;
  req.topics.push({
    name: topic,
    partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
  });
  return (await client.request(ListOffsetsApi, 7, req)).topics[0]!.partitions[0]!.offset;
}

/** The base offsets of the batches in a fetched records field. */
export function batchBaseOffsets(records: Buffer | null): bigint[] {
  const out: bigint[] = [];
  if (!records) return out;
  for (let pos = 0; pos + 12 <= records.length; pos += batchSizeAt(records, pos)) out.push(baseOffsetOf(records, pos));
  return out;
}
