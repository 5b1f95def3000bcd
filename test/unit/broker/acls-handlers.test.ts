/**
 * ACL checks in the group, topic-admin, offsets and config APIs, over a SASL_PLAINTEXT listener with SCRAM
 * users: admin is a super user, alice gets the ACLs each test grants, bob has none and is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '../../../src/broker/authorizer.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ListOffsetsApi } from '../../../src/protocol/generated/02-list-offsets.js';
import { OffsetCommitApi } from '../../../src/protocol/generated/08-offset-commit.js';
import { OffsetFetchApi } from '../../../src/protocol/generated/09-offset-fetch.js';
import { FindCoordinatorApi } from '../../../src/protocol/generated/10-find-coordinator.js';
import { JoinGroupApi } from '../../../src/protocol/generated/11-join-group.js';
import { HeartbeatApi } from '../../../src/protocol/generated/12-heartbeat.js';
import { LeaveGroupApi } from '../../../src/protocol/generated/13-leave-group.js';
import { SyncGroupApi } from '../../../src/protocol/generated/14-sync-group.js';
import { DescribeGroupsApi } from '../../../src/protocol/generated/15-describe-groups.js';
import { ListGroupsApi } from '../../../src/protocol/generated/16-list-groups.js';
import { CreateTopicsApi } from '../../../src/protocol/generated/19-create-topics.js';
import { DeleteTopicsApi } from '../../../src/protocol/generated/20-delete-topics.js';
import { DeleteRecordsApi } from '../../../src/protocol/generated/21-delete-records.js';
import { InitProducerIdApi } from '../../../src/protocol/generated/22-init-producer-id.js';
import { OffsetForLeaderEpochApi } from '../../../src/protocol/generated/23-offset-for-leader-epoch.js';
import { WriteTxnMarkersApi } from '../../../src/protocol/generated/27-write-txn-markers.js';
import { CreateAclsApi } from '../../../src/protocol/generated/30-create-acls.js';
import { DescribeConfigsApi } from '../../../src/protocol/generated/32-describe-configs.js';
import { AlterConfigsApi } from '../../../src/protocol/generated/33-alter-configs.js';
import { CreatePartitionsApi } from '../../../src/protocol/generated/37-create-partitions.js';
import { DeleteGroupsApi } from '../../../src/protocol/generated/42-delete-groups.js';
import { IncrementalAlterConfigsApi } from '../../../src/protocol/generated/44-incremental-alter-configs.js';
import { OffsetDeleteApi } from '../../../src/protocol/generated/47-offset-delete.js';
import { DescribeClientQuotasApi } from '../../../src/protocol/generated/48-describe-client-quotas.js';
import { AlterClientQuotasApi } from '../../../src/protocol/generated/49-alter-client-quotas.js';
import { DescribeUserScramCredentialsApi } from '../../../src/protocol/generated/50-describe-user-scram-credentials.js';
import { AlterUserScramCredentialsApi } from '../../../src/protocol/generated/51-alter-user-scram-credentials.js';
import { DescribeClusterApi } from '../../../src/protocol/generated/60-describe-cluster.js';
import { DescribeProducersApi } from '../../../src/protocol/generated/61-describe-producers.js';
import { ConsumerGroupHeartbeatApi } from '../../../src/protocol/generated/68-consumer-group-heartbeat.js';
import { ConsumerGroupDescribeApi } from '../../../src/protocol/generated/69-consumer-group-describe.js';
import { aclBrokers } from '../../helpers/acl-broker.js';
import type { RawClient } from '../../helpers/raw-client.js';

const { aclBroker, login } = aclBrokers();

/** Grants `principal` the operations on resources, as admin. */
async function grant(admin: RawClient, principal: string, grants: Array<[ResourceType, string, AclOperation]>) {
  const created = await admin.request(CreateAclsApi, 3, {
    creations: grants.map(([resourceType, resourceName, operation]) => ({
      resourceType,
      resourceName,
      resourcePatternType: PatternType.LITERAL,
      principal,
      host: '*',
      operation,
      permissionType: AclPermissionType.ALLOW,
    })),
  });
  for (const r of created.results) assert.equal(r.errorCode, ErrorCode.NONE);
}

const { CLUSTER, GROUP, TOPIC } = ResourceType;
const GAF = ErrorCode.GROUP_AUTHORIZATION_FAILED;
const TAF = ErrorCode.TOPIC_AUTHORIZATION_FAILED;

