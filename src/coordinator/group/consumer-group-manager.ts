/**
 * KIP-848 consumer groups: ConsumerGroupHeartbeat and ConsumerGroupDescribe, session and rebalance
 * timeouts, after Kafka's GroupMetadataManager for consumer groups: the same checks in the same order,
 * the same error codes, the same records.
 *
 * A heartbeat (1) creates or updates the member and bumps the group epoch when subscriptions or the
 * subscribed topics changed, (2) computes a new target assignment when the group epoch is ahead of the
 * assignment epoch, and (3) moves the member one step towards its target (reconcile in consumer-group.ts).
 * It only reads state and returns records; state changes when group-replay.ts replays them, once durable.
 * So that each operation sees the records of the one before it applied, the operations of a shard's
 * consumer groups run one after another (`run`).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { CoordinatorRecord, CoordinatorResult, ShardContext } from '../runtime/coordinator-runtime.js';
import { ASSIGNORS, type AssignmentMemberSpec, type AssignmentTopic, type ConsumerGroupAssignor } from './assignors.js';
import { type ClassicGroup, GroupState } from './classic-group.js';
import {
  ConsumerGroup,
  ConsumerGroupMember,
  ConsumerGroupState,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  partitionsEqual,
  reconcile,
} from './consumer-group.js';
import {
  assignmentEpochRecord,
  assignmentEpochTombstone,
  currentAssignmentRecord,
  currentAssignmentTombstone,
  groupEpochRecord,
  groupEpochTombstone,
  memberMetadataRecord,
  memberMetadataTombstone,
  partitionMetadataRecord,
  partitionMetadataTombstone,
  type SubscribedTopicMetadata,
  type TopicPartitions,
  targetAssignmentRecord,
  targetAssignmentTombstone,
} from './consumer-group-records.js';
import { groupMetadataTombstone } from './offsets-topic-records.js';
import type {
  ConsumerGroupHeartbeatParams,
  ConsumerGroupHeartbeatResult,
  CoordinatorLogger,
  DescribedConsumerGroup,
  DescribedConsumerGroupAssignment,
  GroupCoordinatorConfig,
  ListedGroup,
  TopicMetadataSource,
} from './types.js';

export const CONSUMER_GROUP_TYPE = 'consumer';

const NO_TOPICS: TopicMetadataSource = { byName: () => undefined, byId: () => undefined, names: () => [] };

class HeartbeatError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka's member ids are random UUIDs in their base64url form (22 characters). */
function newMemberId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A subscribed_topic_regex as a JavaScript RegExp. Kafka compiles it with RE2/J and matches whole topic
 * names; JavaScript's syntax is close for what topic patterns use (classes, alternation, quantifiers); see
 * docs/kafka-differences.md for where they differ.
 */
export function compileTopicRegex(regex: string): RegExp {
  return new RegExp(`^(?:${regex})$`, 'u');
}

export class ConsumerGroupManager {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly assignors: Map<string, ConsumerGroupAssignor>;
  private readonly defaultAssignor: ConsumerGroupAssignor;
  private readonly topics: TopicMetadataSource;

  constructor(
    private readonly consumerGroups: Map<string, ConsumerGroup>,
    /** The shard's classic groups, which also hold the committed offsets of consumer groups. */
    private readonly classicGroups: Map<string, ClassicGroup>,
    private readonly context: ShardContext,
    private readonly config: Required<GroupCoordinatorConfig>,
    topics: TopicMetadataSource | undefined,
    private readonly logger: CoordinatorLogger | undefined,
  ) {
    this.topics = topics ?? NO_TOPICS;
    this.assignors = new Map();
    for (const name of config.consumerAssignors) {
      const make = ASSIGNORS[name];
      if (make) this.assignors.set(name, make());
    }
    if (this.assignors.size === 0) this.assignors.set('uniform', ASSIGNORS.uniform());
    this.defaultAssignor = this.assignors.values().next().value!;
  }

