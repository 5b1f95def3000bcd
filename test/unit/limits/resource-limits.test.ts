/**
 * Resource limits, with Kafka's setting names, against a live broker process: oversized requests, too many
 * connections (in all and per address), idle connections, clients that never read their answers, thousands
 * of idle connections and clients that trickle bytes. Meanwhile a well-behaved client keeps being served
 * and the broker's resident memory stays bounded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { CreateTopicsApi, MetadataApi } from '../../../src/protocol/generated/index.js';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../../helpers/broker-process.js';
import { encodeRequestFrame, RawClient } from '../../helpers/raw-client.js';

const RSS_BOUND_MIB = 400;
const METADATA_NONE = { ...MetadataApi.defaultRequest(), topics: [] };

function rssMiB(broker: BrokerProcess): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${broker.child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function withBroker(
  overrides: Record<string, string | number | boolean>,
  body: (broker: BrokerProcess) => Promise<void>,
): Promise<void> {
  const broker = await startBrokerProcess({ overrides });
  try {
    await body(broker);
  } finally {
    await stopAndRemove(broker);
  }
}

/** A fresh connection's Metadata round trip, in ms; fails if it takes longer than `boundMs`. */
async function servedWithin(broker: BrokerProcess, boundMs: number): Promise<number> {
  const c = await RawClient.connect(broker.port);
  try {
    const t0 = Date.now();
    const res = await c.request(MetadataApi, 1, METADATA_NONE, { timeoutMs: boundMs });
    assert.equal(res.brokers.length, 1);
    return Date.now() - t0;
  } finally {
    c.close();
  }
}