async function commit(client: RawClient, groupId: string, topic: string) {
  const response = await client.request(OffsetCommitApi, 8, {
    ...OffsetCommitApi.defaultRequest(),
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }],
      },
    ],
  } as never);
  return response.topics[0].partitions[0].errorCode;
}

async function findCoordinator(client: RawClient, key: string, keyType = 0) {
  const response = await client.request(FindCoordinatorApi, 4, { key: '', keyType, coordinatorKeys: [key] });
  return response.coordinators[0].errorCode;
}

async function join(client: RawClient, groupId: string) {
  const response = await client.request(JoinGroupApi, 5, {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
  } as never);
  return response.errorCode;
}

async function membership(client: RawClient, groupId: string) {
  const heartbeat = await client.request(HeartbeatApi, 3, {
    groupId,
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
  });
  const sync = await client.request(SyncGroupApi, 3, {
    groupId,
    generationId: 1,
    memberId: 'm',
    groupInstanceId: null,
    assignments: [],
  } as never);
  const leave = await client.request(LeaveGroupApi, 3, {
    groupId,
    members: [{ memberId: 'm', groupInstanceId: null }],
  } as never);
  return [heartbeat.errorCode, sync.errorCode, leave.errorCode];
}

test('the classic group APIs need READ on the group (DESCRIBE for FindCoordinator): bob is refused, alice is not', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[GROUP, 'g', AclOperation.READ]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  assert.equal(await findCoordinator(bob, 'g'), GAF);
  assert.equal(await findCoordinator(alice, 'g'), ErrorCode.NONE);
  assert.equal(await findCoordinator(bob, 'txn', 1), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal(await join(bob, 'g'), GAF);
  assert.equal(await join(alice, 'g'), ErrorCode.MEMBER_ID_REQUIRED);
  assert.deepEqual(await membership(bob, 'g'), [GAF, GAF, GAF]);
  for (const code of await membership(alice, 'g')) assert.notEqual(code, GAF);
});

test('OffsetCommit needs READ on the group and on each topic; OffsetFetch answers only topics alice may describe', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [
    [GROUP, 'g', AclOperation.READ],
    [TOPIC, 't', AclOperation.READ],
  ]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  assert.equal(await commit(bob, 'g', 't'), GAF);
  assert.equal(await commit(alice, 'g', 't'), ErrorCode.NONE);
  assert.equal(await commit(alice, 'g', 'secret'), TAF);
  assert.equal(await commit(admin, 'g', 'secret'), ErrorCode.NONE);

  const fetchAll = (client: RawClient, topics: Array<{ name: string; partitionIndexes: number[] }> | null) =>
    client.request(OffsetFetchApi, 8, {
      ...OffsetFetchApi.defaultRequest(),
      groups: [{ groupId: 'g', memberId: null, memberEpoch: -1, topics }],
    } as never);
  assert.equal((await fetchAll(bob, null)).groups[0].errorCode, GAF);
  const all = (await fetchAll(alice, null)).groups[0];
  assert.equal(all.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    all.topics.map((t) => t.name),
    ['t'],
  );
  assert.deepEqual((await fetchAll(admin, null)).groups[0].topics.map((t) => t.name).sort(), ['secret', 't']);
  const named = (
    await fetchAll(alice, [
      { name: 't', partitionIndexes: [0] },
      { name: 'secret', partitionIndexes: [0] },
    ])
  ).groups[0];
  assert.deepEqual(
    named.topics.map((t) => [t.name, t.partitions[0].errorCode, t.partitions[0].committedOffset]),
    [
      ['t', ErrorCode.NONE, 1n],
      ['secret', TAF, -1n],
    ],
  );
  // v1 carries the group error in each partition.
  const old = await bob.request(OffsetFetchApi, 1, {
    ...OffsetFetchApi.defaultRequest(),
    groupId: 'g',
    topics: [{ name: 't', partitionIndexes: [0] }],
  } as never);
  assert.equal(old.topics[0].partitions[0].errorCode, GAF);
});

