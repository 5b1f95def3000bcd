/**
 * OffsetCommit (key 8), v0–v9: stores a group's consumed positions; answered once they are durable in
 * __consumer_offsets.
 * - v0 has no generation or member id: a commit from outside group management (also generation -1 later),
 *   accepted while the group has no members.
 * - v1 adds generation and member id, checked against the group (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID),
 *   and a per-partition commit timestamp.
 * - v2–v4 carry retention_time_ms (-1: the broker's offsets.retention.minutes); v5 drops it (KIP-211).
 * - v3 adds throttle_time_ms. v6 adds the committed leader epoch (KIP-320). v7 adds group_instance_id
 *   (KIP-345). v8 is flexible. v9 (KIP-848) answers GROUP_ID_NOT_FOUND for an unknown group with a
 *   generation, where earlier versions answer ILLEGAL_GENERATION.
 */

import type { OffsetCommitEntry } from '../../coordinator/group/group-coordinator.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { OffsetCommitApi, type OffsetCommitResponsePartition } from '../../protocol/generated/08-offset-commit.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: OffsetCommitApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = OffsetCommitApi.defaultResponse();
    const all: OffsetCommitResponsePartition[] = [];
    response.topics = request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const out = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
        all.push(out);
        return out;
      }),
    }));
    const groups = broker.groups;
    const groupError = !authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : !groups
        ? ErrorCode.COORDINATOR_NOT_AVAILABLE
        : request.groupId === ''
          ? ErrorCode.INVALID_GROUP_ID
          : ErrorCode.NONE;
    if (!groups || groupError !== ErrorCode.NONE) {
      for (const p of all) p.errorCode = groupError;
      return response;
    }

    const entries: OffsetCommitEntry[] = [];
    const answers: OffsetCommitResponsePartition[] = [];
    request.topics.forEach((t, ti) => {
      const topic = broker.topics.get(t.name);
      t.partitions.forEach((p, pi) => {
        const out = response.topics[ti].partitions[pi];
        // As Kafka: READ on the topic is checked before whether it exists.
        if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          return;
        }
        if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
          out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        entries.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
          commitTimestamp: version === 1 ? Number(p.commitTimestamp) : undefined,
        });
        answers.push(out);
      });
    });
    if (entries.length === 0) return response;

    const errors = await groups.commitOffsets({
      groupId: request.groupId,
      generationId: version >= 1 ? request.generationIdOrMemberEpoch : -1,
      memberId: version >= 1 ? request.memberId : '',
      groupInstanceId: version >= 7 ? request.groupInstanceId : null,
      retentionTimeMs: version >= 2 && version <= 4 ? Number(request.retentionTimeMs) : -1,
      unknownGroupError: version >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : undefined,
      apiVersion: version,
      offsets: entries,
    });
    errors.forEach((code, i) => {
      answers[i].errorCode = code;
    });
    return response;
  },
});
