/**
 * ListOffsets (key 2), v0–v10: an offset by timestamp, or one of the special positions.
 *
 * Timestamps: -1 latest (the high watermark, or the last stable offset for read_committed), -2 earliest
 * (the log start offset), -3 the record with the largest timestamp (v7, KIP-734), -4 earliest local
 * (v8, KIP-405: the log start offset, nothing is tiered), -5 latest tiered (v9, KIP-1005: none, so -1).
 * Otherwise the first offset whose timestamp is at or after the one asked, found through the time index;
 * -1 when there is none.
 * - v0 (clients of the message format v0/v1 era) asks for up to max_num_offsets offsets "before" a time and
 *   gets old_style_offsets, answered as Kafka 3.x did (see PartitionLog.legacyOffsetsBefore): segment base
 *   offsets by file modification time, the log end offset first for -1, the log start offset for -2.
 * - v1 drops max_num_offsets (single offset); v2 adds isolation_level; v4 leader epochs (KIP-320);
 *   v6 is flexible; v10 adds timeout_ms.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  defaultListOffsetsResponseListOffsetsPartitionResponse,
  ListOffsetsApi,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/generated/02-list-offsets.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { LEADER_EPOCH } from '../cluster-info.js';
import { leaderEpochError, lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;
const READ_COMMITTED = 1;
/** The replica id consumers send; v0 answers them nothing past the high watermark. */
const CONSUMER_REPLICA_ID = -1;

export default defineHandler({
  api: ListOffsetsApi,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = ListOffsetsApi.defaultResponse();
    for (const t of request.topics) {
      // As Kafka: a topic asked for without partitions is left out of the answer.
      if (t.partitions.length === 0) continue;
      const partitions: ListOffsetsResponseListOffsetsPartitionResponse[] = [];
      response.topics.push({ name: t.name, partitions });
      // As Kafka: DESCRIBE on the topic is checked before whether it exists.
      const allowed = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name);
      for (const p of t.partitions) {
        const out = defaultListOffsetsResponseListOffsetsPartitionResponse();
        out.partitionIndex = p.partitionIndex;
        partitions.push(out);
        if (!allowed) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        const found = lookupPartition(broker, t.name, p.partitionIndex);
        if (!found.log) {
          out.errorCode = found.errorCode;
          continue;
        }
        const epochError = version >= 4 ? leaderEpochError(p.currentLeaderEpoch) : ErrorCode.NONE;
        if (epochError !== ErrorCode.NONE) {
          out.errorCode = epochError;
          continue;
        }
        const log = found.log;
        const ts = p.timestamp;
        if (version === 0) {
          // Kafka sizes its answer with max_num_offsets unchecked: a negative one fails as a server error.
          if (p.maxNumOffsets < 0) {
            out.errorCode = ErrorCode.UNKNOWN_SERVER_ERROR;
            continue;
          }
          const offsets = await log.legacyOffsetsBefore(ts, p.maxNumOffsets);
          out.oldStyleOffsets =
            request.replicaId === CONSUMER_REPLICA_ID ? clampToHighWatermark(offsets, log.highWatermark) : offsets;
          continue;
        }
        out.timestamp = -1n;
        out.leaderEpoch = LEADER_EPOCH;
        // Kafka's lastFetchableOffset: what a consumer of this isolation level may read up to.
        const lastFetchable =
          version >= 2 && request.isolationLevel === READ_COMMITTED ? log.lastStableOffset : log.highWatermark;
        if (ts === LATEST) {
          out.offset = lastFetchable;
        } else if (ts === EARLIEST || (ts === EARLIEST_LOCAL && version >= 8)) {
          out.offset = log.logStartOffset;
        } else if (ts === LATEST_TIERED && version >= 9) {
          out.offset = -1n;
          out.leaderEpoch = -1;
        } else if (ts === MAX_TIMESTAMP && version >= 7) {
          const found = await log.maxTimestampOffset();
          const max = found && found.offset < lastFetchable ? found : null;
          out.offset = max?.offset ?? -1n;
          out.timestamp = max?.timestamp ?? -1n;
          out.leaderEpoch = max?.leaderEpoch ?? -1;
        } else if (ts < 0n) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
        } else {
          const hit = await log.offsetForTimestamp(ts, { maxOffset: lastFetchable });
          out.offset = hit?.offset ?? -1n;
          out.timestamp = hit?.timestamp ?? -1n;
          out.leaderEpoch = hit?.leaderEpoch ?? -1;
        }
      }
    }
    return response;
  },
});

/**
 * What a consumer may see of a v0 answer (Kafka's Partition.legacyFetchOffsetsForTimestamp): offsets past
 * the high watermark are dropped and the high watermark stands first in their place.
 */
function clampToHighWatermark(offsets: bigint[], highWatermark: bigint): bigint[] {
  if (!offsets.some((o) => o > highWatermark)) return offsets;
  return [highWatermark, ...offsets.filter((o) => o <= highWatermark)];
}
