/**
 * Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and expiry (KIP-211), after Kafka's
 * OffsetMetadataManager. An operation validates against the group's current state and returns the records
 * it needs written; the offsets change only when group-replay.ts replays those records, once durable.
 * Commits still being written are counted per partition (soft state) for require_stable and deletions.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type { CoordinatorRecord, CoordinatorResult } from '../runtime/coordinator-runtime.js';
import { ClassicGroup, CONSUMER_PROTOCOL_TYPE, type CommittedOffset, GroupState, pendingKey } from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import { offsetCommitRecord, offsetCommitTombstone } from './offsets-topic-records.js';
import type {
  CoordinatorLogger,
  FetchedPartition,
  GroupCoordinatorConfig,
  OffsetCommitEntry,
  OffsetCommitParams,
  OffsetDeleteResult,
  OffsetFetchResult,
} from './types.js';

/**
 * Kafka's ConsumerGroup.validateOffsetCommit with KIP-1251's assignment epochs: a commit without a member
 * epoch is an admin's, allowed while the group is empty; otherwise the member must exist and commit with
 * OffsetCommit v9+ (the first version to carry the epoch). A commit at the member's epoch counts; one at an
 * older epoch counts for each partition the member has held since that epoch (the client has not yet heard
 * of its bump); anything else is STALE_MEMBER_EPOCH. Returns the group-level error, or an error per entry.
 */