async function assertLogged(broker: BrokerProcess, pattern: RegExp, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(broker.output())) {
    if (Date.now() > deadline) assert.fail(`no log line matching ${pattern}:\n${broker.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

test('socket.request.max.bytes: a larger size prefix closes the connection, a request within it is served', async () => {
  await withBroker({ 'socket.request.max.bytes': 2048 }, async (broker) => {
    for (const size of [2049, 2 ** 31 - 1]) {
      const c = await RawClient.connect(broker.port);
      await c.send(int32(size));
      assert.ok(await c.closesWithin(2000), `size prefix ${size} closes the connection`);
      await assertLogged(
        broker,
        new RegExp(`request size ${size} is outside 0\\.\\.2048 \\(socket\\.request\\.max\\.bytes\\)`),
      );
    }
    // 2 GiB does not fit an int32; on the wire it is negative.
    const c = await RawClient.connect(broker.port);
    await c.send(Buffer.from([0x80, 0, 0, 0]));
    assert.ok(await c.closesWithin(2000));
    const padded = await RawClient.connect(broker.port);
    const topics = Array.from({ length: 40 }, (_, i) => ({ name: `t${i}`.padEnd(30, 'x'), topicId: '' }));
    const frame = encodeRequestFrame(MetadataApi, 4, {
      ...MetadataApi.defaultRequest(),
      topics,
      allowAutoTopicCreation: false,
    });
    assert.ok(frame.length - 4 <= 2048 && frame.length - 4 > 1024, `a ${frame.length - 4}-byte request`);
    await padded.send(frame);
    assert.ok(await padded.nextFrame(3000), 'a request under the limit is answered');
    padded.close();
    await servedWithin(broker, 1000);
  });
});

test('a request holding millions of tiny array elements is refused at once, without a memory spike', async () => {
  await withBroker({}, async (broker) => {
    const before = rssMiB(broker);
    // Metadata v9 with 20 million empty topic names: 2 bytes each on the wire, ~70 bytes each decoded.
    const n = 20_000_000;
    const count = [];
    for (let x = n + 1; ; x >>>= 7) {
      if (x < 0x80) {
        count.push(x);
        break;
      }
      count.push((x & 0x7f) | 0x80);
    }
    const header = Buffer.from([0, 3, 0, 9, 0, 0, 0, 1, 0, 0, 0]);
    const body = Buffer.alloc(count.length + n * 2 + 4);
    Buffer.from(count).copy(body);
    for (let o = count.length; o < count.length + n * 2; o += 2) body[o] = 1;
    const c = await RawClient.connect(broker.port);
    const t0 = Date.now();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(broker))), 20);
    await c.send(Buffer.concat([int32(header.length + body.length), header, body]));
    assert.ok(await c.closesWithin(5000), 'the request closes its connection');
    clearInterval(sampler);
    const ms = Date.now() - t0;
    await assertLogged(broker, /takes the message past 1000000 array elements/);
    assert.ok(peak < RSS_BOUND_MIB, `broker RSS reached ${peak.toFixed(0)} MiB (from ${before.toFixed(0)})`);
    assert.ok(ms < 3000, `refused after ${ms} ms`);
    await servedWithin(broker, 1000);
  });
});

test('max.connections refuses connections over the limit, logs them, and accepts again once one closes', async () => {
  await withBroker({ 'max.connections': 4 }, async (broker) => {
    const open = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(broker.port)));
    const extra = await RawClient.connect(broker.port);
    assert.ok(await extra.closesWithin(2000), 'the fifth connection is closed');
    await assertLogged(broker, /refusing connection: max\.connections \(4\) reached/);
    const res = await open[0].request(MetadataApi, 1, METADATA_NONE);
    assert.equal(res.brokers.length, 1, 'the connections within the limit are served');
    open[3].close();
    await sleep(100);
    await servedWithin(broker, 1000);
    for (const c of open) c.close();
  });
});

test('max.connections.per.ip refuses a fourth connection from one address while another address is served', async () => {
  await withBroker({ 'max.connections.per.ip': 3 }, async (broker) => {
    const open = await Promise.all([0, 1, 2].map(() => RawClient.connect(broker.port)));
    const extra = await RawClient.connect(broker.port);
    assert.ok(await extra.closesWithin(2000), 'the fourth connection from 127.0.0.1 is closed');
    await assertLogged(
      broker,
      /refusing connection: the limit of 3 connections from 127\.0\.0\.1 \(max\.connections\.per\.ip or its overrides\) reached/,
    );
    const other = await RawClient.connect(broker.port, '127.0.0.1', '127.0.0.2');
    const res = await other.request(MetadataApi, 1, METADATA_NONE);
    assert.equal(res.brokers.length, 1, 'a client from 127.0.0.2 is served');
    other.close();
    for (const c of open) c.close();
  });
});

test('connections.max.idle.ms closes an idle connection but neither a busy one nor one trickling a byte per 100 ms', async () => {
  await withBroker({ 'connections.max.idle.ms': 600 }, async (broker) => {
    const idle = await RawClient.connect(broker.port);
    const busy = await RawClient.connect(broker.port);
    const slow = await RawClient.connect(broker.port);
    const t0 = Date.now();
    const request = encodeRequestFrame(MetadataApi, 1, METADATA_NONE, { correlationId: 99 });
    const trickle = (async () => {
      for (const b of request) {
        await slow.send(Buffer.from([b]));
        await sleep(100);
      }
    })();
    let worst = 0;
    while (Date.now() - t0 < request.length * 100) {
      const t = Date.now();
      await busy.request(MetadataApi, 1, METADATA_NONE, { timeoutMs: 1000 });
      worst = Math.max(worst, Date.now() - t);
      await sleep(100);
    }
    await trickle;
    const answer = await slow.nextFrame(2000);
    assert.equal(answer?.readInt32BE(0), 99, 'the trickled request is answered');
    assert.ok(idle.isClosed, 'the idle connection was closed');
    assert.ok(!busy.isClosed && !slow.isClosed, 'the busy and the trickling connections are open');
    assert.ok(worst < 500, `the busy client waited up to ${worst} ms`);
    await assertLogged(broker, /idle for more than 600 ms \(connections\.max\.idle\.ms\)/);
    busy.close();
    slow.close();
  });
});

test('a client that sends requests but never reads the answers is no longer read, and the broker stays bounded', async () => {
  await withBroker({ 'queued.max.requests': 50 }, async (broker) => {
    const admin = await RawClient.connect(broker.port);
    const created = await admin.request(
      CreateTopicsApi,
      4,
      {
        ...CreateTopicsApi.defaultRequest(),
        timeoutMs: 10_000,
        topics: [{ name: 'wide', numPartitions: 200, replicationFactor: 1, assignments: [], configs: [] }],
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
    admin.close();
    const before = rssMiB(broker);

    // Each ~40-byte request asks for a ~7 KB answer: answering all 500,000 would take gigabytes.
    const request = encodeRequestFrame(MetadataApi, 1, { ...METADATA_NONE, topics: [{ name: 'wide', topicId: '' }] });
    const greedy: Socket = await new Promise((resolve) => {
      const s = connect({ port: broker.port, host: '127.0.0.1' }, () => resolve(s));
    });
    greedy.pause();
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => request));
    let peak = before;
    for (let i = 0; i < 500; i++) {
      greedy.write(chunk);
      if (i % 10 === 0) {
        await sleep(20);
        peak = Math.max(peak, rssMiB(broker));
      }
    }
    await sleep(500);
    peak = Math.max(peak, rssMiB(broker));
    // What the broker has not read piles up on the client's side.
    console.log(
      `# ${greedy.writableLength} bytes of requests unread; broker RSS ${before.toFixed(0)} -> ${peak.toFixed(0)} MiB`,
    );
    assert.ok(greedy.writableLength > chunk.length * 200, `only ${greedy.writableLength} bytes waited on the client`);
    assert.ok(peak - before < 100, `broker RSS grew by ${(peak - before).toFixed(0)} MiB`);
    assert.ok(peak < RSS_BOUND_MIB);
    const ms = await servedWithin(broker, 1000);
    assert.ok(ms < 500, `a well-behaved client waited ${ms} ms`);

    // Once the client reads, it gets its answers again, in order.
    const first = await new Promise<Buffer>((resolve) => {
      greedy.once('data', resolve);
      greedy.resume();
    });
    assert.equal(first.readInt32BE(4), 1, 'the first answer is to the first request');
    greedy.destroy();
  });
});

