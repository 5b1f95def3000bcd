/**
 * OffsetForLeaderEpoch (key 23), v0–v4 (KIP-101, KIP-320): the end offset of a leader epoch, which
 * consumers use to detect log truncation after a leader change. A single broker has one epoch, so the
 * answer is mostly "your epoch ends at the log end offset".
 * - v1 answers the epoch found; v2 adds current_leader_epoch fencing; v3 the replica id; v4 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  OffsetForLeaderEpochApi,
  type OffsetForLeaderEpochResponseEpochEndOffset,
} from '../../protocol/generated/23-offset-for-leader-epoch.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { leaderEpochError, lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: OffsetForLeaderEpochApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const response = OffsetForLeaderEpochApi.defaultResponse();
    for (const t of request.topics) {
      const partitions: OffsetForLeaderEpochResponseEpochEndOffset[] = [];
      response.topics.push({ topic: t.topic, partitions });
      // As Kafka: DESCRIBE on the topic is checked before whether it exists.
      const allowed = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic);
      for (const p of t.partitions) {
        const out = { errorCode: ErrorCode.NONE as number, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
        partitions.push(out);
        if (!allowed) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        const found = lookupPartition(ctx.broker, t.topic, p.partition);
        if (!found.log) {
          out.errorCode = found.errorCode;
          continue;
        }
        const fenced = ctx.version >= 2 ? leaderEpochError(p.currentLeaderEpoch) : ErrorCode.NONE;
        if (fenced !== ErrorCode.NONE) {
          out.errorCode = fenced;
          continue;
        }
        const end = found.log.endOffsetForEpoch(p.leaderEpoch);
        out.leaderEpoch = end.leaderEpoch;
        out.endOffset = end.endOffset;
      }
    }
    return response;
  },
});
