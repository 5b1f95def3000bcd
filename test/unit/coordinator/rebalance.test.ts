import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupState } from '../../../src/coordinator/group/classic-group.js';
import { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import { MemoryCoordinatorLog } from '../../../src/coordinator/runtime/coordinator-log.js';
import { FakeTimers } from '../../../src/coordinator/runtime/timers.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import {
  advanceUntil,
  CONFIG,
  joinParams,
  settle,
  stableGroup,
  startCoordinator,
  subscription,
  track,
} from './helpers.js';

describe('group coordinator: joining and rebalancing', () => {
  it('a lone member of an empty group waits out the initial rebalance delay, then leads generation 1', async () => {
    const h = await startCoordinator();
    const join = track(h.coordinator.joinGroup(joinParams()));
    h.timers.advance(CONFIG.initialRebalanceDelayMs - 1);
    await settle();
    assert.equal(join.done(), false);
    assert.equal(h.coordinator.group('g')?.state, GroupState.PreparingRebalance);
    h.timers.advance(1);
    await settle();
    const r = join.value();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, r.memberId);
    assert.equal(r.protocolName, 'range');
    assert.equal(r.protocolType, 'consumer');
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [r.memberId],
    );
    assert.match(r.memberId, /^client-[0-9a-f-]{36}$/);
    assert.equal(h.coordinator.group('g')?.state, GroupState.CompletingRebalance);

    const sync = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: r.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: r.memberId, assignment: Buffer.from('all of it') }],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    assert.equal(sync.assignment.toString(), 'all of it');
    assert.equal(sync.protocolName, 'range');
    assert.equal(h.coordinator.group('g')?.state, GroupState.Stable);
  });

  it('a v4+ member without a member id is answered MEMBER_ID_REQUIRED and then joins with the id it was given', async () => {
    const h = await startCoordinator({ initialRebalanceDelayMs: 0 });
    const first = await h.coordinator.joinGroup(joinParams({ requireKnownMemberId: true }));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^client-/);
    assert.equal(first.generationId, -1);
    assert.equal(h.coordinator.group('g')?.size, 0, 'a pending member is not a member yet');

    const second = track(h.coordinator.joinGroup(joinParams({ requireKnownMemberId: true, memberId: first.memberId })));
    await advanceUntil(h, second.done);
    assert.equal(second.value().errorCode, ErrorCode.NONE);
    assert.equal(second.value().memberId, first.memberId);
    assert.equal(second.value().leader, first.memberId);
  });

  it('a pending member id that is never used expires after the session timeout', async () => {
    const h = await startCoordinator();
    const first = await h.coordinator.joinGroup(joinParams({ requireKnownMemberId: true }));
    assert.equal(h.coordinator.group('g')?.pendingMembers.size, 1);
    h.timers.advance(10_000);
    assert.equal(h.coordinator.group('g')?.pendingMembers.size, 0);
    const late = await h.coordinator.joinGroup(joinParams({ requireKnownMemberId: true, memberId: first.memberId }));
    assert.equal(late.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('the initial delay extends while new members keep joining, but not beyond the rebalance timeout', async () => {
    const h = await startCoordinator({ initialRebalanceDelayMs: 3000 });
    const p = joinParams({ rebalanceTimeoutMs: 10_000 });
    const a = track(h.coordinator.joinGroup(p));
    h.timers.advance(2000);
    const b = track(h.coordinator.joinGroup(p)); // extends to 6000
    h.timers.advance(3000);
    const c = track(h.coordinator.joinGroup(p)); // at 5000: extends to 9000
    h.timers.advance(3000);
    const d = track(h.coordinator.joinGroup(p)); // at 8000: extends to 10000, the rebalance timeout
    h.timers.advance(1999);
    await settle();
    assert.equal(a.done(), false, 'still waiting at 9999 ms');
    h.timers.advance(1);
    await settle();
    for (const j of [a, b, c, d]) assert.equal(j.value().generationId, 1);
    assert.equal(
      a.value().members.length + b.value().members.length + c.value().members.length + d.value().members.length,
      4,
    );
  });

  it('with no initial delay a lone member is answered at once', async () => {
    const h = await startCoordinator({ initialRebalanceDelayMs: 0 });
    const j = track(h.coordinator.joinGroup(joinParams()));
    h.timers.advance(0);
    await settle();
    assert.equal(j.value().generationId, 1);
  });

  it('a rebalance of a non-empty group completes as soon as every member has rejoined', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2);
    const newcomer = track(h.coordinator.joinGroup(joinParams({ clientId: 'new' })));
    await settle();
    assert.equal(h.coordinator.group('g')?.state, GroupState.PreparingRebalance);
    for (const memberId of memberIds) {
      assert.equal(
        h.coordinator.heartbeat({ groupId: 'g', generationId, memberId, groupInstanceId: null }),
        ErrorCode.REBALANCE_IN_PROGRESS,
      );
    }
    const rejoins = memberIds.map((memberId) => track(h.coordinator.joinGroup(joinParams({ memberId }))));
    await settle();
    for (const j of [newcomer, ...rejoins]) {
      assert.equal(j.value().errorCode, ErrorCode.NONE);
      assert.equal(j.value().generationId, generationId + 1);
    }
    const leaderAnswer = [newcomer, ...rejoins].find((j) => j.value().members.length > 0)!.value();
    assert.equal(leaderAnswer.members.length, 3);
    assert.equal(leaderAnswer.memberId, memberIds[0], 'the leader stays the leader');
  });

  it('members that do not rejoin within the rebalance timeout are removed when the rebalance completes', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2, { sessionTimeoutMs: 60_000 });
    const [stayer, laggard] = memberIds;
    const newcomer = track(h.coordinator.joinGroup(joinParams({ clientId: 'new', sessionTimeoutMs: 60_000 })));
    const rejoin = track(h.coordinator.joinGroup(joinParams({ memberId: stayer, sessionTimeoutMs: 60_000 })));
    h.timers.advance(19_999);
    await settle();
    assert.equal(rejoin.done(), false);
    h.timers.advance(1);
    await settle();
    assert.equal(rejoin.value().generationId, generationId + 1);
    assert.equal(newcomer.value().generationId, generationId + 1);
    const group = h.coordinator.group('g')!;
    assert.equal(group.has(laggard), false);
    assert.equal(group.size, 2);
    assert.equal(
      h.coordinator.heartbeat({
        groupId: 'g',
        generationId: generationId + 1,
        memberId: laggard,
        groupInstanceId: null,
      }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('the protocol most members prefer among those every member supports is chosen', async () => {
    const h = await startCoordinator();
    const meta = subscription('t');
    const joins = [
      ['range', 'roundrobin', 'sticky'],
      ['roundrobin', 'range'],
      ['roundrobin', 'range', 'cooperative-sticky'],
    ].map((names) =>
      track(h.coordinator.joinGroup(joinParams({ protocols: names.map((name) => ({ name, metadata: meta })) }))),
    );
    await advanceUntil(h, () => joins.every((j) => j.done()));
    for (const j of joins) assert.equal(j.value().protocolName, 'roundrobin');
  });

  it('a tie between protocols goes to the first member’s preference', async () => {
    const h = await startCoordinator();
    const meta = subscription('t');
    const joins = [
      ['x', 'y'],
      ['y', 'x'],
    ].map((names) =>
      track(h.coordinator.joinGroup(joinParams({ protocols: names.map((name) => ({ name, metadata: meta })) }))),
    );
    await advanceUntil(h, () => joins.every((j) => j.done()));
    for (const j of joins) assert.equal(j.value().protocolName, 'x');
  });

  it('INCONSISTENT_GROUP_PROTOCOL answers a member whose protocols do not overlap or whose protocol type differs', async () => {
    const h = await startCoordinator();
    void h.coordinator.joinGroup(joinParams({ protocols: [{ name: 'range', metadata: subscription('t') }] }));
    const disjoint = await h.coordinator.joinGroup(
      joinParams({ protocols: [{ name: 'RoundRobinAssigner', metadata: subscription('t') }] }),
    );
    assert.equal(disjoint.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await h.coordinator.joinGroup(joinParams({ protocolType: 'connect' }));
    assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const noProtocols = await h.coordinator.joinGroup(joinParams({ groupId: 'other', protocols: [] }));
    assert.equal(noProtocols.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('a session timeout outside group.min/max.session.timeout.ms is INVALID_SESSION_TIMEOUT', async () => {
    const h = await startCoordinator({ minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 30_000 });
    assert.equal(
      (await h.coordinator.joinGroup(joinParams({ sessionTimeoutMs: 5999 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await h.coordinator.joinGroup(joinParams({ sessionTimeoutMs: 30_001 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
  });

  it('a member beyond group.max.size is answered GROUP_MAX_SIZE_REACHED', async () => {
    const h = await startCoordinator({ maxGroupSize: 2 });
    await stableGroup(h, 2);
    const third = await h.coordinator.joinGroup(joinParams({ clientId: 'third' }));
    assert.equal(third.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(h.coordinator.group('g')?.state, GroupState.Stable);
  });

  it('a known member id in an unknown group is UNKNOWN_MEMBER_ID, and an empty group id INVALID_GROUP_ID', async () => {
    const h = await startCoordinator();
    assert.equal(
      (await h.coordinator.joinGroup(joinParams({ memberId: 'ghost' }))).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal((await h.coordinator.joinGroup(joinParams({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  it('a member that stops heartbeating is removed after its session timeout and the group rebalances', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2);
    const [alive, dead] = memberIds;
    for (let t = 0; t < 12_000; t += 3000) {
      h.timers.advance(3000);
      h.coordinator.heartbeat({ groupId: 'g', generationId, memberId: alive, groupInstanceId: null });
    }
    const group = h.coordinator.group('g')!;
    assert.equal(group.has(dead), false);
    assert.equal(group.state, GroupState.PreparingRebalance);
    assert.equal(
      h.coordinator.heartbeat({ groupId: 'g', generationId, memberId: alive, groupInstanceId: null }),
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    const rejoin = track(h.coordinator.joinGroup(joinParams({ memberId: alive })));
    await settle();
    assert.equal(rejoin.value().generationId, generationId + 1);
    assert.deepEqual(
      rejoin.value().members.map((m) => m.memberId),
      [alive],
    );
  });

  it('a heartbeat with a stale generation is ILLEGAL_GENERATION', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    assert.equal(
      h.coordinator.heartbeat({
        groupId: 'g',
        generationId: generationId - 1,
        memberId: memberIds[0],
        groupInstanceId: null,
      }),
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      h.coordinator.heartbeat({ groupId: 'g', generationId, memberId: memberIds[0], groupInstanceId: null }),
      ErrorCode.NONE,
    );
    assert.equal(
      h.coordinator.heartbeat({ groupId: 'nope', generationId, memberId: memberIds[0], groupInstanceId: null }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('a follower’s SyncGroup waits for the leader’s assignment; members the leader left out get an empty one', async () => {
    const h = await startCoordinator();
    const joins = [0, 1, 2].map((i) => track(h.coordinator.joinGroup(joinParams({ clientId: `c${i}` }))));
    await advanceUntil(h, () => joins.every((j) => j.done()));
    const results = joins.map((j) => j.value());
    const leader = results.find((r) => r.members.length > 0)!;
    const followers = results.filter((r) => r !== leader);
    const sync = (memberId: string, assignments: Array<{ memberId: string; assignment: Buffer }>) =>
      track(
        h.coordinator.syncGroup({
          groupId: 'g',
          generationId: 1,
          memberId,
          groupInstanceId: null,
          protocolType: null,
          protocolName: null,
          assignments,
        }),
      );
    const f0 = sync(followers[0].memberId, []);
    const f1 = sync(followers[1].memberId, []);
    await settle();
    assert.equal(f0.done(), false);
    const l = sync(leader.memberId, [
      { memberId: leader.memberId, assignment: Buffer.from('L') },
      { memberId: followers[0].memberId, assignment: Buffer.from('F0') },
    ]);
    await settle();
    assert.equal(l.value().assignment.toString(), 'L');
    assert.equal(f0.value().assignment.toString(), 'F0');
    assert.equal(f1.value().errorCode, ErrorCode.NONE);
    assert.equal(f1.value().assignment.length, 0);
    // A late SyncGroup of a Stable group gets the member's stored assignment at once.
    const again = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: 1,
      memberId: followers[0].memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(again.assignment.toString(), 'F0');
  });

  it('SyncGroup v5 protocol type and name must match the group’s (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    const r = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId,
      memberId: memberIds[0],
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'roundrobin',
      assignments: [],
    });
    assert.equal(r.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('a join during CompletingRebalance answers parked SyncGroups with REBALANCE_IN_PROGRESS', async () => {
    const h = await startCoordinator();
    const joins = [0, 1].map((i) => track(h.coordinator.joinGroup(joinParams({ clientId: `c${i}` }))));
    await advanceUntil(h, () => joins.every((j) => j.done()));
    const follower = joins.map((j) => j.value()).find((r) => r.members.length === 0)!;
    const parked = track(
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: follower.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    void h.coordinator.joinGroup(joinParams({ clientId: 'late' }));
    await settle();
    assert.equal(parked.value().errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(h.coordinator.group('g')?.state, GroupState.PreparingRebalance);
  });

  it('members that never send SyncGroup are removed after the rebalance timeout', async () => {
    const h = await startCoordinator();
    const joins = [0, 1].map((i) =>
      track(h.coordinator.joinGroup(joinParams({ clientId: `c${i}`, sessionTimeoutMs: 60_000 }))),
    );
    await advanceUntil(h, () => joins.every((j) => j.done()));
    const results = joins.map((j) => j.value());
    const leader = results.find((r) => r.members.length > 0)!;
    const silent = results.find((r) => r !== leader)!;
    const leaderSync = track(
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: leader.memberId,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    await settle();
    assert.equal(leaderSync.value().errorCode, ErrorCode.NONE);
    h.timers.advance(20_000);
    const group = h.coordinator.group('g')!;
    assert.equal(group.has(silent.memberId), false);
    assert.equal(group.state, GroupState.PreparingRebalance);
  });

  it('LeaveGroup removes members in one batch and the rest rebalance without them', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 3);
    const result = h.coordinator.leaveGroup('g', [
      { memberId: memberIds[1], groupInstanceId: null },
      { memberId: memberIds[2], groupInstanceId: null },
      { memberId: 'stranger', groupInstanceId: null },
    ]);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      result.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    const rejoin = track(h.coordinator.joinGroup(joinParams({ memberId: memberIds[0] })));
    await settle();
    assert.equal(rejoin.value().generationId, generationId + 1);
    assert.equal(rejoin.value().members.length, 1);
  });

  it('when the last member leaves the group becomes Empty with a new generation, and that is written down', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    const before = h.log.batchCount;
    h.coordinator.leaveGroup('g', [{ memberId: memberIds[0], groupInstanceId: null }]);
    await settle();
    const group = h.coordinator.group('g')!;
    assert.equal(group.state, GroupState.Empty);
    assert.equal(group.generationId, generationId + 1);
    assert.equal(h.log.batchCount, before + 1);
  });

  it('a forced rebalance makes every member rejoin into the next generation', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2);
    await h.coordinator.forceRebalance('g');
    await h.coordinator.forceRebalance('unknown');
    for (const memberId of memberIds) {
      assert.equal(
        h.coordinator.heartbeat({ groupId: 'g', generationId, memberId, groupInstanceId: null }),
        ErrorCode.REBALANCE_IN_PROGRESS,
      );
    }
    const rejoins = memberIds.map((memberId) => track(h.coordinator.joinGroup(joinParams({ memberId }))));
    await settle();
    for (const j of rejoins) assert.equal(j.value().generationId, generationId + 1);
  });

  it('requests before load() has finished are answered COORDINATOR_LOAD_IN_PROGRESS', async () => {
    const coordinator = new GroupCoordinator({
      log: new MemoryCoordinatorLog(3),
      config: CONFIG,
      timers: new FakeTimers(),
    });
    assert.equal((await coordinator.joinGroup(joinParams())).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal(
      coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }),
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    assert.equal(coordinator.fetchOffsets('g', null, false).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await coordinator.load();
    assert.equal(
      coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }),
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    coordinator.close();
  });

  it('close() answers parked joins with NOT_COORDINATOR so clients look for the coordinator again', async () => {
    const h = await startCoordinator();
    const join = track(h.coordinator.joinGroup(joinParams()));
    h.coordinator.close();
    await settle();
    assert.equal(join.value().errorCode, ErrorCode.NOT_COORDINATOR);
  });
});

describe('group coordinator: static membership (KIP-345)', () => {
  it('a restarted static member takes over its membership without a rebalance, and its old member id is fenced', async () => {
    const h = await startCoordinator();
    const joinA = track(h.coordinator.joinGroup(joinParams({ groupInstanceId: 'instance-a', clientId: 'a' })));
    const joinB = track(h.coordinator.joinGroup(joinParams({ clientId: 'b' })));
    await advanceUntil(h, () => joinA.done() && joinB.done());
    const a = joinA.value();
    const b = joinB.value();
    assert.match(a.memberId, /^instance-a-/);
    const leaderId = a.leader;
    const sync = (
      memberId: string,
      groupInstanceId: string | null,
      assignments: Array<{ memberId: string; assignment: Buffer }>,
    ) =>
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId,
        groupInstanceId,
        protocolType: null,
        protocolName: null,
        assignments,
      });
    const all = [
      { memberId: a.memberId, assignment: Buffer.from('A') },
      { memberId: b.memberId, assignment: Buffer.from('B') },
    ];
    await Promise.all([
      sync(a.memberId, 'instance-a', leaderId === a.memberId ? all : []),
      sync(b.memberId, null, leaderId === b.memberId ? all : []),
    ]);
    assert.equal(h.coordinator.group('g')?.state, GroupState.Stable);

    const rejoin = await h.coordinator.joinGroup(
      joinParams({ groupInstanceId: 'instance-a', clientId: 'a', requireKnownMemberId: true }),
    );
    assert.equal(rejoin.errorCode, ErrorCode.NONE);
    assert.notEqual(rejoin.memberId, a.memberId);
    assert.equal(rejoin.generationId, 1, 'no rebalance');
    assert.equal(rejoin.leader, leaderId, 'the old leader id is returned');
    assert.deepEqual(rejoin.members, []);
    assert.equal(h.coordinator.group('g')?.state, GroupState.Stable);

    assert.equal(
      h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: 'instance-a' }),
      ErrorCode.FENCED_INSTANCE_ID,
    );
    assert.equal(
      h.coordinator.heartbeat({
        groupId: 'g',
        generationId: 1,
        memberId: rejoin.memberId,
        groupInstanceId: 'instance-a',
      }),
      ErrorCode.NONE,
    );
    const resync = await sync(rejoin.memberId, 'instance-a', []);
    assert.equal(resync.assignment.toString(), 'A', 'the static member keeps its assignment');
    const commit = await h.coordinator.commitOffsets({
      groupId: 'g',
      generationId: 1,
      memberId: a.memberId,
      groupInstanceId: 'instance-a',
      retentionTimeMs: -1,
      offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
    });
    assert.deepEqual(commit, [ErrorCode.FENCED_INSTANCE_ID]);
  });

  it('a JoinGroup with a static member’s instance id and another member id is FENCED_INSTANCE_ID', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 1, { groupInstanceId: 'instance-a' });
    const stale = await h.coordinator.joinGroup(
      joinParams({ groupInstanceId: 'instance-a', memberId: 'instance-a-old' }),
    );
    assert.equal(stale.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const left = h.coordinator.leaveGroup('g', [{ memberId: 'instance-a-old', groupInstanceId: 'instance-a' }]);
    assert.equal(left.members[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(h.coordinator.group('g')?.has(memberIds[0]), true);
  });

  it('a parked JoinGroup of a static member’s previous incarnation is answered FENCED_INSTANCE_ID', async () => {
    const h = await startCoordinator();
    const first = track(h.coordinator.joinGroup(joinParams({ groupInstanceId: 'i' })));
    await settle();
    const second = track(h.coordinator.joinGroup(joinParams({ groupInstanceId: 'i' })));
    await settle();
    assert.equal(first.value().errorCode, ErrorCode.FENCED_INSTANCE_ID);
    await advanceUntil(h, second.done);
    assert.equal(second.value().errorCode, ErrorCode.NONE);
    assert.equal(h.coordinator.group('g')?.size, 1);
  });

  it('a static member that left by instance id alone is removed', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { groupInstanceId: 'instance-a' });
    const left = h.coordinator.leaveGroup('g', [{ memberId: '', groupInstanceId: 'instance-a' }]);
    assert.equal(left.members[0].errorCode, ErrorCode.NONE);
    await settle();
    assert.equal(h.coordinator.group('g')?.state, GroupState.Empty);
  });
});
