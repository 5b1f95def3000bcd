/**
 * How a connection ends when a pipelined request breaks the protocol, and how it stops working for a client
 * that does not read: the network layer alone, with fake frame handlers.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import { ConnectionViolation } from '../../../src/network/connection.js';
import { RawClient } from '../../helpers/raw-client.js';
import { fakeServerPerTest, idFrame } from './fake-server.js';

const lines: string[] = [];
const logger = {
  info: (o: object, msg: string) => lines.push(`${msg} ${JSON.stringify(o)}`),
  warn: (o: object, msg: string) => lines.push(`${msg} ${JSON.stringify(o)}`),
  debug() {},
};
const start = fakeServerPerTest({ logger, maxRequestBytes: 1 << 20 });

afterEach(() => {
  lines.length = 0;
});

/** Requests carry an id in a 4-byte body; the fake handlers answer with that id (and `extra` bytes). */
const frame = (id: number) => idFrame(id);
const answer = idFrame;

test('a violation closes the connection after the answers to the requests before it, slow ones included', async () => {
  const port = await start(async (f) => {
    const id = f.readInt32BE(0);
    if (id === 3) throw new ConnectionViolation('request 3 is malformed');
    await new Promise((r) => setTimeout(r, id === 1 ? 80 : 1));
    return answer(id);
  });
  const c = await RawClient.connect(port);
  await c.send(Buffer.concat([frame(1), frame(2), frame(3), frame(4)]));
  const ids = [];
  for (let frameBytes = await c.nextFrame(2000); frameBytes; frameBytes = await c.nextFrame(2000)) {
    ids.push(frameBytes.readInt32BE(0));
  }
  assert.deepEqual(ids, [1, 2], 'the answers before the violation, and nothing after it');
  assert.ok(c.isClosed);
  assert.ok(lines.some((l) => l.includes('closing connection') && l.includes('request 3 is malformed')));
});

test('a bad size prefix after pipelined requests closes the connection once they are answered', async () => {
  const port = await start(async (f) => {
    await new Promise((r) => setTimeout(r, 20));
    return answer(f.readInt32BE(0));
  });
  const c = await RawClient.connect(port);
  await c.send(Buffer.concat([frame(1), frame(2), Buffer.from([0xff, 0xff, 0xff, 0xf0])]));
  assert.equal((await c.nextFrame(2000))?.readInt32BE(0), 1);
  assert.equal((await c.nextFrame(2000))?.readInt32BE(0), 2);
  assert.equal(await c.nextFrame(2000), null);
  assert.ok(c.isClosed);
  assert.ok(lines.some((l) => l.includes('request size -16 is outside')));
});

test('a handler that fails with an unexpected error is logged as a broker bug and ends only its connection', async () => {
  const port = await start((f) => {
    const id = f.readInt32BE(0);
    if (id === 2) throw new TypeError('cannot read properties of undefined');
    return answer(id);
  });
  const c = await RawClient.connect(port);
  await c.send(Buffer.concat([frame(1), frame(2), frame(3)]));
  assert.equal((await c.nextFrame(2000))?.readInt32BE(0), 1);
  assert.equal(await c.nextFrame(2000), null);
  assert.ok(lines.some((l) => l.includes('this is a broker bug') && l.includes('cannot read properties')));
  const other = await RawClient.connect(port);
  await other.send(frame(9));
  assert.equal((await other.nextFrame(2000))?.readInt32BE(0), 9, 'other connections are served');
  other.close();
});

test('frames already read are not handled while the client leaves its answers unread', async () => {
  let handled = 0;
  // Each 8-byte request gets a 64 KiB answer: handling every frame of one 80 KB write would queue 640 MB.
  const port = await start(
    (f) => {
      handled++;
      return answer(f.readInt32BE(0), 64 * 1024);
    },
    { maxQueuedRequests: 100_000 },
  );
  const s: Socket = await new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' }, () => resolve(sock));
  });
  s.pause();
  s.write(Buffer.concat(Array.from({ length: 10_000 }, (_, i) => frame(i))));
  await new Promise((r) => setTimeout(r, 300));
  // The kernel's socket buffers take some answers (a few MiB) before the broker's writes back up.
  assert.ok(handled < 500, `${handled} of 10,000 requests were handled for a client that reads nothing`);
  let got = 0;
  const all = new Promise<void>((resolve) => {
    s.on('data', (d) => {
      got += d.length;
      if (got >= 10_000 * (8 + 64 * 1024)) resolve();
    });
  });
  s.resume();
  await all;
  assert.equal(handled, 10_000, 'once the client reads, every request is handled');
  s.destroy();
});
