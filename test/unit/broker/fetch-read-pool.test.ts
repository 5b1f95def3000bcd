/**
 * Fetch responses carry pooled read memory to the socket by reference: the memory must not be reused
 * while a response still has bytes to send. The pool is made tiny (one slab) and poisoned (a slab is
 * filled with 0xee whenever it becomes free), so memory given back too early would reach the client as
 * garbage and fail the batches' CRCs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildFetchRequest } from '../../../src/client/consumer.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ProduceApi } from '../../../src/protocol/generated/00-produce.js';
import { FetchApi, type FetchResponse } from '../../../src/protocol/generated/01-fetch.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { scanValidPrefix } from '../../../src/records/validate.js';
import { fetchReadPool } from '../../../src/storage/read-pool.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';
import { decodeResponseFrame, RawClient } from '../../helpers/raw-client.js';

const FETCH_VERSION = 12;
const MiB = 1024 * 1024;
const RECORDS_PER_BATCH = 100;

function fetchRequest(offset: bigint, maxBytes: number) {
  return buildFetchRequest([{ topic: 'orders', partition: 0, offset }], new Map(), FETCH_VERSION, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    partitionMaxBytes: maxBytes,
  });
}

/** The records of a Fetch response frame, checked whole: every batch framed and its CRC right. */
function intactRecords(frame: Buffer | null, from: bigint): Buffer {
  assert.ok(frame, 'no Fetch response');
  const { body } = decodeResponseFrame<FetchResponse>(FetchApi, FETCH_VERSION, frame);
  const p = body.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, ErrorCode.NONE);
  const records = p.records ?? Buffer.alloc(0);
  assert.ok(records.length > MiB, `${records.length} bytes fetched`);
  const scanned = scanValidPrefix(records, { verifyCrc: true });
  assert.equal(scanned.validBytes, records.length, `corrupt fetched bytes: ${scanned.stopReason}`);
  assert.equal(scanned.batches[0]!.baseOffset, from - (from % BigInt(RECORDS_PER_BATCH)));
  return records;
}

/** Waits until the pool's current slab has `count` regions held; returns how many it has. */
async function holdersReach(count: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (fetchReadPool.stats.currentHolders !== count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return fetchReadPool.stats.currentHolders;
}

describe('Fetch over pooled read memory', () => {
  let kafka: EmbeddedBroker;

  before(async () => {
    fetchReadPool.configure({ slabBytes: 16 * MiB, maxSlabs: 1, poison: 0xee });
    kafka = await startBroker({ topics: ['orders'] });
    const producer = await RawClient.connect(kafka.port);
    // 24 MiB: 240 batches of 100 records of 1 KiB, each batch's values its own byte.
    for (let b = 0; b < 240; b++) {
      const req = ProduceApi.defaultRequest();
      req.acks = 1;
      req.timeoutMs = 10_000;
      const records = Array.from({ length: RECORDS_PER_BATCH }, () => ({ value: Buffer.alloc(1024, b & 0xff) }));
      req.topicData.push({ name: 'orders', partitionData: [{ index: 0, records: buildRecordBatch(records) }] });
      const res = await producer.request(ProduceApi, 9, req, { timeoutMs: 30_000 });
      const p = res.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, ErrorCode.NONE, p.errorMessage ?? '');
    }
    producer.close();
  });

  after(async () => {
    await kafka?.stop();
    fetchReadPool.configure({});
  });

  test('a response the client is slow to read keeps its bytes while other fetches reuse the pool', async () => {
    const slow = await RawClient.connect(kafka.port);
    const quick = await RawClient.connect(kafka.port);
    try {
      // The slow client asks for 12 MiB and reads nothing: most of the answer waits in the broker's socket
      // buffer, holding three quarters of the only slab.
      slow.socket.pause();
      slow.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(0n, 12 * MiB));
      assert.equal(await holdersReach(1), 1, 'the slow fetch holds its pooled read');
      await new Promise((r) => setTimeout(r, 100));

      // Meanwhile other fetches of other data come and go: they must not land on the slow answer's bytes.
      for (let i = 0; i < 6; i++) {
        const offset = BigInt(12_000 + i * 1_500);
        quick.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(offset, 3 * MiB));
        intactRecords(await quick.nextFrame(10_000), offset);
      }
      assert.equal(fetchReadPool.stats.currentHolders, 1, 'the slow answer is still held');

      slow.socket.resume();
      const records = intactRecords(await slow.nextFrame(20_000), 0n);
      assert.ok(records.length > 11 * MiB);
      assert.equal(await holdersReach(0), 0, 'written, the answer gives its memory back');
    } finally {
      slow.close();
      quick.close();
    }
  });

  test('a client that goes away before reading its answer gives the memory back', async () => {
    const gone = await RawClient.connect(kafka.port);
    gone.socket.pause();
    gone.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(0n, 12 * MiB));
    assert.equal(await holdersReach(1), 1);
    gone.close();
    assert.equal(await holdersReach(0), 0);
    // The slab serves the next fetch, whose bytes arrive intact.
    const next = await RawClient.connect(kafka.port);
    next.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(5_000n, 3 * MiB));
    intactRecords(await next.nextFrame(10_000), 5_000n);
    assert.deepEqual(fetchReadPool.stats, { slabs: 1, free: 0, currentHolders: 0 });
    next.close();
  });
  test('Fetches pipelined by a client that reads nothing are read one at a time, so one answer holds memory', async () => {
    const greedy = await RawClient.connect(kafka.port);
    try {
      greedy.socket.pause();
      const before = process.memoryUsage().arrayBuffers;
      // Ten Fetches of 12 MiB each, sent at once: answered together they would hold 120 MiB.
      for (let i = 0; i < 10; i++) greedy.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(0n, 12 * MiB));
      assert.equal(await holdersReach(1), 1);
      await new Promise((r) => setTimeout(r, 300));
      const grown = (process.memoryUsage().arrayBuffers - before) / MiB;
      assert.ok(grown < 40, `the unread answers hold ${grown.toFixed(0)} MiB`);
      // Once the client reads, every answer arrives, whole and in order.
      greedy.socket.resume();
      for (let i = 0; i < 10; i++) intactRecords(await greedy.nextFrame(10_000), 0n);
    } finally {
      greedy.close();
    }
    assert.equal(await holdersReach(0), 0);
  });

  test('fetch.max.bytes caps a response whatever max_bytes the request asks for', async () => {
    const config = kafka.broker.config as Record<string, unknown>;
    config['fetch.max.bytes'] = 2 * MiB;
    const client = await RawClient.connect(kafka.port);
    try {
      client.sendRequest(FetchApi, FETCH_VERSION, fetchRequest(0n, 0x7fffffff));
      const records = intactRecords(await client.nextFrame(10_000), 0n);
      // Whole batches (about 100 KiB each) up to the cap.
      assert.ok(records.length <= 2 * MiB && records.length > MiB, `${records.length} bytes`);
    } finally {
      client.close();
      config['fetch.max.bytes'] = 57671680;
    }
  });
});
