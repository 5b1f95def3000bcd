/**
 * THE way records of `__consumer_offsets` change a shard's groups and offsets, after Kafka's
 * `GroupCoordinatorShard.replay` and `OffsetMetadataManager.replay`. Loading a partition feeds every record
 * through it; so do live operations, once their records are durable. Nothing else writes committed offsets
 * or removes a group, so the state after any sequence of operations is the state a load rebuilds.
 *
 * Classic group metadata is the exception Kafka makes too: live operations change membership in memory
 * and write the GroupMetadataValue only to make it durable (`replayRecords: false`); loading replays it.
 */
import { ClassicGroup, GroupMember, GroupState } from './classic-group.js';
import { ConsumerGroup, ConsumerGroupMember } from './consumer-group.js';
import {
  type ConsumerGroupRecordKey,
  decodeAssignmentEpoch,
  decodeCurrentMemberAssignment,
  decodeGroupEpoch,
  decodeMemberMetadata,
  decodePartitionMetadata,
  decodeTargetAssignmentMember,
} from './consumer-group-records.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  type GroupMetadataValue,
} from './offsets-topic-records.js';

export class GroupReplayer {
  /** Records of open transactions, per producer id: they count once the COMMIT marker is replayed. */
  private readonly pendingTransactions = new Map<bigint, Array<{ key: Buffer; value: Buffer | null }>>();

  constructor(
    private readonly groups: Map<string, ClassicGroup>,
    private readonly now: () => number,
    private readonly consumerGroups: Map<string, ConsumerGroup> = new Map(),
  ) {}

  replay(key: Buffer | null, value: Buffer | null, transactionalProducerId: bigint | null): void {
    if (key === null) return;
    if (transactionalProducerId !== null) {
      let records = this.pendingTransactions.get(transactionalProducerId);
      if (!records) this.pendingTransactions.set(transactionalProducerId, (records = []));
      records.push({ key, value });
      return;
    }
    const decoded = decodeOffsetsTopicKey(key);
    if (decoded === null) return;
    if (decoded.type === 'offset') this.replayOffsetCommit(decoded.group, decoded.topic, decoded.partition, value);
    else if (decoded.type === 'group')
      this.replayGroupMetadata(decoded.group, value === null ? null : decodeGroupMetadataValue(value));
    else this.replayConsumerGroup(decoded, value);
  }

  private replayConsumerGroup(key: ConsumerGroupRecordKey, value: Buffer | null): void {
    replayConsumerRecord(this.consumerGroups, key, value);
  }

  replayEndTransactionMarker(producerId: bigint, committed: boolean): void {
    const records = this.pendingTransactions.get(producerId);
    this.pendingTransactions.delete(producerId);
    if (committed && records) for (const r of records) this.replay(r.key, r.value, null);
  }

  /** A commit creates its group if needed (a group may exist only to hold offsets); a tombstone removes one. */
  private replayOffsetCommit(groupId: string, topic: string, partition: number, value: Buffer | null): void {
    let group = this.groups.get(groupId);
    if (value === null) {
      group?.removeOffset(topic, partition);
      return;
    }
    const v = decodeOffsetCommitValue(value);
    if (!group) this.groups.set(groupId, (group = new ClassicGroup(groupId, this.now())));
    group.setOffset(topic, partition, {
      offset: v.offset,
      leaderEpoch: v.leaderEpoch,
      metadata: v.metadata,
      commitTimestamp: Number(v.commitTimestamp),
      expireTimestamp: Number(v.expireTimestamp),
    });
  }

  /**
   * A GroupMetadataValue replaces the group's membership (Stable with its members, or Empty); a tombstone
   * forgets the group. Offsets are kept apart from the metadata, as Kafka keeps them: a group whose
   * metadata is gone but whose offsets are not stays, holding only offsets.
   */
  private replayGroupMetadata(groupId: string, meta: GroupMetadataValue | null): void {
    const previous = this.groups.get(groupId);
    if (meta === null && (!previous || previous.offsets.size === 0)) {
      this.groups.delete(groupId);
      return;
    }
    const group = new ClassicGroup(groupId, this.now());
    if (meta) applyMetadata(group, meta);
    if (previous)
      for (const { topic, partition, committed } of previous.allOffsets()) group.setOffset(topic, partition, committed);
    this.groups.set(groupId, group);
  }
}

