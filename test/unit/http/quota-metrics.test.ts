/**
 * The quota counters of /metrics move when quotas act: a producer over its byte rate is counted as a
 * throttled response with its throttle time, and KIP-612 connection limits count the paused accepts and the
 * connections they close (by reason).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';

/** `name{labels}` → value, from Prometheus' text format. */
async function scrape(broker: EmbeddedBroker): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${broker.broker.httpPort}/metrics`);
  assert.equal(res.status, 200);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

/** Scrapes until `check` holds (connections are accepted or closed a moment after the client acts). */
async function scrapeUntil(
  broker: EmbeddedBroker,
  check: (s: Map<string, number>) => boolean,
  timeoutMs = 15_000,
): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape(broker);
    if (check(samples) || Date.now() > deadline) return samples;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const portOf = (broker: EmbeddedBroker) => Number(broker.bootstrap.split(':').pop());

test('a producer over its producer_byte_rate is counted in the throttled responses and throttle seconds', async (t) => {
  const broker = await startBroker({
    storage: 'memory',
    topics: ['metered-quota'],
    config: { 'admin.http.listener': '127.0.0.1:0', 'quota.window.num': 2 },
  });
  t.after(() => broker.stop());
  const [outcome] = await broker.broker.quotas.store.alter(
    [
      {
        entity: [{ entityType: 'client-id', entityName: 'slow' }],
        ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }],
      },
    ],
    false,
  );
  assert.equal(outcome.errorCode, 0);
  const before = await scrape(broker);
  assert.equal(before.get('sluice_quota_throttled_responses_total{quota_type="produce"}') ?? 0, 0);

  const producer = new Kafka({ clientId: 'slow', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  // 16 KiB against 1 KiB/s measured over at least one second: throttled for about 15 s (the whole excess).
  await producer.send({ topic: 'metered-quota', acks: 1, messages: [{ value: Buffer.alloc(16 * 1024) }] });

  const after = await scrape(broker);
  assert.equal(after.get('sluice_quota_throttled_responses_total{quota_type="produce"}'), 1);
  const seconds = after.get('sluice_quota_throttle_seconds_total{quota_type="produce"}') ?? 0;
  assert.ok(seconds > 5 && seconds < 30, `the throttle time is counted in seconds (${seconds})`);
});

test('connections over max.connection.creation.rate and max.connections.per.ip are counted as throttled accepts and refusals', async (t) => {
  const broker = await startBroker({
    storage: 'memory',
    config: {
      'admin.http.listener': '127.0.0.1:0',
      'quota.window.num': 2,
      'max.connection.creation.rate': 4,
      'max.connections.per.ip': 6,
    },
  });
  t.after(() => broker.stop());
  const sockets = await Promise.all(Array.from({ length: 8 }, () => openSocket(portOf(broker))));
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  // The first 4 are accepted at once, the others as the rate allows; the 7th and 8th find 6 already open.
  const after = await scrapeUntil(
    broker,
    (s) => (s.get('sluice_connections_refused_total{reason="per_ip"}') ?? 0) >= 2,
  );
  assert.equal(after.get('sluice_connections_refused_total{reason="per_ip"}'), 2);
  assert.ok((after.get('sluice_connections_accept_throttled_total') ?? 0) >= 1, 'accepting paused');
  assert.ok((after.get('sluice_connections_accept_throttle_seconds_total') ?? 0) > 0, 'for some time');
});

test('an ip quota set through AlterClientQuotas closes connections over its connection_creation_rate, counted by reason', async (t) => {
  const broker = await startBroker({
    storage: 'memory',
    config: { 'admin.http.listener': '127.0.0.1:0', 'quota.window.num': 2 },
  });
  t.after(() => broker.stop());
  const [outcome] = await broker.broker.quotas.store.alter(
    [
      {
        entity: [{ entityType: 'ip', entityName: '127.0.0.1' }],
        ops: [{ key: 'connection_creation_rate', value: 2, remove: false }],
      },
    ],
    false,
  );
  assert.equal(outcome.errorCode, 0);
  const sockets: Socket[] = [];
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  for (let i = 0; i < 3; i++) sockets.push(await openSocket(portOf(broker)));
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    sockets[2].once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  assert.ok(closed, 'the third connection within a second is closed');
  const after = await scrape(broker);
  assert.equal(after.get('sluice_connections_refused_total{reason="ip_creation_rate"}'), 1);
});
