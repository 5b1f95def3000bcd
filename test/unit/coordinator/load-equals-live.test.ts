/**
 * The coordinator is event-sourced: what it holds after any sequence of operations is what a fresh
 * coordinator rebuilds by replaying `__consumer_offsets`. And a shard (one partition's groups) can be
 * unloaded and loaded again at run time, as moving coordinators between brokers needs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCoordinator, type OffsetCommitParams } from '../../../src/coordinator/group/group-coordinator.js';
import { FakeTimers } from '../../../src/coordinator/group/index.js';
import { type CoordinatorLog, MemoryCoordinatorLog } from '../../../src/coordinator/runtime/coordinator-log.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import {
  CONFIG,
  GatedLog,
  groupsSnapshot,
  type Harness,
  joinParams,
  settle,
  stableGroup,
  startCoordinator,
  track,
} from './helpers.js';

function commit(groupId: string, topic: string, offset: bigint, overrides: Partial<OffsetCommitParams> = {}) {
  return {
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    offsets: [{ topic, partition: 0, offset, leaderEpoch: 0, metadata: null }],
    ...overrides,
  };
}

/** Asserts that a fresh coordinator over the same log holds exactly what `h` holds now. */
async function assertLoadEqualsLive(h: Harness, step: string): Promise<void> {
  await settle();
  const fresh = await startCoordinator({}, h.log, new FakeTimers(h.timers.now()));
  assert.deepEqual(groupsSnapshot(fresh.coordinator), groupsSnapshot(h.coordinator), `after ${step}`);
  fresh.coordinator.close();
}

describe('group coordinator: load ≡ live', () => {
  it('after every step of a history of joins, commits, deletions, expiry and failed writes, a fresh load equals the live state', async () => {
    const h = await startCoordinator({ offsetsRetentionMs: 60_000 });
    const c = h.coordinator;
    const stable = await stableGroup(h, 2, { groupId: 'stable' });
    await assertLoadEqualsLive(h, 'a rebalance');

    await c.commitOffsets(
      commit('stable', 'orders', 10n, { generationId: stable.generationId, memberId: stable.memberIds[0] }),
    );
    await c.commitOffsets(commit('simple', 'logs', 5n));
    await c.commitOffsets(commit('simple', 'logs', 6n));
    await assertLoadEqualsLive(h, 'commits');

    // A group whose only offset is deleted keeps existing, holding nothing, until expiry deletes it.
    await c.commitOffsets(commit('pruned', 'x', 1n));
    await c.deleteOffsets('pruned', [{ name: 'x', partitions: [0] }]);
    assert.notEqual(c.group('pruned'), undefined);
    await assertLoadEqualsLive(h, 'deleting a group’s only offset');

    // A deletion that cannot be written leaves the group as the log has it.
    await c.commitOffsets(commit('kept', 'y', 3n));
    h.log.failAppends = new Error('disk full');
    assert.deepEqual(await c.deleteGroups(['kept']), [
      { groupId: 'kept', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE },
    ]);
    h.log.failAppends = null;
    assert.equal(c.fetchOffsets('kept', null, false).topics[0].partitions[0].offset, 3n);
    await assertLoadEqualsLive(h, 'a failed group deletion');

    // A commit still being written when its group is deleted: the tombstones follow it, the group is gone.
    h.log.appendDelayMs = 5;
    const inFlight = c.commitOffsets(commit('doomed', 'z', 9n));
    await settle();
    const deleted = c.deleteGroups(['doomed']);
    assert.deepEqual(await inFlight, [ErrorCode.NONE]);
    assert.deepEqual(await deleted, [{ groupId: 'doomed', errorCode: ErrorCode.NONE }]);
    h.log.appendDelayMs = 0;
    assert.equal(c.group('doomed'), undefined);
    await assertLoadEqualsLive(h, 'deleting a group with a commit in flight');

    // The last member leaves: the group is Empty and its offsets expire a retention later, then it dies.
    c.leaveGroup(
      'stable',
      stable.memberIds.map((memberId) => ({ memberId, groupInstanceId: null })),
    );
    await assertLoadEqualsLive(h, 'every member leaving');
    h.timers.advance(61_000);
    await c.expireOffsets();
    assert.equal(c.group('stable'), undefined);
    assert.equal(c.group('pruned'), undefined);
    assert.equal(c.group('simple'), undefined);
    await assertLoadEqualsLive(h, 'offset expiry');
    c.close();
  });
});

