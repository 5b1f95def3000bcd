/**
 * OffsetFetch (key 9), v0–v9: a group's committed offsets; -1 for a partition without one.
 * - v0 read ZooKeeper in Kafka; here every version reads __consumer_offsets.
 * - v2: topics null asks for every partition the group has offsets for; a top-level error code appears
 *   (v0–v1 put group errors on each partition).
 * - v3 adds throttle_time_ms. v5 answers the committed leader epoch. v6 is flexible.
 * - v7 adds require_stable: a partition whose commit is still being written answers
 *   UNSTABLE_OFFSET_COMMIT (KIP-447).
 * - v8 batches groups: groups[] in and out. v9 adds member id/epoch, used by KIP-848 groups only.
 */

import type { GroupCoordinator, OffsetFetchResult } from '../../coordinator/group/group-coordinator.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { OffsetFetchApi } from '../../protocol/generated/09-offset-fetch.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import type { HandlerContext } from '../registry.js';
import { defineHandler } from '../registry.js';

type Topics = Array<{ name: string; partitionIndexes: number[] }> | null;

function fetch(
  ctx: HandlerContext,
  groups: GroupCoordinator | undefined,
  groupId: string,
  topics: Topics,
  requireStable: boolean,
  member?: { memberId: string | null; memberEpoch: number },
): OffsetFetchResult {
  const wanted = topics?.map((t) => ({ name: t.name, partitions: t.partitionIndexes })) ?? null;
  const failedTopics = (errorCode: number, list: NonNullable<typeof wanted>) =>
    list.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((partition) => ({
        partition,
        offset: -1n,
        leaderEpoch: -1,
        metadata: '',
        errorCode,
      })),
    }));
  const failed = (errorCode: number): OffsetFetchResult => ({
    errorCode,
    topics: failedTopics(errorCode, wanted ?? []),
  });
  if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId))
    return failed(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (!groups) return failed(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  if (groupId === '') return failed(ErrorCode.INVALID_GROUP_ID);
  // As Kafka: only topics the client may describe are answered; those it named get TOPIC_AUTHORIZATION_FAILED.
  const describable = (name: string) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
  if (wanted === null) {
    const result = groups.fetchOffsets(groupId, null, requireStable, member);
    return { ...result, topics: result.topics.filter((t) => describable(t.name)) };
  }
  const allowed = wanted.filter((t) => describable(t.name));
  if (allowed.length === wanted.length) return groups.fetchOffsets(groupId, wanted, requireStable, member);
  const result = groups.fetchOffsets(groupId, allowed, requireStable, member);
  const refused = failedTopics(
    ErrorCode.TOPIC_AUTHORIZATION_FAILED,
    wanted.filter((t) => !describable(t.name)),
  );
  return { ...result, topics: [...result.topics, ...refused] };
}

function toPartitions(result: OffsetFetchResult['topics'][number]) {
  return result.partitions.map((p) => ({
    partitionIndex: p.partition,
    committedOffset: p.offset,
    committedLeaderEpoch: p.leaderEpoch,
    metadata: p.metadata,
    errorCode: p.errorCode,
  }));
}

export default defineHandler({
  api: OffsetFetchApi,
  minVersion: 0,
  maxVersion: 9,
  handle(request, ctx) {
    const { version } = ctx;
    const response = OffsetFetchApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (version >= 8) {
      response.groups = request.groups.map((g) => {
        // v9: members of KIP-848 groups fetch with their member id and epoch, which are checked.
        const member = version >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined;
        const result = fetch(ctx, groups, g.groupId, g.topics, request.requireStable, member);
        return {
          groupId: g.groupId,
          errorCode: result.errorCode,
          // A group-level error comes without partitions, as Kafka answers it.
          topics:
            result.errorCode === ErrorCode.NONE
              ? result.topics.map((t) => ({ name: t.name, partitions: toPartitions(t) }))
              : [],
        };
      });
      return response;
    }
    // v0–v1 cannot ask for "all partitions": their topics array is never null.
    const result = fetch(ctx, groups, request.groupId, request.topics, version >= 7 && request.requireStable);
    if (version >= 2 && result.errorCode !== ErrorCode.NONE) {
      response.errorCode = result.errorCode;
      return response;
    }
    response.topics = result.topics.map((t) => ({ name: t.name, partitions: toPartitions(t) }));
    return response;
  },
});
