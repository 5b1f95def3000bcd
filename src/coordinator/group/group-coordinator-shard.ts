/**
 * The groups and offsets of one partition of `__consumer_offsets`, after Kafka's GroupCoordinatorShard:
 * it holds the state, routes replayed records to group-replay.ts, and composes the operations that span
 * membership and offsets (deleting a group, expiring offsets). The runtime loads and unloads it as a unit.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type {
  CoordinatorRecord,
  CoordinatorResult,
  CoordinatorShard,
  ShardContext,
} from '../runtime/coordinator-runtime.js';
import { type ClassicGroup, GroupState } from './classic-group.js';
import { ClassicGroupManager } from './classic-group-manager.js';
import type { ConsumerGroup } from './consumer-group.js';
import { ConsumerGroupManager } from './consumer-group-manager.js';
import { GroupReplayer } from './group-replay.js';
import { OffsetManager } from './offset-manager.js';
import { groupMetadataTombstone } from './offsets-topic-records.js';
import type { CoordinatorLogger, GroupCoordinatorConfig, TopicMetadataSource } from './types.js';

const CLEANUP_TIMER = 'cleanup-group-metadata';

export class GroupCoordinatorShard implements CoordinatorShard {
  /** Classic groups, and the committed offsets of every group (consumer groups' included). */
  readonly groups = new Map<string, ClassicGroup>();
  /** KIP-848 consumer groups: their membership and assignments (their offsets are in `groups`). */
  readonly consumerGroupStates = new Map<string, ConsumerGroup>();
  readonly classicGroups: ClassicGroupManager;
  readonly consumerGroups: ConsumerGroupManager;
  readonly offsets: OffsetManager;
  private readonly replayer: GroupReplayer;

  constructor(
    private readonly context: ShardContext,
    private readonly config: Required<GroupCoordinatorConfig>,
    private readonly logger: CoordinatorLogger | undefined,
    topics?: TopicMetadataSource,
  ) {
    const now = () => context.timers.now();
    this.classicGroups = new ClassicGroupManager(this.groups, context, config, logger);
    this.consumerGroups = new ConsumerGroupManager(
      this.consumerGroupStates,
      this.groups,
      context,
      config,
      topics,
      logger,
    );
    this.offsets = new OffsetManager(
      this.groups,
      config,
      logger,
      now,
      (group, memberId) => {
        const member = group.members.get(memberId);
        if (member) this.classicGroups.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
      },
      this.consumerGroupStates,
    );
    this.replayer = new GroupReplayer(this.groups, now, this.consumerGroupStates);
  }

  get partition(): number {
    return this.context.partition;
  }

  replay(key: Buffer | null, value: Buffer | null, transactionalProducerId: bigint | null): void {
    this.replayer.replay(key, value, transactionalProducerId);
  }

  replayEndTransactionMarker(producerId: bigint, committed: boolean): void {
    this.replayer.replayEndTransactionMarker(producerId, committed);
  }

  onLoaded(): void {
    this.classicGroups.onLoaded();
    this.consumerGroups.onLoaded();
    this.scheduleCleanup();
  }

  onUnloaded(): void {
    this.context.cancel(CLEANUP_TIMER);
    this.classicGroups.onUnloaded();
    this.consumerGroups.onUnloaded();
    this.consumerGroupStates.clear();
  }

  /** DeleteGroups for one group: only a group without members; its offsets and metadata get tombstones. */
  deleteGroup(groupId: string): CoordinatorResult<number> {
    const consumerGroup = this.consumerGroupStates.get(groupId);
    if (consumerGroup) {
      if (consumerGroup.members.size > 0) return { records: [], response: ErrorCode.NON_EMPTY_GROUP };
      const records: CoordinatorRecord[] = [];
      const holder = this.groups.get(groupId);
      records.push(...this.consumerGroups.deleteGroupRecords(consumerGroup));
      if (holder) {
        this.offsets.deleteAllOffsets(holder, records);
        records.push(groupMetadataTombstone(groupId));
      }
      this.logger?.info({ group: groupId }, `deleting consumer group ${groupId}`);
      return { records, response: ErrorCode.NONE };
    }
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead)) return { records: [], response: ErrorCode.GROUP_ID_NOT_FOUND };
    if (!group.is(GroupState.Empty)) return { records: [], response: ErrorCode.NON_EMPTY_GROUP };
    const records: CoordinatorRecord[] = [];
    this.offsets.deleteAllOffsets(group, records);
    records.push(groupMetadataTombstone(groupId));
    const undo = this.classicGroups.beginDeletion(group);
    this.logger?.info({ group: groupId }, `deleting group ${groupId}`);
    return {
      records,
      response: ErrorCode.NONE,
      onAppended: (errorCode) => {
        if (errorCode !== ErrorCode.NONE) undo();
      },
    };
  }

  /**
   * Kafka's cleanupGroupMetadata: tombstones for expired offsets, and for every Empty group left without
   * offsets (it is deleted).
   */
  cleanupGroupMetadata(): CoordinatorResult<undefined> {
    const now = this.context.timers.now();
    const records: CoordinatorRecord[] = [];
    const undo: Array<() => void> = [];
    for (const group of [...this.groups.values()]) {
      if (group.is(GroupState.Dead)) continue;
      const consumerGroup = this.consumerGroupStates.get(group.groupId);
      const kept = this.offsets.cleanupExpiredOffsets(group, now, records, consumerGroup);
      if (consumerGroup) {
        // A consumer group's offsets are held here; the group itself goes below once it is empty.
        if (consumerGroup.members.size === 0 && kept === 0 && group.pendingOffsetCommits.size === 0) {
          records.push(...this.consumerGroups.deleteGroupRecords(consumerGroup), groupMetadataTombstone(group.groupId));
          this.logger?.info(
            { group: group.groupId },
            `consumer group ${group.groupId} has no members and no offsets left; deleting it`,
          );
        }
        continue;
      }
      if (
        group.is(GroupState.Empty) &&
        kept === 0 &&
        group.pendingOffsetCommits.size === 0 &&
        group.pendingMembers.size === 0
      ) {
        this.logger?.info(
          { group: group.groupId, generation: group.generationId },
          `group ${group.groupId} has no members and no offsets left; it is now Dead`,
        );
        undo.push(this.classicGroups.beginDeletion(group));
        records.push(groupMetadataTombstone(group.groupId));
      }
    }
    for (const consumerGroup of this.consumerGroupStates.values()) {
      if (consumerGroup.members.size === 0 && !this.groups.has(consumerGroup.groupId)) {
        records.push(...this.consumerGroups.deleteGroupRecords(consumerGroup));
      }
    }
    return {
      records,
      response: undefined,
      onAppended: (errorCode) => {
        if (errorCode !== ErrorCode.NONE) for (const u of undo) u();
      },
    };
  }

  /** Runs cleanupGroupMetadata now and writes its records; resolves with NONE or the error. */
  cleanup(): Promise<number> {
    return this.context.write(this.cleanupGroupMetadata(), 'offset expiration');
  }

  private scheduleCleanup(): void {
    this.context.schedule(CLEANUP_TIMER, this.config.offsetsRetentionCheckIntervalMs, () => {
      this.cleanup()
        .catch((err: Error) => this.logger?.warn({ err: err.message }, 'offset expiration failed; retrying later'))
        .finally(() => this.scheduleCleanup());
    });
  }
}
