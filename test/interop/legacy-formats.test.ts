/**
 * Legacy message formats with real clients. librdkafka < 2.11.1 (kcat, confluent-kafka) compresses gzip,
 * snappy and lz4 only when the broker's Produce range starts at v0; kafka-python pinned to 0.10.1 speaks
 * Produce v2 (magic 1) and Fetch v3 (down-conversion). Raw Produce v0/v2 and Fetch v0/v3 requests built with
 * our codecs check the conversions both ways, and what the stored batches look like.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFetchRequest } from '../../src/client/consumer.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ProduceApi } from '../../src/protocol/generated/00-produce.js';
import { FetchApi } from '../../src/protocol/generated/01-fetch.js';
import { buildRecordBatchAsync, CompressionType, iterateBatches } from '../../src/records/index.js';
import { readLegacyMessageSet } from '../../src/records/legacy.js';
import { type WireClient, wholeBatches } from '../crash/wire-client.js';
import { kcat, lastJson, PYTHON, run } from '../helpers/clients.js';
import { legacyMessage, wrapperMessage } from '../unit/records/legacy-bytes.js';
import { storedCodecs, suiteBroker } from './produce-fetch-expect.js';

const CODECS = ['gzip', 'snappy', 'lz4'] as const;

function values(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}-${'x'.repeat(i % 50)}`);
}

/**
 * Asserts the batches of partition 0 are compressed with `codec`. librdkafka sends a batch that compression
 * does not shrink uncompressed, which happens to a lone small record (a producer created after another one
 * in the same process sends its first record alone), so only single-record batches may be uncompressed.
 */
async function assertStoredCompressed(client: WireClient, topic: string, codec: string): Promise<void> {
  const batches: string[] = [];
  let offset = 0n;
  for (;;) {
    const f = await client.fetch(topic, 0, offset);
    if (offset >= f.highWatermark) break;
    for (const b of iterateBatches(wholeBatches(f.records))) {
      batches.push(`${CompressionType[b.compression]!.toLowerCase()}:${b.recordsCount}`);
      offset = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n;
    }
  }
  const compressed = batches.filter((b) => b.startsWith(`${codec}:`));
  assert.ok(compressed.length > 0, `${topic}: no ${codec} batch among ${batches.join(' ')}`);
  assert.ok(
    batches.every((b) => b.startsWith(`${codec}:`) || b === 'none:1'),
    `${topic}: ${batches.join(' ')}`,
  );
}