/**
 * The records of a KIP-848 consumer group, after Kafka's GroupMetadataManager.replay: a record about a
 * group or a member creates it; a member's CurrentMemberAssignment tombstone clears its assignment and its
 * MemberMetadata tombstone removes it; the ConsumerGroupMetadata tombstone (written last when the group is
 * deleted) removes the group.
 */
function replayConsumerRecord(
  groups: Map<string, ConsumerGroup>,
  key: ConsumerGroupRecordKey,
  value: Buffer | null,
): void {
  let group = groups.get(key.group);
  if (!group) {
    if (value === null) return;
    groups.set(key.group, (group = new ConsumerGroup(key.group)));
  }
  const memberOf = (memberId: string): ConsumerGroupMember => {
    let member = group.members.get(memberId);
    if (!member) group.members.set(memberId, (member = new ConsumerGroupMember(memberId)));
    return member;
  };
  switch (key.type) {
    case 'consumer-group-metadata':
      if (value === null) groups.delete(key.group);
      else group.groupEpoch = decodeGroupEpoch(value);
      return;
    case 'consumer-group-partition-metadata':
      group.subscriptionMetadata = new Map(
        value === null ? [] : decodePartitionMetadata(value).map((t) => [t.topicName, t] as const),
      );
      return;
    case 'consumer-group-target-assignment-metadata':
      group.assignmentEpoch = value === null ? 0 : decodeAssignmentEpoch(value);
      return;
    case 'consumer-group-target-assignment-member':
      if (value === null) group.targetAssignment.delete(key.memberId);
      else group.targetAssignment.set(key.memberId, decodeTargetAssignmentMember(value));
      return;
    case 'consumer-group-member-metadata': {
      if (value === null) {
        group.members.delete(key.memberId);
        return;
      }
      Object.assign(memberOf(key.memberId), decodeMemberMetadata(value));
      return;
    }
    case 'consumer-group-current-member-assignment': {
      const member = value === null ? group.members.get(key.memberId) : memberOf(key.memberId);
      if (!member) return;
      const v =
        value === null
          ? {
              memberEpoch: 0,
              previousMemberEpoch: 0,
              state: 0,
              assignedPartitions: new Map(),
              partitionsPendingRevocation: new Map(),
            }
          : decodeCurrentMemberAssignment(value);
      // A partition keeps the epoch it was first assigned at while the member holds it.
      const epochs = new Map<string, Map<number, number>>();
      for (const held of [v.assignedPartitions, v.partitionsPendingRevocation]) {
        for (const [topicId, ps] of held) {
          const before = member.assignmentEpochs.get(topicId);
          let out = epochs.get(topicId);
          if (!out) epochs.set(topicId, (out = new Map()));
          for (const p of ps) out.set(p, before?.get(p) ?? v.memberEpoch);
        }
      }
      Object.assign(member, v);
      member.assignmentEpochs = epochs;
      return;
    }
  }
}

function applyMetadata(group: ClassicGroup, meta: GroupMetadataValue): void {
  group.generationId = meta.generation;
  group.protocolType = meta.protocolType === '' ? null : meta.protocolType;
  group.currentStateTimestamp = meta.currentStateTimestamp >= 0n ? Number(meta.currentStateTimestamp) : null;
  if (meta.members.length === 0 || meta.protocol === null) {
    group.state = GroupState.Empty;
    return;
  }
  group.protocolName = meta.protocol;
  for (const m of meta.members) {
    const member = new GroupMember(
      m.memberId,
      m.groupInstanceId,
      m.clientId,
      m.clientHost,
      m.rebalanceTimeoutMs,
      m.sessionTimeoutMs,
      meta.protocolType,
      [{ name: meta.protocol, metadata: m.subscription }],
    );
    member.assignment = m.assignment;
    group.add(member);
  }
  group.leaderId = meta.leader !== null && group.has(meta.leader) ? meta.leader : group.leaderId;
  group.state = GroupState.Stable;
  group.subscribedTopics = group.computeSubscribedTopics();
}