/** The open-files limit of this shell, which bounds how many sockets the test and the broker may hold. */
function openFilesLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 1024;
}

test('5,000 idle connections stay open within bounded memory while a well-behaved client is served', async () => {
  // Each process holds one descriptor per connection; stay well under the limit (20,000 where this was written).
  const count = Math.min(5000, openFilesLimit() - 500);
  assert.ok(count >= 1000, `the open-files limit (${openFilesLimit()}) allows only ${count} connections`);
  await withBroker({}, async (broker) => {
    const before = rssMiB(broker);
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i += 250) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(250, count - i) },
          () =>
            new Promise<Socket>((resolve, reject) => {
              const s = connect({ port: broker.port, host: '127.0.0.1' }, () => resolve(s));
              s.once('error', reject);
            }),
        ),
      );
      sockets.push(...batch);
    }
    await sleep(300);
    const rss = rssMiB(broker);
    const ms = await servedWithin(broker, 2000);
    assert.ok(
      sockets.every((s) => !s.destroyed),
      'every idle connection is still open',
    );
    assert.ok(rss < RSS_BOUND_MIB, `broker RSS is ${rss.toFixed(0)} MiB with ${count} connections`);
    assert.ok(ms < 1000, `a well-behaved client waited ${ms} ms`);
    console.log(
      `# ${count} idle connections: broker RSS ${before.toFixed(0)} -> ${rss.toFixed(0)} MiB, metadata in ${ms} ms`,
    );
    for (const s of sockets) s.destroy();
  });
});
