/**
 * A KIP-848 consumer group, after Kafka's ConsumerGroup and ConsumerGroupMember: the group epoch (bumped
 * when subscriptions or subscribed topics change), the target assignment and its epoch (what the assignor
 * computed for that group epoch), and per member its epoch, its current assignment and the partitions it
 * still has to revoke. Everything here is rebuilt by replaying the group's records (group-replay.ts).
 *
 * The committed offsets of a consumer group are not kept here: they live in the shard's offset holder for
 * the same group id (a ClassicGroup without a protocol), so OffsetFetch, OffsetDelete and expiry treat
 * both kinds of group alike.
 */
import type { SubscribedTopicMetadata, TopicPartitions } from './consumer-group-records.js';

/** Kafka's MemberState, with its int8 values as the CurrentMemberAssignment record stores them. */
export enum MemberState {
  Stable = 0,
  UnrevokedPartitions = 1,
  UnreleasedPartitions = 2,
  Unknown = 127,
}

export const MEMBER_STATE_NAMES: Record<number, string> = {
  0: 'stable',
  1: 'unrevoked_partitions',
  2: 'unreleased_partitions',
  127: 'unknown',
};

/** The member epoch a member sends to leave (-1), and a static member to leave for a while (-2). */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export enum ConsumerGroupState {
  Empty = 'Empty',
  Assigning = 'Assigning',
  Reconciling = 'Reconciling',
  Stable = 'Stable',
  Dead = 'Dead',
}

export class ConsumerGroupMember {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  rebalanceTimeoutMs = -1;
  serverAssignor: string | null = null;
  memberEpoch = 0;
  previousMemberEpoch = 0;
  state: MemberState = MemberState.Stable;
  assignedPartitions: TopicPartitions = new Map();
  partitionsPendingRevocation: TopicPartitions = new Map();
  /**
   * KIP-1251: the member epoch at which each partition it holds was assigned to it, so that a commit with
   * an epoch the member has not heard is bumped yet still counts for partitions it held then. Derived
   * from the sequence of its CurrentMemberAssignment records, so a load rebuilds it as live replay did.
   */
  assignmentEpochs = new Map<string, Map<number, number>>();

  constructor(readonly memberId: string) {}

  /** A copy under `memberId` (a static member rejoining under a new id takes over its predecessor). */
  copy(memberId: string = this.memberId): ConsumerGroupMember {
    const m = new ConsumerGroupMember(memberId);
    Object.assign(m, this, { memberId });
    m.subscribedTopicNames = [...this.subscribedTopicNames];
    m.assignedPartitions = copyPartitions(this.assignedPartitions);
    m.partitionsPendingRevocation = copyPartitions(this.partitionsPendingRevocation);
    m.assignmentEpochs = new Map([...this.assignmentEpochs].map(([t, e]) => [t, new Map(e)]));
    return m;
  }
}

export class ConsumerGroup {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** The target assignment of the current assignment epoch, per member id. */
  readonly targetAssignment = new Map<string, TopicPartitions>();
  /** The subscribed topics as they were at the last group epoch bump, by name. */
  subscriptionMetadata = new Map<string, SubscribedTopicMetadata>();

  constructor(readonly groupId: string) {}

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return ConsumerGroupState.Empty;
    if (this.groupEpoch > this.assignmentEpoch) return ConsumerGroupState.Assigning;
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== MemberState.Stable) {
        return ConsumerGroupState.Reconciling;
      }
    }
    return ConsumerGroupState.Stable;
  }

  staticMember(instanceId: string): ConsumerGroupMember | undefined {
    for (const m of this.members.values()) if (m.instanceId === instanceId) return m;
    return undefined;
  }

  /**
   * The epoch of the member that holds `partition` of `topicId` (assigned or still to revoke), or -1 when
   * it is free — Kafka's currentPartitionEpoch. A partition is handed to a new owner only once it is free.
   */
  currentPartitionEpoch(topicId: string, partition: number, exceptMemberId?: string): number {
    for (const m of this.members.values()) {
      if (m.memberId === exceptMemberId) continue;
      if (
        m.assignedPartitions.get(topicId)?.has(partition) ||
        m.partitionsPendingRevocation.get(topicId)?.has(partition)
      )
        return m.memberEpoch;
    }
    return -1;
  }

  /** Every topic some member subscribes to by name (subscriptions by regex are resolved by the caller). */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return names;
  }
}

