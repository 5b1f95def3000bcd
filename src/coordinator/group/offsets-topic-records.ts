/**
 * The records of `__consumer_offsets`, in Kafka's own formats so Kafka's tools and habits apply
 * (`kafka-console-consumer --formatter OffsetsMessageFormatter`, `kafka-dump-log --offsets-decoder`).
 *
 * Every key and value starts with an int16 version. Keys:
 * - versions 0 and 1: OffsetCommitKey `group: string, topic: string, partition: int32` (Kafka writes 1);
 * - version 2: GroupMetadataKey `group: string`.
 * A null value is a tombstone: the offset or the group was deleted (compaction then drops the key).
 *
 * OffsetCommitValue (written as v3, or v1 when the commit has an expire timestamp, as Kafka does):
 *   v0 `offset int64, metadata string, commitTimestamp int64`; v1 adds `expireTimestamp int64`;
 *   v2 = v0; v3 `offset int64, leaderEpoch int32, metadata string, commitTimestamp int64`;
 *   v4 = v3 in the flexible encoding (compact string, trailing tagged fields).
 * GroupMetadataValue (written as v3, Kafka's version since 2.3):
 *   `protocolType string, generation int32, protocol nullable string, leader nullable string,
 *   currentStateTimestamp int64 (v2+), members [memberId string, groupInstanceId nullable string (v3+),
 *   clientId string, clientHost string, rebalanceTimeout int32 (v1+), sessionTimeout int32,
 *   subscription bytes, assignment bytes]`; v4 is v3 in the flexible encoding.
 */
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import type { CoordinatorRecord } from '../runtime/coordinator-runtime.js';
import { type ConsumerGroupRecordKey, decodeConsumerGroupKey } from './consumer-group-records.js';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
const GROUP_METADATA_VALUE_VERSION = 3;
const HIGHEST_KNOWN_VALUE_VERSION = 4;

export type OffsetsTopicKey =
  | { type: 'offset'; group: string; topic: string; partition: number }
  | { type: 'group'; group: string }
  | ConsumerGroupRecordKey;

export interface OffsetCommitValue {
  offset: bigint;
  /** -1 when the committer did not know the leader epoch. */
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: bigint;
  /** Only v1 values carry one (commits with an explicit retention time, OffsetCommit v2–v4); -1 otherwise. */
  expireTimestamp: bigint;
}

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: bigint;
  members: GroupMetadataMember[];
}

export class OffsetsTopicFormatError extends Error {
  override name = 'OffsetsTopicFormatError';
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(8 + group.length + topic.length);
  w.int16(OFFSET_COMMIT_KEY_VERSION);
  w.string(group);
  w.string(topic);
  w.int32(partition);
  return Buffer.from(w.toBuffer());
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer(4 + group.length);
  w.int16(GROUP_METADATA_KEY_VERSION);
  w.string(group);
  return Buffer.from(w.toBuffer());
}

/** Decodes a key; returns null for record types this coordinator does not keep (share and streams groups). */
export function decodeOffsetsTopicKey(key: Buffer): OffsetsTopicKey | null {
  const r = new Reader(key);
  const version = r.int16();
  if (version === 0 || version === 1) {
    const group = r.string();
    const topic = r.string();
    const partition = r.int32();
    return { type: 'offset', group, topic, partition };
  }
  if (version === GROUP_METADATA_KEY_VERSION) return { type: 'group', group: r.string() };
  const consumer = decodeConsumerGroupKey(version, r);
  if (consumer !== null) return consumer;
  if (version < 0) throw new OffsetsTopicFormatError(`negative key version ${version}`);
  return null;
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const w = new Writer(64 + value.metadata.length);
  if (value.expireTimestamp >= 0n) {
    w.int16(OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY);
    w.int64(value.offset);
    w.string(value.metadata);
    w.int64(value.commitTimestamp);
    w.int64(value.expireTimestamp);
  } else {
    w.int16(OFFSET_COMMIT_VALUE_VERSION);
    w.int64(value.offset);
    w.int32(value.leaderEpoch);
    w.string(value.metadata);
    w.int64(value.commitTimestamp);
  }
  return Buffer.from(w.toBuffer());
}

