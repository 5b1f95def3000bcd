/**
 * The network layer on its own, with a fake frame handler: framing, in-order responses, size limits,
 * connection limits, idle timeouts and backpressure.
 */
import assert from 'node:assert/strict';
import { connect, Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionViolation } from '../../../src/network/connection.js';
import { fakeServerPerTest, idFrame as frame } from './fake-server.js';

const quiet = { info() {}, warn() {}, debug() {} };
const start = fakeServerPerTest({ logger: quiet, maxRequestBytes: 1024 });

/** A response frame: size prefix + the request's first 4 bytes (a stand-in for the correlation id). */
function echo(frame: Buffer): Buffer {
  const out = Buffer.alloc(8);
  out.writeInt32BE(4, 0);
  frame.copy(out, 4, 0, 4);
  return out;
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects `count` response ids (4-byte bodies) from the socket. */
function readIds(s: Socket, count: number): Promise<number[]> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const ids: number[] = [];
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        ids.push(buf.readInt32BE(4));
        buf = buf.subarray(8);
      }
      if (ids.length >= count) resolve(ids);
    });
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.once('close', () => resolve());
  });
}

test('responses leave in request order even when handlers finish out of order', async () => {
  const port = await start(async (f) => {
    const id = f.readInt32BE(0);
    await new Promise((r) => setTimeout(r, id === 1 ? 60 : 5));
    return echo(f);
  });
  const s = await client(port);
  const got = readIds(s, 3);
  s.write(Buffer.concat([frame(1), frame(2), frame(3)]));
  assert.deepEqual(await got, [1, 2, 3]);
  s.destroy();
});

test('a frame split across many tiny writes is reassembled', async () => {
  const port = await start((f) => echo(f));
  const s = await client(port);
  const got = readIds(s, 2);
  const bytes = Buffer.concat([frame(7, 100), frame(8)]);
  for (const b of bytes) {
    s.write(Buffer.from([b]));
  }
  assert.deepEqual(await got, [7, 8]);
  s.destroy();
});

test('a request that gets no response (null) releases its slot without a write', async () => {
  const port = await start((f) => (f.readInt32BE(0) === 2 ? null : echo(f)));
  const s = await client(port);
  const got = readIds(s, 2);
  s.write(Buffer.concat([frame(1), frame(2), frame(3)]));
  assert.deepEqual(await got, [1, 3]);
  s.destroy();
});

test('a size prefix above socket.request.max.bytes closes only that connection', async () => {
  const port = await start((f) => echo(f), { maxRequestBytes: 64 });
  const bad = await client(port);
  const good = await client(port);
  const huge = Buffer.alloc(4);
  huge.writeInt32BE(2 ** 31 - 1, 0);
  bad.write(huge);
  await closed(bad);
  const got = readIds(good, 1);
  good.write(frame(42));
  assert.deepEqual(await got, [42]);
  good.destroy();
});

test('a negative size prefix closes the connection', async () => {
  const port = await start((f) => echo(f));
  const s = await client(port);
  const neg = Buffer.alloc(4);
  neg.writeInt32BE(-5, 0);
  s.write(neg);
  await closed(s);
});

test('a handler that throws a ConnectionViolation closes the connection', async () => {
  const port = await start(() => {
    throw new ConnectionViolation('bad request');
  });
  const s = await client(port);
  s.write(frame(1));
  await closed(s);
});

test('max.connections.per.ip refuses connections beyond the limit', async () => {
  const port = await start((f) => echo(f), { maxConnectionsPerIp: 2 });
  const a = await client(port);
  const b = await client(port);
  const c = await client(port);
  await closed(c);
  const got = readIds(a, 1);
  a.write(frame(5));
  assert.deepEqual(await got, [5]);
  a.destroy();
  b.destroy();
});

test('idle connections are closed after connections.max.idle.ms', async () => {
  const port = await start((f) => echo(f), { idleTimeoutMs: 150 });
  const s = await client(port);
  const t0 = Date.now();
  await closed(s);
  assert.ok(Date.now() - t0 >= 140, 'not closed before the idle timeout');
});

test('the broker stops reading a connection with too many unanswered requests', async () => {
  let started = 0;
  const release: Array<() => void> = [];
  const port = await start(
    (f) => {
      started++;
      return new Promise((resolve) => release.push(() => resolve(echo(f))));
    },
    { maxQueuedRequests: 4 },
  );
  const s = await client(port);
  const frames: Buffer[] = [];
  for (let i = 0; i < 50; i++) frames.push(frame(i));
  const got = readIds(s, 50);
  s.write(Buffer.concat(frames));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(started, 4, 'only maxQueuedRequests handlers started');
  // Answer everything as it arrives: the connection resumes and all 50 are answered in order.
  const pump = setInterval(() => {
    for (const r of release.splice(0)) r();
  }, 5);
  const ids = await got;
  clearInterval(pump);
  assert.deepEqual(
    ids,
    frames.map((_, i) => i),
  );
  s.destroy();
});

