/**
 * KIP-848 consumer groups: the assignors, the reconciliation state machine (Kafka's CurrentAssignmentBuilder),
 * and the coordinator driven by simulated members: partitions are never owned by two members at once,
 * leaving and silent members' partitions move, offsets are fenced by member epoch, and a fresh load of
 * `__consumer_offsets` rebuilds exactly the live groups.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RangeAssignor, UniformAssignor } from '../../../src/coordinator/group/assignors.js';
import { ConsumerGroupMember, MemberState, reconcile } from '../../../src/coordinator/group/consumer-group.js';
import type { TopicPartitions } from '../../../src/coordinator/group/consumer-group-records.js';
import {
  type ConsumerGroupHeartbeatParams,
  GroupCoordinator,
  type TopicMetadataSource,
} from '../../../src/coordinator/group/group-coordinator.js';
import { type CoordinatorLog, MemoryCoordinatorLog } from '../../../src/coordinator/runtime/coordinator-log.js';
import { FakeTimers } from '../../../src/coordinator/runtime/timers.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { CONFIG, settle } from './helpers.js';

const T1 = '11111111111111111111111111111111';
const T2 = '22222222222222222222222222222222';

function parts(entries: Record<string, number[]>): TopicPartitions {
  return new Map(Object.entries(entries).map(([t, ps]) => [t, new Set(ps)]));
}

function plain(p: TopicPartitions): Record<string, number[]> {
  return Object.fromEntries([...p].filter(([, s]) => s.size > 0).map(([t, s]) => [t, [...s].sort((a, b) => a - b)]));
}

describe('consumer group assignors', () => {
  const topics = new Map([[T1, { topicId: T1, numPartitions: 6 }]]);
  const spec = (memberId: string, assignment: TopicPartitions = new Map()) => ({
    memberId,
    subscribedTopicIds: new Set([T1]),
    assignment,
  });

  it('uniform gives three members two of six partitions each, every partition once', () => {
    const out = new UniformAssignor().assign([spec('a'), spec('b'), spec('c')], topics);
    const all = [...out.values()].flatMap((p) => [...(p.get(T1) ?? [])]);
    assert.deepEqual(
      [...out.values()].map((p) => p.get(T1)?.size),
      [2, 2, 2],
    );
    assert.deepEqual(all.sort(), [0, 1, 2, 3, 4, 5]);
  });

  it('uniform is sticky: when a member leaves, the others keep what they had and split its partitions', () => {
    const out = new UniformAssignor().assign(
      [spec('a', parts({ [T1]: [0, 1] })), spec('c', parts({ [T1]: [4, 5] }))],
      topics,
    );
    const a = out.get('a')!.get(T1)!;
    const c = out.get('c')!.get(T1)!;
    assert.equal(a.size, 3);
    assert.equal(c.size, 3);
    for (const p of [0, 1]) assert.ok(a.has(p));
    for (const p of [4, 5]) assert.ok(c.has(p));
  });

  it('uniform spreads different subscriptions over their subscribers only', () => {
    const withT2 = new Map([...topics, [T2, { topicId: T2, numPartitions: 2 }]]);
    const out = new UniformAssignor().assign(
      [
        { memberId: 'a', subscribedTopicIds: new Set([T1, T2]), assignment: new Map() },
        { memberId: 'b', subscribedTopicIds: new Set([T1]), assignment: new Map() },
      ],
      withT2,
    );
    assert.equal(out.get('b')!.get(T2), undefined);
    assert.equal(out.get('a')!.get(T2)!.size, 2);
    assert.equal((out.get('a')!.get(T1)?.size ?? 0) + (out.get('b')!.get(T1)?.size ?? 0), 6);
  });

  it('range gives contiguous ranges in member id order, the first members one more', () => {
    const seven = new Map([[T1, { topicId: T1, numPartitions: 7 }]]);
    const out = new RangeAssignor().assign([spec('b'), spec('a'), spec('c')], seven);
    assert.deepEqual(plain(out.get('a')!), { [T1]: [0, 1, 2] });
    assert.deepEqual(plain(out.get('b')!), { [T1]: [3, 4] });
    assert.deepEqual(plain(out.get('c')!), { [T1]: [5, 6] });
  });
});

describe('consumer group reconciliation (CurrentAssignmentBuilder)', () => {
  function member(epoch: number, assigned: Record<string, number[]>): ConsumerGroupMember {
    const m = new ConsumerGroupMember('m');
    m.memberEpoch = epoch;
    m.previousMemberEpoch = epoch - 1;
    m.assignedPartitions = parts(assigned);
    return m;
  }
  const free = () => -1;

  it('a member losing partitions keeps its epoch in UNREVOKED_PARTITIONS until its heartbeat no longer lists them', () => {
    const m = member(3, { [T1]: [0, 1, 2] });
    const step = reconcile(m, 4, parts({ [T1]: [0] }), parts({ [T1]: [0, 1, 2] }), free);
    assert.equal(step.state, MemberState.UnrevokedPartitions);
    assert.equal(step.memberEpoch, 3);
    assert.deepEqual(plain(step.assignedPartitions), { [T1]: [0] });
    assert.deepEqual(plain(step.partitionsPendingRevocation), { [T1]: [1, 2] });
    // Still owning one of them: no progress.
    assert.equal(reconcile(step, 4, parts({ [T1]: [0] }), parts({ [T1]: [0, 2] }), free), step);
    const done = reconcile(step, 4, parts({ [T1]: [0] }), parts({ [T1]: [0] }), free);
    assert.equal(done.state, MemberState.Stable);
    assert.equal(done.memberEpoch, 4);
    assert.deepEqual(plain(done.partitionsPendingRevocation), {});
  });

  it('a partition another member still holds is not assigned (UNRELEASED_PARTITIONS) until it is released', () => {
    const m = member(3, { [T1]: [0] });
    let held = true;
    const epochOf = (_t: string, p: number) => (p === 1 && held ? 3 : -1);
    const step = reconcile(m, 4, parts({ [T1]: [0, 1] }), parts({ [T1]: [0] }), epochOf);
    assert.equal(step.state, MemberState.UnreleasedPartitions);
    assert.equal(step.memberEpoch, 4);
    assert.deepEqual(plain(step.assignedPartitions), { [T1]: [0] });
    held = false;
    const done = reconcile(step, 4, parts({ [T1]: [0, 1] }), parts({ [T1]: [0] }), epochOf);
    assert.equal(done.state, MemberState.Stable);
    assert.deepEqual(plain(done.assignedPartitions), { [T1]: [0, 1] });
  });

  it('a stable member at the target epoch is left as it is', () => {
    const m = member(4, { [T1]: [0] });
    assert.equal(reconcile(m, 4, parts({ [T1]: [0] }), null, free), m);
  });
});

// ── the coordinator, driven by simulated members ─────────────────────────────────────────────────

const TOPICS: TopicMetadataSource = {
  byName: (name) => (name === 'orders' ? { topicId: T1, numPartitions: 6 } : undefined),
  byId: (id) => (id === T1 ? { name: 'orders', numPartitions: 6 } : undefined),
  names: () => ['orders'],
};

async function start(log = new MemoryCoordinatorLog(50), timers = new FakeTimers()) {
  const coordinator = new GroupCoordinator({
    log: log as CoordinatorLog,
    config: { ...CONFIG, consumerSessionTimeoutMs: 45_000 },
    timers,
    topics: TOPICS,
  });
  await coordinator.load();
  return { coordinator, log, timers };
}

/** A client that revokes at once: it reports what it owns and takes what it is given. */
class SimMember {
  memberId = '';
  epoch = 0;
  owned: number[] = [];
  constructor(
    private readonly c: GroupCoordinator,
    readonly name: string,
    private readonly instanceId: string | null = null,
  ) {}