export function decodeOffsetCommitValue(bytes: Buffer): OffsetCommitValue {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0 || version > HIGHEST_KNOWN_VALUE_VERSION) {
    throw new OffsetsTopicFormatError(`unknown OffsetCommitValue version ${version}`);
  }
  const flexible = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = flexible ? r.compactString() : r.string();
  const commitTimestamp = r.int64();
  const expireTimestamp = version === 1 ? r.int64() : -1n;
  if (flexible) r.taggedFields();
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const w = new Writer(256);
  w.int16(GROUP_METADATA_VALUE_VERSION);
  w.string(value.protocolType);
  w.int32(value.generation);
  w.nullableString(value.protocol);
  w.nullableString(value.leader);
  w.int64(value.currentStateTimestamp);
  w.arrayLength(value.members.length);
  for (const m of value.members) {
    w.string(m.memberId);
    w.nullableString(m.groupInstanceId);
    w.string(m.clientId);
    w.string(m.clientHost);
    w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs);
    w.bytes(m.subscription);
    w.bytes(m.assignment);
  }
  return Buffer.from(w.toBuffer());
}

export function decodeGroupMetadataValue(bytes: Buffer): GroupMetadataValue {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0 || version > HIGHEST_KNOWN_VALUE_VERSION) {
    throw new OffsetsTopicFormatError(`unknown GroupMetadataValue version ${version}`);
  }
  const flexible = version >= 4;
  const str = () => (flexible ? r.compactString() : r.string());
  const nullableStr = () => (flexible ? r.compactNullableString() : r.nullableString());
  const bytesField = () => Buffer.from(flexible ? r.compactBytes() : r.bytes());
  const protocolType = str();
  const generation = r.int32();
  const protocol = nullableStr();
  const leader = nullableStr();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1n;
  const count = flexible ? r.compactArrayLength() : r.arrayLength();
  const members: GroupMetadataMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nullableStr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    const subscription = bytesField();
    const assignment = bytesField();
    if (flexible) r.taggedFields();
    // Before v1 there was no rebalance timeout: Kafka uses the session timeout in its place.
    const rebalanceTimeoutMs = version >= 1 ? rebalanceTimeout : sessionTimeoutMs;
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeoutMs,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  if (flexible) r.taggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

// ── record builders (Kafka's GroupCoordinatorRecordHelpers) ─────────────────────────────────────────

/** A committed offset as the record that stores it. */
export function offsetCommitRecord(
  groupId: string,
  topic: string,
  partition: number,
  committed: {
    offset: bigint;
    leaderEpoch: number;
    metadata: string;
    commitTimestamp: number;
    expireTimestamp: number;
  },
): CoordinatorRecord {
  return {
    key: encodeOffsetCommitKey(groupId, topic, partition),
    value: encodeOffsetCommitValue({
      offset: committed.offset,
      leaderEpoch: committed.leaderEpoch,
      metadata: committed.metadata,
      commitTimestamp: BigInt(committed.commitTimestamp),
      expireTimestamp: BigInt(committed.expireTimestamp),
    }),
  };
}

/** The tombstone of a committed offset (deleted or expired). */
export function offsetCommitTombstone(groupId: string, topic: string, partition: number): CoordinatorRecord {
  return { key: encodeOffsetCommitKey(groupId, topic, partition), value: null };
}

export function groupMetadataRecord(groupId: string, value: GroupMetadataValue): CoordinatorRecord {
  return { key: encodeGroupMetadataKey(groupId), value: encodeGroupMetadataValue(value) };
}

/** The tombstone of a group's metadata (the group was deleted). */
export function groupMetadataTombstone(groupId: string): CoordinatorRecord {
  return { key: encodeGroupMetadataKey(groupId), value: null };
}
