import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupState } from '../../../src/coordinator/group/classic-group.js';
import type { OffsetCommitParams } from '../../../src/coordinator/group/group-coordinator.js';
import { decodeOffsetsTopicKey } from '../../../src/coordinator/group/offsets-topic-records.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { iterateRecords } from '../../../src/records/iterate.js';
import { GatedLog, joinParams, settle, stableGroup, startCoordinator, subscription, track } from './helpers.js';

function commit(overrides: Partial<OffsetCommitParams> = {}): OffsetCommitParams {
  return {
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    offsets: [{ topic: 't', partition: 0, offset: 42n, leaderEpoch: 0, metadata: 'm' }],
    ...overrides,
  };
}

describe('group coordinator: committed offsets', () => {
  it('a consumer outside group management commits with generation -1 and an empty member id', async () => {
    const h = await startCoordinator();
    assert.deepEqual(await h.coordinator.commitOffsets(commit()), [ErrorCode.NONE]);
    const group = h.coordinator.group('g')!;
    assert.equal(group.state, GroupState.Empty);
    assert.equal(group.protocolType, null);
    const fetched = h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }], false);
    assert.deepEqual(fetched.topics[0].partitions[0], {
      partition: 0,
      offset: 42n,
      leaderEpoch: 0,
      metadata: 'm',
      errorCode: ErrorCode.NONE,
    });
  });

  it('a commit without a generation is refused with UNKNOWN_MEMBER_ID while the group has members', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1);
    assert.deepEqual(await h.coordinator.commitOffsets(commit()), [ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  it('a commit with a generation to a group that does not exist is ILLEGAL_GENERATION', async () => {
    const h = await startCoordinator();
    assert.deepEqual(await h.coordinator.commitOffsets(commit({ generationId: 3, memberId: 'm' })), [
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    assert.deepEqual(
      await h.coordinator.commitOffsets(
        commit({ generationId: 3, memberId: 'm', unknownGroupError: ErrorCode.GROUP_ID_NOT_FOUND }),
      ),
      [ErrorCode.GROUP_ID_NOT_FOUND],
    );
  });

  it('a member’s commit is checked against its generation and member id', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    const ok = await h.coordinator.commitOffsets(commit({ generationId, memberId: memberIds[0] }));
    assert.deepEqual(ok, [ErrorCode.NONE]);
    const stale = await h.coordinator.commitOffsets(commit({ generationId: generationId - 1, memberId: memberIds[0] }));
    assert.deepEqual(stale, [ErrorCode.ILLEGAL_GENERATION]);
    const stranger = await h.coordinator.commitOffsets(commit({ generationId, memberId: 'stranger' }));
    assert.deepEqual(stranger, [ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  it('a commit in CompletingRebalance is REBALANCE_IN_PROGRESS, and in PreparingRebalance it is accepted', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1);
    void h.coordinator.joinGroup(joinParams({ clientId: 'newcomer' }));
    await settle();
    assert.equal(h.coordinator.group('g')?.state, GroupState.PreparingRebalance);
    assert.deepEqual(await h.coordinator.commitOffsets(commit({ generationId, memberId: memberIds[0] })), [
      ErrorCode.NONE,
    ]);
    const rejoin = track(h.coordinator.joinGroup(joinParams({ memberId: memberIds[0] })));
    await settle();
    assert.equal(h.coordinator.group('g')?.state, GroupState.CompletingRebalance);
    const next = rejoin.value().generationId;
    assert.deepEqual(await h.coordinator.commitOffsets(commit({ generationId: next, memberId: memberIds[0] })), [
      ErrorCode.REBALANCE_IN_PROGRESS,
    ]);
  });

  it('an offset commit is answered only once its record is durable; require_stable sees it as unstable meanwhile', async () => {
    const log = new GatedLog(50);
    const h = await startCoordinator({}, log);
    const pending = track(h.coordinator.commitOffsets(commit()));
    await settle();
    assert.equal(pending.done(), false);
    assert.equal(log.waiting, 1);
    const unstable = h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }], true);
    assert.equal(unstable.topics[0].partitions[0].errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    const notYet = h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }], false);
    assert.equal(notYet.topics[0].partitions[0].offset, -1n);
    log.release();
    await settle();
    assert.deepEqual(pending.value(), [ErrorCode.NONE]);
    assert.equal(
      h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }], true).topics[0].partitions[0].offset,
      42n,
    );
  });

  it('a storage failure answers the commit with COORDINATOR_NOT_AVAILABLE and keeps the previous offset', async () => {
    const h = await startCoordinator();
    await h.coordinator.commitOffsets(commit());
    h.log.failAppends = new Error('disk full');
    const failed = await h.coordinator.commitOffsets(
      commit({ offsets: [{ topic: 't', partition: 0, offset: 99n, leaderEpoch: 0, metadata: null }] }),
    );
    assert.deepEqual(failed, [ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    assert.equal(
      h.coordinator.fetchOffsets('g', [{ name: 't', partitions: [0] }], false).topics[0].partitions[0].offset,
      42n,
    );
  });

  it('metadata longer than offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE, the rest is committed', async () => {
    const h = await startCoordinator({ offsetMetadataMaxBytes: 4 });
    const errors = await h.coordinator.commitOffsets(
      commit({
        offsets: [
          { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: 'short' },
          { topic: 't', partition: 1, offset: 2n, leaderEpoch: -1, metadata: 'ok' },
        ],
      }),
    );
    assert.deepEqual(errors, [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE]);
  });

  it('OffsetFetch with null topics returns every committed partition; unknown partitions answer -1', async () => {
    const h = await startCoordinator();
    await h.coordinator.commitOffsets(
      commit({
        offsets: [
          { topic: 'a', partition: 0, offset: 10n, leaderEpoch: -1, metadata: null },
          { topic: 'a', partition: 2, offset: 12n, leaderEpoch: -1, metadata: null },
          { topic: 'b', partition: 1, offset: 21n, leaderEpoch: 3, metadata: 'x' },
        ],
      }),
    );
    const all = h.coordinator.fetchOffsets('g', null, false);
    assert.equal(all.errorCode, ErrorCode.NONE);
    const flat = all.topics.flatMap((t) => t.partitions.map((p) => `${t.name}-${p.partition}@${p.offset}`)).sort();
    assert.deepEqual(flat, ['a-0@10', 'a-2@12', 'b-1@21']);
    const some = h.coordinator.fetchOffsets('g', [{ name: 'a', partitions: [0, 1] }], false);
    assert.deepEqual(
      some.topics[0].partitions.map((p) => [p.partition, p.offset, p.metadata]),
      [
        [0, 10n, ''],
        [1, -1n, ''],
      ],
    );
    const unknownGroup = h.coordinator.fetchOffsets('nobody', [{ name: 'a', partitions: [0] }], false);
    assert.equal(unknownGroup.errorCode, ErrorCode.NONE);
    assert.equal(unknownGroup.topics[0].partitions[0].offset, -1n);
    assert.deepEqual(h.coordinator.fetchOffsets('nobody', null, false).topics, []);
  });

  it('v2–v4 retention_time_ms gives a commit its own expire timestamp', async () => {
    const h = await startCoordinator();
    await h.coordinator.commitOffsets(commit({ retentionTimeMs: 60_000 }));
    h.timers.advance(59_000);
    await h.coordinator.expireOffsets();
    assert.equal(h.coordinator.fetchOffsets('g', null, false).topics.length, 1);
    h.timers.advance(1000);
    await h.coordinator.expireOffsets();
    assert.equal(h.coordinator.group('g'), undefined, 'the offsets-only group died with its last offset');
  });

  it('offsets of an Empty group expire offsets.retention after the group emptied, then the group is deleted', async () => {
    const retention = 24 * 3600 * 1000;
    const h = await startCoordinator({ offsetsRetentionMs: retention });
    const { memberIds, generationId } = await stableGroup(h, 1);
    await h.coordinator.commitOffsets(commit({ generationId, memberId: memberIds[0] }));
    h.timers.advance(11_000); // the member stops heartbeating and is removed: the group empties
    await settle();
    const group = h.coordinator.group('g')!;
    assert.equal(group.state, GroupState.Empty);
    const emptiedAt = group.currentStateTimestamp!;
    h.timers.advance(emptiedAt + retention - 1 - h.timers.now());
    await h.coordinator.expireOffsets();
    assert.equal(h.coordinator.fetchOffsets('g', null, false).topics.length, 1);
    h.timers.advance(1);
    await h.coordinator.expireOffsets();
    assert.equal(h.coordinator.group('g'), undefined);
  });

  it('offsets of a Stable consumer group are kept however old, except for topics no member subscribes to', async () => {
    const retention = 3600 * 1000;
    const h = await startCoordinator({ offsetsRetentionMs: retention });
    const { memberIds, generationId } = await stableGroup(h, 1, { sessionTimeoutMs: 1_800_000 });
    await h.coordinator.commitOffsets(
      commit({
        generationId,
        memberId: memberIds[0],
        offsets: [
          { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null },
          { topic: 'gone', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null },
        ],
      }),
    );
    for (let i = 0; i < 4; i++) {
      h.timers.advance(retention / 4);
      h.coordinator.heartbeat({ groupId: 'g', generationId, memberId: memberIds[0], groupInstanceId: null });
    }
    await h.coordinator.expireOffsets();
    assert.deepEqual(
      h.coordinator.fetchOffsets('g', null, false).topics.map((t) => t.name),
      ['t'],
    );
  });
});

