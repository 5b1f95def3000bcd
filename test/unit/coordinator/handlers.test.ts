/**
 * The group handlers on the wire: each request is encoded and decoded with the generated codec at the
 * version under test, handled, and its response encoded and decoded again, so version differences are
 * checked as a client would see them.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Broker } from '../../../src/broker/broker.js';
import { AUTHORIZED_OPERATIONS_OMITTED, GROUP_OPERATIONS } from '../../../src/broker/cluster-info.js';
import offsetCommit from '../../../src/broker/handlers/08-offset-commit.js';
import offsetFetch from '../../../src/broker/handlers/09-offset-fetch.js';
import findCoordinator from '../../../src/broker/handlers/10-find-coordinator.js';
import joinGroup from '../../../src/broker/handlers/11-join-group.js';
import leaveGroup from '../../../src/broker/handlers/13-leave-group.js';
import describeGroups from '../../../src/broker/handlers/15-describe-groups.js';
import { GROUP_HANDLERS } from '../../../src/broker/handlers/group-handlers.js';
import type { HandlerContext, HandlerDefinition } from '../../../src/broker/registry.js';
import { MemoryCoordinatorLog } from '../../../src/coordinator/group/coordinator-log.js';
import { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import type { Timers } from '../../../src/coordinator/group/timers.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { CONFIG, settle, subscription } from './helpers.js';

function fakeBroker(groups: GroupCoordinator | undefined): Broker {
  const advertised = { name: 'PLAINTEXT', host: 'broker.example', port: 9092 };
  return {
    nodeId: 1,
    advertised,
    advertisedFor: () => advertised,
    groups,
    topics: { get: (name: string) => (name === 't' ? { name: 't', partitions: 3 } : undefined) },
  } as unknown as Broker;
}

function context(broker: Broker, apiKey: number, version: number): HandlerContext {
  return {
    broker,
    version,
    header: { apiKey, apiVersion: version, correlationId: 7, clientId: 'the-client' },
    connection: {
      connectionId: 1,
      remoteAddress: '::ffff:10.1.2.3',
      remotePort: 50000,
      listenerName: 'PLAINTEXT',
      state: new Map(),
      close() {},
    },
  };
}

/** Encodes the request at `version`, decodes it, handles it, and returns the response as a client decodes it. */
async function call<Req, Res>(
  handler: HandlerDefinition<Req, Res>,
  broker: Broker,
  version: number,
  fill: (req: Req) => void,
): Promise<Res> {
  const req = handler.api.defaultRequest();
  fill(req);
  const w = new Writer();
  handler.api.encodeRequest(w, version, req);
  const decoded = handler.api.decodeRequest(new Reader(Buffer.from(w.toBuffer())), version);
  const res = await handler.handle(decoded, context(broker, handler.api.apiKey, version));
  assert.ok(res, 'a response');
  const out = new Writer();
  handler.api.encodeResponse(out, version, res);
  return handler.api.decodeResponse(new Reader(Buffer.from(out.toBuffer())), version);
}

