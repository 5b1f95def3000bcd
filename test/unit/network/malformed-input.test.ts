/**
 * Malformed input against a live broker process: every broken frame closes its own connection (or is
 * answered with the right error code), the broker says so in its log, and other clients keep being served.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ApiVersionsApi, MetadataApi } from '../../../src/protocol/generated/index.js';
import { Reader } from '../../../src/protocol/reader.js';
import { type BrokerProcess, removeDir, startBrokerProcess } from '../../helpers/broker-process.js';
import { decodeResponseFrame, encodeRequestFrame, RawClient, rawRequestFrame } from '../../helpers/raw-client.js';

let broker: BrokerProcess;

before(async () => {
  broker = await startBrokerProcess();
});

after(async () => {
  await broker.stop();
  removeDir(broker.dataDir);
});

const METADATA_ALL_NONE = { ...MetadataApi.defaultRequest(), topics: [] };

function metadataFrame(correlationId: number): Buffer {
  return encodeRequestFrame(MetadataApi, 1, METADATA_ALL_NONE, { correlationId });
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
}

/** A fresh connection gets a Metadata answer: the broker is still serving. */
async function assertStillServing(): Promise<void> {
  const c = await RawClient.connect(broker.port);
  try {
    const res = await c.request(MetadataApi, 1, METADATA_ALL_NONE, { timeoutMs: 3000 });
    assert.equal(res.brokers.length, 1);
  } finally {
    c.close();
  }
}

