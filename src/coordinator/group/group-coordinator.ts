/**
 * The group coordinator's entry point, after Kafka's GroupCoordinatorService: it finds the shard of a group
 * (its partition of `__consumer_offsets`), answers for groups whose shard is loading
 * (COORDINATOR_LOAD_IN_PROGRESS) or not here (NOT_COORDINATOR), and runs the operation on the shard through
 * the coordinator runtime, which writes the operation's records and replays them.
 *
 * Where the work is done: classic-group-manager.ts (JoinGroup, SyncGroup, Heartbeat, LeaveGroup and their
 * timers), offset-manager.ts (OffsetCommit, OffsetFetch, OffsetDelete, expiry), group-replay.ts (how records
 * change state, live and at load), group-coordinator-shard.ts (one partition's state).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { CoordinatorRuntime } from '../runtime/coordinator-runtime.js';
import { realTimers, type Timers } from '../runtime/timers.js';
import { type ClassicGroup, GroupState, type JoinGroupResult, type SyncGroupResult } from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import { GroupCoordinatorShard } from './group-coordinator-shard.js';
import { noOffset, validateConsumerGroupFetch } from './offset-manager.js';
import { partitionForGroup } from './partition-for.js';
import {
  type ConsumerGroupHeartbeatParams,
  type ConsumerGroupHeartbeatResult,
  type CoordinatorLogger,
  type DescribedConsumerGroup,
  type DescribedGroup,
  type GroupCoordinatorConfig,
  type GroupCoordinatorOptions,
  type HeartbeatParams,
  type JoinGroupParams,
  joinError,
  type LeaveGroupMember,
  type LeaveGroupResult,
  type ListedGroup,
  type OffsetCommitParams,
  type OffsetDeleteResult,
  type OffsetFetchResult,
  type SyncGroupParams,
  syncError,
} from './types.js';

export { NEW_MEMBER_JOIN_TIMEOUT_MS } from './classic-group-manager.js';
export * from './types.js';

const OFFSETS_TOPIC = '__consumer_offsets';

export class GroupCoordinator {
  private readonly runtime: CoordinatorRuntime<GroupCoordinatorShard>;
  private readonly logger: CoordinatorLogger | undefined;
  private readonly timers: Timers;
  private closed = false;

  constructor(options: GroupCoordinatorOptions) {
    const config: Required<GroupCoordinatorConfig> = {
      offsetsRetentionCheckIntervalMs: 600_000,
      offsetMetadataMaxBytes: 4096,
      consumerSessionTimeoutMs: 45_000,
      consumerHeartbeatIntervalMs: 5_000,
      consumerAssignors: ['uniform', 'range'],
      consumerMaxSize: 2_147_483_647,
      ...options.config,
    };
    this.logger = options.logger;
    this.timers = options.timers ?? realTimers(options.now);
    this.runtime = new CoordinatorRuntime({
      topic: OFFSETS_TOPIC,
      log: options.log,
      timers: this.timers,
      logger: options.logger,
      newShard: (context) => new GroupCoordinatorShard(context, config, options.logger, options.topics),
    });
  }

  /** The partition of `__consumer_offsets` that holds `groupId` (Kafka's `partitionFor`). */
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.runtime.partitionCount);
  }

  /** The group's shard, or the error code to answer when it is loading or not here. */
  private shardOf(groupId: string): { errorCode: number; shard?: GroupCoordinatorShard } {
    const partition = this.partitionFor(groupId);
    const errorCode = this.runtime.errorFor(partition);
    return errorCode === ErrorCode.NONE ? { errorCode, shard: this.runtime.shard(partition) } : { errorCode };
  }

  // ── membership ────────────────────────────────────────────────────────────────────────────────

  async joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    if (params.groupId === '') return joinError(params.memberId, ErrorCode.INVALID_GROUP_ID);
    const { errorCode, shard } = this.shardOf(params.groupId);
    if (!shard) return joinError(params.memberId, errorCode);
    if (this.closed) return joinError(params.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const consumerGroup = shard.consumerGroupStates.get(params.groupId);
    if (consumerGroup) {
      // Kafka would take a classic member into a consumer group with members (a mixed group); Sluice does
      // not, and answers as Kafka does for protocols the group cannot take (docs/kafka-differences.md).
      if (consumerGroup.members.size > 0) return joinError(params.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      // An empty consumer group gives way to a classic one (its offsets stay), as in Kafka.
      const { errorCode: deleted } = await this.runtime.scheduleWriteOperation(
        this.partitionFor(params.groupId),
        'consumer group deletion',
        (s) => ({ records: s.consumerGroups.deleteGroupRecords(consumerGroup), response: undefined }),
      );
      if (deleted !== ErrorCode.NONE) return joinError(params.memberId, deleted);
    }
    return new Promise((resolve) => {
      // An immediate answer is returned; a parked join is answered through `resolve` later.
      const immediate = shard.classicGroups.joinGroup(params, resolve);
      if (immediate) resolve(immediate);
    });
  }

  syncGroup(params: SyncGroupParams): Promise<SyncGroupResult> {
    if (params.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    const { errorCode, shard } = this.shardOf(params.groupId);
    if (!shard) return Promise.resolve(syncError(errorCode));
    return new Promise((resolve) => {
      const immediate = shard.classicGroups.syncGroup(params, resolve);
      if (immediate) resolve(immediate);
    });
  }

  heartbeat(params: HeartbeatParams): number {
    if (params.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const { errorCode, shard } = this.shardOf(params.groupId);
    return shard ? shard.classicGroups.heartbeat(params) : errorCode;
  }

  leaveGroup(groupId: string, leaving: LeaveGroupMember[]): LeaveGroupResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const { errorCode, shard } = this.shardOf(groupId);
    return shard ? shard.classicGroups.leaveGroup(groupId, leaving) : { errorCode, members: [] };
  }

  // ── KIP-848 consumer groups ─────────────────────────────────────────────────────────────────

  async consumerGroupHeartbeat(params: ConsumerGroupHeartbeatParams): Promise<ConsumerGroupHeartbeatResult> {
    const fail = (errorCode: number): ConsumerGroupHeartbeatResult => ({
      errorCode,
      errorMessage: null,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (params.groupId === '') return { ...fail(ErrorCode.INVALID_GROUP_ID), errorMessage: "GroupId can't be empty." };
    const { errorCode, shard } = this.shardOf(params.groupId);
    if (!shard) return fail(errorCode);
    if (this.closed) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return shard.consumerGroups.heartbeat(params);
  }

  consumerGroupDescribe(groupId: string): DescribedConsumerGroup {
    const { errorCode, shard } = this.shardOf(groupId);
    if (!shard) {
      return {
        errorCode,
        errorMessage: null,
        groupId,
        groupState: '',
        groupEpoch: 0,
        assignmentEpoch: 0,
        assignorName: '',
        members: [],
      };
    }
    return shard.consumerGroups.describe(groupId);
  }

  /** The KIP-848 consumer group as it is now (read-only use), or undefined. */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.shardOf(groupId).shard?.consumerGroupStates.get(groupId);
  }

  consumerGroupIds(): string[] {
    const ids: string[] = [];
    for (const shard of this.runtime.activeShards()) ids.push(...shard.consumerGroupStates.keys());
    return ids;
  }

  // ── offsets ───────────────────────────────────────────────────────────────────────────────────

  /** Errors per entry of `params.offsets`, in order; resolves once the accepted offsets are durable. */
  async commitOffsets(params: OffsetCommitParams): Promise<number[]> {
    const all = (code: number) => params.offsets.map(() => code);
    const gate = this.runtime.errorFor(this.partitionFor(params.groupId));
    if (gate !== ErrorCode.NONE) return all(gate);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const { errorCode, response } = await this.runtime.scheduleWriteOperation(
      this.partitionFor(params.groupId),
      'offset commit',
      (shard) => shard.offsets.commitOffset(params),
    );
    // The operation has already put a storage failure into its answer; an unloaded shard has no answer.
    return response ?? all(errorCode);
  }

  /**
   * Committed offsets of a group: of the listed partitions, or of every partition it has (topics null).
   * A partition without a commit answers offset -1; see OffsetManager.fetchOffsets.
   */
  fetchOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }> | null,
    requireStable: boolean,
    member?: { memberId: string | null; memberEpoch: number },
  ): OffsetFetchResult {
    const { errorCode, shard } = this.shardOf(groupId);
    const consumerGroup = shard?.consumerGroupStates.get(groupId);
    if (consumerGroup && member) {
      const error = validateConsumerGroupFetch(consumerGroup, member.memberId, member.memberEpoch);
      if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    }
    if (!shard) {
      return {
        errorCode,
        topics: (topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => noOffset(p, errorCode)),
        })),
      };
    }
    return shard.offsets.fetchOffsets(groupId, topics, requireStable);
  }

  async deleteOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }>,
  ): Promise<OffsetDeleteResult> {
    const { errorCode, response } = await this.runtime.scheduleWriteOperation(
      this.partitionFor(groupId),
      'offset deletion',
      (shard) => shard.offsets.deleteOffsets(groupId, topics),
    );
    return response ?? { errorCode, topics: [] };
  }

  /** DeleteGroups: only groups without members; their offsets and metadata get tombstones. */
  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        const { errorCode, response } = await this.runtime.scheduleWriteOperation(
          this.partitionFor(groupId),
          'group deletion',
          (shard) => shard.deleteGroup(groupId),
        );
        return { groupId, errorCode: errorCode !== ErrorCode.NONE ? errorCode : response! };
      }),
    );
  }

  /** Expires offsets and deletes groups left empty in every loaded shard now (the timer does it periodically). */
  async expireOffsets(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.runtime.activeShards().map((shard) => shard.cleanup()));
  }

  // ── admin views ───────────────────────────────────────────────────────────────────────────────

  describeGroup(groupId: string): DescribedGroup {
    const { errorCode, shard } = this.shardOf(groupId);
    if (!shard) return { groupId, protocolType: '', protocolData: '', members: [], errorCode, groupState: '' };
    if (shard.consumerGroupStates.has(groupId)) {
      // DescribeGroups describes classic groups; Kafka answers a consumer group as it answers an unknown one.
      return {
        groupId,
        protocolType: '',
        protocolData: '',
        members: [],
        errorCode: ErrorCode.NONE,
        groupState: 'Dead',
      };
    }
    return shard.classicGroups.describeGroup(groupId);
  }

  /** Every live group; `statesFilter` (ListGroups v4+) and `typesFilter` (v5+) match case-insensitively. */
  listGroups(statesFilter: string[] = [], typesFilter: string[] = []): { errorCode: number; groups: ListedGroup[] } {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const groups: ListedGroup[] = [];
    for (const shard of this.runtime.activeShards()) {
      const classic: ListedGroup[] = [];
      shard.classicGroups.listGroups(states, types, classic);
      // A consumer group's offsets are held by a classic entry of the same id: list the group once, as consumer.
      groups.push(...classic.filter((g) => !shard.consumerGroupStates.has(g.groupId)));
      shard.consumerGroups.listGroups(states, types, groups);
    }
    return { errorCode: this.runtime.anyLoading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
  }

  // ── loading, unloading, closing ──────────────────────────────────────────────────────────────

  /** Rebuilds every group and offset by replaying the partitions of `__consumer_offsets`. */
  async load(): Promise<void> {
    const started = Date.now();
    const summaries = await this.runtime.loadAll();
    const groups = this.runtime.activeShards().reduce((n, shard) => n + shard.groups.size, 0);
    this.logger?.info(
      {
        groups,
        records: summaries.reduce((n, s) => n + s.records, 0),
        skipped: summaries.reduce((n, s) => n + s.skipped, 0),
        ms: Date.now() - started,
      },
      `loaded ${groups} groups from ${OFFSETS_TOPIC}`,
    );
  }

  /**
   * Takes over one partition of `__consumer_offsets` at run time and rebuilds its groups; its groups answer
   * COORDINATOR_LOAD_IN_PROGRESS until then. For moving coordinators between brokers.
   */
  async loadShard(partition: number): Promise<void> {
    await this.runtime.load(partition);
  }

  /** Gives up one partition: parked requests of its groups are answered, later ones get NOT_COORDINATOR. */
  unloadShard(partition: number): void {
    this.runtime.unload(partition);
  }

  /** Stops every timer and answers parked requests, so clients look for the coordinator again. */
  close(): void {
    this.closed = true;
    this.runtime.close();
  }

  /**
   * Starts a rebalance of a group with members, as a joining or leaving member would: every member learns
   * it from its next heartbeat (REBALANCE_IN_PROGRESS) and rejoins. A no-op for an unknown group or one
   * without members, or whose shard is not loaded. For fault injection in tests.
   */
  async forceRebalance(groupId: string): Promise<void> {
    this.shardOf(groupId).shard?.classicGroups.forceRebalance(groupId);
  }

  // ── views for tests, the console and the CLI ──────────────────────────────────────────────────

  /** The group as it is now (read-only use), or undefined (unknown, being deleted, or its shard not loaded). */
  group(groupId: string): ClassicGroup | undefined {
    const group = this.shardOf(groupId).shard?.groups.get(groupId);
    return group?.is(GroupState.Dead) ? undefined : group;
  }

  groupIds(): string[] {
    const ids: string[] = [];
    for (const shard of this.runtime.activeShards()) {
      for (const [id, group] of shard.groups) if (!group.is(GroupState.Dead)) ids.push(id);
    }
    return ids;
  }
}
