/**
 * The group coordinator's configuration and the Params/Result types of its operations. They hold no
 * protocol types: handlers map them onto each version's fields.
 */
import type { CoordinatorLog } from '../runtime/coordinator-log.js';
import type { CoordinatorLogger } from '../runtime/coordinator-runtime.js';
import type { Timers } from '../runtime/timers.js';
import type { GroupProtocol, JoinGroupResult, SyncGroupResult } from './classic-group.js';

export type { CoordinatorLogger };

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** offsets.retention.minutes × 60000 */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms (Kafka's default 600000). */
  offsetsRetentionCheckIntervalMs?: number;
  /** offset.metadata.max.bytes (Kafka's default 4096). */
  offsetMetadataMaxBytes?: number;
  /** group.consumer.session.timeout.ms (Kafka's default 45000): a KIP-848 member silent this long is fenced. */
  consumerSessionTimeoutMs?: number;
  /** group.consumer.heartbeat.interval.ms (Kafka's default 5000), told to KIP-848 members. */
  consumerHeartbeatIntervalMs?: number;
  /** group.consumer.assignors: server-side assignors by name, the first the default (uniform, range). */
  consumerAssignors?: string[];
  /** group.consumer.max.size (Kafka's default Integer.MAX_VALUE). */
  consumerMaxSize?: number;
}

/** What a KIP-848 consumer group needs to know of topics: their ids and partition counts. */
export interface TopicMetadataSource {
  byName(name: string): { topicId: string; numPartitions: number } | undefined;
  byId(topicId: string): { name: string; numPartitions: number } | undefined;
  /** Every topic that a regex subscription may match (internal topics excluded). */
  names(): string[];
}

export interface ConsumerGroupHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** The partitions the member owns; null when the heartbeat does not say. */
  topicPartitions: Array<{ topicId: string; partitions: number[] }> | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerGroupHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** The member's assigned partitions; null when unchanged (the member keeps what it has). */
  assignment: Array<{ topicId: string; partitions: number[] }> | null;
}

export interface DescribedConsumerGroupAssignment {
  topicPartitions: Array<{ topicId: string; topicName: string; partitions: number[] }>;
}

export interface DescribedConsumerGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: Array<{
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: DescribedConsumerGroupAssignment;
    targetAssignment: DescribedConsumerGroupAssignment;
  }>;
}

export interface GroupCoordinatorOptions {
  log: CoordinatorLog;
  config: GroupCoordinatorConfig;
  /** Topic ids and partition counts for KIP-848 consumer groups; without it they see no topics. */
  topics?: TopicMetadataSource;
  logger?: CoordinatorLogger;
  now?: () => number;
  /** Timer source; tests pass FakeTimers (which also supplies the clock). */
  timers?: Timers;
}

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  /** As Kafka shows it: "/" + the client's address. */
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: GroupProtocol[];
  /** JoinGroup v4+: a member without a member id is first handed one with MEMBER_ID_REQUIRED (KIP-394). */
  requireKnownMemberId: boolean;
  reason?: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+; null when the version lacks them. */
  protocolType: string | null;
  protocolName: string | null;
  assignments: Array<{ memberId: string; assignment: Buffer }>;
}

export interface HeartbeatParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>;
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  /** OffsetCommit v1 lets the client set the commit time; -1 (or absent) means now. */
  commitTimestamp?: number;
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2–v4 retention_time_ms; -1 means the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  /** The answer when the group does not exist and the commit has a generation (v9+: GROUP_ID_NOT_FOUND). */
  unknownGroupError?: number;
  /** The OffsetCommit version: members of KIP-848 groups must commit with v9+ (their member epoch). */
  apiVersion?: number;
  offsets: OffsetCommitEntry[];
}

export interface FetchedPartition {
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: Array<{ name: string; partitions: FetchedPartition[] }>;
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: Array<{ name: string; partitions: Array<{ partition: number; errorCode: number }> }>;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: Array<{
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }>;
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

/** A JoinGroup answered with an error: no generation, no members. */
export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    memberId,
    members: [],
    skipAssignment: false,
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}
