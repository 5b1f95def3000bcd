/**
 * Differential conformance of the classic consumer group protocol and committed offsets: FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, OffsetCommit,
 * OffsetFetch and OffsetDelete, including unknown members, wrong generations and rebalances in progress.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { OffsetCommitApi, type OffsetCommitRequest } from '../../src/protocol/generated/08-offset-commit.js';
import { OffsetFetchApi, type OffsetFetchRequest } from '../../src/protocol/generated/09-offset-fetch.js';
import { FindCoordinatorApi } from '../../src/protocol/generated/10-find-coordinator.js';
import { JoinGroupApi, type JoinGroupRequest } from '../../src/protocol/generated/11-join-group.js';
import { HeartbeatApi } from '../../src/protocol/generated/12-heartbeat.js';
import { LeaveGroupApi } from '../../src/protocol/generated/13-leave-group.js';
import { SyncGroupApi } from '../../src/protocol/generated/14-sync-group.js';
import { DescribeGroupsApi, type DescribeGroupsResponse } from '../../src/protocol/generated/15-describe-groups.js';
import { ListGroupsApi, type ListGroupsResponse } from '../../src/protocol/generated/16-list-groups.js';
import { DeleteGroupsApi } from '../../src/protocol/generated/42-delete-groups.js';
import { OffsetDeleteApi } from '../../src/protocol/generated/47-offset-delete.js';
import { type Differential, type SideName, uniqueName, useDifferential } from './differential.js';

// One __consumer_offsets partition: Kafka loads it in a moment instead of fifty of them.
const harness = useDifferential({ kafka: { 'offsets.topic.num.partitions': 1 } });

/** Kafka answers the partitions of a commit errors first; the order carries no meaning. */
function byPartition(body: { topics: Array<{ partitions: Array<{ partitionIndex: number }> }> }): void {
  for (const t of body.topics) t.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex);
}

/** What each broker called a member: ids differ per broker, the requests that repeat them must too. */
type MemberIds = Record<SideName, string>;

/** A consumer protocol subscription v0: version, the topics, null user data. */
function subscription(topics: string[]): Buffer {
  const names = topics.map((t) => Buffer.from(t));
  const out = Buffer.alloc(2 + 4 + names.reduce((n, b) => n + 2 + b.length, 0) + 4);
  let pos = out.writeInt16BE(0, 0);
  pos = out.writeInt32BE(topics.length, pos);
  for (const b of names) {
    pos = out.writeInt16BE(b.length, pos);
    pos += b.copy(out, pos);
  }
  out.writeInt32BE(-1, pos);
  return out;
}

const METADATA = subscription(['subscribed-topic']);
const ASSIGNMENT = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function joinRequest(group: string, memberId: string, metadata = METADATA): JoinGroupRequest {
  return {
    ...JoinGroupApi.defaultRequest(),
    groupId: group,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata }],
    reason: null,
  };
}

/**
 * Joins a new member at `version` on both brokers, comparing each answer: from v4 the first join answers
 * MEMBER_ID_REQUIRED with the member id to join with. Returns each broker's member id and the generation.
 */
async function join(
  d: Differential,
  version: number,
  group: string,
  metadata = METADATA,
): Promise<{ memberIds: MemberIds; generationId: number }> {
  let memberIds: MemberIds = { kafka: '', sluice: '' };
  if (version >= 4) {
    const first = await d.compare(JoinGroupApi, version, joinRequest(group, '', metadata));
    assert.equal(first!.kafka.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    memberIds = { kafka: first!.raw.kafka.memberId, sluice: first!.raw.sluice.memberId };
  }
  const joined = await d.compare(JoinGroupApi, version, (side) => joinRequest(group, memberIds[side], metadata));
  assert.equal(joined!.kafka.errorCode, ErrorCode.NONE);
  return {
    memberIds: { kafka: joined!.raw.kafka.memberId, sluice: joined!.raw.sluice.memberId },
    generationId: joined!.raw.kafka.generationId,
  };
}

function syncRequest(group: string, generationId: number, memberId: string, assignments: string[]) {
  return {
    ...SyncGroupApi.defaultRequest(),
    groupId: group,
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: assignments.map((m) => ({ memberId: m, assignment: ASSIGNMENT })),
  };
}

function heartbeat(group: string, generationId: number, memberId: string) {
  return { groupId: group, generationId, memberId, groupInstanceId: null };
}

function commitRequest(
  group: string,
  topic: string,
  offset: bigint,
  member: { generationId: number; memberId: string } = { generationId: -1, memberId: '' },
): OffsetCommitRequest {
  return {
    ...OffsetCommitApi.defaultRequest(),
    groupId: group,
    generationIdOrMemberEpoch: member.generationId,
    memberId: member.memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: topic,
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: 'meta',
          },
          {
            partitionIndex: 9,
            committedOffset: offset,
            committedLeaderEpoch: -1,
            commitTimestamp: -1n,
            committedMetadata: null,
          },
        ],
      },
    ],
  };
}