test('DescribeGroups, ListGroups and ConsumerGroupDescribe need DESCRIBE on the group; authorized operations are the ones granted', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[GROUP, 'g', AclOperation.READ]]);
  assert.equal(await commit(admin, 'g', 't'), ErrorCode.NONE);
  assert.equal(await commit(admin, 'h', 't'), ErrorCode.NONE);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');

  const describe = (client: RawClient) =>
    client.request(DescribeGroupsApi, 5, { groups: ['g'], includeAuthorizedOperations: true });
  const refused = (await describe(bob)).groups[0];
  assert.equal(refused.errorCode, GAF);
  const described = (await describe(alice)).groups[0];
  assert.equal(described.errorCode, ErrorCode.NONE);
  // READ implies DESCRIBE; DELETE is not granted.
  assert.equal(described.authorizedOperations, (1 << AclOperation.READ) | (1 << AclOperation.DESCRIBE));

  const list = async (client: RawClient) =>
    (await client.request(ListGroupsApi, 5, ListGroupsApi.defaultRequest())).groups.map((g) => g.groupId).sort();
  assert.deepEqual(await list(bob), []);
  assert.deepEqual(await list(alice), ['g']);
  assert.deepEqual(await list(admin), ['g', 'h']);

  const consumerDescribe = async (client: RawClient) =>
    (await client.request(ConsumerGroupDescribeApi, 0, { groupIds: ['g'], includeAuthorizedOperations: true }))
      .groups[0];
  assert.equal((await consumerDescribe(bob)).errorCode, GAF);
  assert.notEqual((await consumerDescribe(alice)).errorCode, GAF);
});

test('DeleteGroups and OffsetDelete need DELETE on the group, OffsetDelete READ on each topic', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [
    [GROUP, 'g', AclOperation.DELETE],
    [TOPIC, 't', AclOperation.READ],
  ]);
  assert.equal(await commit(admin, 'g', 't'), ErrorCode.NONE);
  assert.equal(await commit(admin, 'g', 'secret'), ErrorCode.NONE);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');

  const offsetDelete = (client: RawClient) =>
    client.request(OffsetDeleteApi, 0, {
      groupId: 'g',
      topics: [
        { name: 't', partitions: [{ partitionIndex: 0 }] },
        { name: 'secret', partitions: [{ partitionIndex: 0 }] },
      ],
    });
  assert.equal((await offsetDelete(bob)).errorCode, GAF);
  const deleted = await offsetDelete(alice);
  assert.equal(deleted.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    deleted.topics.map((t) => [t.name, t.partitions[0].errorCode]),
    [
      ['t', ErrorCode.NONE],
      ['secret', TAF],
    ],
  );

  const deleteGroups = async (client: RawClient) =>
    (await client.request(DeleteGroupsApi, 2, { groupsNames: ['g'] })).results[0].errorCode;
  assert.equal(await deleteGroups(bob), GAF);
  assert.equal(await deleteGroups(alice), ErrorCode.NONE);
});

test('ConsumerGroupHeartbeat needs READ on the group and DESCRIBE on every subscribed topic', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[GROUP, 'g', AclOperation.READ]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const heartbeat = async (client: RawClient) =>
    (
      await client.request(ConsumerGroupHeartbeatApi, 0, {
        ...ConsumerGroupHeartbeatApi.defaultRequest(),
        groupId: 'g',
        memberId: 'm1',
        memberEpoch: 0,
        rebalanceTimeoutMs: 10_000,
        subscribedTopicNames: ['t'],
        topicPartitions: [],
      } as never)
    ).errorCode;
  assert.equal(await heartbeat(bob), GAF);
  assert.equal(await heartbeat(alice), TAF);
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.DESCRIBE]]);
  const allowed = await heartbeat(alice);
  assert.ok(allowed !== GAF && allowed !== TAF, `alice got ${allowed}`);
});

test('ListOffsets needs DESCRIBE on the topic, checked before whether the topic exists', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.DESCRIBE]]);
  const alice = await login(broker, 'alice');
  const listOffsets = async (client: RawClient, topics: string[]) =>
    (
      await client.request(ListOffsetsApi, 7, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 0,
        topics: topics.map((name) => ({
          name,
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
        })),
      })
    ).topics.map((t) => t.partitions[0].errorCode);
  assert.deepEqual(await listOffsets(alice, ['t', 'secret', 'missing']), [ErrorCode.NONE, TAF, TAF]);
  assert.deepEqual(await listOffsets(admin, ['secret', 'missing']), [
    ErrorCode.NONE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ]);
});

