import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from '@node-rs/crc32';
import {
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  buildRecordBatchAsync,
  CompressionType,
  iterateRecords,
  type RecordInput,
  TimestampType,
} from '../../../src/records/index.js';
import {
  LegacyRecordsError,
  legacyMessageSetPrefix,
  legacyToRecordBatch,
  readLegacyMessageSet,
  toLegacyMessageSet,
} from '../../../src/records/legacy.js';
import { xxh32 } from '../../../src/records/legacy-lz4.js';
import { plainMessages, wrapperMessage } from './legacy-bytes.js';

function inputs(n: number, from = 0): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `k${from + i}`,
    value: `v${from + i}`,
    timestamp: 1000 + from + i,
    headers: [{ key: 'h', value: 'dropped' }],
  }));
}

function plain(records: Awaited<ReturnType<typeof readLegacyMessageSet>>) {
  return records.map((r) => ({
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
  }));
}

/** The top-level messages of a set as [offset, magic, attributes, message size]; every CRC checked. */
function shallow(set: Buffer): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let pos = 0; pos < set.length; ) {
    const size = set.readInt32BE(pos + 8);
    const end = pos + 12 + size;
    assert.equal(set.readUInt32BE(pos + 12), crc32(set.subarray(pos + 16, end)) >>> 0, `CRC of message at ${pos}`);
    out.push([Number(set.readBigInt64BE(pos)), set[pos + 16]!, set[pos + 17]!, size]);
    pos = end;
  }
  return out;
}

const CODECS = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4];

