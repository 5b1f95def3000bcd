/**
 * The group coordinator of the classic rebalance protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and
 * the offset store (OffsetCommit/OffsetFetch/OffsetDelete), following Kafka's GroupCoordinator:
 * the same states, the same error codes in the same order of checks, the same timers.
 *
 * Nothing here blocks: a JoinGroup is parked as a callback on its member and answered when the rebalance
 * completes (all members joined, the rebalance timeout, or the initial delay); a follower's SyncGroup is
 * parked until the leader's assignment is durable. Every state worth keeping is appended to
 * `__consumer_offsets` in Kafka's record formats, and `load()` rebuilds the state from those records.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import { buildRecordBatch, type RecordInput } from '../../records/builder.js';
import { parseControlRecord } from '../../records/control.js';
import { iterateBatches, iterateRecords } from '../../records/iterate.js';
import {
  ClassicGroup,
  CONSUMER_PROTOCOL_TYPE,
  type CommittedOffset,
  GroupMember,
  type GroupProtocol,
  GroupState,
  type JoinGroupResult,
  pendingKey,
  type SyncGroupResult,
} from './classic-group.js';
import type { CoordinatorLog } from './coordinator-log.js';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './offsets-topic-records.js';
import { partitionForGroup } from './partition-for.js';
import { realTimers, type Timers } from './timers.js';

/** A new member's JoinGroup is dropped after this long if the rebalance never completes (Kafka's value). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
const LOAD_READ_BYTES = 1024 * 1024;

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
}

export interface CoordinatorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface GroupCoordinatorOptions {
  log: CoordinatorLog;
  config: GroupCoordinatorConfig;
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

function joinError(memberId: string, errorCode: number): JoinGroupResult {
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

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
}

const EMPTY = Buffer.alloc(0);

export class GroupCoordinator {
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly log: CoordinatorLog;
  private readonly config: Required<GroupCoordinatorConfig>;
  private readonly logger: CoordinatorLogger | undefined;
  private readonly timers: Timers;
  /** True until `load()` has replayed __consumer_offsets: requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS. */
  private loading = true;
  private closed = false;
  private expiryTimer: unknown = null;

  constructor(options: GroupCoordinatorOptions) {
    this.log = options.log;
    this.config = {
      offsetsRetentionCheckIntervalMs: 600_000,
      offsetMetadataMaxBytes: 4096,
      ...options.config,
    };
    this.logger = options.logger;
    this.timers = options.timers ?? realTimers(options.now);
  }

  get isLoading(): boolean {
    return this.loading;
  }

  /** The partition of `__consumer_offsets` that holds `groupId` (Kafka's `partitionFor`). */
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.log.partitionCount);
  }

  private now(): number {
    return this.timers.now();
  }

  // ── JoinGroup ─────────────────────────────────────────────────────────────────────────────────

  joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    return new Promise((resolve) => {
      // An immediate answer is returned; a parked join is answered through `resolve` later.
      const immediate = this.doJoinGroup(params, resolve);
      if (immediate) resolve(immediate);
    });
  }

  private doJoinGroup(req: JoinGroupParams, respond: (r: JoinGroupResult) => void): JoinGroupResult | undefined {
    if (req.groupId === '') return joinError(req.memberId, ErrorCode.INVALID_GROUP_ID);
    if (this.loading) return joinError(req.memberId, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (this.closed) return joinError(req.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (
      req.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const isUnknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    if (!group) {
      // Only a member without an id may create a group; a known member id in an unknown group is stale.
      if (!isUnknownMember) return joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
    }
    // A restarted static member takes its own place back: it does not count against group.max.size.
    const replacesStaticMember = req.groupInstanceId !== null && group.staticMembers.has(req.groupInstanceId);
    if (!replacesStaticMember && !this.acceptJoiningMember(group, req.memberId)) {
      const member = group.members.get(req.memberId);
      if (member) this.removeMemberAndUpdateGroup(group, member, 'the group is full (group.max.size)');
      return joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED);
    }
    const immediate = isUnknownMember
      ? this.doNewMemberJoinGroup(group, req, respond)
      : this.doCurrentMemberJoinGroup(group, req, respond);
    // A join may have been the last one the rebalance waited for.
    this.checkJoinComplete(group);
    return immediate;
  }

  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.config.maxGroupSize;
    switch (group.state) {
      case GroupState.Empty:
      case GroupState.Dead:
        return true;
      case GroupState.PreparingRebalance: {
        const member = group.members.get(memberId);
        return member?.isAwaitingJoin === true || group.numAwaitingJoin < max;
      }
      default:
        return group.has(memberId) || group.size < max;
    }
  }

  private doNewMemberJoinGroup(
    group: ClassicGroup,
    req: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): JoinGroupResult | undefined {
    if (group.is(GroupState.Dead)) return joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(req.groupInstanceId);
      if (oldMemberId === undefined) this.addMemberAndRebalance(group, newMemberId, req, respond);
      else this.updateStaticMemberAndRebalance(group, req.groupInstanceId, oldMemberId, newMemberId, req, respond);
      return;
    }
    if (req.requireKnownMemberId) {
      // KIP-394: hand out the member id first; the member joins with it in its next JoinGroup.
      this.addPendingMember(group, newMemberId, req.sessionTimeoutMs);
      return joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED);
    }
    this.addMemberAndRebalance(group, newMemberId, req, respond);
  }

  private doCurrentMemberJoinGroup(
    group: ClassicGroup,
    req: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): JoinGroupResult | undefined {
    const memberId = req.memberId;
    if (group.is(GroupState.Dead)) return joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (group.pendingMembers.has(memberId)) {
      // The second JoinGroup of the KIP-394 handshake (static members never get a pending id).
      if (req.groupInstanceId !== null) return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      this.addMemberAndRebalance(group, memberId, req, respond);
      return;
    }
    if (group.isStaticMemberFenced(req.groupInstanceId, memberId)) {
      return joinError(memberId, ErrorCode.FENCED_INSTANCE_ID);
    }
    const member = group.members.get(memberId);
    if (!member) return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    switch (group.state) {
      case GroupState.PreparingRebalance:
        this.updateMemberAndRebalance(group, member, req, respond);
        return;
      case GroupState.CompletingRebalance:
        if (member.matches(req.protocols)) {
          // A retried JoinGroup whose answer was lost: answer again with the current generation.
          return this.joinResultFor(group, member);
        }
        this.updateMemberAndRebalance(group, member, req, respond);
        return;
      case GroupState.Stable:
        // The leader rejoining, or a member with new metadata (e.g. a new subscription), forces a rebalance.
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          this.updateMemberAndRebalance(group, member, req, respond);
          return;
        }
        return this.joinResultFor(group, member);
      default:
        return joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  private joinResultFor(group: ClassicGroup, member: GroupMember): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: group.isLeader(member.memberId) ? group.currentMemberMetadata() : [],
      skipAssignment: false,
    };
  }

  private addPendingMember(group: ClassicGroup, memberId: string, sessionTimeoutMs: number): void {
    const timer = this.timers.setTimeout(() => {
      if (this.groups.get(group.groupId) !== group || !group.pendingMembers.has(memberId)) return;
      group.pendingMembers.delete(memberId);
      this.logger?.debug({ group: group.groupId, memberId }, 'pending member did not join in its session timeout');
      this.checkJoinComplete(group);
    }, sessionTimeoutMs);
    group.pendingMembers.set(memberId, timer);
  }

  private removePendingMember(group: ClassicGroup, memberId: string): void {
    const timer = group.pendingMembers.get(memberId);
    if (timer !== undefined) this.timers.clearTimeout(timer);
    group.pendingMembers.delete(memberId);
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: string,
    req: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const member = new GroupMember(
      memberId,
      req.groupInstanceId,
      req.clientId,
      req.clientHost,
      req.rebalanceTimeoutMs,
      req.sessionTimeoutMs,
      req.protocolType,
      req.protocols,
    );
    member.isNew = true;
    // A member joining during the first rebalance extends the initial delay (group.initial.rebalance.delay.ms).
    if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member);
    member.awaitingJoin = respond;
    // A parked JoinGroup cannot heartbeat, and a client that gave up will retry with a new join; so new
    // members expire on a long join timeout instead of their session timeout.
    this.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.removePendingMember(group, memberId);
    this.maybePrepareRebalance(group, `adding new member ${memberId}${req.reason ? ` (${req.reason})` : ''}`);
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    req: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    if (member.awaitingJoin) member.awaitingJoin(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.awaitingJoin = respond;
    this.maybePrepareRebalance(
      group,
      `updating metadata of member ${member.memberId}${req.reason ? ` (${req.reason})` : ''}`,
    );
  }

  /**
   * KIP-345: a static member that rejoins without its member id (a restarted client) takes over its old
   * membership under a new member id. Its previous incarnation is fenced: parked requests are answered
   * FENCED_INSTANCE_ID, and later requests with the old id get FENCED_INSTANCE_ID too.
   */
  private updateStaticMemberAndRebalance(
    group: ClassicGroup,
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
    req: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const currentLeader = group.leaderId;
    const member = group.members.get(oldMemberId)!;
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    this.invokeJoinCallback(member, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.invokeSyncCallback(member, syncError(ErrorCode.FENCED_INSTANCE_ID));
    group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.awaitingJoin = respond;
    this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    this.logger?.info({ group: group.groupId, groupInstanceId, oldMemberId, newMemberId }, 'static member rejoined');

    switch (group.state) {
      case GroupState.Stable: {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${groupInstanceId} rejoined with other protocols`);
          return;
        }
        // Same protocol: no rebalance. Persist the new member id, then answer with the current generation.
        // The old leader id is returned so that the rejoined member, even if it leads, does not compute an
        // assignment that a Stable group would never distribute.
        const generation = group.generationId;
        void this.storeGroup(group).then((error) => {
          if (error !== ErrorCode.NONE) {
            if (group.members.get(newMemberId) === member) {
              group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
              member.protocols = old.protocols;
              member.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
              member.sessionTimeoutMs = old.sessionTimeoutMs;
            }
            this.invokeJoinCallback(member, joinError('', error));
            return;
          }
          this.invokeJoinCallback(member, {
            errorCode: ErrorCode.NONE,
            generationId: generation,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leader: currentLeader ?? '',
            memberId: newMemberId,
            members: [],
            skipAssignment: false,
          });
        });
        return;
      }
      case GroupState.CompletingRebalance:
        // The leader may already hold the old member id in its assignment: rebalance again.
        this.prepareRebalance(group, `static member ${groupInstanceId} rejoined during CompletingRebalance`);
        return;
      case GroupState.PreparingRebalance:
        // The member is now awaiting join under its new id.
        return;
      default:
        throw new Error(`static member ${groupInstanceId} of group ${group.groupId} in state ${group.state}`);
    }
  }

  private invokeJoinCallback(member: GroupMember, result: JoinGroupResult): boolean {
    const callback = member.awaitingJoin;
    if (!callback) return false;
    member.awaitingJoin = null;
    callback(result);
    return true;
  }

  private invokeSyncCallback(member: GroupMember, result: SyncGroupResult): boolean {
    const callback = member.awaitingSync;
    if (!callback) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  // ── rebalancing ───────────────────────────────────────────────────────────────────────────────

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance) || group.is(GroupState.Empty)) {
      this.prepareRebalance(group, reason);
    }
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members waiting for the assignment of a generation that will not be will have to rejoin.
    if (group.is(GroupState.CompletingRebalance))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearTimer(group, 'syncTimer');
    group.pendingSyncMembers.clear();
    this.clearTimer(group, 'joinTimer');

    const wasEmpty = group.is(GroupState.Empty);
    group.transitionTo(GroupState.PreparingRebalance, this.now());
    this.logger?.info(
      { group: group.groupId, generation: group.generationId, reason },
      `preparing to rebalance group ${group.groupId}`,
    );
    if (wasEmpty) {
      // The first rebalance of an empty group waits group.initial.rebalance.delay.ms for more members,
      // and again while new members keep arriving, up to the rebalance timeout (Kafka's InitialDelayedJoin).
      const delay = this.config.initialRebalanceDelayMs;
      group.inInitialDelay = true;
      this.armInitialDelay(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      group.inInitialDelay = false;
      group.joinTimer = this.timers.setTimeout(() => {
        group.joinTimer = null;
        this.completeJoin(group);
      }, group.rebalanceTimeoutMs);
      this.checkJoinComplete(group);
    }
  }

  private armInitialDelay(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    group.joinTimer = this.timers.setTimeout(() => {
      group.joinTimer = null;
      if (this.groups.get(group.groupId) !== group) return;
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
        this.armInitialDelay(group, delay, Math.max(remainingMs - delayMs, 0));
      } else {
        group.inInitialDelay = false;
        this.completeJoin(group);
      }
    }, delayMs);
  }

  private checkJoinComplete(group: ClassicGroup): void {
    if (group.is(GroupState.PreparingRebalance) && !group.inInitialDelay && group.hasAllMembersJoined()) {
      this.completeJoin(group);
    }
  }

  /** The rebalance's join phase ends: answer every parked JoinGroup with the new generation. */
  private completeJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.PreparingRebalance) || this.groups.get(group.groupId) !== group) return;
    this.clearTimer(group, 'joinTimer');
    group.inInitialDelay = false;
    group.newMemberAdded = false;
    // Dynamic members that did not rejoin in time are gone; static ones stay until their session expires.
    for (const member of group.notYetRejoinedMembers()) {
      if (member.isStatic) continue;
      this.logger?.info(
        { group: group.groupId, memberId: member.memberId },
        'removing member that did not rejoin in time',
      );
      this.cancelHeartbeat(member);
      this.invokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(member.memberId);
    }
    if (!this.maybeElectNewJoinedLeader(group) && group.size > 0) {
      // Only static members that have not rejoined remain: wait another rebalance timeout for them.
      this.logger?.warn(
        { group: group.groupId },
        'no member rejoined the group; waiting another rebalance timeout for its static members',
      );
      group.joinTimer = this.timers.setTimeout(() => {
        group.joinTimer = null;
        this.completeJoin(group);
      }, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration(this.now());
    if (group.is(GroupState.Empty)) {
      this.logger?.info(
        { group: group.groupId, generation: group.generationId },
        `group ${group.groupId} with generation ${group.generationId} is now empty`,
      );
      void this.storeGroup(group);
      return;
    }
    this.logger?.info(
      { group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName },
      `stabilized group ${group.groupId} generation ${group.generationId} with ${group.size} members`,
    );
    for (const member of group.members.values()) {
      this.invokeJoinCallback(member, this.joinResultFor(group, member));
      this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
      member.isNew = false;
    }
    const generation = group.generationId;
    group.syncTimer = this.timers.setTimeout(() => {
      group.syncTimer = null;
      this.onPendingSyncExpired(group, generation);
    }, group.rebalanceTimeoutMs);
  }

  /** If the leader has not rejoined, any member that has becomes the leader; false if none has. */
  private maybeElectNewJoinedLeader(group: ClassicGroup): boolean {
    if (group.leaderId === null) return false;
    const leader = group.members.get(group.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of group.members.values()) {
      if (m.isAwaitingJoin) {
        group.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Members of the new generation that never sent SyncGroup within the rebalance timeout are removed. */
  private onPendingSyncExpired(group: ClassicGroup, generation: number): void {
    if (this.groups.get(group.groupId) !== group || group.generationId !== generation) return;
    if (!group.is(GroupState.CompletingRebalance) && !group.is(GroupState.Stable)) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    for (const memberId of missing) {
      const member = group.members.get(memberId);
      if (!member) continue;
      this.cancelHeartbeat(member);
      this.invokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      group.remove(memberId);
    }
    this.prepareRebalance(group, `members ${missing.join(', ')} did not send SyncGroup in time`);
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) member.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const member of group.members.values()) {
      const answered = this.invokeSyncCallback(member, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: ok ? member.assignment : EMPTY,
      });
      // A member whose session ran out while it waited was not expired (it was awaiting sync): restart its clock.
      if (answered) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.invokeJoinCallback(member, joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    this.invokeSyncCallback(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.cancelHeartbeat(member);
    group.remove(member.memberId);
    switch (group.state) {
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        this.maybePrepareRebalance(group, reason);
        break;
      case GroupState.PreparingRebalance:
        this.checkJoinComplete(group);
        break;
      default:
        break;
    }
  }

  // ── heartbeats and session timeouts ───────────────────────────────────────────────────────────

  private scheduleHeartbeat(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    this.cancelHeartbeat(member);
    member.heartbeatTimer = this.timers.setTimeout(() => {
      member.heartbeatTimer = null;
      this.onHeartbeatExpired(group, member);
    }, timeoutMs);
  }

  private cancelHeartbeat(member: GroupMember): void {
    if (member.heartbeatTimer !== null) this.timers.clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = null;
  }

  private onHeartbeatExpired(group: ClassicGroup, member: GroupMember): void {
    if (this.groups.get(group.groupId) !== group || group.members.get(member.memberId) !== member) return;
    // Members parked in a rebalance cannot heartbeat; they are judged when the rebalance completes.
    // New members are the exception: their parked join has a timeout of its own.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.logger?.info(
      { group: group.groupId, memberId: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs },
      `member ${member.memberId} in group ${group.groupId} has failed (no heartbeat within its session timeout); removing it`,
    );
    this.removeMemberAndUpdateGroup(group, member, `removing member ${member.memberId} on heartbeat expiration`);
  }

  heartbeat(req: HeartbeatParams): number {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const group = this.groups.get(req.groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(req.memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.Empty:
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PreparingRebalance:
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        // CompletingRebalance: a member may heartbeat between its JoinGroup answer and its SyncGroup.
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
    }
  }

  // ── SyncGroup ─────────────────────────────────────────────────────────────────────────────────

  syncGroup(req: SyncGroupParams): Promise<SyncGroupResult> {
    return new Promise((resolve) => {
      const immediate = this.doSyncGroup(req, resolve);
      if (immediate) resolve(immediate);
    });
  }

  private doSyncGroup(req: SyncGroupParams, respond: (r: SyncGroupResult) => void): SyncGroupResult | undefined {
    if (req.groupId === '') return syncError(ErrorCode.INVALID_GROUP_ID);
    if (this.loading) return syncError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    const group = this.groups.get(req.groupId);
    if (!group) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is(GroupState.Dead)) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return syncError(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(req.memberId);
    if (!member) return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    // SyncGroup v5+ names the protocol the member believes in; it must be the group's.
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocolName)
    ) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case GroupState.Empty:
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
      case GroupState.PreparingRebalance:
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case GroupState.CompletingRebalance: {
        this.invokeSyncCallback(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.markSynced(group, member.memberId);
        if (!group.isLeader(member.memberId)) return;
        // The leader's assignment: members it left out get an empty one. It is stored before anyone sees it.
        const assignments = new Map<string, Buffer>();
        for (const a of req.assignments)
          if (group.has(a.memberId)) assignments.set(a.memberId, Buffer.from(a.assignment));
        for (const id of group.members.keys()) if (!assignments.has(id)) assignments.set(id, EMPTY);
        const generation = group.generationId;
        void this.storeGroup(group, assignments).then((error) => {
          if (
            this.groups.get(group.groupId) !== group ||
            !group.is(GroupState.CompletingRebalance) ||
            group.generationId !== generation
          ) {
            return;
          }
          if (error !== ErrorCode.NONE) {
            this.resetAndPropagateAssignmentError(group, error);
            this.maybePrepareRebalance(group, `failed to store the assignment of generation ${generation}`);
            return;
          }
          for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
          this.propagateAssignment(group, ErrorCode.NONE);
          group.transitionTo(GroupState.Stable, this.now());
        });
        return;
      }
      case GroupState.Stable:
        this.markSynced(group, member.memberId);
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return {
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        };
      default:
        return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  private markSynced(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearTimer(group, 'syncTimer');
  }

  // ── LeaveGroup ────────────────────────────────────────────────────────────────────────────────

  leaveGroup(groupId: string, leaving: LeaveGroupMember[]): LeaveGroupResult {
    const echo = (m: LeaveGroupMember, errorCode: number) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    if (this.loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, members: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => echo(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results = leaving.map((m) => {
      let memberId = m.memberId;
      if (m.groupInstanceId !== null) {
        const registered = group.staticMembers.get(m.groupInstanceId);
        if (registered === undefined) return echo(m, ErrorCode.UNKNOWN_MEMBER_ID);
        if (memberId !== '' && registered !== memberId) return echo(m, ErrorCode.FENCED_INSTANCE_ID);
        memberId = registered;
      }
      if (group.pendingMembers.has(memberId)) {
        this.removePendingMember(group, memberId);
        this.checkJoinComplete(group);
        return echo(m, ErrorCode.NONE);
      }
      const member = group.members.get(memberId);
      if (!member) return echo(m, ErrorCode.UNKNOWN_MEMBER_ID);
      this.logger?.info(
        { group: groupId, memberId, reason: m.reason ?? undefined },
        `member ${memberId} is leaving group ${groupId}`,
      );
      this.removeMemberAndUpdateGroup(group, member, `removing member ${memberId} on LeaveGroup`);
      return echo(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ── offsets ───────────────────────────────────────────────────────────────────────────────────

  /** Errors per entry of `req.offsets`, in order; resolves once the accepted offsets are durable. */
  async commitOffsets(req: OffsetCommitParams): Promise<number[]> {
    const all = (code: number) => req.offsets.map(() => code);
    if (this.loading) return all(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    let group = this.groups.get(req.groupId);
    if (!group) {
      // Without a generation the commit comes from a consumer that manages its own partitions (or an admin
      // tool): the group exists only to hold offsets. With one, the group it belonged to is gone.
      if (req.generationId >= 0) return all(req.unknownGroupError ?? ErrorCode.ILLEGAL_GENERATION);
      group = new ClassicGroup(req.groupId, this.now());
      this.groups.set(req.groupId, group);
    }
    const error = this.validateOffsetCommit(group, req);
    if (error !== ErrorCode.NONE) return all(error);
    const member = group.members.get(req.memberId);
    if (member) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);

    const now = this.now();
    const errors = all(ErrorCode.NONE);
    const accepted: Array<{ index: number; entry: OffsetCommitEntry; committed: CommittedOffset }> = [];
    req.offsets.forEach((entry, index) => {
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
    if (accepted.length === 0) return errors;

    const records: RecordInput[] = accepted.map(({ entry, committed }) => ({
      key: encodeOffsetCommitKey(req.groupId, entry.topic, entry.partition),
      value: encodeOffsetCommitValue({
        offset: committed.offset,
        leaderEpoch: committed.leaderEpoch,
        metadata: committed.metadata,
        commitTimestamp: BigInt(committed.commitTimestamp),
        expireTimestamp: BigInt(committed.expireTimestamp),
      }),
      timestamp: now,
    }));
    const keys = accepted.map(({ entry }) => pendingKey(entry.topic, entry.partition));
    for (const k of keys) group.pendingOffsetCommits.set(k, (group.pendingOffsetCommits.get(k) ?? 0) + 1);
    const stored = await this.append(req.groupId, records, 'offset commit');
    for (const k of keys) {
      const n = (group.pendingOffsetCommits.get(k) ?? 1) - 1;
      if (n <= 0) group.pendingOffsetCommits.delete(k);
      else group.pendingOffsetCommits.set(k, n);
    }
    if (stored !== ErrorCode.NONE) {
      for (const a of accepted) errors[a.index] = stored;
      return errors;
    }
    // A group deleted while the commit was in flight stays deleted: its tombstones follow this commit in the log.
    if (!group.is(GroupState.Dead)) {
      for (const { entry, committed } of accepted) group.setOffset(entry.topic, entry.partition, committed);
    }
    return errors;
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
    const unknown = (partition: number, errorCode: number = ErrorCode.NONE): FetchedPartition => ({
      partition,
      offset: -1n,
      leaderEpoch: -1,
      metadata: '',
      errorCode,
    });
    if (this.loading) {
      const code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      return {
        errorCode: code,
        topics: (topics ?? []).map((t) => ({ name: t.name, partitions: t.partitions.map((p) => unknown(p, code)) })),
      };
    }
    const group = this.groups.get(groupId);
    const answer = (topic: string, partition: number): FetchedPartition => {
      if (!group || group.is(GroupState.Dead)) return unknown(partition);
      if (requireStable && group.hasPendingOffsetCommit(topic, partition)) {
        return unknown(partition, ErrorCode.UNSTABLE_OFFSET_COMMIT);
      }
      const committed = group.offset(topic, partition);
      if (!committed) return unknown(partition);
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
  async deleteOffsets(
    groupId: string,
    topics: Array<{ name: string; partitions: number[] }>,
  ): Promise<OffsetDeleteResult> {
    if (this.loading) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, topics: [] };
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const hasMembers = !group.is(GroupState.Empty);
    if (hasMembers && group.protocolType !== CONSUMER_PROTOCOL_TYPE) {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    }
    const result: OffsetDeleteResult = {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p,
          errorCode:
            hasMembers && group.isSubscribedToTopic(t.name) ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : ErrorCode.NONE,
        })),
      })),
    };
    const doomed: Array<{ topic: string; partition: number; errorRef: { errorCode: number } }> = [];
    for (const t of result.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) continue;
        if (group.offset(t.name, p.partition) || group.hasPendingOffsetCommit(t.name, p.partition)) {
          doomed.push({ topic: t.name, partition: p.partition, errorRef: p });
        }
      }
    }
    if (doomed.length === 0) return result;
    const stored = await this.append(
      groupId,
      doomed.map((d) => ({ key: encodeOffsetCommitKey(groupId, d.topic, d.partition), value: null })),
      'offset deletion',
    );
    if (stored !== ErrorCode.NONE) {
      for (const d of doomed) d.errorRef.errorCode = stored;
      return result;
    }
    for (const d of doomed) group.removeOffset(d.topic, d.partition);
    return result;
  }

  // ── admin views ───────────────────────────────────────────────────────────────────────────────

  describeGroup(groupId: string): DescribedGroup {
    const base = { groupId, protocolType: '', protocolData: '', members: [] };
    if (this.loading) return { ...base, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groupState: '' };
    const group = this.groups.get(groupId);
    // Kafka describes an unknown group as a Dead one, without an error (DescribeGroups v0–v5).
    if (!group) return { ...base, errorCode: ErrorCode.NONE, groupState: GroupState.Dead };
    const stable = group.is(GroupState.Stable) && group.protocolName !== null;
    const protocol = group.protocolName;
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      // Member metadata is only meaningful once a generation is Stable; Kafka describes a member's last
      // assignment in every state (during a rebalance it is what the member still consumes).
      protocolData: stable ? protocol! : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadataFor(protocol!) : EMPTY,
        memberAssignment: m.assignment,
      })),
    };
  }

  /** Every live group; `statesFilter` (ListGroups v4+) and `typesFilter` (v5+) match case-insensitively. */
  listGroups(statesFilter: string[] = [], typesFilter: string[] = []): { errorCode: number; groups: ListedGroup[] } {
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.toLowerCase()));
    const groups: ListedGroup[] = [];
    if (types.size === 0 || types.has('classic')) {
      for (const group of this.groups.values()) {
        if (group.is(GroupState.Dead)) continue;
        if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
        groups.push({
          groupId: group.groupId,
          protocolType: group.protocolType ?? '',
          groupState: group.state,
          groupType: 'classic',
        });
      }
    }
    return { errorCode: this.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE, groups };
  }

  /** DeleteGroups: only groups without members; their offsets and metadata get tombstones. */
  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    return Promise.all(groupIds.map(async (groupId) => ({ groupId, errorCode: await this.deleteGroup(groupId) })));
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (this.loading) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const group = this.groups.get(groupId);
    if (!group || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
    const records = this.removeGroup(group);
    this.logger?.info({ group: groupId }, `deleting group ${groupId}`);
    return this.append(groupId, records, 'group deletion');
  }

  /** Marks a group Dead and forgets it; returns the tombstones for its offsets (pending ones too) and itself. */
  private removeGroup(group: ClassicGroup): RecordInput[] {
    group.transitionTo(GroupState.Dead, this.now());
    this.clearTimer(group, 'joinTimer');
    this.clearTimer(group, 'syncTimer');
    for (const timer of group.pendingMembers.values()) this.timers.clearTimeout(timer);
    group.pendingMembers.clear();
    this.groups.delete(group.groupId);
    const records: RecordInput[] = [];
    const seen = new Set<string>();
    for (const { topic, partition } of group.allOffsets()) {
      seen.add(pendingKey(topic, partition));
      records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
    }
    for (const k of group.pendingOffsetCommits.keys()) {
      if (seen.has(k)) continue;
      const [topic, partition] = k.split('\u0000');
      records.push({ key: encodeOffsetCommitKey(group.groupId, topic, Number(partition)), value: null });
    }
    group.offsets.clear();
    records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
    return records;
  }

  // ── offsets retention ─────────────────────────────────────────────────────────────────────────

  /**
   * Expires committed offsets as Kafka does (KIP-211): in an Empty group, once offsets.retention.minutes
   * have passed since the group became Empty; in a group without a protocol (offsets only), since each
   * commit; in a Stable consumer group, offsets of topics no member subscribes to, since each commit.
   * A commit with its own retention time (OffsetCommit v2–v4) expires at its expire timestamp. An Empty
   * group left without offsets is deleted.
   */
  async expireOffsets(): Promise<void> {
    if (this.loading || this.closed) return;
    const now = this.now();
    const retention = this.config.offsetsRetentionMs;
    const appends: Array<Promise<number>> = [];
    for (const group of [...this.groups.values()]) {
      const records: RecordInput[] = [];
      const protocolType = group.protocolType === '' ? null : group.protocolType;
      let baseOf: ((c: CommittedOffset) => number) | null = null;
      let onlyUnsubscribed = false;
      if (protocolType !== null && group.is(GroupState.Empty)) {
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
      if (baseOf !== null) {
        for (const { topic, partition, committed } of [...group.allOffsets()]) {
          if (onlyUnsubscribed && group.subscribedTopics!.has(topic)) continue;
          if (group.hasPendingOffsetCommit(topic, partition)) continue;
          const expired =
            committed.expireTimestamp >= 0 ? now >= committed.expireTimestamp : now - baseOf(committed) >= retention;
          if (!expired) continue;
          group.removeOffset(topic, partition);
          records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
        }
      }
      if (records.length > 0) {
        this.logger?.info({ group: group.groupId, offsets: records.length }, 'removed expired offsets');
      }
      if (group.is(GroupState.Empty) && !group.hasOffsets && group.pendingMembers.size === 0) {
        this.logger?.info(
          { group: group.groupId, generation: group.generationId },
          `group ${group.groupId} has no members and no offsets left; it is now Dead`,
        );
        records.push(...this.removeGroup(group));
      }
      if (records.length > 0) appends.push(this.append(group.groupId, records, 'offset expiration'));
    }
    await Promise.all(appends);
  }

  private scheduleExpiry(): void {
    if (this.closed) return;
    this.expiryTimer = this.timers.setTimeout(() => {
      this.expiryTimer = null;
      this.expireOffsets()
        .catch((err: Error) => this.logger?.warn({ err: err.message }, 'offset expiration failed; retrying later'))
        .finally(() => this.scheduleExpiry());
    }, this.config.offsetsRetentionCheckIntervalMs);
  }

  // ── persistence ───────────────────────────────────────────────────────────────────────────────

  /** Appends the group's metadata (Kafka's GroupMetadataValue); resolves with NONE or the error to answer. */
  private storeGroup(group: ClassicGroup, assignments?: Map<string, Buffer>): Promise<number> {
    const value = encodeGroupMetadataValue(group.toMetadataValue(assignments));
    return this.append(group.groupId, [{ key: encodeGroupMetadataKey(group.groupId), value }], 'group metadata');
  }

  private async append(groupId: string, records: RecordInput[], what: string): Promise<number> {
    const partition = this.partitionFor(groupId);
    const now = this.now();
    const batch = buildRecordBatch(records.map((r) => ({ ...r, timestamp: r.timestamp ?? now })));
    try {
      await this.log.append(partition, batch);
      return ErrorCode.NONE;
    } catch (err) {
      this.logger?.warn(
        { group: groupId, partition, err: (err as Error).message },
        `could not write ${what} to __consumer_offsets-${partition}; the client will retry — check the broker's log directory (disk full or read-only?)`,
      );
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  /** Rebuilds every group and offset by replaying the partitions of `__consumer_offsets`. */
  async load(): Promise<void> {
    this.loading = true;
    const started = Date.now();
    const state = new ReplayState();
    try {
      for (let p = 0; p < this.log.partitionCount; p++) await this.loadPartition(p, state);
    } finally {
      this.loading = false;
    }
    for (const group of state.build(this.now())) {
      this.groups.set(group.groupId, group);
      for (const member of group.members.values()) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
    this.logger?.info(
      { groups: this.groups.size, records: state.records, skipped: state.skipped, ms: Date.now() - started },
      `loaded ${this.groups.size} groups from __consumer_offsets`,
    );
    if (this.expiryTimer === null) this.scheduleExpiry();
  }

  private async loadPartition(partition: number, state: ReplayState): Promise<void> {
    let offset = 0n;
    for (;;) {
      const { records, highWatermark } = await this.log.read(partition, offset, LOAD_READ_BYTES);
      if (records.length === 0) break;
      let next = offset;
      try {
        for (const info of iterateBatches(records)) {
          next = info.baseOffset + BigInt(info.lastOffsetDelta) + 1n;
          if (info.baseOffset + BigInt(info.lastOffsetDelta) < offset) continue;
          for (const record of iterateRecords(records, info.position)) {
            if (record.offset < offset) continue;
            try {
              if (info.isControl) state.applyControl(info.producerId, record.key, record.value);
              else state.apply(record.key, record.value, info.isTransactional ? info.producerId : null);
            } catch (err) {
              // One record this coordinator cannot read (written by something else) must not hide the rest.
              state.skipped++;
              if (state.skipped <= 10) {
                this.logger?.warn(
                  { partition, offset: String(record.offset), err: (err as Error).message },
                  `skipping an unreadable record in __consumer_offsets-${partition}`,
                );
              }
            }
          }
        }
      } catch (err) {
        this.logger?.warn(
          { partition, offset: String(next), err: (err as Error).message },
          `unreadable batch in __consumer_offsets-${partition}; loading stops there for this partition`,
        );
        break;
      }
      if (next <= offset || next >= highWatermark) break;
      offset = next;
    }
  }

  /** Stops every timer and answers parked requests, so clients look for the coordinator again. */
  close(): void {
    this.closed = true;
    if (this.expiryTimer !== null) this.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    for (const group of this.groups.values()) {
      this.clearTimer(group, 'joinTimer');
      this.clearTimer(group, 'syncTimer');
      for (const timer of group.pendingMembers.values()) this.timers.clearTimeout(timer);
      for (const member of group.members.values()) {
        this.cancelHeartbeat(member);
        this.invokeJoinCallback(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        this.invokeSyncCallback(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  private clearTimer(group: ClassicGroup, which: 'joinTimer' | 'syncTimer'): void {
    if (group[which] !== null) this.timers.clearTimeout(group[which]);
    group[which] = null;
  }

  /**
   * Starts a rebalance of a group with members, as a joining or leaving member would: every member learns
   * it from its next heartbeat (REBALANCE_IN_PROGRESS) and rejoins. Resolves once the rebalance has begun;
   * a no-op for an unknown group or one without members. For fault injection in tests.
   */
  async forceRebalance(groupId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (!group || this.loading) return;
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance)) {
      this.prepareRebalance(group, 'rebalance forced by the operator');
    }
  }

  // ── views for tests, the console and the CLI ──────────────────────────────────────────────────

  /** The group as it is now (read-only use), or undefined. */
  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }
}

/** The state replay builds before it becomes groups: Kafka's loadGroupsForPartition, in short. */
class ReplayState {
  records = 0;
  skipped = 0;
  readonly offsets = new Map<string, Map<string, CommittedOffset & { topic: string; partition: number }>>();
  readonly metadata = new Map<string, GroupMetadataValue>();
  /** Transactional offset commits waiting for their COMMIT or ABORT marker, per producer id. */
  private readonly pendingTxn = new Map<bigint, Array<{ key: Buffer; value: Buffer | null }>>();

  apply(key: Buffer | null, value: Buffer | null, transactionalProducerId: bigint | null): void {
    if (key === null) return;
    this.records++;
    if (transactionalProducerId !== null) {
      let list = this.pendingTxn.get(transactionalProducerId);
      if (!list) this.pendingTxn.set(transactionalProducerId, (list = []));
      list.push({ key, value });
      return;
    }
    const decoded = decodeOffsetsTopicKey(key);
    if (decoded === null) return;
    if (decoded.type === 'offset') {
      let group = this.offsets.get(decoded.group);
      const k = pendingKey(decoded.topic, decoded.partition);
      if (value === null) {
        group?.delete(k);
        return;
      }
      if (!group) this.offsets.set(decoded.group, (group = new Map()));
      const v = decodeOffsetCommitValue(value);
      group.set(k, {
        topic: decoded.topic,
        partition: decoded.partition,
        offset: v.offset,
        leaderEpoch: v.leaderEpoch,
        metadata: v.metadata,
        commitTimestamp: Number(v.commitTimestamp),
        expireTimestamp: Number(v.expireTimestamp),
      });
    } else if (value === null) {
      this.metadata.delete(decoded.group);
    } else {
      this.metadata.set(decoded.group, decodeGroupMetadataValue(value));
    }
  }

  applyControl(producerId: bigint, key: Buffer | null, value: Buffer | null): void {
    const marker = parseControlRecord(key, value);
    const pending = this.pendingTxn.get(producerId);
    if (marker.type !== 'COMMIT' && marker.type !== 'ABORT') return;
    this.pendingTxn.delete(producerId);
    if (marker.type === 'COMMIT' && pending) for (const r of pending) this.apply(r.key, r.value, null);
  }

  build(now: number): ClassicGroup[] {
    const ids = new Set([...this.metadata.keys(), ...[...this.offsets].filter(([, o]) => o.size > 0).map(([g]) => g)]);
    const groups: ClassicGroup[] = [];
    for (const groupId of ids) {
      const group = new ClassicGroup(groupId, now);
      const meta = this.metadata.get(groupId);
      if (meta) {
        group.generationId = meta.generation;
        group.protocolType = meta.protocolType === '' ? null : meta.protocolType;
        group.currentStateTimestamp = meta.currentStateTimestamp >= 0n ? Number(meta.currentStateTimestamp) : null;
        if (meta.members.length > 0 && meta.protocol !== null) {
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
        } else {
          group.state = GroupState.Empty;
        }
      }
      for (const o of this.offsets.get(groupId)?.values() ?? []) {
        const { topic, partition, ...committed } = o;
        group.setOffset(topic, partition, committed);
      }
      groups.push(group);
    }
    return groups;
  }
}