/** `key=value` lines of a partition, read by kcat from the beginning to the end. */
async function kcatRead(bootstrap: string, topic: string, format = '%k=%s\\n'): Promise<string[]> {
  const r = await kcat(bootstrap, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', format]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

async function produce(client: WireClient, version: number, topic: string, records: Buffer) {
  const req = ProduceApi.defaultRequest();
  req.acks = -1;
  req.timeoutMs = 10_000;
  req.topicData.push({ name: topic, partitionData: [{ index: 0, records }] });
  const res = await client.request(ProduceApi, version, req);
  return res.responses[0]!.partitionResponses[0]!;
}

async function fetch(client: WireClient, version: number, topic: string, offset: bigint, partitionMaxBytes = 1 << 20) {
  const req = buildFetchRequest([{ topic, partition: 0, offset }], new Map(), version, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    partitionMaxBytes,
  });
  const res = await client.request(FetchApi, version, req);
  const p = res.responses[0]!.partitions[0]!;
  return { errorCode: p.errorCode as ErrorCode, highWatermark: p.highWatermark, records: p.records ?? Buffer.alloc(0) };
}

describe('legacy message formats with real clients', () => {
  const suite = suiteBroker({ wireClient: true });

  test('kcat stores gzip, snappy and lz4 batches compressed and reads them back', async () => {
    await Promise.all(
      CODECS.map(async (codec) => {
        const topic = `legacy-kcat-${codec}`;
        assert.equal(await suite.client.createTopic(topic, 1), ErrorCode.NONE);
        const sent = values(`kcat-${codec}`, 500);
        const input = `${sent.map((v, i) => `k${i}:${v}`).join('\n')}\n`;
        const args = ['-P', '-t', topic, '-p', '0', '-K', ':', '-z', codec, '-X', 'acks=all', '-X', 'linger.ms=500'];
        const r = await kcat(suite.broker.bootstrap, args, { input });
        assert.equal(r.code, 0, r.stderr);
        await assertStoredCompressed(suite.client, topic, codec);
        assert.deepEqual(
          await kcatRead(suite.broker.bootstrap, topic),
          sent.map((v, i) => `k${i}=${v}`),
        );
      }),
    );
  });

  test('confluent-kafka stores gzip, snappy and lz4 batches compressed and reads them back', async () => {
    const script = `
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError
out = {}
for codec in ["gzip", "snappy", "lz4"]:
    topic = "legacy-ck-" + codec
    p = Producer({"bootstrap.servers": BOOTSTRAP, "compression.type": codec, "linger.ms": 500, "acks": "all"})
    for i in range(500):
        p.produce(topic, key=b"k%d" % i, value=("ck-%s-%d" % (codec, i)).encode(), partition=0)
    assert p.flush(30) == 0
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "legacy", "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    while True:
        m = c.poll(10)
        if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
            break
        got.append(m.value().decode())
    c.close()
    out[codec] = got
print(json.dumps(out))
`;
    for (const codec of CODECS) assert.equal(await suite.client.createTopic(`legacy-ck-${codec}`, 1), ErrorCode.NONE);
    const r = await run(PYTHON, [
      '-c',
      `import json\nBOOTSTRAP = ${JSON.stringify(suite.broker.bootstrap)}\n${script}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = lastJson<Record<string, string[]>>(r);
    for (const codec of CODECS) {
      assert.deepEqual(
        got[codec],
        Array.from({ length: 500 }, (_, i) => `ck-${codec}-${i}`),
      );
      await assertStoredCompressed(suite.client, `legacy-ck-${codec}`, codec);
    }
  });

  test('Produce v0 and v2 message sets are stored as v2 batches and read back by kcat, Fetch v0 and Fetch v3', async () => {
    const topic = 'legacy-raw';
    assert.equal(await suite.client.createTopic(topic, 1), ErrorCode.NONE);
    const magic0 = (from: number) =>
      Buffer.concat(
        [0, 1, 2].map((i) =>
          legacyMessage({ magic: 0, offset: BigInt(i), key: `k${from + i}`, value: `v${from + i}` }),
        ),
      );
    const magic1 = (from: number) =>
      Buffer.concat(
        [0, 1, 2].map((i) =>
          legacyMessage({
            magic: 1,
            offset: BigInt(i),
            timestamp: BigInt(1_600_000_000_000 + from + i),
            key: `k${from + i}`,
            value: `v${from + i}`,
          }),
        ),
      );
    const requests: Array<[number, Buffer]> = [
      [0, magic0(0)],
      [0, wrapperMessage(0, 'gzip', magic0(3))],
      [2, magic1(6)],
      [2, wrapperMessage(1, 'gzip', magic1(9), { offset: 2n, timestamp: 1_600_000_000_011n })],
    ];
    for (const [i, [version, set]] of requests.entries()) {
      const res = await produce(suite.client, version, topic, set);
      assert.equal(res.errorCode, ErrorCode.NONE, `request ${i}: ${res.errorMessage}`);
      assert.equal(res.baseOffset, BigInt(i * 3));
      if (version === 2) assert.equal(res.logAppendTimeMs, -1n, 'CreateTime topic');
    }
    assert.deepEqual(
      [...(await storedCodecs(suite.broker.port, topic, 1))].sort(),
      ['gzip', 'none'],
      'the gzip wrappers became gzip batches',
    );

    const expected = Array.from({ length: 12 }, (_, i) => `k${i}=v${i}`);
    assert.deepEqual(await kcatRead(suite.broker.bootstrap, topic), expected);
    const kcatTimestamps = await kcatRead(suite.broker.bootstrap, topic, '%o %T\\n');
    assert.deepEqual(
      kcatTimestamps.slice(6),
      [6, 7, 8, 9, 10, 11].map((o) => `${o} ${1_600_000_000_000 + o}`),
    );

    for (const [version, magic] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 1],
    ] as const) {
      const f = await fetch(suite.client, version, topic, 0n);
      assert.equal(f.errorCode, ErrorCode.NONE);
      assert.equal(f.highWatermark, 12n);
      const got = await readLegacyMessageSet(f.records);
      assert.deepEqual(
        got.map((r) => `${r.key}=${r.value}`),
        expected,
        `Fetch v${version}`,
      );
      assert.deepEqual(
        got.map((r) => Number(r.offset)),
        [...Array(12).keys()],
      );
      assert.ok(got.every((r) => r.magic === magic));
      assert.deepEqual(
        got.map((r) => r.codec),
        [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1],
        'compressed batches come back as wrappers with their codec',
      );
      const timestamps = got.map((r) => Number(r.timestamp));
      assert.deepEqual(timestamps.slice(0, 6), [-1, -1, -1, -1, -1, -1]);
      assert.deepEqual(
        timestamps.slice(6),
        magic === 1 ? [6, 7, 8, 9, 10, 11].map((o) => 1_600_000_000_000 + o) : [-1, -1, -1, -1, -1, -1],
      );
    }
    // From the middle of a compressed batch the wrapper comes whole (the client skips), from an uncompressed one not.
    assert.deepEqual(
      (await readLegacyMessageSet((await fetch(suite.client, 3, topic, 4n)).records)).map((r) => Number(r.offset))[0],
      3,
    );
    assert.deepEqual(
      (await readLegacyMessageSet((await fetch(suite.client, 3, topic, 7n)).records)).map((r) => Number(r.offset))[0],
      7,
    );
  });

  test('kafka-python pinned to 0.10.1 and 0.9 produces magic 1 and 0 and consumes down-converted batches', async () => {
    // 0.10.1: Produce v2 (magic 1) and Fetch v3; 0.9: Produce v1 (magic 0) and Fetch v1.
    const script = `
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
jobs = json.loads(sys.argv[1])
out = {}
for job in jobs:
    version = tuple(job["version"])
    p = KafkaProducer(bootstrap_servers=BOOTSTRAP, api_version=version, compression_type="gzip", acks="all", linger_ms=20)
    for i in range(300):
        p.send(job["produce"], key=b"k%d" % i, value=("kp-%d" % i).encode(), partition=0, timestamp_ms=1600000000000 + i)
    p.flush(30)
    p.close()
    for topic, count in job["consume"].items():
        c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, api_version=version, enable_auto_commit=False, consumer_timeout_ms=10000)
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek(tp, 0)
        got = []
        for m in c:
            got.append([m.offset, m.timestamp, m.key.decode(), m.value.decode()])
            if len(got) >= count:
                break
        out["%s@%s" % (topic, job["produce"])] = got
        c.close()
print(json.dumps(out))
`;
    // Topic → records expected; consumers stop there (or after 10 s without a record).
    const kcatTopics = Object.fromEntries(CODECS.map((c) => [`legacy-kcat-${c}`, 500]));
    const jobs = [
      {
        version: [0, 10, 1],
        produce: 'legacy-kp-0101',
        consume: { ...kcatTopics, 'legacy-raw': 12, 'legacy-kp-0101': 300 },
      },
      { version: [0, 9], produce: 'legacy-kp-09', consume: { 'legacy-kcat-snappy': 500, 'legacy-kp-09': 300 } },
    ];
    for (const job of jobs) assert.equal(await suite.client.createTopic(job.produce, 1), ErrorCode.NONE);
    const r = await run(PYTHON, [
      '-c',
      `import json, sys\nBOOTSTRAP = ${JSON.stringify(suite.broker.bootstrap)}\n${script}`,
      JSON.stringify(jobs),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = lastJson<Record<string, Array<[number, number, string, string]>>>(r);
    for (const job of jobs) {
      assert.deepEqual(
        [...(await storedCodecs(suite.broker.port, job.produce, 1))],
        ['gzip'],
        `${job.produce} is gzip`,
      );
      // Magic 0 has no timestamps: kafka-python reports None for them.
      const timestamp = (i: number) => (job.version[1] === 10 ? 1_600_000_000_000 + i : null);
      assert.deepEqual(
        got[`${job.produce}@${job.produce}`],
        Array.from({ length: 300 }, (_, i) => [i, timestamp(i), `k${i}`, `kp-${i}`]),
        job.produce,
      );
    }
    for (const [codec, producer] of [...CODECS.map((c) => [c, 'legacy-kp-0101']), ['snappy', 'legacy-kp-09']]) {
      assert.deepEqual(
        got[`legacy-kcat-${codec}@${producer}`]!.map(([o, , k, v]) => `${o} ${k}=${v}`),
        values(`kcat-${codec}`, 500).map((v, i) => `${i} k${i}=${v}`),
        `${codec} read by kafka-python with the api version of ${producer}`,
      );
    }
    assert.equal(got['legacy-raw@legacy-kp-0101']!.length, 12);
  });

  test('a zstd batch is refused before Produce v7 (KIP-110) and accepted from v7', async () => {
    assert.equal(await suite.client.createTopic('zstd-versions', 1), ErrorCode.NONE);
    const batch = await buildRecordBatchAsync([{ value: 'z'.repeat(200) }], { compression: CompressionType.Zstd });
    for (const version of [3, 6]) {
      const res = await produce(suite.client, version, 'zstd-versions', batch);
      assert.equal(res.errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `v${version}`);
    }
    const ok = await produce(suite.client, 7, 'zstd-versions', batch);
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.baseOffset, 0n, 'the refused batches took no offsets');
  });

  test('a legacy message set in Produce v3+ is refused as an invalid record', async () => {
    assert.equal(await suite.client.createTopic('legacy-v3', 1), ErrorCode.NONE);
    for (const version of [3, 9]) {
      const res = await produce(suite.client, version, 'legacy-v3', legacyMessage({ magic: 1, value: 'x' }));
      assert.equal(res.errorCode, ErrorCode.INVALID_RECORD, `v${version}`);
    }
    const bad = await produce(
      suite.client,
      2,
      'legacy-v3',
      Buffer.concat([legacyMessage({ magic: 1 }), legacyMessage({ magic: 0 })]),
    );
    assert.equal(bad.errorCode, ErrorCode.INVALID_RECORD);
    const torn = legacyMessage({ magic: 1, value: 'torn' });
    assert.equal(
      (await produce(suite.client, 2, 'legacy-v3', torn.subarray(0, torn.length - 1))).errorCode,
      ErrorCode.CORRUPT_MESSAGE,
    );
    assert.equal((await fetch(suite.client, 0, 'legacy-v3', 0n)).highWatermark, 0n, 'nothing was appended');
  });

  test('old fetches: zstd is unsupported, a too-large first message is cut short before v3 and whole from v3', async () => {
    assert.equal(await suite.client.createTopic('legacy-zstd', 1), ErrorCode.NONE);
    const zstd = await buildRecordBatchAsync([{ value: 'z' }], { compression: CompressionType.Zstd });
    assert.equal(
      (await suite.client.produce('legacy-zstd', [{ partition: 0, batch: zstd }]))[0]!.errorCode,
      ErrorCode.NONE,
    );
    assert.equal((await fetch(suite.client, 0, 'legacy-zstd', 0n)).errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    assert.equal((await fetch(suite.client, 3, 'legacy-zstd', 0n)).errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);

    assert.equal(await suite.client.createTopic('legacy-big', 1), ErrorCode.NONE);
    const big = legacyMessage({ magic: 1, key: null, value: Buffer.alloc(1000, 7) });
    assert.equal((await produce(suite.client, 2, 'legacy-big', big)).errorCode, ErrorCode.NONE);
    const partial = await fetch(suite.client, 2, 'legacy-big', 0n, 100);
    assert.equal(partial.records.length, 100, 'v2: the first 100 bytes of the message');
    assert.deepEqual(await readLegacyMessageSet(partial.records), [], 'a partial message only');
    const whole = await fetch(suite.client, 3, 'legacy-big', 0n, 100);
    assert.equal(whole.records.length, big.length, 'v3 (KIP-74): the first message whole');
  });

  test('kafka-python pinned to 0.9 resolves the beginning and the end of a partition with ListOffsets v0', async () => {
    // Before 0.10.1, kafka-python asks ListOffsets v0 (max_num_offsets 1) for seek_to_end, seek_to_beginning
    // and auto_offset_reset; a broker that does not serve v0 drops its connection.
    const script = `
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
p = KafkaProducer(bootstrap_servers=BOOTSTRAP, api_version=(0, 9), acks="all")
for i in range(7):
    p.send(TOPIC, value=b"v%d" % i, partition=0)
p.flush(30)
p.close()
c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, api_version=(0, 9), enable_auto_commit=False, consumer_timeout_ms=10000)
tp = TopicPartition(TOPIC, 0)
c.assign([tp])
c.seek_to_end(tp)
end = c.position(tp)
c.seek_to_beginning(tp)
begin = c.position(tp)
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) >= 7:
        break
c.close()
late = KafkaConsumer(TOPIC, bootstrap_servers=BOOTSTRAP, api_version=(0, 9), enable_auto_commit=False, auto_offset_reset="latest")
late.poll(timeout_ms=2000)
latest = late.position(tp)
late.close()
print(json.dumps({"end": end, "begin": begin, "got": got, "latest": latest}))
`;
    assert.equal(await suite.client.createTopic('legacy-list-offsets-v0', 1), ErrorCode.NONE);
    const r = await run(PYTHON, [
      '-c',
      `import json\nBOOTSTRAP = ${JSON.stringify(suite.broker.bootstrap)}\nTOPIC = "legacy-list-offsets-v0"\n${script}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), {
      end: 7,
      begin: 0,
      got: Array.from({ length: 7 }, (_, i) => `v${i}`),
      latest: 7,
    });
  });
});
