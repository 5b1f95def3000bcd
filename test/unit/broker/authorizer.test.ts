/**
 * ACL evaluation as Kafka's StandardAuthorizer does it: DENY wins, ALL and the implied DESCRIBE and
 * DESCRIBE_CONFIGS, literal, wildcard and prefixed patterns, principals and hosts, super users, and
 * allow.everyone.if.no.acl.found; and the authorizer is off without authorizer.class.name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AclBinding,
  AclOperation,
  AclPermissionType,
  Authorizer,
  PatternType,
  ResourceType,
  STANDARD_AUTHORIZER,
} from '../../../src/broker/authorizer.js';
import { buildConfig } from '../../../src/broker/config.js';
import { userPrincipal } from '../../../src/network/principal.js';

async function authorizer(acls: Partial<AclBinding>[], config: Record<string, unknown> = {}) {
  const a = new Authorizer(
    buildConfig([new Map(Object.entries({ 'authorizer.class.name': STANDARD_AUTHORIZER, ...config }))]),
    null,
  );
  await a.create(
    acls.map((acl) => ({
      resourceType: ResourceType.TOPIC,
      resourceName: 't',
      patternType: PatternType.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: AclOperation.READ,
      permissionType: AclPermissionType.ALLOW,
      ...acl,
    })),
  );
  return a;
}

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');
const can = (a: Authorizer, who = alice, op = AclOperation.READ, name = 't', host = '10.0.0.1') =>
  a.authorize(who, host, op, ResourceType.TOPIC, name);

test('without authorizer.class.name every request is allowed, ACLs or not', async () => {
  const a = new Authorizer(buildConfig([]), null);
  assert.equal(a.enabled, false);
  assert.equal(a.authorize(bob, '1.2.3.4', AclOperation.WRITE, ResourceType.TOPIC, 't'), true);
});

test('an ALLOW lets its principal through and no one else; a DENY wins over an ALLOW', async () => {
  const a = await authorizer([{}]);
  assert.equal(can(a), true);
  assert.equal(can(a, bob), false);
  assert.equal(can(a, alice, AclOperation.WRITE), false);
  const denied = await authorizer([{}, { permissionType: AclPermissionType.DENY, principal: 'User:*' }]);
  assert.equal(can(denied), false);
});

test('ALL implies every operation; READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS', async () => {
  const all = await authorizer([{ operation: AclOperation.ALL }]);
  for (const op of [AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER_CONFIGS])
    assert.equal(can(all, alice, op), true);
  for (const op of [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]) {
    assert.equal(can(await authorizer([{ operation: op }]), alice, AclOperation.DESCRIBE), true, AclOperation[op]);
  }
  assert.equal(can(await authorizer([{ operation: AclOperation.CREATE }]), alice, AclOperation.DESCRIBE), false);
  const alterConfigs = await authorizer([{ operation: AclOperation.ALTER_CONFIGS }]);
  assert.equal(can(alterConfigs, alice, AclOperation.DESCRIBE_CONFIGS), true);
  assert.equal(can(await authorizer([{ operation: AclOperation.READ }]), alice, AclOperation.DESCRIBE_CONFIGS), false);
});

test('a DENY of READ does not deny DESCRIBE (implication is for ALLOW only), a DENY of ALL denies everything', async () => {
  const a = await authorizer([
    { operation: AclOperation.ALL },
    { operation: AclOperation.READ, permissionType: AclPermissionType.DENY },
  ]);
  assert.equal(can(a, alice, AclOperation.READ), false);
  assert.equal(can(a, alice, AclOperation.DESCRIBE), true);
  const denyAll = await authorizer([{}, { operation: AclOperation.ALL, permissionType: AclPermissionType.DENY }]);
  assert.equal(can(denyAll, alice, AclOperation.READ), false);
});

test('the literal wildcard, prefixed patterns, User:* and hosts select what an ACL applies to', async () => {
  const a = await authorizer([
    { resourceName: '*', operation: AclOperation.DESCRIBE },
    { resourceName: 'orders-', patternType: PatternType.PREFIXED, principal: 'User:*', operation: AclOperation.WRITE },
    { resourceName: 'audit', host: '10.0.0.9' },
  ]);
  assert.equal(can(a, alice, AclOperation.DESCRIBE, 'anything'), true);
  assert.equal(can(a, bob, AclOperation.WRITE, 'orders-eu'), true);
  assert.equal(can(a, bob, AclOperation.WRITE, 'order'), false);
  assert.equal(can(a, alice, AclOperation.READ, 'audit', '10.0.0.9'), true);
  assert.equal(can(a, alice, AclOperation.READ, 'audit', '10.0.0.1'), false);
  assert.equal(can(a, alice, AclOperation.READ, 'audit', '::ffff:10.0.0.9'), true);
});

test('super users are allowed everything, even against a DENY', async () => {
  const a = await authorizer(
    [{ permissionType: AclPermissionType.DENY, principal: 'User:*', operation: AclOperation.ALL }],
    {
      'super.users': 'User:admin;User:ops',
    },
  );
  assert.equal(can(a, userPrincipal('ops'), AclOperation.WRITE), true);
  assert.equal(can(a, alice), false);
});

test('allow.everyone.if.no.acl.found allows only resources no ACL names at all', async () => {
  const a = await authorizer([{}], { 'allow.everyone.if.no.acl.found': true });
  assert.equal(can(a, bob, AclOperation.READ, 'other'), true);
  assert.equal(can(a, bob, AclOperation.READ, 't'), false);
  const strict = await authorizer([{}]);
  assert.equal(can(strict, bob, AclOperation.READ, 'other'), false);
});

test('authorizeAny finds an ALLOW on some topic unless a DENY covers it', async () => {
  const a = await authorizer([{ operation: AclOperation.WRITE }]);
  assert.equal(a.authorizeAny(alice, 'h', AclOperation.WRITE, ResourceType.TOPIC), true);
  assert.equal(a.authorizeAny(bob, 'h', AclOperation.WRITE, ResourceType.TOPIC), false);
  const covered = await authorizer([
    { operation: AclOperation.WRITE },
    { operation: AclOperation.WRITE, permissionType: AclPermissionType.DENY },
  ]);
  assert.equal(covered.authorizeAny(alice, 'h', AclOperation.WRITE, ResourceType.TOPIC), false);
});
