/**
 * Cross-checks against kafkajs's own record batch v2 encoder and decoder (a dev dependency), an
 * implementation written independently of ours. kafkajs handles gzip itself; other codecs need plugins.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { CompressionType } from '../../../src/records/batch-header.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { iterateRecords } from '../../../src/records/iterate.js';
import { validateRecordBatches } from '../../../src/records/validate.js';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: kafkajs's internal modules are untyped.
type Untyped = any;
const KafkaRecordBatch: Untyped = require('kafkajs/src/protocol/recordBatch/v0/index.js').RecordBatch;
const KafkaRecord: Untyped = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const kafkaBatchDecoder: Untyped = require('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const KafkaDecoder: Untyped = require('kafkajs/src/protocol/decoder.js');
const Long: Untyped = require('kafkajs/src/utils/long.js');

const codecs = [CompressionType.None, CompressionType.Gzip];

describe('interop with kafkajs record batches', () => {
  for (const codec of codecs) {
    it(`validates and decodes a ${CompressionType[codec]} batch encoded by kafkajs`, async () => {
      const records = [
        KafkaRecord({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('a'), value: Buffer.from('one') }),
        KafkaRecord({ offsetDelta: 1, timestampDelta: 10, key: null, value: Buffer.from('two'), headers: { h: 'x' } }),
      ];
      const encoder = await KafkaRecordBatch({
        compression: codec,
        firstOffset: Long.fromInt(0),
        firstTimestamp: 1000,
        maxTimestamp: 1010,
        lastOffsetDelta: 1,
        producerId: Long.fromValue(-1),
        producerEpoch: -1,
        firstSequence: -1,
        records,
      });
      const bytes: Buffer = encoder.buffer;
      const result = validateRecordBatches(bytes);
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.equal(result.recordCount, 2);
      const decoded = [...iterateRecords(bytes)];
      assert.deepEqual(
        decoded.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString()]),
        [
          [0n, 1000n, 'a', 'one'],
          [1n, 1010n, null, 'two'],
        ],
      );
      assert.deepEqual(decoded[1]!.headers, [{ key: 'h', value: Buffer.from('x') }]);
    });

    it(`kafkajs decodes a ${CompressionType[codec]} batch from our builder`, async () => {
      const bytes = buildRecordBatch(
        [
          { key: 'k', value: 'v1', timestamp: 5000, headers: [{ key: 'trace', value: 'abc' }] },
          { key: null, value: 'v2', timestamp: 5005 },
        ],
        { compression: codec, baseOffset: 40n, producerId: 9n, producerEpoch: 1, baseSequence: 3 },
      );
      const batch = await kafkaBatchDecoder(new KafkaDecoder(bytes));
      assert.equal(batch.firstOffset, '40');
      assert.equal(batch.producerId, '9');
      assert.equal(batch.firstSequence, 3);
      assert.deepEqual(
        batch.records.map((r: Untyped) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value.toString()]),
        [
          ['40', '5000', 'k', 'v1'],
          ['41', '5005', null, 'v2'],
        ],
      );
      assert.deepEqual(batch.records[0].headers, { trace: Buffer.from('abc') });
    });
  }
});
