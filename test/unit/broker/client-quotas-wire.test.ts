/**
 * DescribeClientQuotas and AlterClientQuotas over the wire: filters (exact, default, any, strict), Kafka's
 * validation errors, persistence across a restart, and a throttled client told so in throttle_time_ms and
 * then not read from for that long.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ProduceApi } from '../../../src/protocol/generated/00-produce.js';
import {
  DescribeClientQuotasApi,
  type DescribeClientQuotasRequestComponentData,
  type DescribeClientQuotasResponse,
} from '../../../src/protocol/generated/48-describe-client-quotas.js';
import {
  AlterClientQuotasApi,
  type AlterClientQuotasRequestEntryData,
} from '../../../src/protocol/generated/49-alter-client-quotas.js';
import { startBroker } from '../../../src/testing/start-broker.js';
import { RawClient } from '../../helpers/raw-client.js';

type Entity = Record<string, string | null>;

function set(entity: Entity, values: Record<string, number | null>): AlterClientQuotasRequestEntryData {
  return {
    entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
    ops: Object.entries(values).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null })),
  };
}

function exact(entityType: string, match: string): DescribeClientQuotasRequestComponentData {
  return { entityType, matchType: 0, match };
}
function dflt(entityType: string): DescribeClientQuotasRequestComponentData {
  return { entityType, matchType: 1, match: null };
}
function any(entityType: string): DescribeClientQuotasRequestComponentData {
  return { entityType, matchType: 2, match: null };
}

/** Entries as sorted text, e.g. `client-id=<default>,user=alice: producer_byte_rate=1024`. */
function entriesOf(response: DescribeClientQuotasResponse): string[] {
  return (response.entries ?? [])
    .map((e) => {
      const entity = e.entity
        .map((c) => `${c.entityType}=${c.entityName ?? '<default>'}`)
        .sort()
        .join(',');
      const values = e.values
        .map((v) => `${v.key}=${v.value}`)
        .sort()
        .join(',');
      return `${entity}: ${values}`;
    })
    .sort();
}

async function alter(client: RawClient, entries: AlterClientQuotasRequestEntryData[], validateOnly = false) {
  const response = await client.request(AlterClientQuotasApi, 1, { entries, validateOnly });
  return response.entries.map((e) => e.errorCode);
}

async function describe(client: RawClient, components: DescribeClientQuotasRequestComponentData[], strict = false) {
  return client.request(DescribeClientQuotasApi, 1, { components, strict });
}

test('quotas set with AlterClientQuotas are described by exact, default and any filters', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const client = await RawClient.connect(broker.port);
  t.after(() => client.close());
  assert.deepEqual(
    await alter(client, [
      set({ user: 'alice' }, { producer_byte_rate: 1024 }),
      set({ user: 'alice', 'client-id': 'app' }, { consumer_byte_rate: 2048, request_percentage: 12.5 }),
      set({ user: null }, { producer_byte_rate: 4096 }),
      set({ 'client-id': null }, { consumer_byte_rate: 8192 }),
      set({ ip: '127.0.0.1' }, { connection_creation_rate: 10 }),
    ]),
    [0, 0, 0, 0, 0],
  );
  assert.deepEqual(entriesOf(await describe(client, [exact('user', 'alice')])), [
    'client-id=app,user=alice: consumer_byte_rate=2048,request_percentage=12.5',
    'user=alice: producer_byte_rate=1024',
  ]);
  assert.deepEqual(entriesOf(await describe(client, [exact('user', 'alice')], true)), [
    'user=alice: producer_byte_rate=1024',
  ]);
  assert.deepEqual(entriesOf(await describe(client, [dflt('user')])), ['user=<default>: producer_byte_rate=4096']);
  assert.deepEqual(entriesOf(await describe(client, [any('client-id')])), [
    'client-id=<default>: consumer_byte_rate=8192',
    'client-id=app,user=alice: consumer_byte_rate=2048,request_percentage=12.5',
  ]);
  assert.deepEqual(entriesOf(await describe(client, [any('ip')])), ['ip=127.0.0.1: connection_creation_rate=10']);
  assert.equal(entriesOf(await describe(client, [])).length, 5);
  assert.deepEqual(entriesOf(await describe(client, [], true)), []);

  // Removing a key keeps the others; removing the last one removes the entity.
  assert.deepEqual(
    await alter(client, [set({ user: 'alice', 'client-id': 'app' }, { request_percentage: null })]),
    [0],
  );
  assert.deepEqual(await alter(client, [set({ user: 'alice' }, { producer_byte_rate: null })]), [0]);
  assert.deepEqual(entriesOf(await describe(client, [exact('user', 'alice')])), [
    'client-id=app,user=alice: consumer_byte_rate=2048',
  ]);
  // validate_only changes nothing.
  assert.deepEqual(await alter(client, [set({ user: 'bob' }, { producer_byte_rate: 1 })], true), [0]);
  assert.deepEqual(entriesOf(await describe(client, [exact('user', 'bob')])), []);
});

