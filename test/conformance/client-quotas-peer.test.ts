/**
 * DescribeClientQuotas and AlterClientQuotas answered like Apache Kafka: the same sequence of requests is
 * sent to Sluice and to the Kafka peer, and their error codes and described entries must agree.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DescribeClientQuotasApi,
  type DescribeClientQuotasRequestComponentData,
} from '../../src/protocol/generated/48-describe-client-quotas.js';
import {
  AlterClientQuotasApi,
  type AlterClientQuotasRequestEntryData,
} from '../../src/protocol/generated/49-alter-client-quotas.js';
import { startBroker } from '../../src/testing/start-broker.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';
import { RawClient } from '../helpers/raw-client.js';

type Entity = Record<string, string | null>;

function set(entity: Entity, values: Record<string, number | null>): AlterClientQuotasRequestEntryData {
  return {
    entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
    ops: Object.entries(values).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null })),
  };
}

type Step =
  | { alter: AlterClientQuotasRequestEntryData[]; validateOnly?: boolean }
  | { describe: DescribeClientQuotasRequestComponentData[]; strict?: boolean };

const c = (entityType: string, matchType: number, match: string | null = null) => ({ entityType, matchType, match });

const STEPS: Step[] = [
  { describe: [] },
  {
    alter: [
      set({ user: 'alice' }, { producer_byte_rate: 1024, consumer_byte_rate: 2048 }),
      set({ user: 'alice', 'client-id': 'app' }, { request_percentage: 12.5 }),
      set({ user: null }, { producer_byte_rate: 4096 }),
      set({ user: null, 'client-id': null }, { controller_mutation_rate: 3 }),
      set({ 'client-id': null }, { consumer_byte_rate: 8192 }),
      set({ 'client-id': 'app' }, { producer_byte_rate: 100 }),
      set({ ip: '127.0.0.1' }, { connection_creation_rate: 10 }),
      set({ ip: null }, { connection_creation_rate: 20 }),
    ],
  },
  { describe: [] },
  { describe: [], strict: true },
  { describe: [c('user', 0, 'alice')] },
  { describe: [c('user', 0, 'alice')], strict: true },
  { describe: [c('user', 1)] },
  { describe: [c('user', 1)], strict: true },
  { describe: [c('user', 2)] },
  { describe: [c('client-id', 2)], strict: true },
  { describe: [c('user', 2), c('client-id', 2)] },
  { describe: [c('user', 0, 'alice'), c('client-id', 0, 'app')] },
  { describe: [c('user', 1), c('client-id', 1)], strict: true },
  { describe: [c('ip', 2)] },
  { describe: [c('ip', 1)] },
  { describe: [c('user', 0, 'nobody')] },
  // Filters Kafka refuses.
  { describe: [c('user', 0, null)] },
  { describe: [c('user', 1, 'x')] },
  { describe: [c('user', 2, 'x')] },
  { describe: [c('user', 9)] },
  { describe: [c('user', 2), c('user', 2)] },
  { describe: [c('ip', 2), c('user', 2)] },
  { describe: [c('group', 2)] },
  { describe: [c('', 2)] },
  // Alterations Kafka refuses, each entity on its own.
  {
    alter: [
      set({ user: 'a' }, { no_such_key: 1 }),
      set({ user: 'b' }, { producer_byte_rate: 0 }),
      set({ user: 'c' }, { producer_byte_rate: -5 }),
      set({ user: 'd' }, { producer_byte_rate: 1.5 }),
      set({ user: 'e' }, { connection_creation_rate: 5 }),
      set({ ip: '127.0.0.2' }, { producer_byte_rate: 5 }),
      set({ ip: '127.0.0.3', user: 'f' }, { connection_creation_rate: 5 }),
      set({ group: 'g' }, { producer_byte_rate: 5 }),
      set({ user: '' }, { producer_byte_rate: 5 }),
      set({ user: 'h' }, { producer_byte_rate: 5, bogus: 1 }),
      set({ user: 'i' }, { request_percentage: 0.25 }),
      set({ ip: '127.0.0.4' }, { connection_creation_rate: 2.5 }),
    ],
  },
  { alter: [set({ user: 'v' }, { producer_byte_rate: 7 })], validateOnly: true },
  // Removals: one key, then the last key of an entity, then a key that was never set.
  {
    alter: [
      set({ user: 'alice' }, { consumer_byte_rate: null }),
      set({ 'client-id': 'app' }, { producer_byte_rate: null }),
    ],
  },
  { alter: [set({ user: 'nobody' }, { producer_byte_rate: null })] },
  { describe: [] },
];

interface Answer {
  errorCode: number;
  entries: string[] | null;
}

function entityText(entity: Array<{ entityType: string; entityName: string | null }>): string {
  return entity
    .map((e) => `${e.entityType}=${e.entityName ?? '<default>'}`)
    .sort()
    .join(',');
}

const SENTINEL = 'zz-sentinel';

/**
 * Waits until an alteration is visible to DescribeClientQuotas. Kafka's broker describes quotas from its
 * metadata image, which the controller's commit reaches some time after the answer to the alteration:
 * a sentinel entity is set to a new value after it, and once the value is described, so is everything
 * committed before. Sluice goes through the same steps, so both see the same requests.
 */
async function settle(client: RawClient, mark: number): Promise<void> {
  await client.request(AlterClientQuotasApi, 1, {
    entries: [set({ user: SENTINEL }, { producer_byte_rate: mark })],
    validateOnly: false,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await client.request(DescribeClientQuotasApi, 1, {
      components: [{ entityType: 'user', matchType: 0, match: SENTINEL }],
      strict: true,
    });
    if (r.entries?.[0]?.values[0]?.value === mark) return;
    assert.ok(Date.now() < deadline, `alteration ${mark} never became visible`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(port: number): Promise<Answer[]> {
  const client = await RawClient.connect(port);
  try {
    const answers: Answer[] = [];
    for (const step of STEPS) {
      if ('alter' in step) {
        const r = await client.request(AlterClientQuotasApi, 1, {
          entries: step.alter,
          validateOnly: step.validateOnly ?? false,
        });
        answers.push({
          errorCode: 0,
          entries: r.entries.map((e) => `${entityText(e.entity)} -> ${e.errorCode}`).sort(),
        });
        await settle(client, answers.length);
      } else {
        const r = await client.request(DescribeClientQuotasApi, 1, {
          components: step.describe,
          strict: step.strict ?? false,
        });
        const entries =
          r.entries === null
            ? null
            : r.entries
                .filter((e) => !e.entity.some((c) => c.entityName === SENTINEL))
                .map(
                  (e) =>
                    `${entityText(e.entity)}: ${e.values
                      .map((v) => `${v.key}=${v.value}`)
                      .sort()
                      .join(',')}`,
                )
                .sort();
        answers.push({ errorCode: r.errorCode, entries });
      }
    }
    return answers;
  } finally {
    client.close();
  }
}

test('DescribeClientQuotas and AlterClientQuotas answer as Apache Kafka answers', { timeout: 180_000 }, async (t) => {
  if (kafkaPeerOrSkip(t)) return;
  const [peer, sluice] = await Promise.all([startKafkaPeer(), startBroker()]);
  t.after(() => Promise.all([peer.stop(), sluice.stop()]));
  const [expected, actual] = await Promise.all([run(peer.port), run(sluice.port)]);
  (await import('node:fs')).writeFileSync('/tmp/peer.json', JSON.stringify({ expected, actual }));
  for (let i = 0; i < STEPS.length; i++)
    assert.deepEqual(actual[i], expected[i], `step ${i}: ${JSON.stringify(STEPS[i])}`);
});