test('CreateTopics needs CREATE on the cluster or on the topic; configs are answered only with DESCRIBE_CONFIGS', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[TOPIC, 'a1', AclOperation.CREATE]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const create = async (client: RawClient, names: string[]) =>
    (
      await client.request(CreateTopicsApi, 7, {
        timeoutMs: 5000,
        validateOnly: false,
        topics: names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      })
    ).topics.map((t) => [t.name, t.errorCode, t.topicConfigErrorCode]);
  assert.deepEqual(await create(bob, ['b1']), [['b1', TAF, ErrorCode.NONE]]);
  assert.deepEqual(await create(alice, ['a1', 'a2']), [
    ['a1', ErrorCode.NONE, TAF],
    ['a2', TAF, ErrorCode.NONE],
  ]);
  assert.deepEqual(await create(admin, ['c1']), [['c1', ErrorCode.NONE, ErrorCode.NONE]]);
  await grant(admin, 'User:alice', [[CLUSTER, 'kafka-cluster', AclOperation.CREATE]]);
  assert.deepEqual(await create(alice, ['a2']), [['a2', ErrorCode.NONE, TAF]]);
});

test('DeleteTopics and DeleteRecords need DELETE on the topic, CreatePartitions ALTER', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [
    [TOPIC, 't', AclOperation.DELETE],
    [TOPIC, 't', AclOperation.ALTER],
  ]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const deleteRecords = async (client: RawClient) =>
    (
      await client.request(DeleteRecordsApi, 2, {
        timeoutMs: 5000,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, offset: 0n }] }],
      })
    ).topics[0].partitions[0].errorCode;
  assert.equal(await deleteRecords(bob), TAF);
  assert.equal(await deleteRecords(alice), ErrorCode.NONE);

  const createPartitions = async (client: RawClient) =>
    (
      await client.request(CreatePartitionsApi, 3, {
        timeoutMs: 5000,
        validateOnly: true,
        topics: [{ name: 't', count: 3, assignments: null }],
      })
    ).results[0].errorCode;
  assert.equal(await createPartitions(bob), TAF);
  assert.equal(await createPartitions(alice), ErrorCode.NONE);

  const deleteTopics = async (client: RawClient, name: string) =>
    (await client.request(DeleteTopicsApi, 5, { topicNames: [name], timeoutMs: 5000 } as never)).responses[0].errorCode;
  assert.equal(await deleteTopics(bob, 't'), TAF);
  assert.equal(await deleteTopics(alice, 'secret'), TAF);
  assert.equal(await deleteTopics(alice, 't'), ErrorCode.NONE);
  // By id, a topic the client may not describe is answered without its name.
  const secretId = broker.broker.topics.get('secret')?.topicId;
  const byId = await bob.request(DeleteTopicsApi, 6, {
    topics: [{ name: null, topicId: secretId }],
    timeoutMs: 5000,
  } as never);
  assert.deepEqual([byId.responses[0].name, byId.responses[0].errorCode], [null, TAF]);
});

test('InitProducerId needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic; DescribeProducers READ on the topic', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.WRITE]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const initProducerId = async (client: RawClient, transactionalId: string | null = null) =>
    (
      await client.request(InitProducerIdApi, 4, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      } as never)
    ).errorCode;
  assert.equal(await initProducerId(bob), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.equal(await initProducerId(bob, 'txn'), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal(await initProducerId(alice), ErrorCode.NONE);

  const describeProducers = async (client: RawClient) =>
    (await client.request(DescribeProducersApi, 0, { topics: [{ name: 't', partitionIndexes: [0] }] })).topics[0]
      .partitions[0].errorCode;
  assert.equal(await describeProducers(bob), TAF);
  assert.equal(await describeProducers(alice), TAF);
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.READ]]);
  assert.equal(await describeProducers(alice), ErrorCode.NONE);
});

