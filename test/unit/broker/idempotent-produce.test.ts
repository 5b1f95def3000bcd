/**
 * Idempotent producers over the wire: InitProducerId, then Produce requests carrying the producer id,
 * epoch and sequences, sent byte for byte (a retry is the very same request again).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ProduceApi } from '../../../src/protocol/generated/00-produce.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/18-api-versions.js';
import { InitProducerIdApi } from '../../../src/protocol/generated/22-init-producer-id.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';
import { RawClient } from '../../helpers/raw-client.js';

const PRODUCE_VERSION = 9;

describe('idempotent producers over the wire', () => {
  let kafka: EmbeddedBroker;
  let client: RawClient;

  before(async () => {
    kafka = await startBroker({ topics: ['orders'] });
    client = await RawClient.connect(kafka.port);
  });

  after(async () => {
    client?.close();
    await kafka?.stop();
  });

  async function initProducerId(
    version: number,
    fields: { transactionalId?: string | null; producerId?: bigint; producerEpoch?: number } = {},
  ) {
    const req = InitProducerIdApi.defaultRequest();
    req.transactionalId = fields.transactionalId ?? null;
    req.transactionTimeoutMs = 60_000;
    req.producerId = fields.producerId ?? -1n;
    req.producerEpoch = fields.producerEpoch ?? -1;
    return client.request(InitProducerIdApi, version, req);
  }

  async function produce(producerId: bigint, producerEpoch: number, baseSequence: number, tag: string) {
    const req = ProduceApi.defaultRequest();
    req.acks = -1;
    req.timeoutMs = 10_000;
    const records = [0, 1, 2].map((i) => ({ key: `${tag}-${i}`, value: Buffer.from(tag) }));
    const batch = buildRecordBatch(records, { producerId, producerEpoch, baseSequence });
    req.topicData.push({ name: 'orders', partitionData: [{ index: 0, records: batch }] });
    const res = await client.request(ProduceApi, PRODUCE_VERSION, req);
    return res.responses[0]!.partitionResponses[0]!;
  }

  it('advertises InitProducerId v0 to v5', async () => {
    const req = ApiVersionsApi.defaultRequest();
    req.clientSoftwareName = 'raw-client';
    req.clientSoftwareVersion = '1.0';
    const res = await client.request(ApiVersionsApi, 3, req);
    const key = res.apiKeys.find((k) => k.apiKey === 22);
    assert.deepEqual([key?.minVersion, key?.maxVersion], [0, 5]);
  });

  it('hands out a new producer id with epoch 0 on every call, whatever id the request names', async () => {
    const a = await initProducerId(0);
    const b = await initProducerId(2);
    const c = await initProducerId(5, { producerId: a.producerId, producerEpoch: 0 });
    for (const r of [a, b, c]) {
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.producerEpoch, 0);
    }
    assert.equal(new Set([a.producerId, b.producerId, c.producerId]).size, 3);
  });

  it('refuses a producer id without an epoch, and a transactional id, with INVALID_REQUEST', async () => {
    assert.equal((await initProducerId(4, { producerId: 5n })).errorCode, ErrorCode.INVALID_REQUEST);
    const txn = await initProducerId(4, { transactionalId: 'payments' });
    assert.equal(txn.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(txn.producerId, -1n);
  });

  it('answers a retried Produce with the original offset, a gap with OUT_OF_ORDER_SEQUENCE_NUMBER and an old epoch with INVALID_PRODUCER_EPOCH', async () => {
    const { producerId } = await initProducerId(4);
    const first = await produce(producerId, 0, 0, 'a');
    assert.equal(first.errorCode, ErrorCode.NONE);
    const retry = await produce(producerId, 0, 0, 'a');
    assert.equal(retry.errorCode, ErrorCode.NONE);
    assert.equal(retry.baseOffset, first.baseOffset);
    const log = kafka.broker.partition('orders', 0)!;
    assert.equal(log.logEndOffset, first.baseOffset + 3n, 'the retry was not appended');

    const gap = await produce(producerId, 0, 7, 'b');
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = await produce(producerId, 0, 3, 'b');
    assert.equal(next.errorCode, ErrorCode.NONE);
    assert.equal(next.baseOffset, first.baseOffset + 3n);

    assert.equal((await produce(producerId, 1, 0, 'c')).errorCode, ErrorCode.NONE, 'a bumped epoch starts at 0');
    assert.equal((await produce(producerId, 0, 6, 'd')).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(log.logEndOffset, first.baseOffset + 9n);
  });
});
