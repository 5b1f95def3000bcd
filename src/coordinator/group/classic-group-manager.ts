/**
 * Membership and rebalancing of classic groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), after
 * Kafka's GroupMetadataManager for classic groups: the same states, the same error codes in the same order
 * of checks, the same timers.
 *
 * Nothing here blocks: a JoinGroup is parked as a callback on its member and answered when the rebalance
 * completes (all members joined, the rebalance timeout, or the initial delay); a follower's SyncGroup is
 * parked until the leader's assignment is durable. Membership is soft state changed here directly; the
 * group's metadata is written to `__consumer_offsets` to make it durable (`replayRecords: false`, as Kafka
 * does) and group-replay.ts rebuilds it at load. The entry point (group-coordinator.ts) has already checked
 * the group id and that the group's shard is loaded.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ShardContext } from '../runtime/coordinator-runtime.js';
import { ClassicGroup, GroupMember, GroupState, type JoinGroupResult, type SyncGroupResult } from './classic-group.js';
import { groupMetadataRecord } from './offsets-topic-records.js';
import {
  type CoordinatorLogger,
  type DescribedGroup,
  type GroupCoordinatorConfig,
  type HeartbeatParams,
  type JoinGroupParams,
  joinError,
  type LeaveGroupMember,
  type LeaveGroupResult,
  type ListedGroup,
  type SyncGroupParams,
  syncError,
} from './types.js';

/** A new member's JoinGroup is dropped after this long if the rebalance never completes (Kafka's value). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

const EMPTY = Buffer.alloc(0);

export class ClassicGroupManager {
  private readonly timers: ShardContext['timers'];

  constructor(
    private readonly groups: Map<string, ClassicGroup>,
    private readonly context: ShardContext,
    private readonly config: Required<GroupCoordinatorConfig>,
    private readonly logger: CoordinatorLogger | undefined,
  ) {
    this.timers = context.timers;
  }

  private now(): number {
    return this.timers.now();
  }

  // ── JoinGroup ─────────────────────────────────────────────────────────────────────────────────

  /** Answers at once (the result), or parks the join and answers through `respond` later (undefined). */
  joinGroup(req: JoinGroupParams, respond: (r: JoinGroupResult) => void): JoinGroupResult | undefined {
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

  scheduleHeartbeat(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
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

  /** Answers at once (the result), or parks the SyncGroup and answers through `respond` later (undefined). */
  syncGroup(req: SyncGroupParams, respond: (r: SyncGroupResult) => void): SyncGroupResult | undefined {
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

  // ── admin views ───────────────────────────────────────────────────────────────────────────────

  describeGroup(groupId: string): DescribedGroup {
    const base = { groupId, protocolType: '', protocolData: '', members: [] };
    const group = this.groups.get(groupId);
    // Kafka describes an unknown group as a Dead one, without an error (DescribeGroups v0–v5); a group
    // whose deletion is being written is already as good as unknown.
    if (!group || group.is(GroupState.Dead)) return { ...base, errorCode: ErrorCode.NONE, groupState: GroupState.Dead };
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

  /** Every live group of this shard; `states` and `types` are lower case, empty for all. */
  listGroups(states: Set<string>, types: Set<string>, groups: ListedGroup[]): void {
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
  }

  private clearTimer(group: ClassicGroup, which: 'joinTimer' | 'syncTimer'): void {
    if (group[which] !== null) this.timers.clearTimeout(group[which]);
    group[which] = null;
  }

  /**
   * Starts a rebalance of a group with members, as a joining or leaving member would: every member learns
   * it from its next heartbeat (REBALANCE_IN_PROGRESS) and rejoins. A no-op for an unknown group or one without members. For fault injection in tests.
   */
  forceRebalance(groupId: string): void {
    const group = this.groups.get(groupId);
    if (!group) return;
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance)) {
      this.prepareRebalance(group, 'rebalance forced by the operator');
    }
  }

  // ── persistence, loading and unloading ───────────────────────────────────────────────────────

  /**
   * Writes the group's metadata (Kafka's GroupMetadataValue); resolves with NONE or the error to answer.
   * Membership already changed in memory, so the record is not replayed (Kafka's `replayRecords: false`).
   */
  private storeGroup(group: ClassicGroup, assignments?: Map<string, Buffer>): Promise<number> {
    return this.context.write(
      {
        records: [groupMetadataRecord(group.groupId, group.toMetadataValue(assignments))],
        response: undefined,
        replayRecords: false,
      },
      'group metadata',
      { group: group.groupId },
    );
  }

  /**
   * Marks an Empty group Dead while the tombstones that delete it are written: requests for it answer as
   * for a Dead group, and the tombstone's replay then forgets it. Returns how to bring the group back if
   * the tombstones could not be written, so memory keeps agreeing with the log.
   */
  beginDeletion(group: ClassicGroup): () => void {
    const { state, currentStateTimestamp } = group;
    group.transitionTo(GroupState.Dead, this.now());
    this.clearTimer(group, 'joinTimer');
    this.clearTimer(group, 'syncTimer');
    for (const timer of group.pendingMembers.values()) this.timers.clearTimeout(timer);
    group.pendingMembers.clear();
    return () => {
      if (this.groups.get(group.groupId) !== group || !group.is(GroupState.Dead)) return;
      group.state = state;
      group.currentStateTimestamp = currentStateTimestamp;
    };
  }

  /** Replayed Stable members get a session timeout, as if they had just heartbeated. */
  onLoaded(): void {
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  /**
   * The shard is leaving: stop every timer and answer parked requests with NOT_COORDINATOR, so clients look
   * for the coordinator again (Kafka's onUnloaded). The groups are then Dead to any late callback.
   */
  onUnloaded(): void {
    for (const group of this.groups.values()) {
      this.clearTimer(group, 'joinTimer');
      this.clearTimer(group, 'syncTimer');
      for (const timer of group.pendingMembers.values()) this.timers.clearTimeout(timer);
      for (const member of group.members.values()) {
        this.cancelHeartbeat(member);
        this.invokeJoinCallback(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        this.invokeSyncCallback(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
      group.transitionTo(GroupState.Dead, this.now());
    }
    this.groups.clear();
  }
}
