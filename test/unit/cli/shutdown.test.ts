/**
 * `sluice start` ends its process on SIGTERM, whatever its clients left behind: requests still waiting
 * (a Fetch long poll with a 24-day max_wait_ms, acks=all Produces) on connections that closed mid-request.
 * An orchestrator otherwise waits out its grace period and kills the broker.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { buildFetchRequest } from '../../../src/client/consumer.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { CreateTopicsApi, FetchApi, ProduceApi } from '../../../src/protocol/generated/index.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { startBrokerProcess, stopAndRemove } from '../../helpers/broker-process.js';
import { encodeRequestFrame, RawClient } from '../../helpers/raw-client.js';

const EXIT_BOUND_MS = 10_000;
const MAX_WAIT_MS = 2 ** 31 - 1;

function produceFrame(correlationId: number, acks: number): Buffer {
  const req = ProduceApi.defaultRequest();
  req.acks = acks;
  req.timeoutMs = MAX_WAIT_MS;
  const records = buildRecordBatch([{ value: Buffer.alloc(512, correlationId & 0xff) }]);
  req.topicData.push({ name: 'orders', partitionData: [{ index: 0, records }] });
  return encodeRequestFrame(ProduceApi, 9, req, { correlationId });
}

/**
 * A Fetch at the end of a topic nobody writes to, with min_bytes 1: it long-polls for max_wait_ms, which
 * clients without a deadline set to its largest value (segmentio/kafka-go does).
 */
function longPollRequest() {
  return buildFetchRequest([{ topic: 'quiet', partition: 0, offset: 0n }], new Map(), 12, {
    maxWaitMs: MAX_WAIT_MS,
    minBytes: 1,
    maxBytes: 1 << 20,
    partitionMaxBytes: 1 << 20,
  });
}

test('SIGTERM ends the broker process after clients closed their connections in the middle of requests', async () => {
  const broker = await startBrokerProcess();
  try {
    const admin = await RawClient.connect(broker.port);
    const created = await admin.request(CreateTopicsApi, 4, {
      ...CreateTopicsApi.defaultRequest(),
      timeoutMs: 10_000,
      topics: ['orders', 'quiet'].map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
    });
    assert.deepEqual(
      created.topics.map((t) => t.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    );
    admin.close();

    // Each client pipelines long polls and produces (acks=all and acks=1), cuts its last frame in half and
    // goes away while the broker still handles what came before. A few wait for the long polls to start.
    const clients = Array.from({ length: 12 }, async (_, c) => {
      const socket: Socket = connect({ port: broker.port, host: '127.0.0.1' });
      socket.on('error', () => {});
      await once(socket, 'connect');
      const frames: Buffer[] = [];
      for (let i = 0; i < 8; i++)
        frames.push(
          i % 2 === 0
            ? encodeRequestFrame(FetchApi, 12, longPollRequest(), { correlationId: i })
            : produceFrame(i, i % 4 === 1 ? -1 : 1),
        );
      const bytes = Buffer.concat(frames);
      const last = frames.at(-1)!.length;
      socket.write(bytes.subarray(0, bytes.length - Math.floor(last / 2)));
      if (c % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      socket.destroy();
    });
    await Promise.all(clients);
    // A connection still open while the broker stops is closed by it: its long poll must end too.
    const open = await RawClient.connect(broker.port);
    open.sendRequest(FetchApi, 12, longPollRequest());
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    broker.child.kill('SIGTERM');
    const timer = setTimeout(() => broker.child.kill('SIGKILL'), EXIT_BOUND_MS);
    const [code, signal] = (await once(broker.child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    assert.equal(signal, null, `the broker did not exit within ${EXIT_BOUND_MS} ms of SIGTERM:\n${broker.output()}`);
    assert.equal(code, 0, broker.output());
    assert.match(broker.output(), /"stopped"/);
    assert.ok(Date.now() - started < EXIT_BOUND_MS);
    open.close();
  } finally {
    await stopAndRemove(broker);
  }
});