function fetchRequest(
  version: number,
  group: string,
  topics: Array<{ name: string; partitionIndexes: number[] }> | null,
): OffsetFetchRequest {
  if (version >= 8) {
    return {
      ...OffsetFetchApi.defaultRequest(),
      groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics }],
      requireStable: false,
    };
  }
  return { ...OffsetFetchApi.defaultRequest(), groupId: group, topics, requireStable: false };
}

/** Kafka lists a group's members in hash order: members are compared sorted by assignment, ids hidden. */
function membersByAssignment(body: DescribeGroupsResponse): void {
  for (const g of body.groups) {
    for (const m of g.members) m.memberId = '<member>';
    g.members.sort((x, y) => Buffer.compare(x.memberAssignment, y.memberAssignment));
  }
}

/**
 * Kafka 4 allows DESCRIBE_CONFIGS and ALTER_CONFIGS (bits 10 and 11) on groups, for group configs (KIP-848),
 * which Sluice does not serve (docs/kafka-differences.md); the other operations must match.
 */
function withoutGroupConfigOperations(body: DescribeGroupsResponse): void {
  for (const g of body.groups) {
    if (g.authorizedOperations > 0) g.authorizedOperations &= ~((1 << 10) | (1 << 11));
  }
}

describe('consumer groups and committed offsets against Apache Kafka', { skip: harness.skip }, () => {
  test('FindCoordinator answers this broker for a group at every version both serve', async () => {
    const d = harness.get();
    const group = uniqueName('find');
    await d.groupCoordinatorReady(group);
    for (const version of d.commonVersions(FindCoordinatorApi)) {
      await d.compare(FindCoordinatorApi, version, {
        key: group,
        keyType: 0,
        coordinatorKeys: [group, uniqueName('other')],
      });
    }
  });

  test('a member joins, syncs, heartbeats and leaves at every version both serve', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    for (const version of d.commonVersions(JoinGroupApi)) {
      const group = uniqueName(`join-v${version}`);
      const { memberIds, generationId } = await join(d, version, group);
      const syncVersion = Math.min(version, 5);
      const synced = await d.compare(SyncGroupApi, syncVersion, (side) =>
        syncRequest(group, generationId, memberIds[side], [memberIds[side]]),
      );
      assert.deepEqual(synced!.kafka.assignment, ASSIGNMENT);
      const hb = await d.compare(HeartbeatApi, Math.min(version, 4), (side) =>
        heartbeat(group, generationId, memberIds[side]),
      );
      assert.equal(hb!.kafka.errorCode, ErrorCode.NONE);
      const leaveVersion = Math.min(version, 5);
      await d.compare(LeaveGroupApi, leaveVersion, (side) => ({
        ...LeaveGroupApi.defaultRequest(),
        groupId: group,
        memberId: memberIds[side],
        members: [{ memberId: memberIds[side], groupInstanceId: null, reason: 'done' }],
      }));
      await d.compare(DescribeGroupsApi, Math.min(version, 5), { groups: [group], includeAuthorizedOperations: false });
    }
  });

  test('Heartbeat, SyncGroup and LeaveGroup of unknown members and wrong generations answer as Kafka does', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const group = uniqueName('edge');
    const { memberIds, generationId } = await join(d, 9, group);
    await d.compare(SyncGroupApi, 5, (side) => syncRequest(group, generationId, memberIds[side], [memberIds[side]]));
    for (const version of d.commonVersions(HeartbeatApi)) {
      await d.compare(HeartbeatApi, version, (side) => heartbeat(group, generationId + 1, memberIds[side]));
      await d.compare(HeartbeatApi, version, heartbeat(group, generationId, 'nobody'));
      await d.compare(HeartbeatApi, version, heartbeat(uniqueName('no-group'), 1, 'nobody'));
    }
    for (const version of d.commonVersions(SyncGroupApi)) {
      await d.compare(SyncGroupApi, version, (side) => syncRequest(group, generationId + 1, memberIds[side], []));
      await d.compare(SyncGroupApi, version, syncRequest(group, generationId, 'nobody', []));
    }
    for (const version of d.commonVersions(LeaveGroupApi)) {
      await d.compare(LeaveGroupApi, version, {
        ...LeaveGroupApi.defaultRequest(),
        groupId: group,
        memberId: 'nobody',
        members: [{ memberId: 'nobody', groupInstanceId: null, reason: null }],
      });
    }
    for (const version of d.commonVersions(JoinGroupApi).filter((v) => v >= 1)) {
      await d.compare(JoinGroupApi, version, joinRequest(group, 'nobody'));
    }
    await d.compare(JoinGroupApi, 9, { ...joinRequest(group, ''), sessionTimeoutMs: 10 });
    await d.compare(JoinGroupApi, 9, { ...joinRequest(group, ''), protocolType: 'other' });
  });

  test('a second member joining makes the first one answer REBALANCE_IN_PROGRESS until it rejoins', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const group = uniqueName('rebalance');
    const first = await join(d, 9, group);
    await d.compare(SyncGroupApi, 5, (side) =>
      syncRequest(group, first.generationId, first.memberIds[side], [first.memberIds[side]]),
    );
    const second = await d.compare(JoinGroupApi, 9, joinRequest(group, ''), { lane: 'second' });
    const secondIds: MemberIds = { kafka: second!.raw.kafka.memberId, sluice: second!.raw.sluice.memberId };
    // The second member's join waits for the first to rejoin: sent on its own connection, awaited later.
    const secondJoin = d.compare(JoinGroupApi, 9, (side) => joinRequest(group, secondIds[side]), { lane: 'second' });
    let rebalancing = false;
    for (let i = 0; i < 50 && !rebalancing; i++) {
      const hb = await d.send(HeartbeatApi, 4, (side) => heartbeat(group, first.generationId, first.memberIds[side]));
      rebalancing =
        hb.kafka.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && hb.sluice.errorCode === hb.kafka.errorCode;
      if (!rebalancing) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(rebalancing, 'both answer REBALANCE_IN_PROGRESS to the first member');
    await d.compare(
      OffsetCommitApi,
      9,
      (side) =>
        commitRequest(group, 'some-topic', 1n, { generationId: first.generationId, memberId: first.memberIds[side] }),
      { normalise: byPartition },
    );
    await d.compare(
      DescribeGroupsApi,
      5,
      { groups: [group], includeAuthorizedOperations: false },
      { normalise: membersByAssignment },
    );
    const rejoined = await d.compare(JoinGroupApi, 9, (side) => joinRequest(group, first.memberIds[side]));
    const secondJoined = await secondJoin;
    assert.equal(rejoined!.kafka.errorCode, ErrorCode.NONE);
    assert.equal(secondJoined!.kafka.generationId, first.generationId + 1);
  });

  test('OffsetCommit and OffsetFetch answer the same for standalone commits at every version both serve', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const topic = uniqueName('offsets');
    await d.createTopic(topic);
    for (const version of d.commonVersions(OffsetCommitApi)) {
      const group = uniqueName(`commit-v${version}`);
      await d.compare(OffsetCommitApi, version, commitRequest(group, topic, BigInt(version)), {
        normalise: byPartition,
      });
      await d.compare(OffsetCommitApi, version, commitRequest(group, uniqueName('never-created'), 1n), {
        normalise: byPartition,
      });
    }
    const group = uniqueName('fetch');
    await d.compare(OffsetCommitApi, 8, commitRequest(group, topic, 42n), { normalise: byPartition });
    for (const version of d.commonVersions(OffsetFetchApi).filter((v) => v < 8)) {
      await d.compare(
        OffsetFetchApi,
        version,
        fetchRequest(version, group, [{ name: topic, partitionIndexes: [0, 1] }]),
      );
      await d.compare(
        OffsetFetchApi,
        version,
        fetchRequest(version, uniqueName('no-group'), [{ name: topic, partitionIndexes: [0] }]),
      );
      if (version >= 2) await d.compare(OffsetFetchApi, version, fetchRequest(version, group, null));
    }
  });

  test('OffsetFetch v8 and v9 (groups batched) answer the same', {}, async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const topic = uniqueName('offsets-v8');
    await d.createTopic(topic);
    const group = uniqueName('fetch-v8');
    await d.compare(OffsetCommitApi, 8, commitRequest(group, topic, 42n), { normalise: byPartition });
    for (const version of d.commonVersions(OffsetFetchApi).filter((v) => v >= 8)) {
      await d.compare(
        OffsetFetchApi,
        version,
        fetchRequest(version, group, [{ name: topic, partitionIndexes: [0, 1] }]),
      );
      await d.compare(OffsetFetchApi, version, fetchRequest(version, group, null));
    }
  });

  test('OffsetCommit of a member with a wrong generation or an unknown member id answers as Kafka does', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const topic = uniqueName('member-commit');
    await d.createTopic(topic);
    const group = uniqueName('member-commit');
    const { memberIds, generationId } = await join(d, 9, group);
    await d.compare(SyncGroupApi, 5, (side) => syncRequest(group, generationId, memberIds[side], [memberIds[side]]));
    for (const version of d.commonVersions(OffsetCommitApi)) {
      await d.compare(
        OffsetCommitApi,
        version,
        (side) => commitRequest(group, topic, 5n, { generationId, memberId: memberIds[side] }),
        { normalise: byPartition },
      );
      await d.compare(
        OffsetCommitApi,
        version,
        (side) => commitRequest(group, topic, 5n, { generationId: generationId + 1, memberId: memberIds[side] }),
        { normalise: byPartition },
      );
      await d.compare(OffsetCommitApi, version, commitRequest(group, topic, 5n, { generationId, memberId: 'nobody' }), {
        normalise: byPartition,
      });
      // A standalone commit to a group with members is refused.
      await d.compare(OffsetCommitApi, version, commitRequest(group, topic, 5n), { normalise: byPartition });
    }
  });

  test('DescribeGroups, ListGroups, DeleteGroups and OffsetDelete answer the same for empty, active and unknown groups', async () => {
    const d = harness.get();
    await d.groupCoordinatorReady('ready');
    const topic = uniqueName('admin-groups');
    await d.createTopic(topic);
    const empty = uniqueName('empty');
    await d.compare(OffsetCommitApi, 8, commitRequest(empty, topic, 3n), { normalise: byPartition });
    const active = uniqueName('active');
    const { memberIds, generationId } = await join(d, 9, active, subscription([topic]));
    await d.compare(SyncGroupApi, 5, (side) => syncRequest(active, generationId, memberIds[side], [memberIds[side]]));
    const unknown = uniqueName('unknown');
    for (const version of d.commonVersions(DescribeGroupsApi)) {
      await d.compare(
        DescribeGroupsApi,
        version,
        {
          groups: [empty, active, unknown],
          includeAuthorizedOperations: version >= 3,
        },
        { normalise: withoutGroupConfigOperations },
      );
    }
    const ours = new Set([empty, active]);
    const onlyOurs = (b: ListGroupsResponse) => {
      b.groups = b.groups.filter((g) => ours.has(g.groupId)).sort((x, y) => (x.groupId < y.groupId ? -1 : 1));
    };
    for (const version of d.commonVersions(ListGroupsApi)) {
      await d.compare(ListGroupsApi, version, { statesFilter: [], typesFilter: [] }, { normalise: onlyOurs });
      if (version >= 4)
        await d.compare(ListGroupsApi, version, { statesFilter: ['Stable'], typesFilter: [] }, { normalise: onlyOurs });
      if (version >= 5)
        await d.compare(
          ListGroupsApi,
          version,
          { statesFilter: [], typesFilter: ['classic'] },
          { normalise: onlyOurs },
        );
    }
    for (const version of d.commonVersions(OffsetDeleteApi)) {
      const request = (group: string) => ({
        groupId: group,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }],
      });
      await d.compare(OffsetDeleteApi, version, request(unknown));
      await d.compare(OffsetDeleteApi, version, request(active));
      await d.compare(OffsetDeleteApi, version, request(empty));
    }
    for (const version of d.commonVersions(DeleteGroupsApi)) {
      await d.compare(
        DeleteGroupsApi,
        version,
        { groupsNames: [active, unknown] },
        {
          normalise: (b) => b.results.sort((x, y) => (x.groupId < y.groupId ? -1 : 1)),
        },
      );
    }
    await d.compare(DeleteGroupsApi, 2, { groupsNames: [empty] });
  });
});