/** Reads exactly `n` bytes from the socket. */
function readBytes(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      if (have >= n) {
        s.off('data', onData);
        resolve(Buffer.concat(chunks).subarray(0, n));
      }
    };
    s.on('data', onData);
  });
}

/** A response frame of `parts` buffers whose bodies are the request id and then `extra` bytes of `fill`. */
function partedResponse(frame: Buffer, extra: number, fill: number): Buffer[] {
  const head = Buffer.alloc(8);
  head.writeInt32BE(4 + extra, 0);
  frame.copy(head, 4, 0, 4);
  const half = Math.floor(extra / 2);
  return [head, Buffer.alloc(half, fill), Buffer.alloc(extra - half, fill)];
}

test('a response given as several buffers is written whole, in order with the responses around it', async () => {
  const port = await start(async (f) => {
    const id = f.readInt32BE(0);
    await new Promise((r) => setTimeout(r, id === 1 ? 40 : 1));
    return id % 2 === 1 ? partedResponse(f, 30_000, id) : echo(f);
  });
  const s = await client(port);
  const expected = Buffer.concat([
    ...partedResponse(frame(1).subarray(4), 30_000, 1),
    echo(frame(2).subarray(4)),
    ...partedResponse(frame(3).subarray(4), 30_000, 3),
    echo(frame(4).subarray(4)),
  ]);
  const got = readBytes(s, expected.length);
  s.write(Buffer.concat([frame(1), frame(2), frame(3), frame(4)]));
  assert.deepEqual(await got, expected);
  s.destroy();
});

test('responses ready together leave the socket in one vectored write, in request order', async () => {
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = { write: proto._write, writev: proto._writev };
  let writes = 0;
  let writevs = 0;
  proto._write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return original.write.apply(this, args);
  };
  proto._writev = function (this: unknown, ...args: unknown[]) {
    writevs++;
    return original.writev.apply(this, args);
  };
  try {
    const port = await start((f) => echo(f));
    const s = await client(port);
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) frames.push(frame(i));
    const got = readIds(s, 40);
    const before = { writes, writevs };
    s.write(Buffer.concat(frames));
    assert.deepEqual(
      await got,
      frames.map((_, i) => i),
    );
    // The client's own write is one of the counted calls.
    assert.ok(writes - before.writes <= 1, `${writes - before.writes} single writes`);
    assert.equal(writevs - before.writevs, 1);
    s.destroy();
  } finally {
    proto._write = original.write;
    proto._writev = original.writev;
  }
});

test('a frame larger than what is allocated up front is gathered from its pieces', async () => {
  const size = 3 * 1024 * 1024;
  const port = await start(
    (f) => {
      const out = echo(f);
      // The answer says whether every byte after the id arrived intact.
      out[4] = f.length === size && f.subarray(4).every((b, i) => b === (i & 0xff)) ? 1 : 0;
      return out;
    },
    { maxRequestBytes: 4 * 1024 * 1024 },
  );
  const s = await client(port);
  const big = Buffer.alloc(4 + size);
  big.writeInt32BE(size, 0);
  for (let i = 0; i < size - 4; i++) big[8 + i] = i & 0xff;
  const got = readBytes(s, 8);
  for (let at = 0; at < big.length; at += 100_003) s.write(big.subarray(at, Math.min(big.length, at + 100_003)));
  assert.equal((await got)[4], 1);
  s.destroy();
});

test('afterResponse runs once the socket wrote the response, not while the client is not reading it', async () => {
  const extra = 32 * 1024 * 1024;
  let settled = 0;
  let handled = 0;
  const port = await start((f, ctx) => {
    handled++;
    ctx.afterResponse?.(() => settled++);
    return partedResponse(f, extra, 7);
  });
  const s = await client(port);
  s.pause();
  s.write(frame(1));
  await until(() => handled === 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(settled, 0, 'the response is still being written: its memory must stay untouched');
  const got = readBytes(s, 8 + extra);
  s.resume();
  const bytes = await got;
  assert.ok(bytes.subarray(8).every((b) => b === 7));
  await until(() => settled === 1);
  s.destroy();
});

test('afterResponse runs once for answers dropped by a closed connection and for requests without an answer', async () => {
  const settled: number[] = [];
  let finishSlow: (() => void) | undefined;
  const port = await start((f, ctx) => {
    const id = f.readInt32BE(0);
    ctx.afterResponse?.(() => settled.push(id));
    if (id === 1) return null;
    if (id === 2) return new Promise((resolve) => (finishSlow = () => resolve(echo(f))));
    return echo(f);
  });
  const s = await client(port);
  // 1 gets no answer; 3 is ready behind the slow 2 when the client goes away; 2 finishes after that.
  s.write(Buffer.concat([frame(1), frame(2), frame(3)]));
  await until(() => finishSlow !== undefined && settled.includes(1));
  s.destroy();
  await until(() => settled.includes(3));
  assert.ok(!settled.includes(2), 'not before its handler finished');
  finishSlow!();
  await until(() => settled.includes(2));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual([...settled].sort(), [1, 2, 3]);
});

/** Waits until `predicate` holds. */
async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}