  async heartbeat(overrides: Partial<ConsumerGroupHeartbeatParams> = {}) {
    const joining = this.epoch === 0;
    const r = await this.c.consumerGroupHeartbeat({
      groupId: 'g',
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.instanceId,
      rackId: null,
      rebalanceTimeoutMs: joining ? 30_000 : -1,
      subscribedTopicNames: joining ? ['orders'] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: this.owned.length > 0 ? [{ topicId: T1, partitions: this.owned }] : [],
      clientId: this.name,
      clientHost: '/127.0.0.1',
      ...overrides,
    });
    if (r.errorCode === ErrorCode.NONE) {
      this.memberId = r.memberId!;
      this.epoch = r.memberEpoch;
      if (r.assignment) this.owned = r.assignment.find((t) => t.topicId === T1)?.partitions ?? [];
    }
    return r;
  }
}

/** Heartbeats every member in turn until nothing changes; checks no partition is ever owned twice. */
async function converge(members: SimMember[], rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const m of members) {
      await m.heartbeat();
      const owners = new Map<number, string>();
      for (const o of members) {
        for (const p of o.owned) {
          assert.equal(owners.get(p), undefined, `partition ${p} owned by ${owners.get(p)} and ${o.name}`);
          owners.set(p, o.name);
        }
      }
    }
  }
}

