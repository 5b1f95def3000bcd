/**
 * ListOffsets (key 2), v1–v10: an offset by timestamp, or one of the special positions.
 *
 * Timestamps: -1 latest (the high watermark, or the last stable offset for read_committed), -2 earliest
 * (the log start offset), -3 the record with the largest timestamp (v7, KIP-734), -4 earliest local
 * (v8, KIP-405: the log start offset, nothing is tiered), -5 latest tiered (v9, KIP-1005: none, so -1).
 * Otherwise the first offset whose timestamp is at or after the one asked, found through the time index;
 * -1 when there is none.
 * - v1 drops max_num_offsets (single offset); v2 adds isolation_level; v4 leader epochs (KIP-320);
 *   v6 is flexible; v10 adds timeout_ms.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  defaultListOffsetsResponseListOffsetsPartitionResponse,
  ListOffsetsApi,
  type ListOffsetsResponseListOffsetsPartitionResponse,
} from '../../protocol/generated/02-list-offsets.js';
import { LEADER_EPOCH } from '../cluster-info.js';
import { leaderEpochError, lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;

export default defineHandler({
  api: ListOffsetsApi,
  minVersion: 1,
  maxVersion: 10,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = ListOffsetsApi.defaultResponse();
    for (const t of request.topics) {
      const partitions: ListOffsetsResponseListOffsetsPartitionResponse[] = [];
      response.topics.push({ name: t.name, partitions });
      for (const p of t.partitions) {
        const out = defaultListOffsetsResponseListOffsetsPartitionResponse();
        out.partitionIndex = p.partitionIndex;
        partitions.push(out);
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
        out.timestamp = -1n;
        out.leaderEpoch = LEADER_EPOCH;
        if (ts === LATEST) {
          out.offset = log.highWatermark;
        } else if (ts === EARLIEST || (ts === EARLIEST_LOCAL && version >= 8)) {
          out.offset = log.logStartOffset;
        } else if (ts === LATEST_TIERED && version >= 9) {
          out.offset = -1n;
          out.leaderEpoch = -1;
        } else if (ts === MAX_TIMESTAMP && version >= 7) {
          const max = await log.maxTimestampOffset();
          out.offset = max?.offset ?? -1n;
          out.timestamp = max?.timestamp ?? -1n;
          out.leaderEpoch = max?.leaderEpoch ?? -1;
        } else if (ts < 0n) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
        } else {
          const hit = await log.offsetForTimestamp(ts);
          out.offset = hit?.offset ?? -1n;
          out.timestamp = hit?.timestamp ?? -1n;
          out.leaderEpoch = hit?.leaderEpoch ?? -1;
        }
      }
    }
    return response;
  },
});
