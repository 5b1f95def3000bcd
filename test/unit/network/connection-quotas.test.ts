/**
 * KIP-612 connection limits in the network layer, with the broker's ConnectionQuotas and a fake handler:
 * the broker-wide creation rate delays accepts, an IP's connection_creation_rate holds then closes the
 * connections over it, and max.connections.per.ip (with its overrides) closes the excess.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionQuotas } from '../../../src/broker/quotas/connection-quotas.js';
import { QuotaStore } from '../../../src/broker/quotas/quota-store.js';
import type { ConnectionMetrics } from '../../../src/network/server.js';
import { fakeServerPerTest, idFrame } from './fake-server.js';

const quiet = { info() {}, warn() {}, debug() {} };
const start = fakeServerPerTest({ logger: quiet, maxRequestBytes: 1024 });
/** Two windows of one second: the rate is measured over at least one second, so tests stay short. */
const WINDOWS = { samples: 2, windowMs: 1000 };

function recordingMetrics(): ConnectionMetrics & { refused: string[]; throttles: number[] } {
  const refused: string[] = [];
  const throttles: number[] = [];
  return {
    refused,
    throttles,
    connectionRefused: (reason) => refused.push(reason),
    acceptThrottled: (ms) => throttles.push(ms),
  };
}

/** Connects, sends one request (its id), and resolves with the socket once the TCP handshake is done. */
function connectAndAsk(port: number, id: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(idFrame(id));
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves true when the socket gets an answer, false when it is closed without one. */
function answeredOrClosed(s: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    s.once('data', () => resolve(true));
    s.once('close', () => resolve(false));
  });
}

/** A fake handler that answers every request and notes when each request id was handled. */
function timedHandler(handledAt: Map<number, number>) {
  return async (frame: Buffer) => {
    handledAt.set(frame.readInt32BE(0), Date.now());
    return idFrame(frame.readInt32BE(0));
  };
}

test('a burst of connections over max.connection.creation.rate is accepted spread out in time', async () => {
  const handledAt = new Map<number, number>();
  const metrics = recordingMetrics();
  const port = await start(timedHandler(handledAt), {
    connectionRates: new ConnectionQuotas(4, new QuotaStore(null), WINDOWS),
    connectionMetrics: metrics,
  });
  const started = Date.now();
  const sockets = await Promise.all(Array.from({ length: 12 }, (_, i) => connectAndAsk(port, i)));
  const answered = await Promise.all(sockets.map(answeredOrClosed));
  for (const s of sockets) s.destroy();

  assert.deepEqual(answered, Array(12).fill(true), 'every connection is accepted in the end');
  const times = [...handledAt.values()].map((t) => t - started).sort((a, b) => a - b);
  // 4 per second with at least a second of history: the first 4 at once, the 8 others about 250 ms apart.
  assert.ok(times[3] < 1000, `the first four are accepted at once (${times})`);
  assert.ok(times[11] >= 1200, `the last is accepted well after the burst (${times})`);
  assert.ok(metrics.throttles.length >= 4, `accepting paused several times (${metrics.throttles})`);
  assert.ok(
    metrics.throttles.every((ms) => ms > 0 && ms <= WINDOWS.windowMs),
    'each pause is at most a window',
  );
});

test('connections over their IP address connection_creation_rate are held unanswered, then closed', async () => {
  const store = new QuotaStore(null);
  await store.alter(
    [
      {
        entity: [{ entityType: 'ip', entityName: '127.0.0.1' }],
        ops: [{ key: 'connection_creation_rate', value: 2, remove: false }],
      },
    ],
    false,
  );
  const metrics = recordingMetrics();
  const port = await start(timedHandler(new Map()), {
    connectionRates: new ConnectionQuotas(2147483647, store, WINDOWS),
    connectionMetrics: metrics,
  });
  const first = [await connectAndAsk(port, 1), await connectAndAsk(port, 2)];
  assert.deepEqual(await Promise.all(first.map(answeredOrClosed)), [true, true]);

  const heldAt = Date.now();
  const third = await connectAndAsk(port, 3);
  assert.equal(await answeredOrClosed(third), false, 'the third connection is closed without an answer');
  const heldMs = Date.now() - heldAt;
  // Rate 3 over one second against a quota of 2: closed after (3 - 2) / 2 × 1000 ms.
  assert.ok(heldMs >= 300, `closed only after the throttle time, not at once (${heldMs} ms)`);
  assert.deepEqual(metrics.refused, ['ip_creation_rate']);
  for (const s of first) s.destroy();
});

test('the <default> ip quota limits addresses without their own, and an address of its own is not limited by it', async () => {
  const store = new QuotaStore(null);
  const quotas = new ConnectionQuotas(2147483647, store, WINDOWS);
  await store.alter(
    [
      {
        entity: [{ entityType: 'ip', entityName: null }],
        ops: [{ key: 'connection_creation_rate', value: 1, remove: false }],
      },
      {
        entity: [{ entityType: 'ip', entityName: '10.0.0.9' }],
        ops: [{ key: 'connection_creation_rate', value: 100, remove: false }],
      },
    ],
    false,
  );
  const now = 1_000_000;
  assert.equal(quotas.recordIpConnectionAndGetThrottleTimeMs('10.0.0.8', now), 0);
  assert.ok(
    quotas.recordIpConnectionAndGetThrottleTimeMs('10.0.0.8', now) > 0,
    'the default of 1/s throttles the second',
  );
  for (let i = 0; i < 10; i++) assert.equal(quotas.recordIpConnectionAndGetThrottleTimeMs('10.0.0.9', now), 0);
  // A refused connection is taken back out of the rate: once the first window expired, it is let in again.
  assert.equal(quotas.recordIpConnectionAndGetThrottleTimeMs('10.0.0.8', now + 2100), 0);
});

/** Opens one more connection than `allowed` and checks that exactly the last is closed unanswered. */
async function expectPerIpLimit(port: number, allowed: number, metrics: ReturnType<typeof recordingMetrics>) {
  const sockets: Socket[] = [];
  for (let i = 0; i < allowed + 1; i++) sockets.push(await connectAndAsk(port, i));
  const answered = await Promise.all(sockets.map(answeredOrClosed));
  for (const s of sockets) s.destroy();
  assert.deepEqual(answered, [...Array(allowed).fill(true), false]);
  assert.deepEqual(metrics.refused, ['per_ip']);
}

test('max.connections.per.ip closes the connections of an address over it', async () => {
  const metrics = recordingMetrics();
  const port = await start(timedHandler(new Map()), { maxConnectionsPerIp: 2, connectionMetrics: metrics });
  await expectPerIpLimit(port, 2, metrics);
});

test('max.connections.per.ip.overrides raises the limit for the address it names', async () => {
  const metrics = recordingMetrics();
  const port = await start(timedHandler(new Map()), {
    maxConnectionsPerIp: 2,
    maxConnectionsPerIpOverrides: new Map([['127.0.0.1', 4]]),
    connectionMetrics: metrics,
  });
  await expectPerIpLimit(port, 4, metrics);
});
