import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compressSync as snappyRaw } from 'snappy';
import {
  attributesOf,
  CompressionType,
  compressRecords,
  iterateRecords,
  lastOffsetDeltaOf,
  maxTimestampOf,
  recordsCountOf,
  validateRecordBatches,
} from '../../../src/records/index.js';
import { LegacyRecordsError, legacyToRecordBatch } from '../../../src/records/legacy.js';
import { xxh32 } from '../../../src/records/legacy-lz4.js';
import {
  CODEC_OF,
  type LegacyCodecName,
  legacyMessage,
  plainMessages,
  restampLegacyCrc,
  wrapperMessage,
} from './legacy-bytes.js';

async function refused(set: Buffer, code: string, pattern?: RegExp, opts = {}): Promise<void> {
  await assert.rejects(legacyToRecordBatch(set, opts), (err: unknown) => {
    assert.ok(err instanceof LegacyRecordsError, `a LegacyRecordsError, not ${String(err)}`);
    assert.equal(err.errorCode, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

function records(batch: Buffer) {
  return [...iterateRecords(batch)].map((r) => ({
    offset: Number(r.offset),
    timestamp: Number(r.timestamp),
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
  }));
}

describe('xxh32 (the LZ4 frame checksum)', () => {
  it('matches the reference values', () => {
    assert.equal(xxh32(Buffer.alloc(0)), 0x02cc5d05);
    assert.equal(xxh32(Buffer.from('a')), 0x550d7456);
    assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });

  it("gives the header checksum byte that lz4's own frames carry", () => {
    assert.equal((xxh32(Buffer.from([0x60, 0x40])) >>> 8) & 0xff, 0x82);
  });
});

describe('legacy message set to record batch v2', () => {
  it('converts uncompressed magic 0 messages to one batch with no timestamps', async () => {
    const batch = await legacyToRecordBatch(plainMessages(0, 3));
    const v = validateRecordBatches(batch);
    assert.ok(v.ok);
    assert.equal(v.batches.length, 1);
    assert.equal(recordsCountOf(batch), 3);
    assert.equal(lastOffsetDeltaOf(batch), 2);
    assert.equal(attributesOf(batch), 0);
    assert.equal(maxTimestampOf(batch), -1n);
    assert.deepEqual(records(batch), [
      { offset: 0, timestamp: -1, key: 'k0', value: 'v0' },
      { offset: 1, timestamp: -1, key: 'k1', value: 'v1' },
      { offset: 2, timestamp: -1, key: 'k2', value: 'v2' },
    ]);
  });

  it("keeps magic 1 create times, the first as the batch's base and the largest as its max", async () => {
    const set = Buffer.concat([
      legacyMessage({ magic: 1, timestamp: 5000n, key: null, value: 'a' }),
      legacyMessage({ magic: 1, timestamp: 9000n, key: 'k', value: null }),
      legacyMessage({ magic: 1, timestamp: 1000n, key: '', value: '' }),
    ]);
    const batch = await legacyToRecordBatch(set);
    assert.ok(validateRecordBatches(batch).ok);
    assert.equal(maxTimestampOf(batch), 9000n);
    assert.deepEqual(records(batch), [
      { offset: 0, timestamp: 5000, key: null, value: 'a' },
      { offset: 1, timestamp: 9000, key: 'k', value: null },
      { offset: 2, timestamp: 1000, key: '', value: '' },
    ]);
  });

  const codecs: Array<[0 | 1, LegacyCodecName]> = [
    [1, 'gzip'],
    [1, 'snappy-xerial'],
    [1, 'snappy-raw'],
    [1, 'lz4'],
    [0, 'gzip'],
    [0, 'snappy-xerial'],
    [0, 'lz4-kafka-3160'],
    [0, 'lz4'],
  ];
  for (const [magic, codec] of codecs) {
    it(`decompresses a magic ${magic} ${codec} wrapper and recompresses the batch with the same codec`, async () => {
      // Magic 1 inner offsets are relative with the wrapper at the last one; magic 0 producers send any offsets.
      const set = wrapperMessage(magic, codec, plainMessages(magic, 50), { offset: 49n, timestamp: 2000n });
      const batch = await legacyToRecordBatch(set);
      assert.ok(validateRecordBatches(batch).ok);
      assert.equal(attributesOf(batch) & 0x07, CODEC_OF[codec]);
      const got = records(batch);
      assert.equal(got.length, 50);
      assert.deepEqual(got[49], { offset: 49, timestamp: magic === 1 ? 1049 : -1, key: 'k49', value: 'v49' });
    });
  }

  it('gives inner messages the wrapper timestamp when the wrapper uses LogAppendTime', async () => {
    const set = wrapperMessage(1, 'gzip', plainMessages(1, 2), { offset: 1n, timestamp: 7777n, logAppendTime: true });
    const batch = await legacyToRecordBatch(set);
    assert.deepEqual(
      records(batch).map((r) => r.timestamp),
      [7777, 7777],
    );
  });

  it('accepts a magic 1 wrapper at offset 0, as some librdkafka versions sent it', async () => {
    const batch = await legacyToRecordBatch(wrapperMessage(1, 'gzip', plainMessages(1, 3), { offset: 0n }));
    assert.equal(recordsCountOf(batch), 3);
  });
});

describe('legacy message sets Kafka refuses', () => {
  it('refuses a CRC mismatch as a corrupt message', async () => {
    const set = plainMessages(1, 2);
    set[set.length - 1] ^= 0xff;
    await refused(set, 'CORRUPT_MESSAGE', /CRC mismatch/);
  });

  it('refuses a CRC mismatch inside a compressed wrapper', async () => {
    const inner = plainMessages(1, 2);
    inner[inner.length - 1] ^= 0xff;
    await refused(wrapperMessage(1, 'gzip', inner, { offset: 1n }), 'CORRUPT_MESSAGE', /inner message set.*CRC/);
  });

  it('refuses a message cut short at the end of the set', async () => {
    const set = plainMessages(0, 2);
    await refused(set.subarray(0, set.length - 3), 'CORRUPT_MESSAGE', /claims \d+ bytes/);
    await refused(set.subarray(0, set.length / 2 + 5), 'CORRUPT_MESSAGE', /not a whole message/);
  });

  it('refuses an inner message set cut short', async () => {
    const inner = plainMessages(1, 3);
    await refused(
      wrapperMessage(1, 'snappy-xerial', inner.subarray(0, inner.length - 1), { offset: 2n }),
      'CORRUPT_MESSAGE',
      /inner message set/,
    );
  });

  it('refuses lying lengths even under a valid CRC', async () => {
    const tooSmall = legacyMessage({ magic: 0, key: null, value: 'x' });
    tooSmall.writeInt32BE(13, 8);
    await refused(tooSmall, 'CORRUPT_MESSAGE', /below the minimum/);

    const v1TooSmall = legacyMessage({ magic: 0, key: null, value: 'abc' });
    v1TooSmall[16] = 1; // a magic 1 message needs 22 bytes; this one has 17
    await refused(restampLegacyCrc(v1TooSmall), 'CORRUPT_MESSAGE', /below the magic 1 minimum of 22/);

    const keyOverruns = legacyMessage({ magic: 1, key: 'key', value: 'value' });
    keyOverruns.writeInt32BE(1000, 26);
    await refused(restampLegacyCrc(keyOverruns), 'CORRUPT_MESSAGE', /key length 1000/);

    const negativeKey = legacyMessage({ magic: 1, key: 'key', value: 'value' });
    negativeKey.writeInt32BE(-7, 26);
    await refused(restampLegacyCrc(negativeKey), 'CORRUPT_MESSAGE', /key length -7/);

    const valueShort = legacyMessage({ magic: 1, key: 'key', value: 'value' });
    valueShort.writeInt32BE(2, 33);
    await refused(restampLegacyCrc(valueShort), 'CORRUPT_MESSAGE', /value length 2/);

    const sizeOverruns = legacyMessage({ magic: 0, value: 'abc' });
    sizeOverruns.writeInt32BE(0x7fffffff, 8);
    await refused(sizeOverruns, 'CORRUPT_MESSAGE', /claims 2147483647 bytes/);
  });

  it('refuses an unknown magic as corrupt and a mix of magics as an invalid record', async () => {
    const bad = legacyMessage({ magic: 0 });
    bad[16] = 5;
    await refused(restampLegacyCrc(bad), 'CORRUPT_MESSAGE', /invalid magic 5/);
    await refused(Buffer.concat([plainMessages(0, 1), plainMessages(1, 1)]), 'INVALID_RECORD', /magic 1, unlike/);
    const v2Looking = legacyMessage({ magic: 0 });
    v2Looking[16] = 2;
    await refused(Buffer.concat([plainMessages(1, 1), restampLegacyCrc(v2Looking)]), 'INVALID_RECORD', /magic 2/);
  });

  it('refuses a compressed set with more than one message', async () => {
    const w = wrapperMessage(1, 'gzip', plainMessages(1, 2), { offset: 1n });
    await refused(Buffer.concat([w, w]), 'INVALID_RECORD', /one wrapper message/);
    await refused(Buffer.concat([plainMessages(1, 1), w]), 'INVALID_RECORD', /one wrapper message/);
    await refused(Buffer.concat([w, plainMessages(1, 1)]), 'INVALID_RECORD', /one wrapper message/);
  });

  it('refuses nested compression without inflating the deeper levels', async () => {
    let set = wrapperMessage(1, 'gzip', plainMessages(1, 2), { offset: 1n });
    for (let depth = 0; depth < 20; depth++) set = wrapperMessage(1, 'gzip', set);
    await refused(set, 'INVALID_RECORD', /compressed again/);
  });

  it('refuses zstd (record batch v2 only) as an invalid record, and unknown codecs as corrupt', async () => {
    await refused(legacyMessage({ magic: 1, attributes: 4, value: 'x' }), 'INVALID_RECORD', /zstd/);
    await refused(legacyMessage({ magic: 0, attributes: 6, value: 'x' }), 'CORRUPT_MESSAGE', /codec 6/);
  });

  it('refuses wrappers Kafka finds invalid: null value, no inner messages, other magic inside, bad offset', async () => {
    await refused(legacyMessage({ magic: 1, attributes: 1, value: null }), 'INVALID_RECORD', /null value/);
    await refused(
      legacyMessage({ magic: 1, attributes: 1, value: gzipSync(Buffer.alloc(0)) }),
      'INVALID_RECORD',
      /no inner message/,
    );
    await refused(wrapperMessage(1, 'gzip', plainMessages(0, 2), { offset: 1n }), 'INVALID_RECORD', /has magic 0/);
    await refused(wrapperMessage(1, 'gzip', plainMessages(1, 5), { offset: 3n }), 'INVALID_RECORD', /wrapper offset 3/);
  });

  it('refuses an empty set', async () => {
    await refused(Buffer.alloc(0), 'INVALID_RECORD', /no message/);
  });

  it('refuses compressed garbage as a corrupt message', async () => {
    for (const attributes of [1, 2, 3]) {
      await refused(
        legacyMessage({ magic: 1, attributes, value: Buffer.from('not compressed at all') }),
        'CORRUPT_MESSAGE',
      );
    }
  });

  it('refuses decompression bombs before or while inflating', async () => {
    const limit = { maxDecompressedBytes: 1024 * 1024 };
    const zeros = Buffer.alloc(8 * 1024 * 1024);
    const gzipBomb = legacyMessage({ magic: 1, attributes: 1, value: gzipSync(zeros) });
    await refused(gzipBomb, 'CORRUPT_MESSAGE', /compressed wrapper/, limit);
    const snappyBomb = legacyMessage({ magic: 1, attributes: 2, value: snappyRaw(zeros) });
    await refused(snappyBomb, 'CORRUPT_MESSAGE', /over 1048576/, limit);
    const xerialBomb = legacyMessage({
      magic: 1,
      attributes: 2,
      value: compressRecords(CompressionType.Snappy, zeros),
    });
    await refused(xerialBomb, 'CORRUPT_MESSAGE', /over 1048576/, limit);
    const lz4Bomb = legacyMessage({ magic: 1, attributes: 3, value: compressRecords(CompressionType.Lz4, zeros) });
    await refused(lz4Bomb, 'CORRUPT_MESSAGE', /over 1048576/, limit);
  });

  it('never throws anything but LegacyRecordsError on mutated input', async () => {
    const seeds = [
      plainMessages(0, 3),
      plainMessages(1, 3),
      wrapperMessage(1, 'gzip', plainMessages(1, 4), { offset: 3n }),
      wrapperMessage(1, 'snappy-raw', plainMessages(1, 4), { offset: 3n }),
      wrapperMessage(0, 'lz4-kafka-3160', plainMessages(0, 4)),
    ];
    let state = 12345;
    const rand = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (let i = 0; i < 3000; i++) {
      const set = Buffer.from(seeds[i % seeds.length]!);
      for (let flips = 1 + rand(3); flips > 0; flips--) set[rand(set.length)] = rand(256);
      // Half the time fix the CRC, so the checks behind it are reached too.
      if (i % 2 === 0 && set.length >= 16) {
        const size = set.readInt32BE(8);
        if (size >= 4 && size <= set.length - 12) restampLegacyCrc(set);
      }
      const cut = rand(4) === 0 ? set.subarray(0, rand(set.length + 1)) : set;
      try {
        const batch = await legacyToRecordBatch(cut);
        assert.ok(validateRecordBatches(batch).ok, 'whatever converts is a valid batch');
      } catch (err) {
        assert.ok(err instanceof LegacyRecordsError, `mutation ${i}: ${(err as Error).stack}`);
      }
    }
  });
});