/** Waits until the broker's output has a line about this client's connection that matches `pattern`. */
async function assertLogged(c: RawClient, pattern: RegExp, timeoutMs = 3000): Promise<void> {
  const conn = `127.0.0.1:${c.localPort}#`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = broker
      .output()
      .split('\n')
      .find((l) => l.includes(conn) && pattern.test(l));
    if (line) return;
    if (Date.now() > deadline) {
      assert.fail(`no log line for ${conn} matching ${pattern}; the broker printed:\n${broker.output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `bytes` on a new connection and expects the broker to close it, log `pattern`, and keep serving. */
async function expectRejected(bytes: Buffer, pattern: RegExp): Promise<void> {
  const c = await RawClient.connect(broker.port);
  await c.send(bytes);
  assert.ok(await c.closesWithin(3000), 'the broker closes the connection');
  await assertLogged(c, pattern);
  await assertStillServing();
}

test('a client that closes after sending part of a frame is dropped and the partial request logged', async () => {
  const c = await RawClient.connect(broker.port);
  await c.send(Buffer.concat([int32(100), Buffer.alloc(10)]));
  await new Promise((r) => setTimeout(r, 50));
  c.close();
  await assertLogged(c, /closed the connection in the middle of a request \(10 of 100 bytes/);
  await assertStillServing();
});

test('a client that closes after part of a size prefix is logged too', async () => {
  const c = await RawClient.connect(broker.port);
  await c.send(Buffer.from([0, 0]));
  await new Promise((r) => setTimeout(r, 50));
  c.close();
  await assertLogged(c, /closed the connection in the middle of a request \(2 of the 4 bytes of its size prefix/);
  await assertStillServing();
});

test('a request header cut short closes the connection', async () => {
  await expectRejected(
    Buffer.concat([int32(5), int16(3), int16(1), Buffer.from([0])]),
    /shorter than a request header/,
  );
});

test('a zero-length frame closes the connection', async () => {
  await expectRejected(int32(0), /request of 0 bytes is shorter than a request header/);
});

test('a client id longer than the frame closes the connection', async () => {
  const frame = Buffer.concat([int32(12), int16(3), int16(1), int32(7), int16(200), Buffer.from('ab')]);
  await expectRejected(frame, /malformed Metadata v1 request: .*string/);
});

test('a size prefix of -1 closes the connection', async () => {
  await expectRejected(int32(-1), /request size -1 is outside 0\.\.104857600 \(socket\.request\.max\.bytes\)/);
});

test('a size prefix of 2 GiB closes the connection', async () => {
  // 2^31 does not fit an int32: on the wire it reads as -2^31.
  await expectRejected(int32(2 ** 31), /request size -2147483648 is outside/);
  await expectRejected(int32(2 ** 31 - 1), /request size 2147483647 is outside 0\.\.104857600/);
});

test('a string length of 32767 with 3 bytes left closes the connection', async () => {
  // Metadata v1 body: one topic whose name claims 32767 bytes, followed by 3.
  const body = Buffer.concat([int32(1), int16(32767), Buffer.from('abc')]);
  await expectRejected(
    rawRequestFrame(3, 1, 9, body),
    /malformed Metadata v1 request: cannot read string .*needs 32767/,
  );
});

test('an array count of 2^31-1 closes the connection before anything is allocated', async () => {
  const body = Buffer.concat([int32(2 ** 31 - 1), Buffer.alloc(16)]);
  await expectRejected(
    rawRequestFrame(3, 1, 9, body),
    /malformed Metadata v1 request: array .*claims 2147483647 elements/,
  );
});

test('a negative string length other than -1 closes the connection', async () => {
  const body = Buffer.concat([int32(1), int16(-7)]);
  await expectRejected(rawRequestFrame(3, 1, 9, body), /malformed Metadata v1 request: string .*negative length -7/);
});

test('an unknown api key closes the connection', async () => {
  await expectRejected(rawRequestFrame(999, 0, 5, Buffer.alloc(0)), /unknown api key 999/);
  await expectRejected(rawRequestFrame(-1, 0, 5, Buffer.alloc(0)), /unknown api key -1/);
  // Known to Kafka (LeaderAndIsr) but not served by this broker.
  await expectRejected(rawRequestFrame(4, 0, 5, Buffer.alloc(0)), /unknown api key 4/);
});

test('ApiVersions v99 is answered with UNSUPPORTED_VERSION in the v0 format listing the served ranges', async () => {
  const c = await RawClient.connect(broker.port);
  await c.send(rawRequestFrame(18, 99, 4242, Buffer.alloc(0)));
  const frame = await c.nextFrame(3000);
  assert.ok(frame, 'the broker answers');
  const r = new Reader(frame);
  assert.equal(r.int32(), 4242);
  const body = ApiVersionsApi.decodeResponse(r, 0);
  assert.equal(r.remaining(), 0, 'the answer is exactly an ApiVersions v0 body');
  assert.equal(body.errorCode, ErrorCode.UNSUPPORTED_VERSION);
  const apiVersions = body.apiKeys.find((k) => k.apiKey === 18);
  assert.deepEqual(apiVersions && { min: apiVersions.minVersion, max: apiVersions.maxVersion }, { min: 0, max: 4 });
  assert.ok(body.apiKeys.some((k) => k.apiKey === 3));
  await assertLogged(c, /ApiVersions v99 .*UNSUPPORTED_VERSION/);
  // The connection stays open: the client retries with a version both sides know.
  const retry = await c.request(ApiVersionsApi, 3, {
    ...ApiVersionsApi.defaultRequest(),
    clientSoftwareName: 'raw',
    clientSoftwareVersion: '1',
  });
  assert.equal(retry.errorCode, ErrorCode.NONE);
  c.close();
});

test('Produce v12 (above the served range) closes the connection', async () => {
  await expectRejected(
    rawRequestFrame(0, 12, 5, Buffer.alloc(0)),
    /Produce v12 is not supported \(this broker serves v0-v11\)/,
  );
});

test('Metadata v99 closes the connection', async () => {
  await expectRejected(rawRequestFrame(3, 99, 5, Buffer.alloc(0)), /Metadata v99 is not supported/);
  await expectRejected(rawRequestFrame(3, -1, 5, Buffer.alloc(0)), /Metadata v-1 is not supported/);
});

test('bytes after the end of a request body are ignored and the request answered, as Kafka does', async () => {
  const valid = metadataFrame(3);
  const frame = Buffer.concat([valid, Buffer.from('garbage')]);
  frame.writeInt32BE(frame.length - 4, 0);
  const c = await RawClient.connect(broker.port);
  try {
    await c.send(frame);
    const answer = await c.nextFrame(3000);
    assert.ok(answer, 'the request is answered');
    const { correlationId, body } = decodeResponseFrame(MetadataApi, 1, answer);
    assert.equal(correlationId, 3);
    assert.equal(body.brokers.length, 1);
  } finally {
    c.close();
  }
});

test("librdkafka 2.12's Metadata v12 request, with 3 bytes after its last field, is answered", async () => {
  // The exact frame librdkafka 2.12 sends on connect: header v2 with client id "rdkafka", then all
  // topics (null), no auto-creation, no authorized operations, no tagged fields, and 01 00 00.
  const bytes = Buffer.from(
    `0003000c 00000003 0007 ${Buffer.from('rdkafka').toString('hex')} 00 00000000 010000`.replace(/\s+/g, ''),
    'hex',
  );
  const c = await RawClient.connect(broker.port);
  try {
    await c.send(Buffer.concat([int32(bytes.length), bytes]));
    const answer = await c.nextFrame(3000);
    assert.ok(answer, 'the request is answered');
    const { correlationId, body } = decodeResponseFrame(MetadataApi, 12, answer);
    assert.equal(correlationId, 3);
    assert.equal(body.brokers.length, 1);
  } finally {
    c.close();
  }
});

test('garbage after a valid request: the request is answered, then the connection closes', async () => {
  const c = await RawClient.connect(broker.port);
  await c.send(Buffer.concat([metadataFrame(77), Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])]));
  const frame = await c.nextFrame(3000);
  assert.ok(frame, 'the valid request is answered');
  assert.equal(decodeResponseFrame(MetadataApi, 1, frame).correlationId, 77);
  assert.ok(await c.closesWithin(3000), 'the garbage closes the connection');
  await assertLogged(c, /request size -559038737 is outside/);
  await assertStillServing();
});

test('a valid request split into 1-byte writes is answered', async () => {
  const c = await RawClient.connect(broker.port);
  const bytes = metadataFrame(31);
  for (const b of bytes) {
    await c.send(Buffer.from([b]));
  }
  const frame = await c.nextFrame(3000);
  assert.ok(frame);
  const { correlationId, body } = decodeResponseFrame(MetadataApi, 1, frame);
  assert.equal(correlationId, 31);
  assert.equal(body.brokers.length, 1);
  c.close();
});

test('pipelined requests are answered in order', async () => {
  const c = await RawClient.connect(broker.port);
  const frames: Buffer[] = [];
  const versions = [0, 1, 2, 3];
  for (let i = 0; i < 40; i++) {
    frames.push(
      i % 2 === 0
        ? metadataFrame(1000 + i)
        : encodeRequestFrame(ApiVersionsApi, versions[i % 4], ApiVersionsApi.defaultRequest(), {
            correlationId: 1000 + i,
          }),
    );
  }
  await c.send(Buffer.concat(frames));
  const ids: number[] = [];
  for (let i = 0; i < 40; i++) {
    const frame = await c.nextFrame(3000);
    assert.ok(frame, `answer ${i} arrives`);
    ids.push(frame.readInt32BE(0));
  }
  assert.deepEqual(
    ids,
    frames.map((_, i) => 1000 + i),
  );
  c.close();
});

test('a rejected request in a pipeline closes the connection after the requests before it are answered', async () => {
  const c = await RawClient.connect(broker.port);
  await c.send(
    Buffer.concat([
      metadataFrame(1),
      encodeRequestFrame(ApiVersionsApi, 0, ApiVersionsApi.defaultRequest(), { correlationId: 2 }),
      rawRequestFrame(999, 0, 3, Buffer.alloc(0)),
      metadataFrame(4),
    ]),
  );
  const first = await c.nextFrame(3000);
  const second = await c.nextFrame(3000);
  assert.deepEqual([first?.readInt32BE(0), second?.readInt32BE(0)], [1, 2]);
  assert.equal(await c.nextFrame(3000), null, 'nothing after the rejected request is answered');
  assert.ok(c.isClosed);
  await assertLogged(c, /unknown api key 999/);
  await assertStillServing();
});