describe('record batch v2 to legacy message sets', () => {
  it('turns an uncompressed batch into one message per record with absolute offsets', async () => {
    const batch = buildRecordBatch(inputs(3), { baseOffset: 100n });
    const v1 = await toLegacyMessageSet(batch, 1);
    assert.deepEqual(
      shallow(v1).map(([o, m, a]) => [o, m, a]),
      [
        [100, 1, 0],
        [101, 1, 0],
        [102, 1, 0],
      ],
    );
    assert.deepEqual(plain(await readLegacyMessageSet(v1)), [
      { offset: 100, timestamp: 1000, key: 'k0', value: 'v0' },
      { offset: 101, timestamp: 1001, key: 'k1', value: 'v1' },
      { offset: 102, timestamp: 1002, key: 'k2', value: 'v2' },
    ]);
    const v0 = await toLegacyMessageSet(batch, 0);
    assert.deepEqual(
      plain(await readLegacyMessageSet(v0)).map((r) => [r.offset, r.timestamp, r.value]),
      [
        [100, -1, 'v0'],
        [101, -1, 'v1'],
        [102, -1, 'v2'],
      ],
    );
  });

  it('keeps null keys and values and leaves out headers', async () => {
    const batch = buildRecordBatch([{ key: null, value: null, timestamp: 5, headers: [{ key: 'a', value: 'b' }] }]);
    const set = await toLegacyMessageSet(batch, 1);
    assert.equal(set.length, 12 + 22, 'a magic 1 message with null key and value, no header bytes');
    assert.deepEqual(plain(await readLegacyMessageSet(set)), [{ offset: 0, timestamp: 5, key: null, value: null }]);
  });

  for (const codec of CODECS) {
    for (const magic of [0, 1] as const) {
      it(`turns a ${CompressionType[codec]} batch into one magic ${magic} wrapper with the same codec`, async () => {
        const batch = buildRecordBatch(inputs(20), { baseOffset: 40n, compression: codec });
        const set = await toLegacyMessageSet(batch, magic);
        const top = shallow(set);
        assert.equal(top.length, 1);
        assert.deepEqual(top[0]!.slice(0, 3), [59, magic, codec], 'the wrapper sits at the last offset');
        const got = await readLegacyMessageSet(set);
        assert.equal(got.length, 20);
        assert.ok(got.every((r) => r.codec === codec && r.magic === magic));
        assert.deepEqual(plain(got)[19], { offset: 59, timestamp: magic === 1 ? 1019 : -1, key: 'k19', value: 'v19' });
        // The wrapper's own timestamp is the largest inner one.
        if (magic === 1) assert.equal(set.readBigInt64BE(18), 1019n);
      });
    }
  }

  it('writes magic 1 inner offsets relative to the first record, magic 0 inner offsets absolute', async () => {
    // A compacted batch: offset deltas 2, 5, 9 of base 10.
    const batch = buildRecordBatch(
      [
        { value: 'a', offsetDelta: 2, timestamp: 1 },
        { value: 'b', offsetDelta: 5, timestamp: 2 },
        { value: 'c', offsetDelta: 9, timestamp: 3 },
      ],
      { baseOffset: 10n, compression: CompressionType.Gzip, lastOffsetDelta: 9 },
    );
    for (const magic of [0, 1] as const) {
      const set = await toLegacyMessageSet(batch, magic);
      assert.equal(set.readBigInt64BE(0), 19n);
      const { gunzipSync } = await import('node:zlib');
      const valueAt = magic === 1 ? 12 + 22 : 12 + 14;
      const inner = gunzipSync(set.subarray(valueAt));
      assert.deepEqual(
        shallow(inner).map(([o]) => o),
        magic === 1 ? [0, 3, 7] : [12, 15, 19],
      );
      assert.deepEqual(
        (await readLegacyMessageSet(set)).map((r) => Number(r.offset)),
        [12, 15, 19],
      );
    }
  });

  it('writes magic 0 lz4 frames with the header checksum old clients expect (KAFKA-3160)', async () => {
    const batch = buildRecordBatch(inputs(5), { compression: CompressionType.Lz4 });
    const v0 = await toLegacyMessageSet(batch, 0);
    const frame = v0.subarray(12 + 14);
    assert.equal(frame[6], (xxh32(frame.subarray(0, 6)) >>> 8) & 0xff);
    const v1 = await toLegacyMessageSet(batch, 1);
    const proper = v1.subarray(12 + 22);
    assert.equal(proper[6], (xxh32(proper.subarray(4, 6)) >>> 8) & 0xff);
  });

  it('marks LogAppendTime batches in magic 1 and gives every record the append time', async () => {
    for (const compression of [CompressionType.None, CompressionType.Gzip]) {
      const batch = buildRecordBatch(inputs(2), { timestampType: TimestampType.LogAppendTime, compression });
      batch.writeBigInt64BE(424242n, 35); // maxTimestamp, as the log stamps it (conversion does not check the CRC)
      const set = await toLegacyMessageSet(batch, 1);
      assert.equal(set[17], compression | 0x08);
      assert.equal(set.readBigInt64BE(18), 424242n);
      assert.ok((await readLegacyMessageSet(set)).every((r) => r.timestamp === 424242n && r.logAppendTime));
    }
  });

  it('drops control batches and empty batches', async () => {
    const data = buildRecordBatch(inputs(1), { baseOffset: 0n });
    const marker = buildEndTxnMarkerBatch({
      type: 'COMMIT',
      baseOffset: 1n,
      producerId: 7n,
      producerEpoch: 0,
      coordinatorEpoch: 0,
    });
    const emptied = buildRecordBatch([], { baseOffset: 2n }); // what compaction leaves of a batch
    const more = buildRecordBatch(inputs(1, 3), { baseOffset: 3n });
    const set = await toLegacyMessageSet(Buffer.concat([data, marker, emptied, more]), 1);
    assert.deepEqual(
      shallow(set).map(([o]) => o),
      [0, 3],
    );
  });

  it('leaves out records below the fetch offset in uncompressed batches, but sends compressed ones whole', async () => {
    const uncompressed = buildRecordBatch(inputs(5), { baseOffset: 0n });
    assert.deepEqual(
      shallow(await toLegacyMessageSet(uncompressed, 1, { fetchOffset: 3n })).map(([o]) => o),
      [3, 4],
    );
    const compressed = buildRecordBatch(inputs(5), { baseOffset: 0n, compression: CompressionType.Snappy });
    const got = await readLegacyMessageSet(await toLegacyMessageSet(compressed, 1, { fetchOffset: 3n }));
    assert.equal(got.length, 5);
  });

  it('answers UNSUPPORTED_COMPRESSION_TYPE for a first zstd batch and stops before a later one', async () => {
    const zstd = await buildRecordBatchAsync(inputs(2), { baseOffset: 1n, compression: CompressionType.Zstd });
    await assert.rejects(
      toLegacyMessageSet(zstd, 1),
      (err) => err instanceof LegacyRecordsError && err.errorCode === 'UNSUPPORTED_COMPRESSION_TYPE',
    );
    const first = buildRecordBatch(inputs(1), { baseOffset: 0n });
    const set = await toLegacyMessageSet(Buffer.concat([first, zstd]), 1);
    assert.deepEqual(
      shallow(set).map(([o]) => o),
      [0],
    );
  });

  it('stops converting batches once the output reaches maxBytes', async () => {
    const batches = Buffer.concat(
      Array.from({ length: 10 }, (_, i) => buildRecordBatch(inputs(10, i * 10), { baseOffset: BigInt(i * 10) })),
    );
    const all = await toLegacyMessageSet(batches, 1);
    const some = await toLegacyMessageSet(batches, 1, { maxBytes: 100 });
    assert.equal(shallow(all).length, 100);
    assert.equal(shallow(some).length, 10, 'the first batch is converted whole, then conversion stops');
  });

  it('cuts a set at message boundaries, keeping the first message when asked', async () => {
    const set = await toLegacyMessageSet(buildRecordBatch(inputs(3)), 1);
    const one = 12 + 22 + 2 + 2;
    assert.equal(set.length, 3 * one);
    assert.equal(legacyMessageSetPrefix(set, 2 * one + 5).length, 2 * one);
    assert.equal(legacyMessageSetPrefix(set, one - 1).length, 0);
    assert.equal(legacyMessageSetPrefix(set, one - 1, true).length, one);
    assert.equal(legacyMessageSetPrefix(set, 10_000).length, set.length);
  });

  it('reads a fetched set ending in a partial message as its whole messages', async () => {
    const set = await toLegacyMessageSet(buildRecordBatch(inputs(3)), 0);
    assert.equal((await readLegacyMessageSet(set.subarray(0, set.length - 1))).length, 2);
    assert.equal((await readLegacyMessageSet(set.subarray(0, 5))).length, 0);
  });

  it('round-trips legacy sets through record batch v2 and back', async () => {
    const sets = [
      plainMessages(1, 4),
      wrapperMessage(1, 'gzip', plainMessages(1, 4), { offset: 3n }),
      wrapperMessage(1, 'snappy-raw', plainMessages(1, 4), { offset: 3n }),
      wrapperMessage(1, 'lz4', plainMessages(1, 4), { offset: 3n }),
    ];
    for (const original of sets) {
      const batch = await legacyToRecordBatch(original);
      const back = await toLegacyMessageSet(batch, 1);
      assert.deepEqual(plain(await readLegacyMessageSet(back)), plain(await readLegacyMessageSet(original)));
      assert.deepEqual(
        [...iterateRecords(batch)].map((r) => r.value?.toString()),
        ['v0', 'v1', 'v2', 'v3'],
      );
    }
  });
});
