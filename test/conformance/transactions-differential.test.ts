/**
 * The partition side of transactions, Sluice against Apache Kafka: the same hand-made transactions (producer
 * ids from InitProducerId, transactional batches sent with Produce, markers with WriteTxnMarkers) on both,
 * then what Fetch (both isolation levels), ListOffsets and DescribeProducers answer, compared field by field.
 * The Kafka peer runs with transaction.partition.verification.enable=false: without a transaction
 * coordinator in play, Kafka 4.x would otherwise refuse batches of partitions never added to a transaction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ApiVersionsApi } from '../../src/protocol/generated/18-api-versions.js';
import { CreateTopicsApi } from '../../src/protocol/generated/19-create-topics.js';
import { DescribeProducersApi } from '../../src/protocol/generated/61-describe-producers.js';
import { buildRecordBatch } from '../../src/records/builder.js';
import { startBroker } from '../../src/testing/start-broker.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  batchBaseOffsets,
  fetchPartition,
  initProducerId,
  latestOffset,
  produceBatch,
  transactionalBatch,
  writeTxnMarker,
} from '../helpers/txn-requests.js';

const TOPIC = 'txn-differential';

/** Runs the scenario against one broker and returns everything it observed, producer ids replaced by names. */
async function scenario(port: number): Promise<unknown[]> {
  const client = await RawClient.connect(port);
  try {
    const created = await client.request(CreateTopicsApi, 4, {
      ...CreateTopicsApi.defaultRequest(),
      timeoutMs: 10_000,
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const names = new Map<bigint, string>();
    const producerId = async (name: string) => {
      // Kafka answers COORDINATOR_LOAD_IN_PROGRESS until its first block of producer ids arrives.
      for (let attempt = 0; ; attempt++) {
        const res = await initProducerId(client);
        if (res.errorCode !== ErrorCode.NONE && attempt < 100) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        assert.equal(res.errorCode, ErrorCode.NONE);
        names.set(res.producerId, name);
        return res.producerId;
      }
    };
    const produce = async (values: string[], producer?: bigint, baseSequence = 0) => {
      // Timestamps of now: an old one would make Kafka roll segments by segment.ms, and reads stop at a roll.
      const records = values.map((v) => ({ key: v, value: Buffer.from(v) }));
      const batch =
        producer === undefined ? buildRecordBatch(records) : transactionalBatch(records, producer, baseSequence);
      for (let attempt = 0; ; attempt++) {
        // Kafka requires a transactional id on a Produce holding transactional batches.
        const p = await produceBatch(client, TOPIC, batch, 'differential');
        // Kafka's new partition may need a moment to get its leader.
        if (p.errorCode !== ErrorCode.NONE && attempt < 50 && p.errorCode !== ErrorCode.INVALID_TXN_STATE) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        return { errorCode: p.errorCode, baseOffset: p.baseOffset };
      }
    };
    const marker = async (producer: bigint, committed: boolean, producerEpoch = 0, coordinatorEpoch = 0) => {
      const res = await writeTxnMarker(client, {
        topic: TOPIC,
        producerId: producer,
        committed,
        partitions: [0, 5],
        producerEpoch,
        coordinatorEpoch,
      });
      return res.markers[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]);
    };
    const fetch = async (isolationLevel: number, fetchOffset: bigint) => {
      const out = await fetchPartition(client, TOPIC, isolationLevel, fetchOffset);
      return {
        isolationLevel,
        fetchOffset,
        errorCode: out.errorCode,
        highWatermark: out.highWatermark,
        lastStableOffset: out.lastStableOffset,
        abortedTransactions: out.abortedTransactions?.map((t) => [names.get(t.producerId), t.firstOffset]) ?? null,
        batches: batchBaseOffsets(out.records),
      };
    };
    const latest = async (isolationLevel: number) => [
      'latest',
      isolationLevel,
      await latestOffset(client, TOPIC, isolationLevel),
    ];
    const producers = async () => {
      const req = DescribeProducersApi.defaultRequest();
      req.topics.push({ name: TOPIC, partitionIndexes: [0] });
      const p = (await client.request(DescribeProducersApi, 0, req)).topics[0]!.partitions[0]!;
      return [
        p.errorCode,
        p.activeProducers
          .map((s) => [
            names.get(s.producerId),
            s.producerEpoch,
            s.lastSequence,
            s.coordinatorEpoch,
            s.currentTxnStartOffset,
          ])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ];
    };
    const observe = async () => [
      await fetch(1, 0n),
      await fetch(0, 0n),
      await latest(1),
      await latest(0),
      await producers(),
    ];

    // Both list WriteTxnMarkers and DescribeProducers to a client (Kafka 4.3 serves WriteTxnMarkers up to v2).
    const versions = await client.request(ApiVersionsApi, 3, {
      ...ApiVersionsApi.defaultRequest(),
      clientSoftwareName: 'raw-client',
      clientSoftwareVersion: '1.0',
    });
    const seen: unknown[] = [
      versions.apiKeys.filter((k) => k.apiKey === 27 || k.apiKey === 61).map((k) => [k.apiKey, k.minVersion]),
    ];
    const [a, b, c] = [await producerId('a'), await producerId('b'), await producerId('c')];
    seen.push(await produce(['plain-0']));
    seen.push(await produce(['a-1', 'a-2'], a));
    seen.push(await produce(['b-1'], b));
    seen.push(await produce(['a-3'], a, 2));
    seen.push(...(await observe()));
    seen.push(await marker(a, false));
    seen.push(...(await observe()));
    seen.push(await fetch(1, 4n), await fetch(1, 6n));
    seen.push(await marker(b, true));
    seen.push(await produce(['c-1'], c));
    seen.push(await produce(['plain-1']));
    seen.push(await marker(c, false, 0, 3));
    seen.push(await marker(c, false, 0, 2), 'older coordinator epoch');
    seen.push(...(await observe()));
    return seen;
  } finally {
    client.close();
  }
}

test('Fetch, ListOffsets, WriteTxnMarkers and DescribeProducers answer hand-made transactions as Kafka does', async (t) => {
  if (kafkaPeerOrSkip(t)) return;
  const peer = await startKafkaPeer({ overrides: { 'transaction.partition.verification.enable': false } });
  t.after(() => peer.stop());
  const sluice = await startBroker({});
  t.after(() => sluice.stop());
  const [fromKafka, fromSluice] = [await scenario(peer.port), await scenario(sluice.port)];
  if (process.env.TXN_DIFF_DUMP) {
    const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}` : x));
    for (let i = 0; i < Math.max(fromKafka.length, fromSluice.length); i++) {
      console.log(`${i} kafka ${show(fromKafka[i])}\n${i} sluice ${show(fromSluice[i])}`);
    }
    for (const line of peer.output().split('\n'))
      if (/ERROR|WARN|Exception|at org/.test(line)) console.log(`peer: ${line}`);
  }
  assert.deepEqual(fromSluice, fromKafka);
});