export function copyPartitions(p: TopicPartitions): TopicPartitions {
  return new Map([...p].map(([t, s]) => [t, new Set(s)]));
}

export function partitionsEqual(a: TopicPartitions, b: TopicPartitions): boolean {
  const nonEmpty = (p: TopicPartitions) => [...p].filter(([, s]) => s.size > 0);
  const ea = nonEmpty(a);
  if (ea.length !== nonEmpty(b).length) return false;
  for (const [t, s] of ea) {
    const o = b.get(t);
    if (!o || o.size !== s.size) return false;
    for (const p of s) if (!o.has(p)) return false;
  }
  return true;
}

/**
 * Kafka's CurrentAssignmentBuilder: moves a member one step towards the target assignment of
 * `targetEpoch`. A partition the member must give up goes to pending revocation and the member stays in
 * its epoch (UNREVOKED_PARTITIONS) until its heartbeat no longer lists it; a partition another member still
 * holds is not handed out yet (UNRELEASED_PARTITIONS); otherwise the member reaches the target epoch.
 *
 * `owned` is what the heartbeat reports the member owns (null when the heartbeat did not say);
 * `partitionEpoch` is the epoch of another member holding a partition, or -1 when it is free.
 */
export function reconcile(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicPartitions,
  owned: TopicPartitions | null,
  partitionEpoch: (topicId: string, partition: number) => number,
): ConsumerGroupMember {
  const ownsAnyOf = (pending: TopicPartitions): boolean => {
    if (owned === null) return true;
    for (const [topicId, ps] of owned) {
      const revoking = pending.get(topicId);
      if (revoking) for (const p of ps) if (revoking.has(p)) return true;
    }
    return false;
  };

  const next = (epoch: number): ConsumerGroupMember => {
    let hasUnreleased = false;
    const assigned: TopicPartitions = new Map();
    const pendingRevocation: TopicPartitions = new Map();
    const pendingAssignment: TopicPartitions = new Map();
    const topics = new Set([...target.keys(), ...member.assignedPartitions.keys()]);
    for (const topicId of topics) {
      const wanted = target.get(topicId) ?? new Set<number>();
      const current = member.assignedPartitions.get(topicId) ?? new Set<number>();
      const kept = new Set([...current].filter((p) => wanted.has(p)));
      const revoke = new Set([...current].filter((p) => !kept.has(p)));
      const add = new Set<number>();
      for (const p of wanted) {
        if (kept.has(p)) continue;
        if (partitionEpoch(topicId, p) !== -1) hasUnreleased = true;
        else add.add(p);
      }
      if (kept.size > 0) assigned.set(topicId, kept);
      if (revoke.size > 0) pendingRevocation.set(topicId, revoke);
      if (add.size > 0) pendingAssignment.set(topicId, add);
    }
    const result = member.copy();
    if (pendingRevocation.size > 0 && ownsAnyOf(pendingRevocation)) {
      result.state = MemberState.UnrevokedPartitions;
      setEpoch(result, epoch);
      result.assignedPartitions = assigned;
      result.partitionsPendingRevocation = pendingRevocation;
      return result;
    }
    for (const [topicId, ps] of pendingAssignment) {
      const set = assigned.get(topicId) ?? new Set<number>();
      for (const p of ps) set.add(p);
      assigned.set(topicId, set);
    }
    result.state = hasUnreleased ? MemberState.UnreleasedPartitions : MemberState.Stable;
    setEpoch(result, targetEpoch);
    result.assignedPartitions = assigned;
    result.partitionsPendingRevocation = new Map();
    return result;
  };

  switch (member.state) {
    case MemberState.Stable:
      return member.memberEpoch !== targetEpoch ? next(member.memberEpoch) : member;
    case MemberState.UnrevokedPartitions:
      if (ownsAnyOf(member.partitionsPendingRevocation)) return member;
      return next(member.memberEpoch + 1);
    case MemberState.UnreleasedPartitions:
      return next(member.memberEpoch);
    default:
      return next(targetEpoch);
  }
}

/** Kafka's updateMemberEpoch: the epoch the member had becomes its previous one, changed or not. */
function setEpoch(member: ConsumerGroupMember, epoch: number): void {
  member.previousMemberEpoch = member.memberEpoch;
  member.memberEpoch = epoch;
}