test('WriteTxnMarkers needs CLUSTER_ACTION; DescribeCluster tells its operations only to who may DESCRIBE the cluster', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[CLUSTER, 'kafka-cluster', AclOperation.DESCRIBE]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const markers = await bob.request(WriteTxnMarkersApi, 1, {
    markers: [
      {
        producerId: 1n,
        producerEpoch: 0,
        transactionResult: true,
        coordinatorEpoch: 0,
        topics: [{ name: 't', partitionIndexes: [0] }],
      },
    ],
  });
  assert.equal(markers.markers[0].topics[0].partitions[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);

  const describeCluster = (client: RawClient) =>
    client.request(DescribeClusterApi, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
  const refused = await describeCluster(bob);
  assert.equal(refused.errorCode, ErrorCode.NONE);
  assert.equal(refused.clusterAuthorizedOperations, 0);
  assert.equal((await describeCluster(alice)).clusterAuthorizedOperations, 1 << AclOperation.DESCRIBE);
});

test('DescribeConfigs needs DESCRIBE_CONFIGS and the AlterConfigs APIs ALTER_CONFIGS, on the topic or for a broker on the cluster', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.ALTER_CONFIGS]]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const nodeId = String(broker.broker.nodeId);
  const describe = async (client: RawClient) =>
    (
      await client.request(DescribeConfigsApi, 4, {
        resources: [
          { resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] },
          { resourceType: 4, resourceName: nodeId, configurationKeys: ['log.retention.ms'] },
        ],
        includeSynonyms: false,
        includeDocumentation: false,
      })
    ).results.map((r) => r.errorCode);
  assert.deepEqual(await describe(bob), [TAF, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
  // ALTER_CONFIGS implies DESCRIBE_CONFIGS.
  assert.deepEqual(await describe(alice), [ErrorCode.NONE, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
  assert.deepEqual(await describe(admin), [ErrorCode.NONE, ErrorCode.NONE]);

  const alter = async (client: RawClient) =>
    (
      await client.request(AlterConfigsApi, 2, {
        validateOnly: true,
        resources: [
          { resourceType: 2, resourceName: 't', configs: [{ name: 'retention.ms', value: '1000' }] },
          { resourceType: 4, resourceName: nodeId, configs: [{ name: 'log.retention.ms', value: '1000' }] },
        ],
      })
    ).responses.map((r) => r.errorCode);
  assert.deepEqual(await alter(bob), [TAF, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
  assert.deepEqual(await alter(alice), [ErrorCode.NONE, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);

  const incremental = async (client: RawClient) =>
    (
      await client.request(IncrementalAlterConfigsApi, 1, {
        validateOnly: true,
        resources: [
          {
            resourceType: 2,
            resourceName: 't',
            configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }],
          },
          {
            resourceType: 2,
            resourceName: 'secret',
            configs: [{ name: 'retention.ms', configOperation: 0, value: '1' }],
          },
        ],
      })
    ).responses.map((r) => r.errorCode);
  assert.deepEqual(await incremental(bob), [TAF, TAF]);
  assert.deepEqual(await incremental(alice), [ErrorCode.NONE, TAF]);
});

test('OffsetForLeaderEpoch needs DESCRIBE on the topic', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [[TOPIC, 't', AclOperation.DESCRIBE]]);
  const alice = await login(broker, 'alice');
  const epochs = async (client: RawClient, topic: string) =>
    (
      await client.request(OffsetForLeaderEpochApi, 3, {
        replicaId: -1,
        topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
      } as never)
    ).topics[0].partitions[0].errorCode;
  assert.equal(await epochs(alice, 't'), ErrorCode.NONE);
  assert.equal(await epochs(alice, 'secret'), TAF);
});

test('the quota APIs need DESCRIBE_CONFIGS or ALTER_CONFIGS on the cluster, the SCRAM credential APIs DESCRIBE or ALTER', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await grant(admin, 'User:alice', [
    [CLUSTER, 'kafka-cluster', AclOperation.ALTER_CONFIGS],
    [CLUSTER, 'kafka-cluster', AclOperation.ALTER],
  ]);
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  const describeQuotas = async (client: RawClient) =>
    (await client.request(DescribeClientQuotasApi, 1, { components: [], strict: false })).errorCode;
  const alterQuotas = async (client: RawClient) =>
    (
      await client.request(AlterClientQuotasApi, 1, {
        validateOnly: true,
        entries: [
          {
            entity: [{ entityType: 'user', entityName: 'x' }],
            ops: [{ key: 'producer_byte_rate', value: 1000, remove: false }],
          },
        ],
      })
    ).entries[0].errorCode;
  const describeScram = async (client: RawClient) =>
    (await client.request(DescribeUserScramCredentialsApi, 0, { users: null })).errorCode;
  const alterScram = async (client: RawClient) =>
    (
      await client.request(AlterUserScramCredentialsApi, 0, {
        deletions: [{ name: 'nobody', mechanism: 1 }],
        upsertions: [],
      })
    ).results[0].errorCode;
  const CAF = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  assert.deepEqual(
    [await describeQuotas(bob), await alterQuotas(bob), await describeScram(bob), await alterScram(bob)],
    [CAF, CAF, CAF, CAF],
  );
  // ALTER_CONFIGS implies DESCRIBE_CONFIGS and ALTER implies DESCRIBE; deleting nobody's credential is not found.
  assert.deepEqual(
    [await describeQuotas(alice), await alterQuotas(alice), await describeScram(alice), await alterScram(alice)],
    [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE, ErrorCode.RESOURCE_NOT_FOUND],
  );
});
