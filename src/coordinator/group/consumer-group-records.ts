/**
 * The records of KIP-848 consumer groups in `__consumer_offsets`, in Kafka's formats (its group
 * coordinator's `ConsumerGroup*Key`/`*Value` message definitions), so a log written here reads in Kafka's
 * tools and the other way round.
 *
 * Keys are not flexible: an int16 version that names the record type, then int16-length strings.
 *   3 ConsumerGroupMetadataKey `groupId`                 → value `epoch int32`
 *   4 ConsumerGroupPartitionMetadataKey `groupId`        → value `topics [topicId uuid, topicName string,
 *                                                          numPartitions int32, partitionMetadata [partition
 *                                                          int32, racks [string]]]`
 *   5 ConsumerGroupMemberMetadataKey `groupId, memberId` → value `instanceId string?, rackId string?,
 *                                                          clientId, clientHost, subscribedTopicNames [string],
 *                                                          subscribedTopicRegex string?, rebalanceTimeoutMs
 *                                                          int32, serverAssignor string?` (+ tagged 0:
 *                                                          classicMemberMetadata, read and ignored)
 *   6 ConsumerGroupTargetAssignmentMetadataKey `groupId` → value `assignmentEpoch int32`
 *   7 ConsumerGroupTargetAssignmentMemberKey `groupId, memberId` → value `topicPartitions [topicId, [int32]]`
 *   8 ConsumerGroupCurrentMemberAssignmentKey `groupId, memberId` → value `memberEpoch int32,
 *                                                          previousMemberEpoch int32, state int8,
 *                                                          assignedPartitions [topicId, [int32]],
 *                                                          partitionsPendingRevocation [topicId, [int32]]`
 * Values start with their int16 version (0 here) and are flexible: compact strings and arrays, and tagged
 * fields after every struct. A null value is a tombstone. Newer Kafka versions add tagged or trailing
 * fields; reading skips tagged fields and ignores bytes after the fields known here.
 */
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import type { CoordinatorRecord } from '../runtime/coordinator-runtime.js';

export const CONSUMER_GROUP_METADATA_KEY_VERSION = 3;
export const CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION = 4;
export const CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION = 5;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION = 6;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION = 7;
export const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION = 8;

/** Partitions per topic id (32 hex characters), as the records and the heartbeat carry them. */
export type TopicPartitions = Map<string, Set<number>>;

export interface SubscribedTopicMetadata {
  topicId: string;
  topicName: string;
  numPartitions: number;
}

export interface ConsumerMemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface CurrentMemberAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** Kafka's MemberState: 0 STABLE, 1 UNREVOKED_PARTITIONS, 2 UNRELEASED_PARTITIONS. */
  state: number;
  assignedPartitions: TopicPartitions;
  partitionsPendingRevocation: TopicPartitions;
}

export type ConsumerGroupRecordKey =
  | { type: 'consumer-group-metadata'; group: string }
  | { type: 'consumer-group-partition-metadata'; group: string }
  | { type: 'consumer-group-member-metadata'; group: string; memberId: string }
  | { type: 'consumer-group-target-assignment-metadata'; group: string }
  | { type: 'consumer-group-target-assignment-member'; group: string; memberId: string }
  | { type: 'consumer-group-current-member-assignment'; group: string; memberId: string };

/** Decodes the rest of a key whose version names a consumer group record; null for other versions. */
export function decodeConsumerGroupKey(version: number, r: Reader): ConsumerGroupRecordKey | null {
  switch (version) {
    case CONSUMER_GROUP_METADATA_KEY_VERSION:
      return { type: 'consumer-group-metadata', group: r.string() };
    case CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION:
      return { type: 'consumer-group-partition-metadata', group: r.string() };
    case CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION:
      return { type: 'consumer-group-member-metadata', group: r.string(), memberId: r.string() };
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION:
      return { type: 'consumer-group-target-assignment-metadata', group: r.string() };
    case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION:
      return { type: 'consumer-group-target-assignment-member', group: r.string(), memberId: r.string() };
    case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION:
      return { type: 'consumer-group-current-member-assignment', group: r.string(), memberId: r.string() };
    default:
      return null;
  }
}