const coordinators: GroupCoordinator[] = [];
/** Real timers that keep the test process alive while a JoinGroup is parked; close() clears them. */
const refTimers: Timers = {
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

function coordinatorOn(config = CONFIG): GroupCoordinator {
  const c = new GroupCoordinator({ log: new MemoryCoordinatorLog(5), config, timers: refTimers });
  coordinators.push(c);
  return c;
}

async function loaded(config = CONFIG): Promise<GroupCoordinator> {
  const c = coordinatorOn(config);
  await c.load();
  return c;
}

describe('group handlers on the wire', () => {
  after(() => {
    for (const c of coordinators) c.close();
  });

  it('every version of every group API answers a default request with an encodable response', async () => {
    const broker = fakeBroker(await loaded());
    for (const handler of GROUP_HANDLERS) {
      for (let v = handler.minVersion; v <= handler.maxVersion; v++) {
        await call(handler, broker, v, (req: Record<string, unknown>) => {
          if ('groupId' in req) req.groupId = 'g';
        });
      }
    }
  });

  it('FindCoordinator answers this broker for groups and transactions, one entry per key from v4', async () => {
    const broker = fakeBroker(await loaded());
    const v0 = await call(findCoordinator, broker, 0, (r) => {
      r.key = 'g';
    });
    assert.deepEqual([v0.errorCode, v0.nodeId, v0.host, v0.port], [ErrorCode.NONE, 1, 'broker.example', 9092]);
    const txn = await call(findCoordinator, broker, 3, (r) => {
      r.key = 'tx';
      r.keyType = 1;
    });
    assert.equal(txn.nodeId, 1);
    const v4 = await call(findCoordinator, broker, 4, (r) => {
      r.coordinatorKeys = ['a', 'b'];
    });
    assert.deepEqual(
      v4.coordinators.map((c) => [c.key, c.nodeId, c.host, c.port, c.errorCode]),
      [
        ['a', 1, 'broker.example', 9092, ErrorCode.NONE],
        ['b', 1, 'broker.example', 9092, ErrorCode.NONE],
      ],
    );
    const share = await call(findCoordinator, broker, 6, (r) => {
      r.coordinatorKeys = ['s'];
      r.keyType = 2;
    });
    assert.equal(share.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
    const noGroups = await call(findCoordinator, fakeBroker(undefined), 2, (r) => {
      r.key = 'g';
    });
    assert.deepEqual([noGroups.errorCode, noGroups.nodeId], [ErrorCode.COORDINATOR_NOT_AVAILABLE, -1]);
  });

  it('JoinGroup asks for a member id from v4 only, and v0 uses the session timeout as rebalance timeout', async () => {
    const coordinator = await loaded({ ...CONFIG, initialRebalanceDelayMs: 0 });
    const broker = fakeBroker(coordinator);
    const fill = (r: Parameters<typeof joinGroup.handle>[0]) => {
      r.groupId = 'g';
      r.sessionTimeoutMs = 10_000;
      r.rebalanceTimeoutMs = 99_999;
      r.protocolType = 'consumer';
      r.protocols = [{ name: 'range', metadata: subscription('t') }];
    };
    const v4 = await call(joinGroup, broker, 4, fill);
    assert.equal(v4.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(v4.memberId, /^the-client-/);

    const v0 = await call(joinGroup, broker, 0, fill);
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.equal(v0.protocolName, 'range');
    const member = coordinator.group('g')!.members.get(v0.memberId)!;
    assert.equal(member.rebalanceTimeoutMs, 10_000);
    assert.equal(member.clientHost, '/10.1.2.3');
    assert.equal(member.clientId, 'the-client');
  });

  it('JoinGroup v7 answers the protocol type, and errors carry a null protocol name', async () => {
    const broker = fakeBroker(await loaded({ ...CONFIG, initialRebalanceDelayMs: 0 }));
    const fill = (memberId: string) => (r: Parameters<typeof joinGroup.handle>[0]) => {
      r.groupId = 'g';
      r.memberId = memberId;
      r.sessionTimeoutMs = 10_000;
      r.protocolType = 'consumer';
      r.protocols = [{ name: 'range', metadata: subscription('t') }];
    };
    const first = await call(joinGroup, broker, 7, fill(''));
    assert.deepEqual(
      [first.errorCode, first.protocolType, first.protocolName],
      [ErrorCode.MEMBER_ID_REQUIRED, null, null],
    );
    const ok = await call(joinGroup, broker, 7, fill(first.memberId));
    assert.deepEqual([ok.errorCode, ok.protocolType, ok.protocolName], [ErrorCode.NONE, 'consumer', 'range']);
    const bad = await call(joinGroup, broker, 7, (r) => {
      r.groupId = 'g';
      r.sessionTimeoutMs = 1;
    });
    assert.deepEqual([bad.errorCode, bad.protocolName], [ErrorCode.INVALID_SESSION_TIMEOUT, null]);
    const badV6 = await call(joinGroup, broker, 6, (r) => {
      r.groupId = 'g';
      r.sessionTimeoutMs = 1;
    });
    assert.equal(badV6.protocolName, '');
  });

  it('OffsetCommit answers unknown topics itself; v9 says GROUP_ID_NOT_FOUND where v8 says ILLEGAL_GENERATION', async () => {
    const broker = fakeBroker(await loaded());
    const commit = (version: number, generation: number, groupId = 'g') =>
      call(offsetCommit, broker, version, (r) => {
        r.groupId = groupId;
        r.generationIdOrMemberEpoch = generation;
        r.memberId = generation >= 0 ? 'm' : '';
        r.topics = [
          { name: 't', partitions: [{ ...partition(), partitionIndex: 0 }] },
          { name: 'nope', partitions: [{ ...partition(), partitionIndex: 0 }] },
          { name: 't', partitions: [{ ...partition(), partitionIndex: 3 }] },
        ];
      });
    const partition = () => ({
      partitionIndex: 0,
      committedOffset: 5n,
      committedLeaderEpoch: -1,
      commitTimestamp: -1n,
      committedMetadata: null,
    });
    const v2 = await commit(2, -1);
    assert.deepEqual(
      v2.topics.map((t) => t.partitions[0].errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.equal((await commit(9, 4)).topics[0].partitions[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await commit(8, 4, 'unknown')).topics[0].partitions[0].errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await commit(9, 4, 'unknown')).topics[0].partitions[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('OffsetFetch puts group errors on each partition before v2, at the top from v2, per group from v8', async () => {
    const loading = coordinatorOn();
    const broker = fakeBroker(loading);
    const v1 = await call(offsetFetch, broker, 1, (r) => {
      r.groupId = 'g';
      r.topics = [{ name: 't', partitionIndexes: [0, 1] }];
    });
    assert.deepEqual(
      v1.topics[0].partitions.map((p) => [p.committedOffset, p.errorCode]),
      [
        [-1n, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS],
        [-1n, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS],
      ],
    );
    const v2 = await call(offsetFetch, broker, 2, (r) => {
      r.groupId = 'g';
      r.topics = null;
    });
    assert.deepEqual([v2.errorCode, v2.topics], [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, []]);
    const v8 = await call(offsetFetch, broker, 8, (r) => {
      r.groups = [{ groupId: 'g', memberId: null, memberEpoch: -1, topics: null }];
    });
    assert.deepEqual([v8.groups[0].groupId, v8.groups[0].errorCode], ['g', ErrorCode.COORDINATOR_LOAD_IN_PROGRESS]);

    await loading.load();
    await loading.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      offsets: [{ topic: 't', partition: 1, offset: 9n, leaderEpoch: 2, metadata: 'x' }],
    });
    const v9 = await call(offsetFetch, broker, 9, (r) => {
      r.groups = [
        { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'other', memberId: null, memberEpoch: -1, topics: [{ name: 't', partitionIndexes: [0] }] },
      ];
    });
    assert.deepEqual(
      v9.groups.map((g) =>
        g.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]),
      ),
      [[['t', [[1, 9n]]]], [['t', [[0, -1n]]]]],
    );
  });

  it('LeaveGroup v0–v2 lifts the member’s error to the top; v3 answers per member', async () => {
    const broker = fakeBroker(await loaded());
    const v1 = await call(leaveGroup, broker, 1, (r) => {
      r.groupId = 'g';
      r.memberId = 'ghost';
    });
    assert.equal(v1.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const v3 = await call(leaveGroup, broker, 3, (r) => {
      r.groupId = 'g';
      r.members = [{ memberId: 'ghost', groupInstanceId: null, reason: null }];
    });
    assert.equal(v3.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      v3.members.map((m) => [m.memberId, m.errorCode]),
      [['ghost', ErrorCode.UNKNOWN_MEMBER_ID]],
    );
  });

  it('DescribeGroups gives authorized operations only when asked (v3+)', async () => {
    const broker = fakeBroker(await loaded());
    const asked = await call(describeGroups, broker, 3, (r) => {
      r.groups = ['g'];
      r.includeAuthorizedOperations = true;
    });
    assert.equal(asked.groups[0].authorizedOperations, GROUP_OPERATIONS);
    assert.equal(asked.groups[0].groupState, 'Dead');
    const notAsked = await call(describeGroups, broker, 5, (r) => {
      r.groups = ['g', ''];
    });
    assert.equal(notAsked.groups[0].authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
    assert.equal(notAsked.groups[1].errorCode, ErrorCode.INVALID_GROUP_ID);
    await settle();
  });
});
