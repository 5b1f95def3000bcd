/**
 * ACLs over the wire on a SASL_PLAINTEXT listener with SCRAM users: CreateAcls, DescribeAcls and DeleteAcls
 * round trip for a super user, Produce and Fetch checked per topic, Metadata hiding what a user may not
 * describe, and SECURITY_DISABLED without an authorizer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '../../../src/broker/authorizer.js';
import { ZERO_UUID } from '../../../src/broker/topics.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ProduceApi } from '../../../src/protocol/generated/00-produce.js';
import { FetchApi } from '../../../src/protocol/generated/01-fetch.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { DescribeAclsApi } from '../../../src/protocol/generated/29-describe-acls.js';
import { CreateAclsApi } from '../../../src/protocol/generated/30-create-acls.js';
import { DeleteAclsApi } from '../../../src/protocol/generated/31-delete-acls.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { aclBrokers } from '../../helpers/acl-broker.js';
import type { RawClient } from '../../helpers/raw-client.js';

const { aclBroker, login } = aclBrokers();

const acl = (principal: string, operation: AclOperation, resourceName = 't') => ({
  resourceType: ResourceType.TOPIC,
  resourceName,
  resourcePatternType: PatternType.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionType.ALLOW,
});

async function produce(client: RawClient, topic: string) {
  const response = await client.request(ProduceApi, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'v' }]) }] }],
  });
  return response.responses[0].partitionResponses[0].errorCode;
}

async function fetch(client: RawClient, topic: string) {
  const response = await client.request(FetchApi, 12, {
    ...FetchApi.defaultRequest(),
    maxWaitMs: 0,
    topics: [
      {
        ...FetchApi.defaultRequest().topics[0],
        topic,
        partitions: [
          {
            partition: 0,
            fetchOffset: 0n,
            partitionMaxBytes: 1 << 20,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
          },
        ],
      },
    ],
  } as never);
  return response.responses[0].partitions[0].errorCode;
}

test('alice, allowed WRITE and READ on t, produces and fetches; bob gets TOPIC_AUTHORIZATION_FAILED; admin is a super user', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  const created = await admin.request(CreateAclsApi, 3, {
    creations: [acl('User:alice', AclOperation.WRITE), acl('User:alice', AclOperation.READ)],
  });
  assert.deepEqual(
    created.results.map((r) => r.errorCode),
    [ErrorCode.NONE, ErrorCode.NONE],
  );
  const alice = await login(broker, 'alice');
  const bob = await login(broker, 'bob');
  assert.equal(await produce(alice, 't'), ErrorCode.NONE);
  assert.equal(await fetch(alice, 't'), ErrorCode.NONE);
  assert.equal(await produce(bob, 't'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await fetch(bob, 't'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await produce(alice, 'secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  assert.equal(await produce(admin, 'secret'), ErrorCode.NONE);
  // Bob may not create ACLs: that needs ALTER on the cluster.
  const refused = await bob.request(CreateAclsApi, 3, { creations: [acl('User:bob', AclOperation.ALL)] });
  assert.equal(refused.results[0].errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
});

test('Metadata leaves out of all topics what a user may not describe, and refuses it when named', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await admin.request(CreateAclsApi, 3, { creations: [acl('User:alice', AclOperation.READ)] });
  const alice = await login(broker, 'alice');
  const all = await alice.request(MetadataApi, 12, { ...MetadataApi.defaultRequest(), topics: null });
  assert.deepEqual(
    all.topics.map((t) => t.name),
    ['t'],
  );
  const named = await alice.request(MetadataApi, 12, {
    ...MetadataApi.defaultRequest(),
    topics: [{ topicId: ZERO_UUID, name: 'secret' }],
    allowAutoTopicCreation: false,
  } as never);
  assert.equal(named.topics[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
});

test('CreateAcls, DescribeAcls and DeleteAcls round trip', async () => {
  const broker = await aclBroker();
  const admin = await login(broker, 'admin');
  await admin.request(CreateAclsApi, 3, {
    creations: [acl('User:alice', AclOperation.READ), acl('User:bob', AclOperation.WRITE, 'other')],
  });
  const filter = {
    resourceTypeFilter: ResourceType.ANY,
    resourceNameFilter: null,
    patternTypeFilter: PatternType.ANY,
    principalFilter: null,
    hostFilter: null,
    operation: AclOperation.ANY,
    permissionType: AclPermissionType.ANY,
  };
  const described = await admin.request(DescribeAclsApi, 3, filter);
  assert.equal(described.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    described.resources.map((r) => [r.resourceName, r.acls.map((a) => a.principal)]),
    [
      ['t', ['User:alice']],
      ['other', ['User:bob']],
    ],
  );
  const deleted = await admin.request(DeleteAclsApi, 3, { filters: [{ ...filter, principalFilter: 'User:bob' }] });
  assert.deepEqual(
    deleted.filterResults[0].matchingAcls.map((a) => [a.resourceName, a.principal]),
    [['other', 'User:bob']],
  );
  const left = await admin.request(DescribeAclsApi, 3, filter);
  assert.deepEqual(
    left.resources.map((r) => r.resourceName),
    ['t'],
  );
});

test('without an authorizer the ACL APIs answer SECURITY_DISABLED and every user is allowed', async () => {
  const broker = await aclBroker(false);
  const bob = await login(broker, 'bob');
  const created = await bob.request(CreateAclsApi, 3, { creations: [acl('User:bob', AclOperation.READ)] });
  assert.equal(created.results[0].errorCode, ErrorCode.SECURITY_DISABLED);
  assert.equal(await produce(bob, 't'), ErrorCode.NONE);
});
