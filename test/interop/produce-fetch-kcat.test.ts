/**
 * kcat (librdkafka) produces keyed records with headers (`-K`, `-H`) with acks=all, plain and with every
 * codec, and reads them back partition by partition from offset 0 (no consumer group).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { kcat } from '../helpers/clients.js';
import {
  assertRoundTrip,
  kcatReadAll,
  PARTITIONS,
  RECORDS,
  type SentRecord,
  sentRecord,
  storedCodecs,
  suiteBroker,
  wireReadAll,
} from './produce-fetch-expect.js';

const HEADERS: Array<[string, string]> = [
  ['client', 'kcat'],
  ['trace', 'abc=1'],
];

/** kcat's -H sets the same headers on every record; the sequence number travels in the value. */
function kcatRecords(prefix: string, count: number): SentRecord[] {
  return Array.from({ length: count }, (_, i) => ({ ...sentRecord(prefix, i, { headers: false }), headers: HEADERS }));
}

async function kcatProduce(bootstrap: string, topic: string, records: SentRecord[], codec?: string): Promise<void> {
  const input = `${records.map((r) => `${r.key}:${r.value}`).join('\n')}\n`;
  const args = ['-P', '-t', topic, '-K', ':', '-X', 'acks=all', '-X', 'linger.ms=5'];
  for (const [k, v] of HEADERS) args.push('-H', `${k}=${v}`);
  if (codec) args.push('-z', codec);
  const r = await kcat(bootstrap, args, { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `kcat -P exited with ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /fail|error/i);
}

describe('kcat produces and reads back by partition and offset', () => {
  const suite = suiteBroker({ wireClient: true });

  test('10,000 keyed records with headers come back once each, in key order, at contiguous offsets', async () => {
    assert.equal(await suite.client.createTopic('kcat-keyed', PARTITIONS), ErrorCode.NONE);
    const sent = kcatRecords('kcat', RECORDS);
    const from = Date.now();
    await kcatProduce(suite.broker.bootstrap, 'kcat-keyed', sent);
    const to = Date.now();
    assertRoundTrip(sent, await kcatReadAll(suite.broker.bootstrap, 'kcat-keyed'), {
      timestampRange: [from - 1000, to],
    });
    // Our own Fetch decodes the same stored batches to the same records.
    assertRoundTrip(sent, await wireReadAll(suite.broker.port, 'kcat-keyed'), { timestampRange: [from - 1000, to] });
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    test(`records sent with -z ${codec} come back intact`, async () => {
      const topic = `kcat-${codec}`;
      assert.equal(await suite.client.createTopic(topic, PARTITIONS), ErrorCode.NONE);
      const sent = kcatRecords(`kcat-${codec}`, 3000);
      await kcatProduce(suite.broker.bootstrap, topic, sent, codec);
      assertRoundTrip(sent, await kcatReadAll(suite.broker.bootstrap, topic));
      // zstd is gated on Produce v7, which the broker serves: the batches really are compressed.
      if (codec === 'zstd') assert.deepEqual([...(await storedCodecs(suite.broker.port, topic))], ['zstd']);
    });
  }

  test('gzip, snappy and lz4 batches from kcat are stored compressed', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      // librdkafka may send a lone first record uncompressed; every larger batch carries the codec.
      assert.ok((await storedCodecs(suite.broker.port, `kcat-${codec}`)).has(codec), codec);
    }
  });
});
