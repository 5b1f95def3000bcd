/**
 * The partition side of transactions over the wire: transactional batches sent with Produce, markers with
 * WriteTxnMarkers, and what Fetch (both isolation levels), ListOffsets and DescribeProducers answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/18-api-versions.js';
import { DescribeProducersApi } from '../../../src/protocol/generated/61-describe-producers.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import {
  batchBaseOffsets,
  fetchPartition,
  initProducerId,
  latestOffset,
  produceBatch,
  transactionalBatch,
  writeTxnMarker,
} from '../../helpers/txn-requests.js';

const TOPIC = 'payments';

describe('transactions over the wire (partition side)', () => {
  let kafka: EmbeddedBroker;
  let client: RawClient;

  before(async () => {
    kafka = await startBroker({ topics: [TOPIC] });
    client = await RawClient.connect(kafka.port);
  });

  after(async () => {
    client?.close();
    await kafka?.stop();
  });

  async function producerId(): Promise<bigint> {
    return (await initProducerId(client)).producerId;
  }

  const produce = (batch: Buffer) => produceBatch(client, TOPIC, batch);

  function txnBatch(pid: bigint, baseSequence: number, tag: string): Buffer {
    return transactionalBatch(
      [0, 1].map((i) => ({ key: `${tag}-${i}`, value: Buffer.from(tag) })),
      pid,
      baseSequence,
    );
  }

  const writeMarker = (pid: bigint, committed: boolean, version = 1, partitions = [0]) =>
    writeTxnMarker(client, { topic: TOPIC, producerId: pid, committed, partitions }, version);

  const fetch = (isolationLevel: number, fetchOffset = 0n) =>
    fetchPartition(client, TOPIC, isolationLevel, fetchOffset);

  const latest = (isolationLevel: number) => latestOffset(client, TOPIC, isolationLevel);

  it('advertises WriteTxnMarkers v1 and DescribeProducers v0, as Kafka 4.x does on a client listener', async () => {
    const req = ApiVersionsApi.defaultRequest();
    req.clientSoftwareName = 'raw-client';
    req.clientSoftwareVersion = '1.0';
    const res = await client.request(ApiVersionsApi, 3, req);
    const range = (key: number) => {
      const k = res.apiKeys.find((x) => x.apiKey === key);
      return [k?.minVersion, k?.maxVersion];
    };
    assert.deepEqual(range(27), [1, 1]);
    assert.deepEqual(range(61), [0, 0]);
  });

  it('stops read_committed fetches at an open transaction, lists the aborted one, and lets read_uncommitted see everything', async () => {
    const aborted = await producerId();
    const committed = await producerId();
    assert.equal((await produce(txnBatch(aborted, 0, 'a'))).baseOffset, 0n); // 0-1
    assert.equal((await produce(txnBatch(committed, 0, 'c'))).baseOffset, 2n); // 2-3

    let rc = await fetch(1);
    assert.deepEqual(batchBaseOffsets(rc.records), [], 'nothing is stable yet');
    assert.equal(rc.lastStableOffset, 0n);
    assert.equal(rc.highWatermark, 4n);
    assert.deepEqual(rc.abortedTransactions, []);
    assert.equal(await latest(1), 0n, 'ListOffsets latest for read_committed is the LSO');
    assert.equal(await latest(0), 4n);

    const abort = await writeMarker(aborted, false);
    assert.equal(abort.markers[0]!.producerId, aborted);
    const answered = abort.markers[0]!.topics[0]!;
    assert.equal(answered.name, TOPIC);
    assert.deepEqual(
      answered.partitions.map((p) => [p.partitionIndex, p.errorCode]),
      [[0, ErrorCode.NONE]],
    );
    rc = await fetch(1);
    assert.equal(rc.lastStableOffset, 2n, 'the committed producer’s transaction still holds the LSO');
    assert.deepEqual(batchBaseOffsets(rc.records), [0n]);
    assert.deepEqual(rc.abortedTransactions, [{ producerId: aborted, firstOffset: 0n }]);

    assert.equal(
      (await writeMarker(committed, true, 1)).markers[0]!.topics[0]!.partitions[0]!.errorCode,
      ErrorCode.NONE,
    );
    rc = await fetch(1);
    assert.equal(rc.lastStableOffset, 6n);
    assert.equal(rc.highWatermark, 6n);
    assert.deepEqual(batchBaseOffsets(rc.records), [0n, 2n, 4n, 5n]);
    assert.deepEqual(rc.abortedTransactions, [{ producerId: aborted, firstOffset: 0n }]);
    // From past the aborted transaction's marker there is nothing to drop.
    assert.deepEqual((await fetch(1, 5n)).abortedTransactions, []);

    const ru = await fetch(0);
    assert.deepEqual(batchBaseOffsets(ru.records), [0n, 2n, 4n, 5n]);
    assert.equal(ru.abortedTransactions, null, 'read_uncommitted gets no aborted transactions');
    assert.equal(ru.lastStableOffset, 6n);
  });

  it('answers WriteTxnMarkers per partition: UNKNOWN_TOPIC_OR_PARTITION for a partition it does not have', async () => {
    const pid = await producerId();
    const res = await writeMarker(pid, true, 1, [7]);
    assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('describes the partition’s producers with their open transaction', async () => {
    const pid = await producerId();
    const first = (await produce(txnBatch(pid, 0, 'd'))).baseOffset;
    const req = DescribeProducersApi.defaultRequest();
    req.topics.push({ name: TOPIC, partitionIndexes: [0, 9] });
    const res = await client.request(DescribeProducersApi, 0, req);
    const [p0, p9] = res.topics[0]!.partitions;
    assert.equal(p9!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const mine = p0!.activeProducers.find((p) => p.producerId === pid);
    assert.ok(mine);
    assert.equal(mine.producerEpoch, 0);
    assert.equal(mine.lastSequence, 1);
    assert.equal(mine.currentTxnStartOffset, first);
    await writeMarker(pid, false);
    const again = await client.request(DescribeProducersApi, 0, req);
    const after = again.topics[0]!.partitions[0]!.activeProducers.find((p) => p.producerId === pid);
    assert.equal(after?.currentTxnStartOffset, -1n);
  });
});
