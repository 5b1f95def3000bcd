/**
 * Writing transaction markers to partitions (the partition leader's side of Kafka's WriteTxnMarkers): for
 * each marker, a COMMIT or ABORT control batch is appended to each named partition with the log's
 * 'internal' origin and acks=all, which completes the producer's transaction there. The WriteTxnMarkers
 * handler calls this for the wire request; the in-process transaction coordinator calls it directly.
 */

import { ErrorCode } from '../protocol/error-codes.js';
import { buildEndTxnMarkerBatch } from '../records/control.js';
import { isLogError, type PartitionLog } from '../storage/index.js';
import { logErrorCode } from './partition-lookup.js';

export interface TxnMarkerRequest {
  producerId: bigint;
  producerEpoch: number;
  /** true: COMMIT, false: ABORT (WriteTxnMarkers' transaction_result). */
  committed: boolean;
  coordinatorEpoch: number;
  partitions: ReadonlyArray<{ topic: string; partition: number }>;
}

export interface TxnMarkerResult {
  producerId: bigint;
  partitions: Array<{ topic: string; partition: number; errorCode: ErrorCode }>;
}

/** What the writer needs of the broker: the partition logs by name. */
export interface TxnMarkerTarget {
  partition(topic: string, partition: number): PartitionLog | undefined;
}

/**
 * Writes the markers, all partitions at once, and answers per partition: NONE once the marker is durable,
 * UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does not have, INVALID_PRODUCER_EPOCH for a
 * producer epoch older than the partition has seen, TRANSACTION_COORDINATOR_FENCED for an older coordinator
 * epoch, KAFKA_STORAGE_ERROR when the write failed. Never rejects.
 */
export async function writeTxnMarkers(
  target: TxnMarkerTarget,
  markers: readonly TxnMarkerRequest[],
  now: () => number = Date.now,
): Promise<TxnMarkerResult[]> {
  return Promise.all(
    markers.map(async (marker) => ({
      producerId: marker.producerId,
      partitions: await writePartitions(target, marker, now),
    })),
  );
}

/** Kafka answers the partitions it does not have first, then those it appended to. */
async function writePartitions(
  target: TxnMarkerTarget,
  marker: TxnMarkerRequest,
  now: () => number,
): Promise<TxnMarkerResult['partitions']> {
  const unknown: TxnMarkerResult['partitions'] = [];
  const known: Array<{ topic: string; partition: number; log: PartitionLog }> = [];
  for (const { topic, partition } of marker.partitions) {
    const log = target.partition(topic, partition);
    if (!log || log.isClosed) unknown.push({ topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    else known.push({ topic, partition, log });
  }
  const written = await Promise.all(
    known.map(async ({ topic, partition, log }) => ({ topic, partition, errorCode: await writeOne(log, marker, now) })),
  );
  return [...unknown, ...written];
}

async function writeOne(
  log: PartitionLog | undefined,
  marker: TxnMarkerRequest,
  now: () => number,
): Promise<ErrorCode> {
  if (!log || log.isClosed) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const batch = buildEndTxnMarkerBatch({
    type: marker.committed ? 'COMMIT' : 'ABORT',
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    coordinatorEpoch: marker.coordinatorEpoch,
    timestamp: BigInt(now()),
  });
  // As Kafka: markers are appended with acks=all and the coordinator origin, whatever the topic's settings.
  const result = await log.append(batch, { acks: -1, origin: 'internal', timestampType: 'CreateTime' });
  return isLogError(result) ? logErrorCode(result) : ErrorCode.NONE;
}