describe('group coordinator: deleting groups and offsets', () => {
  it('DeleteGroups refuses a group with members, deletes an empty one with tombstones, and does not know unknown ones', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { groupId: 'busy' });
    await h.coordinator.commitOffsets(commit({ groupId: 'idle' }));
    const results = await h.coordinator.deleteGroups(['busy', 'idle', 'ghost']);
    assert.deepEqual(results, [
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'idle', errorCode: ErrorCode.NONE },
      { groupId: 'ghost', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    assert.equal(h.coordinator.group('idle'), undefined);
    assert.equal(
      h.coordinator.fetchOffsets('idle', [{ name: 't', partitions: [0] }], false).topics[0].partitions[0].offset,
      -1n,
    );

    const partition = h.coordinator.partitionFor('idle');
    const last = h.log.partitions[partition].at(-1)!.batch;
    const tombstones = [...iterateRecords(last)].map((r) => ({ key: decodeOffsetsTopicKey(r.key!), value: r.value }));
    assert.deepEqual(tombstones, [
      { key: { type: 'offset', group: 'idle', topic: 't', partition: 0 }, value: null },
      { key: { type: 'group', group: 'idle' }, value: null },
    ]);
  });

  it('OffsetDelete refuses topics a consumer group subscribes to and deletes offsets of the others', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 1, {
      protocols: [{ name: 'range', metadata: subscription('orders') }],
    });
    await h.coordinator.commitOffsets(
      commit({
        generationId,
        memberId: memberIds[0],
        offsets: [
          { topic: 'orders', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null },
          { topic: 'old-topic', partition: 0, offset: 7n, leaderEpoch: -1, metadata: null },
        ],
      }),
    );
    const result = await h.coordinator.deleteOffsets('g', [
      { name: 'orders', partitions: [0] },
      { name: 'old-topic', partitions: [0] },
    ]);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      result.topics.map((t) => [t.name, t.partitions[0].errorCode]),
      [
        ['orders', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
        ['old-topic', ErrorCode.NONE],
      ],
    );
    const left = h.coordinator.fetchOffsets('g', null, false).topics.map((t) => t.name);
    assert.deepEqual(left, ['orders']);
    assert.equal((await h.coordinator.deleteOffsets('ghost', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('OffsetDelete of a non-consumer group with members is NON_EMPTY_GROUP', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { protocolType: 'connect' });
    const result = await h.coordinator.deleteOffsets('g', [{ name: 't', partitions: [0] }]);
    assert.equal(result.errorCode, ErrorCode.NON_EMPTY_GROUP);
  });
});

describe('group coordinator: admin views', () => {
  it('DescribeGroups shows members with metadata and assignment once Stable, and an unknown group as Dead', async () => {
    const h = await startCoordinator();
    const { memberIds } = await stableGroup(h, 2);
    const d = h.coordinator.describeGroup('g');
    assert.equal(d.groupState, 'Stable');
    assert.equal(d.protocolType, 'consumer');
    assert.equal(d.protocolData, 'range');
    assert.deepEqual(d.members.map((m) => m.memberId).sort(), [...memberIds].sort());
    for (const m of d.members) {
      assert.equal(m.clientHost, '/127.0.0.1');
      assert.deepEqual(m.memberMetadata, subscription('t'));
      assert.equal(m.memberAssignment.toString(), m.memberId);
    }
    const ghost = h.coordinator.describeGroup('ghost');
    assert.equal(ghost.errorCode, ErrorCode.NONE);
    assert.equal(ghost.groupState, 'Dead');
  });

  it('ListGroups lists every live group and filters by state case-insensitively', async () => {
    const h = await startCoordinator();
    await stableGroup(h, 1, { groupId: 'stable' });
    await h.coordinator.commitOffsets(commit({ groupId: 'offsets-only' }));
    const all = h.coordinator.listGroups();
    assert.deepEqual(all.groups.map((g) => [g.groupId, g.groupState, g.protocolType, g.groupType]).sort(), [
      ['offsets-only', 'Empty', '', 'classic'],
      ['stable', 'Stable', 'consumer', 'classic'],
    ]);
    assert.deepEqual(
      h.coordinator.listGroups(['stable']).groups.map((g) => g.groupId),
      ['stable'],
    );
    assert.deepEqual(h.coordinator.listGroups([], ['consumer']).groups, []);
  });
});