function validateConsumerGroupCommit(group: ConsumerGroup, req: OffsetCommitParams): number | number[] {
  if (req.generationId < 0 && group.members.size === 0) return ErrorCode.NONE;
  const member = group.members.get(req.memberId);
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (req.apiVersion !== undefined && req.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  if (req.generationId === member.memberEpoch) return ErrorCode.NONE;
  if (req.generationId > member.memberEpoch || req.generationId < 0) return ErrorCode.STALE_MEMBER_EPOCH;
  return req.offsets.map((entry) => {
    const topicId = group.subscriptionMetadata.get(entry.topic)?.topicId;
    const assignedAt = topicId === undefined ? undefined : member.assignmentEpochs.get(topicId)?.get(entry.partition);
    return assignedAt !== undefined && assignedAt <= req.generationId ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
  });
}

/**
 * Kafka's ConsumerGroup.validateOffsetFetch (OffsetFetch v9+ names the member and its epoch): without
 * them it is an admin's fetch; with them the member must exist and be at that epoch.
 */
export function validateConsumerGroupFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number {
  if (memberEpoch < 0 && (memberId === null || memberId === '')) return ErrorCode.NONE;
  const member = memberId === null ? undefined : group.members.get(memberId);
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** A partition without a committed offset, as OffsetFetch answers it. */
export function noOffset(partition: number, errorCode: number = ErrorCode.NONE): FetchedPartition {
  return { partition, offset: -1n, leaderEpoch: -1, metadata: '', errorCode };
}

export class OffsetManager {
  constructor(
    private readonly groups: Map<string, ClassicGroup>,
    private readonly config: Required<GroupCoordinatorConfig>,
    private readonly logger: CoordinatorLogger | undefined,
    private readonly now: () => number,
    /** A member's commit counts as a sign of life: its session timeout starts again. */
    private readonly onMemberCommit: (group: ClassicGroup, memberId: string) => void,
    /** KIP-848 consumer groups: their members commit with their member epoch. */
    private readonly consumerGroups: Map<string, ConsumerGroup> = new Map(),
  ) {}

  /**
   * OffsetCommit: an error per entry of `req.offsets`, in order. The accepted entries become records; the
   * response is final once the runtime has written them (a storage failure replaces their NONE).
   */
  commitOffset(req: OffsetCommitParams): CoordinatorResult<number[]> {
    const all = (code: number) => ({ records: [], response: req.offsets.map(() => code) });
    let group = this.groups.get(req.groupId);
    const consumerGroup = this.consumerGroups.get(req.groupId);
    let perEntry: number[] | null = null;
    if (consumerGroup) {
      const error = validateConsumerGroupCommit(consumerGroup, req);
      if (typeof error === 'number') {
        if (error !== ErrorCode.NONE) return all(error);
      } else if (error.some((e) => e !== ErrorCode.NONE)) {
        perEntry = error;
      }
      if (!group || group.is(GroupState.Dead)) {
        group = new ClassicGroup(req.groupId, this.now());
        this.groups.set(req.groupId, group);
      }
    } else if (!group) {
      // Without a generation the commit comes from a consumer that manages its own partitions (or an admin
      // tool): the group exists only to hold offsets. With one, the group it belonged to is gone.
      if (req.generationId >= 0) return all(req.unknownGroupError ?? ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
    }
    if (!consumerGroup) {
      const error = this.validateOffsetCommit(group, req);
      if (error !== ErrorCode.NONE) return all(error);
      this.onMemberCommit(group, req.memberId);
    }

    const now = this.now();
    const errors: number[] = req.offsets.map((_, i) => perEntry?.[i] ?? ErrorCode.NONE);
    const accepted: Array<{ index: number; entry: OffsetCommitEntry; committed: CommittedOffset }> = [];
    req.offsets.forEach((entry, index) => {
      if (errors[index] !== ErrorCode.NONE) return;
      const metadata = entry.metadata ?? '';
      if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
        errors[index] = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        return;
      }
      const commitTimestamp =
        entry.commitTimestamp === undefined || entry.commitTimestamp < 0 ? now : entry.commitTimestamp;
      accepted.push({
        index,
        entry,
        committed: {
          offset: entry.offset,
          leaderEpoch: entry.leaderEpoch,
          metadata,
          commitTimestamp,
          expireTimestamp: req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : -1,
        },
      });
    });
    if (accepted.length === 0) return { records: [], response: errors };

    const pending = group.pendingOffsetCommits;
    const keys = accepted.map(({ entry }) => pendingKey(entry.topic, entry.partition));
    for (const k of keys) pending.set(k, (pending.get(k) ?? 0) + 1);
    return {
      records: accepted.map(({ entry, committed }) =>
        offsetCommitRecord(req.groupId, entry.topic, entry.partition, committed),
      ),
      response: errors,
      onAppended: (errorCode) => {
        for (const k of keys) {
          const n = (pending.get(k) ?? 1) - 1;
          if (n <= 0) pending.delete(k);
          else pending.set(k, n);
        }
        if (errorCode !== ErrorCode.NONE) for (const a of accepted) errors[a.index] = errorCode;
      },
    };
  }

  private validateOffsetCommit(group: ClassicGroup, req: OffsetCommitParams): number {
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    // Generation -1 (and v0's absent generation) is a commit from outside group management: allowed
    // while the group has no members.
    if (req.generationId < 0 && group.is(GroupState.Empty)) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      if (!group.has(req.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is(GroupState.Empty)) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member knows the new generation but not yet its assignment: commits would race the assignment.
    if (group.is(GroupState.CompletingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Committed offsets of a group: of the listed partitions, or of every partition it has (topics null).
   * A partition without a commit answers offset -1. With requireStable (OffsetFetch v7+, KIP-447) a partition
   * whose commit is still being written answers UNSTABLE_OFFSET_COMMIT so the client retries.
   */
  fetchOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }> | null,
    requireStable: boolean,
  ): OffsetFetchResult {
    const group = this.groups.get(groupId);
    const answer = (topic: string, partition: number): FetchedPartition => {
      if (!group || group.is(GroupState.Dead)) return noOffset(partition);
      if (requireStable && group.hasPendingOffsetCommit(topic, partition)) {
        return noOffset(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      }
      const committed = group.offset(topic, partition);
      if (!committed) return noOffset(partition);
      return {
        partition,
        offset: committed.offset,
        leaderEpoch: committed.leaderEpoch,
        metadata: committed.metadata,
        errorCode: ErrorCode.NONE,
      };
    };
    if (topics !== null) {
      return {
        errorCode: ErrorCode.NONE,
        topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => answer(t.name, p)) })),
      };
    }
    const byTopic = new Map<string, FetchedPartition[]>();
    if (group && !group.is(GroupState.Dead)) {
      for (const { topic, partition } of group.allOffsets()) {
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, (list = []));
        list.push(answer(topic, partition));
      }
    }
    return { errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
  }

  /**
   * OffsetDelete (KIP-496): deletes committed offsets of partitions no member is reading. In a consumer group
   * with members, a topic some member subscribes to answers GROUP_SUBSCRIBED_TO_TOPIC; a non-consumer
   * group with members answers NON_EMPTY_GROUP.
   */
  deleteOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }>,
  ): CoordinatorResult<OffsetDeleteResult> {
    const group = this.groups.get(groupId);
    const fail = (errorCode: number) => ({ records: [], response: { errorCode, topics: [] } });
    const consumerGroup = this.consumerGroups.get(groupId);
    if ((!group || group.is(GroupState.Dead)) && !consumerGroup) return fail(ErrorCode.GROUP_ID_NOT_FOUND);
    if (!group || group.is(GroupState.Dead)) {
      return {
        records: [],
        response: {
          errorCode: ErrorCode.NONE,
          topics: topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partition: p, errorCode: ErrorCode.NONE })),
          })),
        },
      };
    }
    const hasMembers = consumerGroup ? consumerGroup.members.size > 0 : !group.is(GroupState.Empty);
    if (hasMembers && !consumerGroup && group.protocolType !== CONSUMER_PROTOCOL_TYPE)
      return fail(ErrorCode.NON_EMPTY_GROUP);
    const subscribed = consumerGroup
      ? new Set([...consumerGroup.subscriptionMetadata.keys(), ...consumerGroup.subscribedTopicNames()])
      : null;
    const isSubscribed = (topic: string) => (subscribed ? subscribed.has(topic) : group.isSubscribedToTopic(topic));
    const response: OffsetDeleteResult = {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p,
          errorCode: hasMembers && isSubscribed(t.name) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
        })),
      })),
    };
    const records: CoordinatorRecord[] = [];
    const answers: Array<{ errorCode: number }> = [];
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) continue;
        if (group.offset(t.name, p.partition) || group.hasPendingOffsetCommit(t.name, p.partition)) {
          records.push(offsetCommitTombstone(groupId, t.name, p.partition));
          answers.push(p);
        }
      }
    }
    return {
      records,
      response,
      onAppended: (errorCode) => {
        if (errorCode !== ErrorCode.NONE) for (const p of answers) p.errorCode = errorCode;
      },
    };
  }

  /** Tombstones for every offset of a group, commits still being written included (Kafka's deleteAllOffsets). */
  deleteAllOffsets(group: ClassicGroup, records: CoordinatorRecord[]): void {
    const seen = new Set<string>();
    for (const { topic, partition } of group.allOffsets()) {
      seen.add(pendingKey(topic, partition));
      records.push(offsetCommitTombstone(group.groupId, topic, partition));
    }
    for (const k of group.pendingOffsetCommits.keys()) {
      if (seen.has(k)) continue;
      const [topic, partition] = k.split('\u0000');
      records.push(offsetCommitTombstone(group.groupId, topic, Number(partition)));
    }
  }

  /**
   * Adds tombstones for the group's expired offsets to `records` and returns how many offsets the group
   * keeps (Kafka's cleanupExpiredOffsets). Offsets expire as Kafka's do (KIP-211): in an Empty group, once
   * offsets.retention.minutes have passed since the group became Empty; in a group without a protocol
   * (offsets only), since each commit; in a Stable consumer group, offsets of topics no member subscribes
   * to, since each commit. A commit with its own retention time (OffsetCommit v2–v4) expires at its expire
   * timestamp.
   */
  cleanupExpiredOffsets(
    group: ClassicGroup,
    now: number,
    records: CoordinatorRecord[],
    consumerGroup?: ConsumerGroup,
  ): number {
    const retention = this.config.offsetsRetentionMs;
    const protocolType = group.protocolType === '' ? null : group.protocolType;
    let baseOf: ((c: CommittedOffset) => number) | null = null;
    let onlyUnsubscribed = false;
    let subscribed: Set<string> | null = group.subscribedTopics;
    if (consumerGroup) {
      // Kafka's ConsumerGroup: offsets expire from their commit, except those of topics a member subscribes to.
      baseOf = (c) => c.commitTimestamp;
      onlyUnsubscribed = consumerGroup.members.size > 0;
      subscribed = new Set(consumerGroup.subscriptionMetadata.keys());
      for (const t of consumerGroup.subscribedTopicNames()) subscribed.add(t);
    } else if (protocolType !== null && group.is(GroupState.Empty)) {
      const stateTimestamp = group.currentStateTimestamp;
      baseOf = (c) => stateTimestamp ?? c.commitTimestamp;
    } else if (protocolType === null) {
      baseOf = (c) => c.commitTimestamp;
    } else if (
      protocolType === CONSUMER_PROTOCOL_TYPE &&
      group.subscribedTopics !== null &&
      group.is(GroupState.Stable)
    ) {
      baseOf = (c) => c.commitTimestamp;
      onlyUnsubscribed = true;
    }
    let kept = 0;
    let expired = 0;
    for (const { topic, partition, committed } of group.allOffsets()) {
      kept++;
      if (baseOf === null) continue;
      if (onlyUnsubscribed && subscribed!.has(topic)) continue;
      if (group.hasPendingOffsetCommit(topic, partition)) continue;
      const isExpired =
        committed.expireTimestamp >= 0 ? now >= committed.expireTimestamp : now - baseOf(committed) >= retention;
      if (!isExpired) continue;
      records.push(offsetCommitTombstone(group.groupId, topic, partition));
      expired++;
    }
    if (expired > 0) this.logger?.info({ group: group.groupId, offsets: expired }, 'removed expired offsets');
    return kept - expired;
  }
}