test('AlterClientQuotas refuses what Kafka refuses, entity by entity', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const client = await RawClient.connect(broker.port);
  t.after(() => client.close());
  const INVALID = ErrorCode.INVALID_REQUEST;
  assert.deepEqual(
    await alter(client, [
      set({ user: 'a' }, { no_such_key: 1 }),
      set({ user: 'b' }, { producer_byte_rate: 0 }),
      set({ user: 'c' }, { producer_byte_rate: 1.5 }),
      set({ user: 'd' }, { connection_creation_rate: 5 }),
      set({ ip: '127.0.0.1', user: 'e' }, { connection_creation_rate: 5 }),
      set({ group: 'g' }, { producer_byte_rate: 5 }),
      set({ user: '' }, { producer_byte_rate: 5 }),
      set({}, { producer_byte_rate: 5 }),
      set({ user: 'ok' }, { producer_byte_rate: 5, request_percentage: 0.5 }),
    ]),
    [INVALID, INVALID, INVALID, INVALID, INVALID, INVALID, INVALID, INVALID, ErrorCode.NONE],
  );
  // An entity with an invalid op changes nothing, even its valid ops.
  assert.deepEqual(await alter(client, [set({ user: 'x' }, { producer_byte_rate: 5, bogus: 1 })]), [INVALID]);
  assert.deepEqual(entriesOf(await describe(client, [])), ['user=ok: producer_byte_rate=5,request_percentage=0.5']);

  const bad = async (components: DescribeClientQuotasRequestComponentData[]) => {
    const r = await describe(client, components);
    return [r.errorCode, r.entries];
  };
  assert.deepEqual(await bad([{ entityType: 'user', matchType: 0, match: null }]), [INVALID, null]);
  assert.deepEqual(await bad([{ entityType: 'user', matchType: 1, match: 'x' }]), [INVALID, null]);
  assert.deepEqual(await bad([{ entityType: 'user', matchType: 7, match: null }]), [INVALID, null]);
  assert.deepEqual(await bad([any('user'), exact('user', 'x')]), [INVALID, null]);
  assert.deepEqual(await bad([any('ip'), any('user')]), [INVALID, null]);
  assert.deepEqual(await bad([any('group')]), [ErrorCode.UNSUPPORTED_VERSION, null]);
});

test('quotas are kept in the data directory and come back after a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-quotas-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  let broker = await startBroker({ storage: 'disk', dataDir });
  let client = await RawClient.connect(broker.port);
  assert.deepEqual(await alter(client, [set({ 'client-id': 'app' }, { producer_byte_rate: 1000 })]), [0]);
  client.close();
  await broker.stop();
  assert.match(await readFile(join(dataDir, 'client-quotas.json'), 'utf8'), /producer_byte_rate/);
  broker = await startBroker({ storage: 'disk', dataDir });
  t.after(() => broker.stop());
  client = await RawClient.connect(broker.port);
  t.after(() => client.close());
  assert.deepEqual(entriesOf(await describe(client, [])), ['client-id=app: producer_byte_rate=1000']);
  assert.equal(broker.broker.quotas.produce.quotaFor('ANONYMOUS', 'app'), 1000);
});

test('a producer over its quota is told throttle_time_ms and is not read from until it passed', async (t) => {
  // Two 1 s windows: the first 1000 bytes pass, the next request is throttled.
  const broker = await startBroker({ config: { 'quota.window.num': 2 }, topics: ['t'] });
  t.after(() => broker.stop());
  const client = await RawClient.connect(broker.port);
  t.after(() => client.close());
  assert.deepEqual(await alter(client, [set({ 'client-id': 'slow' }, { producer_byte_rate: 1000 })]), [0]);
  // The records are not a valid batch (the partition answers an error), but Kafka counts a request's
  // bytes whatever its answer, and 200 bytes make the fifth request go over 1000 bytes in the window.
  const records = Buffer.alloc(200);
  const produce = () =>
    client.request(
      ProduceApi,
      9,
      {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
      },
      { clientId: 'slow' },
    );
  let throttle = 0;
  for (let i = 0; i < 10 && throttle === 0; i++) throttle = (await produce()).throttleTimeMs;
  assert.ok(throttle > 0, 'the producer was throttled');
  const started = Date.now();
  await produce();
  // The connection was muted: the next answer comes no sooner than the throttle time (less timer slack).
  assert.ok(Date.now() - started >= throttle - 20, `answered after ${Date.now() - started} ms of ${throttle}`);
  // Another client id is not limited.
  const other = await client.request(ProduceApi, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }],
  });
  assert.equal(other.throttleTimeMs, 0);
});
