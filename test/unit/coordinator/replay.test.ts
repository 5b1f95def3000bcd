import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupState } from '../../../src/coordinator/group/classic-group.js';
import {
  encodeGroupMetadataKey,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from '../../../src/coordinator/group/offsets-topic-records.js';
import { FakeTimers } from '../../../src/coordinator/runtime/timers.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { buildEndTxnMarkerBatch } from '../../../src/records/control.js';
import { groupsSnapshot, joinParams, settle, stableGroup, startCoordinator } from './helpers.js';

describe('group coordinator: rebuilding state from __consumer_offsets', () => {
  it('a fresh coordinator over the same log has the same groups, generations, Stable members and offsets', async () => {
    const h = await startCoordinator();
    const stable = await stableGroup(h, 3, { groupId: 'stable', groupInstanceId: null });
    await h.coordinator.commitOffsets({
      groupId: 'stable',
      generationId: stable.generationId,
      memberId: stable.memberIds[1],
      groupInstanceId: null,
      retentionTimeMs: -1,
      offsets: [
        { topic: 'orders', partition: 0, offset: 100n, leaderEpoch: 0, metadata: 'first' },
        { topic: 'orders', partition: 1, offset: 200n, leaderEpoch: 0, metadata: null },
      ],
    });
    // A second commit overrides the first for partition 0.
    await h.coordinator.commitOffsets({
      groupId: 'stable',
      generationId: stable.generationId,
      memberId: stable.memberIds[1],
      groupInstanceId: null,
      retentionTimeMs: -1,
      offsets: [{ topic: 'orders', partition: 0, offset: 150n, leaderEpoch: 0, metadata: 'second' }],
    });
    // A group that emptied: generation and protocol type stay, members go.
    const emptied = await stableGroup(h, 1, { groupId: 'emptied' });
    h.coordinator.leaveGroup('emptied', [{ memberId: emptied.memberIds[0], groupInstanceId: null }]);
    // Offsets without group management, with their own retention (value v1).
    await h.coordinator.commitOffsets({
      groupId: 'simple',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: 60_000,
      offsets: [{ topic: 'logs', partition: 3, offset: 7n, leaderEpoch: -1, metadata: null }],
    });
    // A deleted group and a deleted offset must stay deleted.
    await h.coordinator.commitOffsets({
      groupId: 'doomed',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      offsets: [{ topic: 'x', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
    });
    await h.coordinator.deleteGroups(['doomed']);
    await h.coordinator.commitOffsets({
      groupId: 'simple',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      offsets: [{ topic: 'gone', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
    });
    await h.coordinator.deleteOffsets('simple', [{ name: 'gone', partitions: [0] }]);
    await settle();

    const before = groupsSnapshot(h.coordinator);
    assert.deepEqual(Object.keys(before), ['emptied', 'simple', 'stable']);
    assert.equal(before.stable.state, GroupState.Stable);
    assert.equal(before.stable.members.length, 3);
    assert.equal(before.emptied.state, GroupState.Empty);

    const replayed = await startCoordinator({}, h.log, new FakeTimers(h.timers.now()));
    assert.deepEqual(groupsSnapshot(replayed.coordinator), before);
    h.coordinator.close();
    replayed.coordinator.close();
  });

  it('replayed Stable members keep heartbeating in their generation, and one that stays silent expires', async () => {
    const h = await startCoordinator();
    const { memberIds, generationId } = await stableGroup(h, 2);
    h.coordinator.close();
    const replayed = await startCoordinator({}, h.log, new FakeTimers(h.timers.now()));
    const c = replayed.coordinator;
    assert.equal(
      c.heartbeat({ groupId: 'g', generationId, memberId: memberIds[0], groupInstanceId: null }),
      ErrorCode.NONE,
    );
    replayed.timers.advance(9000);
    c.heartbeat({ groupId: 'g', generationId, memberId: memberIds[0], groupInstanceId: null });
    replayed.timers.advance(2000);
    assert.equal(c.group('g')?.has(memberIds[1]), false);
    assert.equal(c.group('g')?.state, GroupState.PreparingRebalance);
    const rejoin = await c.joinGroup(joinParams({ memberId: memberIds[0] }));
    assert.equal(rejoin.generationId, generationId + 1);
    c.close();
  });

  it('transactional offset commits count only once their transaction commits', async () => {
    const h = await startCoordinator();
    const partition = h.coordinator.partitionFor('txn-group');
    const offsetRecord = (topic: string, offset: bigint) => ({
      key: encodeOffsetCommitKey('txn-group', topic, 0),
      value: encodeOffsetCommitValue({
        offset,
        leaderEpoch: -1,
        metadata: '',
        commitTimestamp: 1n,
        expireTimestamp: -1n,
      }),
    });
    const txn = (producerId: bigint, topic: string) =>
      buildRecordBatch([offsetRecord(topic, 5n)], {
        producerId,
        producerEpoch: 0,
        baseSequence: 0,
        isTransactional: true,
      });
    await h.log.append(partition, txn(1n, 'committed'));
    await h.log.append(partition, txn(2n, 'aborted'));
    await h.log.append(partition, txn(3n, 'open'));
    await h.log.append(
      partition,
      buildEndTxnMarkerBatch({ type: 'COMMIT', producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0 }),
    );
    await h.log.append(
      partition,
      buildEndTxnMarkerBatch({ type: 'ABORT', producerId: 2n, producerEpoch: 0, coordinatorEpoch: 0 }),
    );
    // A group tombstone for a group that was never loaded is harmless.
    await h.log.append(partition, buildRecordBatch([{ key: encodeGroupMetadataKey('txn-group'), value: null }]));
    const replayed = await startCoordinator({}, h.log);
    const topics = replayed.coordinator.fetchOffsets('txn-group', null, false).topics.map((t) => t.name);
    assert.deepEqual(topics, ['committed']);
  });

  it('a record the coordinator cannot read is skipped without hiding the records after it', async () => {
    const h = await startCoordinator();
    const partition = h.coordinator.partitionFor('g');
    await h.log.append(partition, buildRecordBatch([{ key: Buffer.from([0]), value: Buffer.from('junk') }]));
    await h.log.append(
      partition,
      buildRecordBatch([
        {
          key: encodeOffsetCommitKey('g', 't', 0),
          value: encodeOffsetCommitValue({
            offset: 3n,
            leaderEpoch: -1,
            metadata: '',
            commitTimestamp: 1n,
            expireTimestamp: -1n,
          }),
        },
      ]),
    );
    const replayed = await startCoordinator({}, h.log);
    assert.equal(replayed.coordinator.fetchOffsets('g', null, false).topics[0].partitions[0].offset, 3n);
  });
});