function key(version: number, groupId: string, memberId?: string): Buffer {
  const w = new Writer(8 + groupId.length + (memberId?.length ?? 0));
  w.int16(version);
  w.string(groupId);
  if (memberId !== undefined) w.string(memberId);
  return Buffer.from(w.toBuffer());
}

function valueWriter(): Writer {
  const w = new Writer(128);
  w.int16(0);
  return w;
}

function done(w: Writer): Buffer {
  w.taggedFields(undefined);
  return Buffer.from(w.toBuffer());
}

function valueReader(bytes: Buffer, what: string): Reader {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new Error(`${what} has negative version ${version}`);
  return r;
}

function writeTopicPartitions(w: Writer, partitions: TopicPartitions): void {
  const topics = [...partitions].filter(([, ps]) => ps.size > 0);
  w.compactArrayLength(topics.length);
  for (const [topicId, ps] of topics) {
    w.uuid(topicId);
    const sorted = [...ps].sort((a, b) => a - b);
    w.compactArrayLength(sorted.length);
    for (const p of sorted) w.int32(p);
    w.taggedFields(undefined);
  }
}

function readTopicPartitions(r: Reader): TopicPartitions {
  const out: TopicPartitions = new Map();
  const n = r.compactArrayLength();
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const count = r.compactArrayLength(4);
    const set = new Set<number>();
    for (let j = 0; j < count; j++) set.add(r.int32());
    r.taggedFields();
    out.set(topicId, set);
  }
  return out;
}

// ── values ──────────────────────────────────────────────────────────────────────────────────────

export function decodeGroupEpoch(bytes: Buffer): number {
  return valueReader(bytes, 'ConsumerGroupMetadataValue').int32();
}

export function decodeAssignmentEpoch(bytes: Buffer): number {
  return valueReader(bytes, 'ConsumerGroupTargetAssignmentMetadataValue').int32();
}

export function decodePartitionMetadata(bytes: Buffer): SubscribedTopicMetadata[] {
  const r = valueReader(bytes, 'ConsumerGroupPartitionMetadataValue');
  const topics: SubscribedTopicMetadata[] = [];
  const n = r.compactArrayLength();
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const topicName = r.compactString();
    const numPartitions = r.int32();
    const partitions = r.compactArrayLength();
    for (let j = 0; j < partitions; j++) {
      r.int32();
      const racks = r.compactArrayLength();
      for (let k = 0; k < racks; k++) r.compactString();
      r.taggedFields();
    }
    r.taggedFields();
    topics.push({ topicId, topicName, numPartitions });
  }
  return topics;
}

export function decodeMemberMetadata(bytes: Buffer): ConsumerMemberMetadataValue {
  const r = valueReader(bytes, 'ConsumerGroupMemberMetadataValue');
  const instanceId = r.compactNullableString();
  const rackId = r.compactNullableString();
  const clientId = r.compactString();
  const clientHost = r.compactString();
  const n = r.compactArrayLength();
  const subscribedTopicNames: string[] = [];
  for (let i = 0; i < n; i++) subscribedTopicNames.push(r.compactString());
  const subscribedTopicRegex = r.compactNullableString();
  const rebalanceTimeoutMs = r.int32();
  const serverAssignor = r.compactNullableString();
  return {
    instanceId,
    rackId,
    clientId,
    clientHost,
    subscribedTopicNames,
    subscribedTopicRegex,
    rebalanceTimeoutMs,
    serverAssignor,
  };
}

export function decodeTargetAssignmentMember(bytes: Buffer): TopicPartitions {
  return readTopicPartitions(valueReader(bytes, 'ConsumerGroupTargetAssignmentMemberValue'));
}

