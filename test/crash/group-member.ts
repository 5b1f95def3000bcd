/**
 * A consumer group member on Kafka's classic protocol over one WireClient: FindCoordinator, JoinGroup (with
 * the KIP-394 member id handshake), SyncGroup as the leader with Java's range assignor, Heartbeat,
 * OffsetCommit with its generation, OffsetFetch and LeaveGroup. Unlike src/client's GroupConsumer it
 * neither retries nor commits on its own: every commit answers with the broker's error code per partition,
 * so the crash cycles know exactly which commits were acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeAssignment } from '../../src/client/admin.js';
import { encodeAssignment, encodeSubscription, rangeAssign } from '../../src/client/group-consumer.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { OffsetCommitApi } from '../../src/protocol/generated/08-offset-commit.js';
import { OffsetFetchApi } from '../../src/protocol/generated/09-offset-fetch.js';
import { FindCoordinatorApi } from '../../src/protocol/generated/10-find-coordinator.js';
import { JoinGroupApi } from '../../src/protocol/generated/11-join-group.js';
import { HeartbeatApi } from '../../src/protocol/generated/12-heartbeat.js';
import { LeaveGroupApi } from '../../src/protocol/generated/13-leave-group.js';
import { SyncGroupApi } from '../../src/protocol/generated/14-sync-group.js';
import type { WireClient } from './wire-client.js';

const OFFSET_COMMIT_VERSION = 9;
const OFFSET_FETCH_VERSION = 9;
const FIND_COORDINATOR_VERSION = 4;
const JOIN_GROUP_VERSION = 9;
const HEARTBEAT_VERSION = 4;
const LEAVE_GROUP_VERSION = 5;
const SYNC_GROUP_VERSION = 5;

/** Answers a real consumer waits out and asks again after. */
const RETRIABLE = new Set<number>([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

export class GroupProtocolError extends Error {
  override name = 'GroupProtocolError';
}

/**
 * The committed offsets of a group for partitions 0..partitions-1 of `topic` (-1 where none), asked as
 * an admin would (no member id); waits while the coordinator is still loading __consumer_offsets.
 */
export async function fetchCommittedOffsets(
  client: WireClient,
  groupId: string,
  topic: string,
  partitions: number,
  timeoutMs = 30_000,
): Promise<bigint[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const req = OffsetFetchApi.defaultRequest();
    req.requireStable = false;
    req.groups = [
      {
        groupId,
        memberId: null,
        memberEpoch: -1,
        topics: [{ name: topic, partitionIndexes: Array.from({ length: partitions }, (_, p) => p) }],
      },
    ];
    const res = await client.request(OffsetFetchApi, OFFSET_FETCH_VERSION, req);
    const group = res.groups[0];
    const codes = [group?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR];
    for (const t of group?.topics ?? []) for (const p of t.partitions) codes.push(p.errorCode);
    const error = codes.find((c) => c !== ErrorCode.NONE);
    if (error === undefined) {
      const out: bigint[] = Array.from({ length: partitions }, () => -1n);
      for (const t of group!.topics) for (const p of t.partitions) out[p.partitionIndex] = p.committedOffset;
      return out;
    }
    if (!RETRIABLE.has(error) || Date.now() > until) {
      throw new GroupProtocolError(`OffsetFetch of group ${groupId}: ${ErrorCode[error]}`);
    }
    await sleep(50);
  }
}

export interface GroupMemberOptions {
  groupId: string;
  topic: string;
  partitions: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
}

export class GroupMember {
  memberId = '';
  generationId = -1;
  /** Partitions of `topic` this member was assigned at its last SyncGroup. */
  assignment: number[] = [];
  readonly groupId: string;
  private readonly o: Required<GroupMemberOptions>;

  constructor(
    private readonly client: WireClient,
    options: GroupMemberOptions,
  ) {
    this.o = { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, ...options };
    this.groupId = options.groupId;
  }

  /**
   * Joins the group (as `memberId` when set: a member rejoining after its coordinator restarted) and syncs.
   * Waits out a coordinator that is loading or rebalancing; any other error answer throws.
   */
  async join(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = 'nothing';
    for (;;) {
      if (Date.now() > until) {
        throw new GroupProtocolError(`could not join group ${this.groupId} in ${timeoutMs} ms; last answer ${last}`);
      }
      const found = await this.client.request(FindCoordinatorApi, FIND_COORDINATOR_VERSION, {
        ...FindCoordinatorApi.defaultRequest(),
        keyType: 0,
        coordinatorKeys: [this.groupId],
      });
      const coordinator = found.coordinators[0];
      if (!coordinator || coordinator.errorCode !== ErrorCode.NONE) {
        const code = coordinator?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (!RETRIABLE.has(code)) throw new GroupProtocolError(`FindCoordinator ${this.groupId}: ${ErrorCode[code]}`);
        last = `FindCoordinator ${ErrorCode[code]}`;
        await sleep(50);
        continue;
      }

      const joined = await this.client.request(JoinGroupApi, JOIN_GROUP_VERSION, {
        groupId: this.groupId,
        sessionTimeoutMs: this.o.sessionTimeoutMs,
        rebalanceTimeoutMs: this.o.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: encodeSubscription([this.o.topic]) }],
        reason: 'crash cycle',
      });
      last = `JoinGroup ${ErrorCode[joined.errorCode]}`;
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the first JoinGroup only hands out the member id; join again with it.
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (RETRIABLE.has(joined.errorCode)) {
        await sleep(50);
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE) throw new GroupProtocolError(`JoinGroup ${this.groupId}: ${last}`);
      this.memberId = joined.memberId;
      const generationId = joined.generationId;
      const assignments =
        joined.leader === joined.memberId
          ? [
              ...rangeAssign(
                joined.members.map((m) => ({ memberId: m.memberId, topics: [this.o.topic] })),
                new Map([[this.o.topic, this.o.partitions]]),
              ),
            ].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment(partitions) }))
          : [];

      const synced = await this.client.request(SyncGroupApi, SYNC_GROUP_VERSION, {
        groupId: this.groupId,
        generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: joined.protocolName ?? 'range',
        assignments,
      });
      last = `SyncGroup ${ErrorCode[synced.errorCode]}`;
      if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (synced.errorCode === ErrorCode.ILLEGAL_GENERATION || RETRIABLE.has(synced.errorCode)) continue;
      if (synced.errorCode !== ErrorCode.NONE) throw new GroupProtocolError(`SyncGroup ${this.groupId}: ${last}`);
      this.generationId = generationId;
      this.assignment = decodeAssignment(synced.assignment)
        .filter((a) => a.topic === this.o.topic)
        .flatMap((a) => a.partitions)
        .sort((a, b) => a - b);
      return;
    }
  }

  async heartbeat(): Promise<ErrorCode> {
    const res = await this.client.request(HeartbeatApi, HEARTBEAT_VERSION, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    return res.errorCode as ErrorCode;
  }

  /** Commits `offset` (the next offset to consume) per partition with this member's generation. */
  async commit(offsets: Map<number, bigint>): Promise<Map<number, ErrorCode>> {
    const req = OffsetCommitApi.defaultRequest();
    req.groupId = this.groupId;
    req.generationIdOrMemberEpoch = this.generationId;
    req.memberId = this.memberId;
    req.groupInstanceId = null;
    req.topics = [
      {
        name: this.o.topic,
        partitions: [...offsets].map(([partitionIndex, committedOffset]) => ({
          partitionIndex,
          committedOffset,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: '',
        })),
      },
    ];
    const res = await this.client.request(OffsetCommitApi, OFFSET_COMMIT_VERSION, req);
    const out = new Map<number, ErrorCode>();
    for (const t of res.topics) for (const p of t.partitions) out.set(p.partitionIndex, p.errorCode as ErrorCode);
    for (const partition of offsets.keys()) {
      if (!out.has(partition)) throw new GroupProtocolError(`OffsetCommit answered nothing for partition ${partition}`);
    }
    return out;
  }

  committed(): Promise<bigint[]> {
    return fetchCommittedOffsets(this.client, this.groupId, this.o.topic, this.o.partitions);
  }

  async leave(): Promise<ErrorCode> {
    const res = await this.client.request(LeaveGroupApi, LEAVE_GROUP_VERSION, {
      groupId: this.groupId,
      memberId: '',
      members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'crash cycles done' }],
    });
    const code = res.errorCode !== ErrorCode.NONE ? res.errorCode : (res.members[0]?.errorCode ?? ErrorCode.NONE);
    this.memberId = '';
    this.generationId = -1;
    return code as ErrorCode;
  }
}