describe('group coordinator: shards unloaded and loaded at run time', () => {
  it('an unloaded shard answers NOT_COORDINATOR for its groups, other shards keep serving, and a load brings its groups back', async () => {
    const h = await startCoordinator();
    const c = h.coordinator;
    const { memberIds, generationId } = await stableGroup(h, 1, { groupId: 'g' });
    await c.commitOffsets(commit('g', 't', 42n, { generationId, memberId: memberIds[0] }));
    const other = ['a', 'b', 'c', 'd', 'e'].find((id) => c.partitionFor(id) !== c.partitionFor('g'))!;
    await c.commitOffsets(commit(other, 't', 7n));
    // A newcomer's join is parked while the group rebalances.
    const parked = track(c.joinGroup(joinParams({ groupId: 'g', clientId: 'newcomer' })));
    await settle();
    assert.equal(parked.done(), false);

    const partition = c.partitionFor('g');
    c.unloadShard(partition);
    await settle();
    assert.equal(parked.value().errorCode, ErrorCode.NOT_COORDINATOR);
    const heartbeat = { groupId: 'g', generationId, memberId: memberIds[0], groupInstanceId: null };
    assert.equal(c.heartbeat(heartbeat), ErrorCode.NOT_COORDINATOR);
    assert.equal(c.fetchOffsets('g', [{ name: 't', partitions: [0] }], false).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.deepEqual(await c.commitOffsets(commit('g', 't', 43n)), [ErrorCode.NOT_COORDINATOR]);
    assert.equal(c.describeGroup('g').errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(c.group('g'), undefined);
    assert.equal(c.fetchOffsets(other, null, false).topics[0].partitions[0].offset, 7n);

    const loading = c.loadShard(partition);
    assert.equal(c.heartbeat(heartbeat), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await loading;
    // The log knows the Stable generation, not the rebalance the newcomer started in memory.
    assert.equal(c.heartbeat(heartbeat), ErrorCode.NONE);
    assert.equal(c.group('g')?.state, 'Stable');
    assert.equal(c.fetchOffsets('g', [{ name: 't', partitions: [0] }], false).topics[0].partitions[0].offset, 42n);
    c.close();
  });

  it('a write still in flight when its shard unloads is answered NOT_COORDINATOR, and the next load finds its record', async () => {
    const log = new GatedLog(50);
    const h = await startCoordinator({}, log);
    const c = h.coordinator;
    const pending = track(c.commitOffsets(commit('g', 't', 5n)));
    await settle();
    assert.equal(log.waiting, 1);
    c.unloadShard(c.partitionFor('g'));
    log.release();
    await settle();
    assert.deepEqual(pending.value(), [ErrorCode.NOT_COORDINATOR]);
    await c.loadShard(c.partitionFor('g'));
    assert.equal(c.fetchOffsets('g', [{ name: 't', partitions: [0] }], false).topics[0].partitions[0].offset, 5n);
    c.close();
  });
});

describe('group coordinator: load ≡ live with KIP-848 consumer groups', () => {
  const TOPIC_ID = 'abababababababababababababababab';
  const topics = {
    byName: (name: string) => (name === 't' ? { topicId: TOPIC_ID, numPartitions: 4 } : undefined),
    byId: (id: string) => (id === TOPIC_ID ? { name: 't', numPartitions: 4 } : undefined),
    names: () => ['t'],
  };
  const start = async (log: MemoryCoordinatorLog, timers: FakeTimers) => {
    const coordinator = new GroupCoordinator({ log: log as CoordinatorLog, config: CONFIG, timers, topics });
    await coordinator.load();
    return coordinator;
  };
  const view = (c: GroupCoordinator) => ({
    classic: groupsSnapshot(c),
    consumer: Object.fromEntries(
      c.consumerGroupIds().map((id) => {
        const g = c.consumerGroup(id)!;
        return [
          id,
          { epoch: g.groupEpoch, assignmentEpoch: g.assignmentEpoch, state: g.state, members: g.members.size },
        ];
      }),
    ),
    listed: c.listGroups().groups.sort((a, b) => a.groupId.localeCompare(b.groupId)),
  });

  it('an empty classic group that becomes a consumer group, its commits, and its deletion load back as they were live', async () => {
    const log = new MemoryCoordinatorLog(50);
    const timers = new FakeTimers();
    const c = await start(log, timers);
    const check = async (step: string) => {
      await settle();
      const fresh = await start(log, new FakeTimers(timers.now()));
      assert.deepEqual(view(fresh), view(c), `after ${step}`);
      fresh.close();
    };
    // A classic group that emptied, with an offset: a consumer-protocol member takes the id over.
    const h = { coordinator: c, log, timers };
    const classic = await stableGroup(h, 1, { groupId: 'g' });
    await c.commitOffsets(commit('g', 't', 3n, { generationId: classic.generationId, memberId: classic.memberIds[0] }));
    c.leaveGroup('g', [{ memberId: classic.memberIds[0], groupInstanceId: null }]);
    await check('a classic group emptying');
    const joined = await c.consumerGroupHeartbeat({
      groupId: 'g',
      memberId: '',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 10_000,
      subscribedTopicNames: ['t'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
      clientId: 'new',
      clientHost: '/127.0.0.1',
    });
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      c.listGroups().groups.map((g) => [g.groupId, g.groupType]),
      [['g', 'consumer']],
    );
    assert.equal(c.fetchOffsets('g', [{ name: 't', partitions: [0] }], false).topics[0].partitions[0].offset, 3n);
    await check('the consumer group taking over the id');
    await c.commitOffsets(
      commit('g', 't', 4n, { generationId: joined.memberEpoch, memberId: joined.memberId!, apiVersion: 9 }),
    );
    await check('a member commit');
    const left = await c.consumerGroupHeartbeat({
      ...{ groupId: 'g', instanceId: null, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null },
      ...{ subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null, clientId: 'new', clientHost: '' },
      memberId: joined.memberId!,
      memberEpoch: -1,
    });
    assert.equal(left.memberEpoch, -1);
    await check('the member leaving');
    assert.deepEqual(await c.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.deepEqual(c.listGroups().groups, []);
    await check('the consumer group being deleted');
    c.close();
  });
});