  /**
   * Runs one operation after the previous one's records are written and replayed, and writes its records.
   * Resolves with the operation's response and NONE, or the error that replaces it.
   */
  private run<T>(
    what: string,
    subject: Record<string, unknown>,
    operation: () => CoordinatorResult<T>,
  ): Promise<{ errorCode: number; response: T }> {
    const next = this.queue.then(async () => {
      const result = operation();
      const errorCode = await this.context.write(result, what, subject);
      return { errorCode, response: result.response };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  // ── ConsumerGroupHeartbeat ───────────────────────────────────────────────────────────────────

  async heartbeat(req: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    const { errorCode, response } = await this.run('consumer group heartbeat', { group: req.groupId }, () => {
      try {
        return this.heartbeatOperation(req);
      } catch (err) {
        if (!(err instanceof HeartbeatError)) throw err;
        return { records: [], response: heartbeatError(err.errorCode, err.message) };
      }
    });
    if (errorCode !== ErrorCode.NONE) return heartbeatError(errorCode, null);
    if (response.errorCode === ErrorCode.NONE && response.memberId !== null) this.afterHeartbeat(req, response);
    return response;
  }

  /** Soft state once the heartbeat's records are applied: the session timer, and the rebalance timer. */
  private afterHeartbeat(req: ConsumerGroupHeartbeatParams, response: ConsumerGroupHeartbeatResult): void {
    const memberId = response.memberId!;
    const sessionKey = `consumer-session:${req.groupId}:${memberId}`;
    const rebalanceKey = `consumer-rebalance:${req.groupId}:${memberId}`;
    if (response.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      this.context.cancel(sessionKey);
      this.context.cancel(rebalanceKey);
      return;
    }
    this.scheduleSessionTimeout(req.groupId, memberId);
    const member = this.consumerGroups.get(req.groupId)?.members.get(memberId);
    if (member?.state === MemberState.UnrevokedPartitions) {
      if (member.memberEpoch !== this.revocationDeadlines.get(rebalanceKey)) {
        // Kafka's rebalance timeout: a member that does not revoke in time is fenced, so the partitions it
        // holds can move on.
        this.revocationDeadlines.set(rebalanceKey, member.memberEpoch);
        const epoch = member.memberEpoch;
        this.context.schedule(rebalanceKey, Math.max(member.rebalanceTimeoutMs, 0), () => {
          this.revocationDeadlines.delete(rebalanceKey);
          void this.fence(
            req.groupId,
            memberId,
            'it did not revoke its partitions within the rebalance timeout',
            (m) => m.state === MemberState.UnrevokedPartitions && m.memberEpoch === epoch,
          );
        });
      }
    } else if (this.revocationDeadlines.delete(rebalanceKey)) {
      this.context.cancel(rebalanceKey);
    }
  }

  private readonly revocationDeadlines = new Map<string, number>();

  private scheduleSessionTimeout(groupId: string, memberId: string): void {
    this.context.schedule(`consumer-session:${groupId}:${memberId}`, this.config.consumerSessionTimeoutMs, () => {
      void this.fence(groupId, memberId, 'its session expired (no heartbeat within group.consumer.session.timeout.ms)');
    });
  }

  private fence(
    groupId: string,
    memberId: string,
    reason: string,
    still: (m: ConsumerGroupMember) => boolean = () => true,
  ): Promise<unknown> {
    return this.run('consumer group member fencing', { group: groupId, memberId }, () => {
      const group = this.consumerGroups.get(groupId);
      const member = group?.members.get(memberId);
      if (!group || !member || !still(member)) return { records: [], response: undefined };
      this.logger?.info(
        { group: groupId, memberId },
        `fencing member ${memberId} of consumer group ${groupId}: ${reason}`,
      );
      return { records: this.removeMemberRecords(group, member), response: undefined };
    }).catch((err: Error) => this.logger?.warn({ group: groupId, memberId, err: err.message }, 'fencing failed'));
  }

  private heartbeatOperation(req: ConsumerGroupHeartbeatParams): CoordinatorResult<ConsumerGroupHeartbeatResult> {
    this.validate(req);
    const records: CoordinatorRecord[] = [];
    const group = this.groupFor(req, records);
    if (req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      return this.leave(group, req);
    }
    if (
      group.members.size >= this.config.consumerMaxSize &&
      (req.memberId === '' || !group.members.has(req.memberId))
    ) {
      throw new HeartbeatError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.consumerMaxSize} members.`,
      );
    }
    const memberId = req.memberId === '' ? newMemberId() : req.memberId;
    const owned = req.topicPartitions === null ? null : toPartitions(req.topicPartitions);

    // The member as it is, or new; a static member rejoining under a new id replaces its predecessor.
    let member: ConsumerGroupMember;
    let replaced: ConsumerGroupMember | null = null;
    if (req.instanceId === null) {
      const existing = group.members.get(memberId);
      if (req.memberEpoch === 0) {
        member = existing ? resetMember(existing) : new ConsumerGroupMember(memberId);
      } else {
        if (!existing)
          throw new HeartbeatError(
            ErrorCode.UNKNOWN_MEMBER_ID,
            `Member ${memberId} is not a member of group ${group.groupId}.`,
          );
        checkMemberEpoch(existing, req.memberEpoch, owned);
        member = existing;
      }
    } else {
      const existing = group.staticMember(req.instanceId);
      if (req.memberEpoch === 0) {
        if (!existing) {
          member = new ConsumerGroupMember(memberId);
        } else if (existing.memberId === memberId) {
          member = resetMember(existing);
        } else {
          if (existing.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            throw new HeartbeatError(
              ErrorCode.UNRELEASED_INSTANCE_ID,
              `Static member ${memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by ${existing.memberId} member.`,
            );
          }
          // The rejoining instance takes over its predecessor's assignment under its new member id.
          replaced = existing;
          member = existing.copy(memberId);
          records.push(...this.memberTombstones(group.groupId, existing.memberId));
          records.push(
            targetAssignmentRecord(group.groupId, memberId, group.targetAssignment.get(existing.memberId) ?? new Map()),
          );
          records.push(currentAssignmentRecord(group.groupId, memberId, currentAssignmentValue(member)));
        }
      } else {
        if (!existing)
          throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
        if (existing.memberId !== memberId) {
          throw new HeartbeatError(
            ErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${req.instanceId} was fenced by member ${existing.memberId}.`,
          );
        }
        checkMemberEpoch(existing, req.memberEpoch, owned);
        member = existing;
      }
    }

    // 1. The member's metadata, and the group epoch when subscriptions or subscribed topics changed.
    const updated = member.copy();
    if (req.instanceId !== null) updated.instanceId = req.instanceId;
    if (req.rackId !== null) updated.rackId = req.rackId;
    if (req.rebalanceTimeoutMs !== -1) updated.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.serverAssignor !== null) updated.serverAssignor = req.serverAssignor;
    if (req.subscribedTopicNames !== null) updated.subscribedTopicNames = [...req.subscribedTopicNames];
    if (req.subscribedTopicRegex !== null) {
      updated.subscribedTopicRegex = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex;
    }
    updated.clientId = req.clientId;
    updated.clientHost = req.clientHost;
    const isNew = !group.members.has(memberId);
    let bumpEpoch =
      isNew ||
      !sameNames(member.subscribedTopicNames, updated.subscribedTopicNames) ||
      member.subscribedTopicRegex !== updated.subscribedTopicRegex ||
      member.serverAssignor !== updated.serverAssignor;
    if (isNew || metadataChanged(member, updated)) {
      records.push(memberMetadataRecord(group.groupId, memberId, memberMetadataValue(updated)));
    }
    const members = new Map(group.members);
    if (replaced) members.delete(replaced.memberId);
    members.set(memberId, updated);
    const metadata = this.subscriptionMetadata(members.values());
    if (!sameMetadata(metadata, group.subscriptionMetadata)) {
      records.push(partitionMetadataRecord(group.groupId, [...metadata.values()]));
      bumpEpoch = true;
    }
    let groupEpoch = group.groupEpoch;
    if (bumpEpoch) {
      groupEpoch++;
      records.push(groupEpochRecord(group.groupId, groupEpoch));
      this.logger?.debug({ group: group.groupId, groupEpoch }, 'bumped the consumer group epoch');
    }