function commit(c: GroupCoordinator, memberId: string, epoch: number, partition: number, apiVersion = 9) {
  return c.commitOffsets({
    groupId: 'g',
    generationId: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion,
    offsets: [{ topic: 'orders', partition, offset: 10n, leaderEpoch: 0, metadata: null }],
  });
}

function snapshot(c: GroupCoordinator) {
  return Object.fromEntries(
    c
      .consumerGroupIds()
      .sort()
      .map((id) => {
        const g = c.consumerGroup(id)!;
        return [
          id,
          {
            groupEpoch: g.groupEpoch,
            assignmentEpoch: g.assignmentEpoch,
            state: g.state,
            subscriptionMetadata: [...g.subscriptionMetadata.values()],
            targets: [...g.targetAssignment].map(([m, p]) => [m, plain(p)]).sort(),
            members: [...g.members.values()]
              .map((m) => ({
                ...m,
                assignedPartitions: plain(m.assignedPartitions),
                partitionsPendingRevocation: plain(m.partitionsPendingRevocation),
              }))
              .sort((a, b) => a.memberId.localeCompare(b.memberId)),
          },
        ];
      }),
  );
}

async function assertLoadEqualsLive(h: Awaited<ReturnType<typeof start>>, step: string) {
  await settle();
  const fresh = await start(h.log, new FakeTimers(h.timers.now()));
  assert.deepEqual(snapshot(fresh.coordinator), snapshot(h.coordinator), `after ${step}`);
  fresh.coordinator.close();
}

