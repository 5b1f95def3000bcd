/**
 * Transactions on a partition across restarts of a broker process, on disk with small segments: open
 * transactions (from the snapshot's current_txn_first_offset after a clean stop, rebuilt from the log after
 * kill -9) and the aborted transactions of the `.txnindex` files must answer read_committed Fetches as before.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CreateTopicsApi } from '../../src/protocol/generated/19-create-topics.js';
import { baseOffsetOf, batchSizeAt, lastOffsetDeltaOf } from '../../src/records/batch-header.js';
import { buildRecordBatch } from '../../src/records/builder.js';
import { type BrokerProcess, removeDir, startBrokerProcess } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  fetchPartition,
  initProducerId,
  produceBatch,
  transactionalBatch,
  writeTxnMarker,
} from '../helpers/txn-requests.js';

const TOPIC = 'ledger';
const OVERRIDES = { 'log.segment.bytes': 1024 };

let broker: BrokerProcess | undefined;
after(async () => {
  if (broker && broker.child.exitCode === null) await broker.kill();
  if (broker) removeDir(broker.dataDir);
});

interface CommittedView {
  highWatermark: bigint;
  lastStableOffset: bigint;
  /** The aborted transactions every read from 0 to the LSO was told about, as "producer@first offset". */
  aborted: string[];
  batches: number;
}

/** Reads the partition read_committed from 0 to its last stable offset, segment by segment. */
async function readCommitted(client: RawClient): Promise<CommittedView> {
  const aborted = new Set<string>();
  let offset = 0n;
  let batches = 0;
  for (;;) {
    const out = await fetchPartition(client, TOPIC, 1, offset);
    assert.equal(out.errorCode, ErrorCode.NONE);
    for (const t of out.abortedTransactions ?? []) aborted.add(`${t.producerId}@${t.firstOffset}`);
    const records = out.records ?? Buffer.alloc(0);
    if (records.length === 0) {
      return {
        highWatermark: out.highWatermark,
        lastStableOffset: out.lastStableOffset,
        aborted: [...aborted].sort(),
        batches,
      };
    }
    for (let pos = 0; pos + 12 <= records.length; pos += batchSizeAt(records, pos)) {
      batches++;
      offset = baseOffsetOf(records, pos) + BigInt(lastOffsetDeltaOf(records, pos)) + 1n;
    }
  }
}

test('open transactions and aborted ones read the same after a clean restart and after kill -9', async () => {
  broker = await startBrokerProcess({ overrides: OVERRIDES });
  const dataDir = broker.dataDir;
  let client = await RawClient.connect(broker.port);
  const create = CreateTopicsApi.defaultRequest();
  create.topics.push({ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] });
  create.timeoutMs = 10_000;
  assert.equal((await client.request(CreateTopicsApi, 5, create)).topics[0]!.errorCode, ErrorCode.NONE);

  const producerId = async () => (await initProducerId(client)).producerId;
  const sequences = new Map<bigint, number>();
  const produce = async (producer?: bigint) => {
    const records = [0, 1, 2].map((i) => ({ value: Buffer.alloc(60, 48 + i) }));
    let batch: Buffer;
    if (producer === undefined) batch = buildRecordBatch(records);
    else {
      const baseSequence = sequences.get(producer) ?? 0;
      sequences.set(producer, baseSequence + 3);
      batch = transactionalBatch(records, producer, baseSequence);
    }
    assert.equal((await produceBatch(client, TOPIC, batch)).errorCode, ErrorCode.NONE);
  };
  const end = async (producer: bigint, committed: boolean) => {
    const res = await writeTxnMarker(client, { topic: TOPIC, producerId: producer, committed });
    assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  };

  // Transactions spanning segments, aborted and committed, and one left open near the start.
  const [a, b, c, open] = [await producerId(), await producerId(), await producerId(), await producerId()];
  const rounds = async (from: number, to: number) => {
    for (let round = from; round < to; round++) {
      await produce();
      await produce(a);
      await produce(b);
      await produce();
      await produce(a);
      await end(a, false);
      if (round === 1) await produce(open);
      await produce(c);
      await end(b, round % 2 === 0);
      await end(c, true);
      await produce();
    }
  };
  await rounds(0, 2);
  const before = await readCommitted(client);
  assert.ok(before.lastStableOffset < before.highWatermark, 'the open transaction holds the LSO');
  // Below the open transaction: A aborted twice, B once.
  assert.equal(before.aborted.length, 3, `aborted: ${before.aborted}`);
  assert.ok(readdirSync(join(dataDir, `${TOPIC}-0`)).some((n) => n.endsWith('.txnindex')));
  client.close();

  assert.equal(await broker.stop(), 0);
  broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
  client = await RawClient.connect(broker.port);
  assert.deepEqual(await readCommitted(client), before, 'after a clean restart');
  // More transactions, then a crash: the tail after the last roll is scanned and its .txnindex rebuilt.
  await rounds(2, 4);
  const beforeKill = await readCommitted(client);
  assert.equal(beforeKill.lastStableOffset, before.lastStableOffset);
  const segments = readdirSync(join(dataDir, `${TOPIC}-0`)).filter((n) => n.endsWith('.log')).length;
  assert.ok(segments >= 3, `${segments} segments`);
  client.close();

  await broker.kill();
  broker = await startBrokerProcess({ dataDir, overrides: OVERRIDES });
  client = await RawClient.connect(broker.port);
  assert.deepEqual(await readCommitted(client), beforeKill, 'after kill -9');
  await end(open, true);
  const ended = await readCommitted(client);
  assert.equal(ended.lastStableOffset, ended.highWatermark, 'committing the open transaction frees the LSO');
  // Now every transaction is read: A's four aborts and B's two (rounds 1 and 3).
  assert.equal(ended.aborted.length, 6, `aborted: ${ended.aborted}`);
  for (const txn of before.aborted) assert.ok(ended.aborted.includes(txn));
  client.close();
});