    // 2. A new target assignment when the group epoch is ahead of the assignment's.
    let target: TopicPartitions;
    let targetEpoch = group.assignmentEpoch;
    if (groupEpoch > group.assignmentEpoch) {
      const targets = new Map(group.targetAssignment);
      if (replaced) {
        targets.set(memberId, targets.get(replaced.memberId) ?? new Map());
        targets.delete(replaced.memberId);
      }
      const computed = this.assign(members, targets, metadata);
      for (const [id, partitions] of computed) {
        if (!partitionsEqual(partitions, targets.get(id) ?? new Map()) || (id === memberId && isNew)) {
          records.push(targetAssignmentRecord(group.groupId, id, partitions));
        }
      }
      records.push(assignmentEpochRecord(group.groupId, groupEpoch));
      targetEpoch = groupEpoch;
      target = computed.get(memberId) ?? new Map();
      this.logger?.info(
        { group: group.groupId, assignmentEpoch: groupEpoch, members: members.size },
        `computed a new target assignment for consumer group ${group.groupId} at epoch ${groupEpoch}`,
      );
    } else {
      target = group.targetAssignment.get(memberId) ?? new Map();
    }

    // 3. One step towards the target: revoke first, assign what others have released.
    const except = new Set([memberId, replaced?.memberId]);
    const reconciled = reconcile(updated, targetEpoch, target, owned, (t, p) => {
      for (const m of group.members.values()) {
        if (except.has(m.memberId)) continue;
        if (m.assignedPartitions.get(t)?.has(p) || m.partitionsPendingRevocation.get(t)?.has(p)) return m.memberEpoch;
      }
      return -1;
    });
    if (replaced !== null || isNew || assignmentChanged(member, reconciled)) {
      records.push(currentAssignmentRecord(group.groupId, memberId, currentAssignmentValue(reconciled)));
    }