export function decodeCurrentMemberAssignment(bytes: Buffer): CurrentMemberAssignmentValue {
  const r = valueReader(bytes, 'ConsumerGroupCurrentMemberAssignmentValue');
  const memberEpoch = r.int32();
  const previousMemberEpoch = r.int32();
  const state = r.int8();
  const assignedPartitions = readTopicPartitions(r);
  const partitionsPendingRevocation = readTopicPartitions(r);
  return { memberEpoch, previousMemberEpoch, state, assignedPartitions, partitionsPendingRevocation };
}

// ── record builders (Kafka's GroupCoordinatorRecordHelpers) ─────────────────────────────────────

export function groupEpochRecord(groupId: string, epoch: number): CoordinatorRecord {
  const w = valueWriter();
  w.int32(epoch);
  return { key: key(CONSUMER_GROUP_METADATA_KEY_VERSION, groupId), value: done(w) };
}

export function groupEpochTombstone(groupId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_METADATA_KEY_VERSION, groupId), value: null };
}

export function partitionMetadataRecord(groupId: string, topics: SubscribedTopicMetadata[]): CoordinatorRecord {
  const w = valueWriter();
  w.compactArrayLength(topics.length);
  for (const t of topics) {
    w.uuid(t.topicId);
    w.compactString(t.topicName);
    w.int32(t.numPartitions);
    // Racks per partition: this broker has one rack-less node, so every partition lists none.
    w.compactArrayLength(t.numPartitions);
    for (let p = 0; p < t.numPartitions; p++) {
      w.int32(p);
      w.compactArrayLength(0);
      w.taggedFields(undefined);
    }
    w.taggedFields(undefined);
  }
  return { key: key(CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION, groupId), value: done(w) };
}

export function partitionMetadataTombstone(groupId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_PARTITION_METADATA_KEY_VERSION, groupId), value: null };
}

export function memberMetadataRecord(
  groupId: string,
  memberId: string,
  m: ConsumerMemberMetadataValue,
): CoordinatorRecord {
  const w = valueWriter();
  w.compactNullableString(m.instanceId);
  w.compactNullableString(m.rackId);
  w.compactString(m.clientId);
  w.compactString(m.clientHost);
  w.compactArrayLength(m.subscribedTopicNames.length);
  for (const t of m.subscribedTopicNames) w.compactString(t);
  w.compactNullableString(m.subscribedTopicRegex);
  w.int32(m.rebalanceTimeoutMs);
  w.compactNullableString(m.serverAssignor);
  return { key: key(CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION, groupId, memberId), value: done(w) };
}

export function memberMetadataTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_MEMBER_METADATA_KEY_VERSION, groupId, memberId), value: null };
}

export function assignmentEpochRecord(groupId: string, epoch: number): CoordinatorRecord {
  const w = valueWriter();
  w.int32(epoch);
  return { key: key(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION, groupId), value: done(w) };
}

export function assignmentEpochTombstone(groupId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_KEY_VERSION, groupId), value: null };
}

export function targetAssignmentRecord(
  groupId: string,
  memberId: string,
  partitions: TopicPartitions,
): CoordinatorRecord {
  const w = valueWriter();
  writeTopicPartitions(w, partitions);
  return { key: key(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION, groupId, memberId), value: done(w) };
}

export function targetAssignmentTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_KEY_VERSION, groupId, memberId), value: null };
}

export function currentAssignmentRecord(
  groupId: string,
  memberId: string,
  v: CurrentMemberAssignmentValue,
): CoordinatorRecord {
  const w = valueWriter();
  w.int32(v.memberEpoch);
  w.int32(v.previousMemberEpoch);
  w.int8(v.state);
  writeTopicPartitions(w, v.assignedPartitions);
  writeTopicPartitions(w, v.partitionsPendingRevocation);
  return { key: key(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION, groupId, memberId), value: done(w) };
}

export function currentAssignmentTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { key: key(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_KEY_VERSION, groupId, memberId), value: null };
}
