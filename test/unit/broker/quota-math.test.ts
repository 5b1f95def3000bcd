/**
 * The rate and throttle arithmetic of client quotas against values worked out by hand from Kafka's
 * formulas (Rate over WindowedSum; QuotaUtils.throttleTime = (rate - quota) / quota × window), and Kafka's
 * precedence of quota entities.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientQuotaManager } from '../../../src/broker/quotas/quota-manager.js';
import { QuotaStore } from '../../../src/broker/quotas/quota-store.js';
import { SampledRate } from '../../../src/broker/quotas/sampled-rate.js';

test('a first burst is measured over samples - 1 whole windows and throttled by the excess over the quota', () => {
  const rate = new SampledRate({ samples: 11, windowMs: 1000 });
  // 5000 bytes at t=0 over the assumed 10 s: 500 B/s, within 1000 B/s.
  assert.equal(rate.recordAndGetThrottleTimeMs(5000, 1000, 0), 0);
  assert.equal(rate.windowSizeMs(0), 10_000);
  // 11000 bytes by t=500 over 10.5 s: 1047.6 B/s; (1047.6 - 1000) / 1000 × 10500 ms = 500 ms.
  assert.equal(rate.recordAndGetThrottleTimeMs(6000, 1000, 500), 500);
  assert.ok(Math.abs(rate.measure(500) - 11000 / 10.5) < 1e-9);
});

test('windows roll over, idle samples expire, and an unrecorded value no longer counts', () => {
  const rate = new SampledRate({ samples: 2, windowMs: 1000 });
  assert.equal(rate.recordAndGetThrottleTimeMs(100, 100, 0), 0);
  // A second window starts at 1000: 200 bytes over 1 s is 200 B/s, twice the quota: wait one window.
  assert.equal(rate.recordAndGetThrottleTimeMs(100, 100, 1000), 1000);
  // At 2500 the first sample (last event at 0) is 2 windows old and expires; 180 bytes over the 1500 ms
  // since the second sample began: 120 B/s, so (120 - 100) / 100 × 1500 = 300 ms.
  assert.equal(rate.recordAndGetThrottleTimeMs(80, 100, 2500), 300);
  rate.record(-80, 2600);
  assert.equal(rate.measure(2600), 100 / 1.6);
});

test('a rate exactly at its quota is not throttled', () => {
  const rate = new SampledRate({ samples: 3, windowMs: 1000 });
  assert.equal(rate.recordAndGetThrottleTimeMs(2000, 1000, 0), 0);
  assert.equal(rate.recordAndGetThrottleTimeMs(1, 1000, 0), 1);
});

async function storeWith(entries: Array<[Record<string, string | null>, number]>): Promise<QuotaStore> {
  const store = new QuotaStore(null);
  const outcomes = await store.alter(
    entries.map(([entity, value]) => ({
      entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
      ops: [{ key: 'producer_byte_rate', value, remove: false }],
    })),
    false,
  );
  for (const o of outcomes) assert.equal(o.errorCode, 0, o.errorMessage ?? '');
  return store;
}

test('the most specific quota applies, in the precedence of Kafka’s documentation', async () => {
  const all: Array<[Record<string, string | null>, number]> = [
    [{ user: 'alice', 'client-id': 'app' }, 1],
    [{ user: 'alice', 'client-id': null }, 2],
    [{ user: 'alice' }, 3],
    [{ user: null, 'client-id': 'app' }, 4],
    [{ user: null, 'client-id': null }, 5],
    [{ user: null }, 6],
    [{ 'client-id': 'app' }, 7],
    [{ 'client-id': null }, 8],
  ];
  // Removing the most specific level each time reveals the next one.
  for (let i = 0; i < all.length; i++) {
    const manager = new ClientQuotaManager('produce', await storeWith(all.slice(i)), { samples: 11, windowMs: 1000 });
    assert.equal(manager.quotaFor('alice', 'app'), i + 1, `with levels ${i + 1}..8 set`);
  }
  const none = new ClientQuotaManager('produce', await storeWith([]), { samples: 11, windowMs: 1000 });
  assert.equal(none.quotaFor('alice', 'app'), Number.POSITIVE_INFINITY);
});

test('clients share the rate of the entity their quota comes from', async () => {
  const windows = { samples: 2, windowMs: 1000 };
  // A user quota limits all the user's clients together.
  const byUser = new ClientQuotaManager('produce', await storeWith([[{ user: 'alice' }, 100]]), windows);
  assert.equal(byUser.recordAndGetThrottleTimeMs('alice', 'one', 100, 0), 0);
  assert.ok(byUser.recordAndGetThrottleTimeMs('alice', 'two', 100, 0) > 0);
  // A default client-id quota limits each client id on its own.
  const byClient = new ClientQuotaManager('produce', await storeWith([[{ 'client-id': null }, 100]]), windows);
  assert.equal(byClient.recordAndGetThrottleTimeMs('alice', 'one', 100, 0), 0);
  assert.equal(byClient.recordAndGetThrottleTimeMs('alice', 'two', 100, 0), 0);
  assert.ok(byClient.recordAndGetThrottleTimeMs('alice', 'two', 100, 0) > 0);
});

test('a fetch may take at most samples - 1 windows of its quota at once', async () => {
  const store = new QuotaStore(null);
  await store.alter(
    [
      {
        entity: [{ entityType: 'client-id', entityName: 'c' }],
        ops: [{ key: 'consumer_byte_rate', value: 1000, remove: false }],
      },
    ],
    false,
  );
  const fetch = new ClientQuotaManager('fetch', store, { samples: 11, windowMs: 1000 });
  assert.equal(fetch.maxValueInQuotaWindow('ANONYMOUS', 'c'), 10_000);
  assert.equal(fetch.maxValueInQuotaWindow('ANONYMOUS', 'other'), Number.MAX_VALUE);
});