    // The assignment goes out on a full request (joining, or after an error) and whenever it changed.
    const isFullRequest =
      req.memberEpoch === 0 ||
      (req.rebalanceTimeoutMs !== -1 &&
        (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
        req.topicPartitions !== null);
    const sendAssignment = isFullRequest || !partitionsEqual(member.assignedPartitions, reconciled.assignedPartitions);
    return {
      records,
      response: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId,
        memberEpoch: reconciled.memberEpoch,
        heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
        assignment: sendAssignment ? fromPartitions(reconciled.assignedPartitions) : null,
      },
    };
  }

  private validate(req: ConsumerGroupHeartbeatParams): void {
    const invalid = (message: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, message);
    if (req.groupId === '') throw new HeartbeatError(ErrorCode.INVALID_GROUP_ID, "GroupId can't be empty.");
    if (req.instanceId === '') throw invalid("InstanceId can't be empty.");
    if (req.rackId === '') throw invalid("RackId can't be empty.");
    if (req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (req.memberId === '') throw invalid("MemberId can't be empty.");
    } else if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) {
        throw invalid('TopicPartitions must be empty when (re-)joining.');
      }
      const hasNames = req.subscribedTopicNames !== null && req.subscribedTopicNames.length > 0;
      if (!hasNames && (req.subscribedTopicRegex === null || req.subscribedTopicRegex === '')) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
      }
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.memberId === '') throw invalid("MemberId can't be empty.");
      if (req.instanceId === null) throw invalid("InstanceId can't be null.");
    } else {
      throw invalid('MemberEpoch is invalid.');
    }
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '') {
      try {
        compileTopicRegex(req.subscribedTopicRegex);
      } catch (err) {
        throw new HeartbeatError(
          ErrorCode.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex ${req.subscribedTopicRegex} is invalid: ${(err as Error).message}`,
        );
      }
    }
    if (req.serverAssignor !== null && !this.assignors.has(req.serverAssignor)) {
      throw new HeartbeatError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${[...this.assignors.keys()].join(', ')}.`,
      );
    }
  }

  /** The consumer group of the request, or a new one (whose records will create it) for a joining member. */
  private groupFor(req: ConsumerGroupHeartbeatParams, records: CoordinatorRecord[]): ConsumerGroup {
    const existing = this.consumerGroups.get(req.groupId);
    if (existing) return existing;
    const classic = this.classicGroups.get(req.groupId);
    if (classic && (classic.size > 0 || classic.is(GroupState.Dead) || !classic.is(GroupState.Empty))) {
      // Kafka converts a classic group with members only when group.consumer.migration.policy allows an
      // upgrade; Sluice does not convert groups (docs/kafka-differences.md), and answers as Kafka does then.
      throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group`);
    }
    if (req.memberEpoch !== 0) {
      throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    }
    // An empty classic group gives way (its offsets stay): Kafka's maybeDeleteEmptyClassicGroup.
    if (classic && classic.protocolType !== null) records.push(groupMetadataTombstone(req.groupId));
    return new ConsumerGroup(req.groupId);
  }

  private leave(
    group: ConsumerGroup,
    req: ConsumerGroupHeartbeatParams,
  ): CoordinatorResult<ConsumerGroupHeartbeatResult> {
    let member: ConsumerGroupMember | undefined;
    if (req.instanceId === null) {
      member = group.members.get(req.memberId);
      if (!member)
        throw new HeartbeatError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${group.groupId}.`,
        );
    } else {
      member = group.staticMember(req.instanceId);
      if (!member) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
      if (member.memberId !== req.memberId) {
        throw new HeartbeatError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by member ${member.memberId}.`,
        );
      }
    }
    const response = (memberEpoch: number): ConsumerGroupHeartbeatResult => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: req.memberId,
      memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A static member leaving for a while keeps its partitions until its session expires or it comes back.
      this.logger?.info(
        { group: group.groupId, memberId: member.memberId, instanceId: req.instanceId },
        'static member left temporarily',
      );
      const left = member.copy();
      left.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      left.partitionsPendingRevocation = new Map();
      return {
        records: [currentAssignmentRecord(group.groupId, member.memberId, currentAssignmentValue(left))],
        response: response(LEAVE_GROUP_STATIC_MEMBER_EPOCH),
      };
    }
    this.logger?.info(
      { group: group.groupId, memberId: member.memberId },
      `member ${member.memberId} left consumer group ${group.groupId}`,
    );
    return { records: this.removeMemberRecords(group, member), response: response(LEAVE_GROUP_MEMBER_EPOCH) };
  }

  /** Kafka's consumerGroupFenceMember: the member's tombstones, new subscription metadata, a new group epoch. */
  private removeMemberRecords(group: ConsumerGroup, member: ConsumerGroupMember): CoordinatorRecord[] {
    const records = this.memberTombstones(group.groupId, member.memberId);
    const remaining = [...group.members.values()].filter((m) => m.memberId !== member.memberId);
    const metadata = this.subscriptionMetadata(remaining);
    if (!sameMetadata(metadata, group.subscriptionMetadata)) {
      records.push(partitionMetadataRecord(group.groupId, [...metadata.values()]));
    }
    records.push(groupEpochRecord(group.groupId, group.groupEpoch + 1));
    return records;
  }

  private memberTombstones(groupId: string, memberId: string): CoordinatorRecord[] {
    return [
      currentAssignmentTombstone(groupId, memberId),
      targetAssignmentTombstone(groupId, memberId),
      memberMetadataTombstone(groupId, memberId),
    ];
  }

  /** The tombstones that delete an empty consumer group (Kafka's createGroupTombstoneRecords). */
  deleteGroupRecords(group: ConsumerGroup): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const m of group.members.values()) records.push(...this.memberTombstones(group.groupId, m.memberId));
    records.push(assignmentEpochTombstone(group.groupId));
    records.push(partitionMetadataTombstone(group.groupId));
    records.push(groupEpochTombstone(group.groupId));
    return records;
  }

  // ── subscriptions and assignment ─────────────────────────────────────────────────────────────

  /** The existing topics the members subscribe to, by name or by regex. */
  private subscriptionMetadata(members: Iterable<ConsumerGroupMember>): Map<string, SubscribedTopicMetadata> {
    const names = new Set<string>();
    const regexes = new Set<string>();
    for (const m of members) {
      for (const t of m.subscribedTopicNames) names.add(t);
      if (m.subscribedTopicRegex !== null) regexes.add(m.subscribedTopicRegex);
    }
    for (const regex of regexes) {
      const re = compileTopicRegex(regex);
      for (const name of this.topics.names()) if (re.test(name)) names.add(name);
    }
    const metadata = new Map<string, SubscribedTopicMetadata>();
    for (const name of [...names].sort()) {
      const topic = this.topics.byName(name);
      if (topic) metadata.set(name, { topicId: topic.topicId, topicName: name, numPartitions: topic.numPartitions });
    }
    return metadata;
  }

  private subscribedTopicIds(member: ConsumerGroupMember, metadata: Map<string, SubscribedTopicMetadata>): Set<string> {
    const ids = new Set<string>();
    for (const name of member.subscribedTopicNames) {
      const t = metadata.get(name);
      if (t) ids.add(t.topicId);
    }
    if (member.subscribedTopicRegex !== null) {
      const re = compileTopicRegex(member.subscribedTopicRegex);
      for (const [name, t] of metadata) if (re.test(name)) ids.add(t.topicId);
    }
    return ids;
  }

  /** The assignor most members prefer (ties by name), else the default one (Kafka's preferred assignor). */
  private assignorFor(members: Iterable<ConsumerGroupMember>): ConsumerGroupAssignor {
    const votes = new Map<string, number>();
    for (const m of members)
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best: string | null = null;
    for (const [name, n] of [...votes].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (best === null || n > votes.get(best)!) best = name;
    }
    return (best !== null ? this.assignors.get(best) : undefined) ?? this.defaultAssignor;
  }

  private assign(
    members: Map<string, ConsumerGroupMember>,
    targets: Map<string, TopicPartitions>,
    metadata: Map<string, SubscribedTopicMetadata>,
  ): Map<string, TopicPartitions> {
    const topics = new Map<string, AssignmentTopic>();
    for (const t of metadata.values()) topics.set(t.topicId, { topicId: t.topicId, numPartitions: t.numPartitions });
    const specs: AssignmentMemberSpec[] = [...members.values()].map((m) => ({
      memberId: m.memberId,
      subscribedTopicIds: this.subscribedTopicIds(m, metadata),
      assignment: targets.get(m.memberId) ?? new Map(),
    }));
    return this.assignorFor(members.values()).assign(specs, topics);
  }

  // ── views ────────────────────────────────────────────────────────────────────────────────────

  describe(groupId: string): DescribedConsumerGroup {
    const group = this.consumerGroups.get(groupId);
    if (!group) {
      return {
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: `Group ${groupId} not found.`,
        groupId,
        groupState: '',
        groupEpoch: 0,
        assignmentEpoch: 0,
        assignorName: '',
        members: [],
      };
    }
    const describe = (p: TopicPartitions): DescribedConsumerGroupAssignment => ({
      topicPartitions: [...p]
        .filter(([, ps]) => ps.size > 0)
        .map(([topicId, ps]) => ({
          topicId,
          topicName: this.topics.byId(topicId)?.name ?? '',
          partitions: [...ps].sort((a, b) => a - b),
        })),
    });
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: this.assignorFor(group.members.values()).name,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: describe(m.assignedPartitions),
        targetAssignment: describe(group.targetAssignment.get(m.memberId) ?? new Map()),
      })),
    };
  }

  listGroups(states: Set<string>, types: Set<string>, groups: ListedGroup[]): void {
    if (types.size > 0 && !types.has(CONSUMER_GROUP_TYPE)) return;
    for (const group of this.consumerGroups.values()) {
      const state = group.state;
      if (state === ConsumerGroupState.Dead) continue;
      if (states.size > 0 && !states.has(state.toLowerCase())) continue;
      groups.push({
        groupId: group.groupId,
        protocolType: 'consumer',
        groupState: state,
        groupType: CONSUMER_GROUP_TYPE,
      });
    }
  }

  /** Replayed members get a session timeout, as if they had just heartbeated. */
  onLoaded(): void {
    for (const group of this.consumerGroups.values()) {
      for (const memberId of group.members.keys()) this.scheduleSessionTimeout(group.groupId, memberId);
    }
  }

  onUnloaded(): void {
    // The runtime drops this shard's timers; operations queued here find the shard gone when they write.
    this.revocationDeadlines.clear();
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

function heartbeatError(errorCode: number, errorMessage: string | null): ConsumerGroupHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

/** A member rejoining with epoch 0 owns nothing any more: it starts from scratch. */
function resetMember(member: ConsumerGroupMember): ConsumerGroupMember {
  const m = member.copy();
  m.memberEpoch = 0;
  m.previousMemberEpoch = 0;
  m.state = MemberState.Stable;
  m.assignedPartitions = new Map();
  m.partitionsPendingRevocation = new Map();
  return m;
}

/**
 * Kafka's throwIfConsumerGroupMemberEpochIsInvalid: a greater epoch than the coordinator's is fenced; a
 * smaller one only passes as the previous epoch with owned partitions within the current assignment (the
 * answer that bumped the epoch was lost).
 */
function checkMemberEpoch(member: ConsumerGroupMember, received: number, owned: TopicPartitions | null): void {
  if (received > member.memberEpoch) {
    throw new HeartbeatError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
  if (received < member.memberEpoch) {
    if (received !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assignedPartitions)) {
      throw new HeartbeatError(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
    }
  }
}

function isSubset(owned: TopicPartitions, assigned: TopicPartitions): boolean {
  for (const [topicId, ps] of owned) {
    const a = assigned.get(topicId);
    for (const p of ps) if (!a?.has(p)) return false;
  }
  return true;
}

function toPartitions(list: Array<{ topicId: string; partitions: number[] }>): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const { topicId, partitions } of list) {
    const set = out.get(topicId) ?? new Set<number>();
    for (const p of partitions) set.add(p);
    out.set(topicId, set);
  }
  return out;
}

function fromPartitions(p: TopicPartitions): Array<{ topicId: string; partitions: number[] }> {
  return [...p]
    .filter(([, ps]) => ps.size > 0)
    .map(([topicId, ps]) => ({ topicId, partitions: [...ps].sort((a, b) => a - b) }));
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = new Set(a);
  return b.every((t) => sa.has(t));
}

function sameMetadata(a: Map<string, SubscribedTopicMetadata>, b: Map<string, SubscribedTopicMetadata>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const o = b.get(name);
    if (!o || o.topicId !== t.topicId || o.numPartitions !== t.numPartitions) return false;
  }
  return true;
}

function metadataChanged(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.instanceId !== b.instanceId ||
    a.rackId !== b.rackId ||
    a.clientId !== b.clientId ||
    a.clientHost !== b.clientHost ||
    !sameNames(a.subscribedTopicNames, b.subscribedTopicNames) ||
    a.subscribedTopicRegex !== b.subscribedTopicRegex ||
    a.rebalanceTimeoutMs !== b.rebalanceTimeoutMs ||
    a.serverAssignor !== b.serverAssignor
  );
}

function assignmentChanged(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.memberEpoch !== b.memberEpoch ||
    a.previousMemberEpoch !== b.previousMemberEpoch ||
    a.state !== b.state ||
    !partitionsEqual(a.assignedPartitions, b.assignedPartitions) ||
    !partitionsEqual(a.partitionsPendingRevocation, b.partitionsPendingRevocation)
  );
}

function memberMetadataValue(m: ConsumerGroupMember) {
  return {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    subscribedTopicNames: m.subscribedTopicNames,
    subscribedTopicRegex: m.subscribedTopicRegex,
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    serverAssignor: m.serverAssignor,
  };
}

function currentAssignmentValue(m: ConsumerGroupMember) {
  return {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: m.state,
    assignedPartitions: m.assignedPartitions,
    partitionsPendingRevocation: m.partitionsPendingRevocation,
  };
}