describe('consumer group coordinator (KIP-848)', () => {
  it('three members share six partitions two each; a leaving and a silent member’s partitions move; load ≡ live throughout', async () => {
    const h = await start();
    const c = h.coordinator;
    const [a, b, d] = [new SimMember(c, 'a'), new SimMember(c, 'b'), new SimMember(c, 'd')];
    await converge([a, b, d]);
    assert.deepEqual([a.owned.length, b.owned.length, d.owned.length], [2, 2, 2]);
    const group = c.consumerGroup('g')!;
    assert.equal(group.state, 'Stable');
    assert.ok([a, b, d].every((m) => m.epoch === group.groupEpoch));
    await assertLoadEqualsLive(h, 'three members joining');

    const described = c.consumerGroupDescribe('g');
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.assignorName, 'uniform');
    assert.equal(described.members.length, 3);
    assert.deepEqual(described.members.find((m) => m.memberId === a.memberId)!.assignment.topicPartitions[0], {
      topicId: T1,
      topicName: 'orders',
      partitions: [...a.owned].sort(),
    });
    assert.deepEqual(c.listGroups([], ['consumer']).groups, [
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);

    // A commit at the member's epoch counts; at an epoch before the partition was assigned, or after the
    // member's, it is stale; an unknown member is refused.
    const since = c.consumerGroup('g')!.members.get(a.memberId)!.assignmentEpochs.get(T1)!.get(a.owned[0])!;
    assert.deepEqual(await commit(c, a.memberId, a.epoch, a.owned[0]), [ErrorCode.NONE]);
    assert.deepEqual(await commit(c, a.memberId, a.epoch + 1, a.owned[0]), [ErrorCode.STALE_MEMBER_EPOCH]);
    assert.deepEqual(await commit(c, a.memberId, since - 1, a.owned[0]), [ErrorCode.STALE_MEMBER_EPOCH]);
    assert.deepEqual(await commit(c, 'nobody', a.epoch, a.owned[0]), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.deepEqual(await commit(c, a.memberId, a.epoch, a.owned[0], 8), [ErrorCode.UNSUPPORTED_VERSION]);
    assert.equal(
      c.fetchOffsets('g', null, false, { memberId: a.memberId, memberEpoch: a.epoch + 5 }).errorCode,
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    assert.equal(
      c.fetchOffsets('g', [{ name: 'orders', partitions: [a.owned[0]] }], false).topics[0].partitions[0].offset,
      10n,
    );
    await assertLoadEqualsLive(h, 'a commit');

    // b leaves: its partitions go to a and d.
    const left = await b.heartbeat({ memberEpoch: -1 });
    assert.equal(left.memberEpoch, -1);
    await converge([a, d]);
    assert.deepEqual([a.owned.length, d.owned.length], [3, 3]);
    await assertLoadEqualsLive(h, 'a member leaving');

    // d goes silent: a keeps heartbeating, and after the session timeout gets every partition.
    for (let t = 0; t < 50_000; t += 5_000) {
      h.timers.advance(5_000);
      await settle();
      await a.heartbeat();
    }
    await converge([a]);
    assert.deepEqual([...a.owned].sort(), [0, 1, 2, 3, 4, 5]);
    assert.equal(c.consumerGroup('g')!.members.size, 1);
    const fenced = await d.heartbeat();
    assert.equal(fenced.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await assertLoadEqualsLive(h, 'a member fenced by its session timeout');
    c.close();
  });

  it('a partition moves to a new member only after its previous owner has revoked it', async () => {
    const h = await start();
    const c = h.coordinator;
    const a = new SimMember(c, 'a');
    await converge([a]);
    assert.equal(a.owned.length, 6);
    const b = new SimMember(c, 'b');
    await b.heartbeat();
    // a has not heartbeated since: it still owns everything, so b gets nothing yet.
    assert.deepEqual(b.owned, []);
    const revoke = await a.heartbeat();
    assert.equal(revoke.assignment!.find((t) => t.topicId === T1)!.partitions.length, 3);
    const aMember = c.consumerGroup('g')!.members.get(a.memberId)!;
    assert.equal(aMember.state, MemberState.UnrevokedPartitions);
    const firstEpoch = a.epoch;
    await converge([a, b]);
    assert.deepEqual([a.owned.length, b.owned.length], [3, 3]);
    // KIP-1251: a commit with the epoch before the bump still counts for a partition held since then, not
    // for one that moved away.
    assert.ok(a.epoch > firstEpoch);
    assert.deepEqual(await commit(c, a.memberId, firstEpoch, a.owned[0]), [ErrorCode.NONE]);
    assert.deepEqual(await commit(c, a.memberId, firstEpoch, b.owned[0]), [ErrorCode.STALE_MEMBER_EPOCH]);
    c.close();
  });

  it('answers Kafka’s errors: unknown member, fenced epoch, unknown assignor, invalid first heartbeat, classic group', async () => {
    const h = await start();
    const c = h.coordinator;
    const a = new SimMember(c, 'a');
    await converge([a]);
    assert.equal((await a.heartbeat({ memberEpoch: a.epoch + 1 })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.equal((await a.heartbeat({ memberId: 'ghost' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await a.heartbeat({ serverAssignor: 'sticky' })).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    const b = new SimMember(c, 'b');
    assert.equal((await b.heartbeat({ rebalanceTimeoutMs: -1 })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await b.heartbeat({ subscribedTopicRegex: '(' })).errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION);
    assert.equal(
      (await b.heartbeat({ groupId: 'nope', memberEpoch: 3, memberId: 'x' })).errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    // A classic JoinGroup cannot enter a consumer group with members.
    const join = await c.joinGroup({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      clientId: 'classic',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      requireKnownMemberId: false,
    });
    assert.equal(join.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    c.close();
  });

  it('a static member leaving with epoch -2 keeps its partitions, and its instance coming back under a new member id takes them over', async () => {
    const h = await start();
    const c = h.coordinator;
    const a = new SimMember(c, 'a', 'instance-a');
    const b = new SimMember(c, 'b');
    await converge([a, b]);
    const kept = [...a.owned].sort();
    assert.equal((await a.heartbeat({ memberEpoch: -2 })).memberEpoch, -2);
    await converge([b]);
    assert.equal(b.owned.length, 3, 'the static member’s partitions stay reserved');
    await assertLoadEqualsLive(h, 'a static member leaving for a while');
    const again = new SimMember(c, 'a2', 'instance-a');
    await converge([again, b]);
    assert.notEqual(again.memberId, a.memberId);
    assert.deepEqual([...again.owned].sort(), kept);
    assert.equal(c.consumerGroup('g')!.members.size, 2);
    await assertLoadEqualsLive(h, 'a static member coming back');
    // The instance id is taken: another member joining with it is refused.
    const clash = new SimMember(c, 'a3', 'instance-a');
    assert.equal((await clash.heartbeat()).errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
    c.close();
  });

  it('an empty consumer group is deleted with its offsets, and a fresh load agrees', async () => {
    const h = await start();
    const c = h.coordinator;
    const a = new SimMember(c, 'a');
    await converge([a]);
    assert.deepEqual(await c.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await a.heartbeat({ memberEpoch: -1 });
    assert.equal(c.consumerGroup('g')!.state, 'Empty');
    await assertLoadEqualsLive(h, 'the last member leaving');
    assert.deepEqual(await c.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.equal(c.consumerGroup('g'), undefined);
    await assertLoadEqualsLive(h, 'deleting the group');
    c.close();
  });
});
