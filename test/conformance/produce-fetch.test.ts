/**
 * Differential conformance of Produce, Fetch and ListOffsets: the same batches and requests, as the same
 * bytes, to Kafka 4.3 and to Sluice; base offsets, error codes, log offsets and the stored batch bytes must
 * match.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ProduceApi, type ProduceRequest } from '../../src/protocol/generated/00-produce.js';
import { FetchApi, type FetchRequest, type FetchResponse } from '../../src/protocol/generated/01-fetch.js';
import { ListOffsetsApi, type ListOffsetsRequest } from '../../src/protocol/generated/02-list-offsets.js';
import { ZERO_UUID } from '../../src/protocol/reader.js';
import {
  BASE_TIMESTAMP_OFFSET,
  buildRecordBatch,
  buildRecordBatchAsync,
  CompressionType,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  type RecordInput,
  restampCrc,
} from '../../src/records/index.js';
import { writeLegacyMessage } from '../../src/records/legacy-message.js';
import { type Differential, type SideName, uniqueName, useDifferential } from './differential.js';

const harness = useDifferential();

const T0 = 1_700_000_000_000n;

function records(count: number, start = 0): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `key-${start + i}`,
    value: `value-${start + i} `.repeat(8),
    headers: [{ key: 'h', value: `${i}` }],
    timestamp: T0 + BigInt((start + i) * 1000),
  }));
}

function produceRequest(topic: string, batch: Buffer | null, options: Partial<ProduceRequest> = {}, partition = 0) {
  return {
    ...ProduceApi.defaultRequest(),
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
    ...options,
  };
}

function fetchRequest(
  d: Differential,
  topic: string,
  fetchOffset: bigint,
  options: { partition?: number; topicId?: string; maxBytes?: number; isolationLevel?: number } = {},
): (side: SideName) => FetchRequest {
  return (side) => ({
    ...FetchApi.defaultRequest(),
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: options.isolationLevel ?? 0,
    sessionId: 0,
    // -1: a full fetch that opens no session, so neither broker answers with a session id.
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: options.topicId ?? (topicKnown(d, side, topic) ? d.topicId(side, topic) : ZERO_UUID),
        partitions: [
          {
            partition: options.partition ?? 0,
            currentLeaderEpoch: -1,
            fetchOffset,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: options.maxBytes ?? 1024 * 1024,
            replicaDirectoryId: ZERO_UUID,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
}

function topicKnown(d: Differential, side: SideName, topic: string): boolean {
  try {
    d.topicId(side, topic);
    return true;
  } catch {
    return false;
  }
}

function listOffsetsRequest(topic: string, timestamp: bigint, partition = 0): ListOffsetsRequest {
  return {
    ...ListOffsetsApi.defaultRequest(),
    replicaId: -1,
    isolationLevel: 0,
    timeoutMs: 10_000,
    topics: [
      { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] },
    ],
  };
}

/**
 * The batches of a Fetch answer with what a broker may choose cleared: the partition leader epoch (each
 * broker's own epoch, outside the CRC) and, for LogAppendTime batches, the broker-assigned timestamps.
 */
function normaliseRecords(body: FetchResponse): void {
  for (const topic of body.responses) {
    for (const p of topic.partitions) {
      if (!p.records) continue;
      const out = Buffer.from(p.records);
      for (let pos = 0; pos + LOG_OVERHEAD <= out.length; ) {
        const size = LOG_OVERHEAD + out.readInt32BE(pos + 8);
        if (pos + size > out.length) break;
        const magic = out.readInt8(pos + 16);
        if (magic === 2) {
          out.writeInt32BE(0, pos + 12);
          if ((out.readInt16BE(pos + 21) & 0x08) !== 0) {
            out.fill(0, pos + BASE_TIMESTAMP_OFFSET, pos + MAX_TIMESTAMP_OFFSET + 8);
            out.fill(0, pos + 17, pos + 21);
          }
        }
        pos += size;
      }
      p.records = out;
    }
  }
}

/** The same produce to both, compared; returns Kafka's partition answer. */
async function produce(d: Differential, version: number, topic: string, batch: Buffer | null, acks = -1) {
  const answers = await d.compare(ProduceApi, version, produceRequest(topic, batch, { acks }));
  return answers!.kafka.responses[0]!.partitionResponses[0]!;
}

async function fetchAll(d: Differential, version: number, topic: string, offset = 0n) {
  return d.compare(FetchApi, version, fetchRequest(d, topic, offset), { normalise: normaliseRecords });
}

describe('Produce, Fetch and ListOffsets against Apache Kafka', { skip: harness.skip }, () => {
  test('Produce answers the same base offsets at every version both serve with record batches', async () => {
    const d = harness.get();
    const topic = uniqueName('produce-versions');
    await d.createTopic(topic);
    let next = 0n;
    for (const version of d.commonVersions(ProduceApi).filter((v) => v >= 3)) {
      const p = await produce(d, version, topic, buildRecordBatch(records(3, Number(next)), { baseOffset: 0n }));
      assert.equal(p.errorCode, 0);
      assert.equal(p.baseOffset, next);
      next += 3n;
    }
    for (const version of d.commonVersions(FetchApi)) await fetchAll(d, version, topic);
  });

  for (const codec of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd]) {
    test(`a ${CompressionType[codec]} batch is stored as sent and fetched back byte for byte`, async () => {
      const d = harness.get();
      const topic = uniqueName(`codec-${CompressionType[codec].toLowerCase()}`);
      await d.createTopic(topic);
      const batch = await buildRecordBatchAsync(records(5), { compression: codec });
      assert.equal((await produce(d, 9, topic, batch)).errorCode, 0);
      const second = await buildRecordBatchAsync(records(2, 5), { compression: codec });
      assert.equal((await produce(d, 9, topic, second)).baseOffset, 5n);
      await fetchAll(d, 12, topic);
      await fetchAll(d, 12, topic, 6n);
    });
  }

  test('zstd batches at Produce versions before 7 answer UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const d = harness.get();
    const topic = uniqueName('zstd-old');
    await d.createTopic(topic);
    const batch = await buildRecordBatchAsync(records(2), { compression: CompressionType.Zstd });
    const p = await produce(d, 5, topic, batch);
    assert.equal(p.errorCode, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  });

  test('a LogAppendTime topic stamps batches and answers the append time', async () => {
    const d = harness.get();
    const topic = uniqueName('log-append-time');
    await d.createTopic(topic, 1, { 'message.timestamp.type': 'LogAppendTime' });
    const answers = await d.compare(ProduceApi, 9, produceRequest(topic, buildRecordBatch(records(3))), {
      normalise: (b) => {
        const p = b.responses[0]!.partitionResponses[0]!;
        assert.ok(p.logAppendTimeMs > 0n, 'the append time is answered');
        p.logAppendTimeMs = 1n;
      },
    });
    assert.equal(answers!.kafka.responses[0]!.partitionResponses[0]!.errorCode, 0);
    await fetchAll(d, 12, topic);
  });

  test('acks other than -1, 0 and 1 answer INVALID_REQUIRED_ACKS', async () => {
    const d = harness.get();
    const topic = uniqueName('acks');
    await d.createTopic(topic);
    for (const acks of [2, -2]) {
      const p = await produce(d, 9, topic, buildRecordBatch(records(1)), acks);
      assert.equal(p.errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    }
  });

  test('acks=1 is answered like acks=-1 on a single broker', async () => {
    const d = harness.get();
    const topic = uniqueName('acks-one');
    await d.createTopic(topic);
    assert.equal((await produce(d, 8, topic, buildRecordBatch(records(2)), 1)).errorCode, 0);
  });

  test('Produce to an invalid topic name, an unknown topic and an unknown partition answers as Kafka does', async () => {
    const d = harness.get();
    const batch = buildRecordBatch(records(1));
    for (const name of ['bad topic!', '..', 'a'.repeat(250)]) {
      const p = await produce(d, 9, name, batch);
      // Produce never creates topics: Kafka answers an invalid name as a topic it does not have.
      assert.equal(p.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${name} is refused`);
    }
    assert.equal(
      (await produce(d, 9, uniqueName('never-created'), batch)).errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    const topic = uniqueName('partitions');
    await d.createTopic(topic);
    await d.compare(ProduceApi, 9, produceRequest(topic, batch, {}, 7));
  });

  test('a batch larger than max.message.bytes answers MESSAGE_TOO_LARGE', async () => {
    const d = harness.get();
    const topic = uniqueName('too-large');
    await d.createTopic(topic, 1, { 'max.message.bytes': '1000' });
    const big = buildRecordBatch([{ value: Buffer.alloc(2000, 7), timestamp: T0 }]);
    assert.equal((await produce(d, 9, topic, big)).errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    const small = buildRecordBatch([{ value: Buffer.alloc(100, 7), timestamp: T0 }]);
    assert.equal((await produce(d, 9, topic, small)).errorCode, 0);
  });

  test('a batch whose CRC does not match answers CORRUPT_MESSAGE and stores nothing', async () => {
    const d = harness.get();
    const topic = uniqueName('crc');
    await d.createTopic(topic);
    const batch = buildRecordBatch(records(2));
    batch[batch.length - 3] ^= 0xff;
    assert.equal((await produce(d, 9, topic, batch)).errorCode, ErrorCode.CORRUPT_MESSAGE);
    await fetchAll(d, 12, topic);
  });

  test('Produce with null records answers INVALID_RECORD (Kafka 4.3 never answers it)', async () => {
    const d = harness.get();
    const topic = uniqueName('null-records');
    await d.createTopic(topic);
    // Only Sluice is asked: Kafka leaves the request unanswered (docs/kafka-differences.md, Produce).
    const sluice = await d.exchangeWith('sluice', ProduceApi, 9, produceRequest(topic, null));
    assert.ok(sluice.answered);
    assert.equal(sluice.body.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.INVALID_RECORD);
  });

  test('legacy message sets (magic 0 and 1) at Produce v0–v2: Kafka 4.3 closes the connection, Sluice appends them', async () => {
    const d = harness.get();
    const topic = uniqueName('legacy');
    await d.createTopic(topic);
    const messageSet = (magic: 0 | 1) => {
      const key = Buffer.from('k');
      const value = Buffer.from('legacy value');
      const src = Buffer.concat([key, value]);
      const out = Buffer.alloc(200);
      const end = writeLegacyMessage(out, 0, magic, 0n, 0, T0, src, 0, 1, 1, value.length);
      return out.subarray(0, end);
    };
    // Kafka 4 advertises Produce v0 only so that librdkafka compresses (KAFKA-18659); it refuses v0–v2.
    for (const version of [0, 1, 2]) {
      const { kafka, sluice } = await d.exchange(
        ProduceApi,
        version,
        produceRequest(topic, messageSet(version === 2 ? 1 : 0)),
      );
      assert.equal(kafka.answered, false, `Kafka refuses Produce v${version}`);
      assert.ok(sluice.answered);
      const p = sluice.body.responses[0]!.partitionResponses[0]!;
      assert.equal(p.errorCode, 0);
      assert.equal(p.baseOffset, BigInt(version));
    }
  });

  test('Fetch answers the same at every version both serve, including the offsets of the log', async () => {
    const d = harness.get();
    const topic = uniqueName('fetch-versions');
    await d.createTopic(topic);
    await produce(d, 9, topic, buildRecordBatch(records(4)));
    await produce(d, 9, topic, buildRecordBatch(records(3, 4), { compression: CompressionType.Gzip }));
    for (const version of d.commonVersions(FetchApi)) {
      await fetchAll(d, version, topic);
      await fetchAll(d, version, topic, 5n);
      await fetchAll(d, version, topic, 7n);
      // read_committed (v4+) answers an aborted-transactions list, where read_uncommitted answers null.
      await d.compare(FetchApi, version, fetchRequest(d, topic, 0n, { isolationLevel: 1 }), {
        normalise: normaliseRecords,
      });
    }
  });

  test('Fetch outside the log answers OFFSET_OUT_OF_RANGE with unknown (-1) log offsets, as Kafka does', async () => {
    const d = harness.get();
    const topic = uniqueName('out-of-range');
    await d.createTopic(topic);
    await produce(d, 9, topic, buildRecordBatch(records(2)));
    for (const version of d.commonVersions(FetchApi)) {
      const answers = await d.compare(FetchApi, version, fetchRequest(d, topic, 10n), { normalise: normaliseRecords });
      assert.equal(answers!.kafka.responses[0]!.partitions[0]!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      await d.compare(FetchApi, version, fetchRequest(d, topic, -5n));
    }
  });

  test('Fetch of an unknown topic, an unknown partition and an unknown topic id answers as Kafka does', async () => {
    const d = harness.get();
    const topic = uniqueName('fetch-unknown');
    await d.createTopic(topic);
    for (const version of d.commonVersions(FetchApi)) {
      await d.compare(FetchApi, version, fetchRequest(d, topic, 0n, { partition: 5 }));
      if (version >= 13) {
        await d.compare(FetchApi, version, fetchRequest(d, 'x', 0n, { topicId: '0123456789abcdef0123456789abcdef' }));
      } else {
        await d.compare(FetchApi, version, fetchRequest(d, uniqueName('never-created'), 0n));
      }
    }
  });

  test('a partition max bytes smaller than the first batch still returns that whole batch', async () => {
    const d = harness.get();
    const topic = uniqueName('fetch-small');
    await d.createTopic(topic);
    await produce(d, 9, topic, buildRecordBatch(records(10)));
    await produce(d, 9, topic, buildRecordBatch(records(10, 10)));
    await d.compare(FetchApi, 12, fetchRequest(d, topic, 0n, { maxBytes: 10 }), { normalise: normaliseRecords });
  });

  test('requests with empty topic and partition lists answer as Kafka does', async () => {
    const d = harness.get();
    const topic = uniqueName('empty-lists');
    await d.createTopic(topic);
    await d.compare(ProduceApi, 9, { ...produceRequest(topic, null), topicData: [] });
    await d.compare(ProduceApi, 9, { ...produceRequest(topic, null), topicData: [{ name: topic, partitionData: [] }] });
    await d.compare(FetchApi, 12, { ...fetchRequest(d, topic, 0n)('kafka'), topics: [] });
    await d.compare(ListOffsetsApi, 8, { ...listOffsetsRequest(topic, -1n), topics: [] });
  });

  test('ListOffsets leaves out a topic sent without partitions, as Kafka does', {}, async () => {
    const d = harness.get();
    const topic = uniqueName('empty-partitions');
    await d.createTopic(topic);
    await d.compare(ListOffsetsApi, 8, {
      ...listOffsetsRequest(topic, -1n),
      topics: [{ name: topic, partitions: [] }],
    });
  });

  test('ListOffsets answers earliest, latest, max timestamp and by-timestamp offsets as Kafka does', async () => {
    const d = harness.get();
    const topic = uniqueName('list-offsets');
    await d.createTopic(topic);
    await produce(d, 9, topic, buildRecordBatch(records(3)));
    await produce(d, 9, topic, buildRecordBatch(records(3, 3), { compression: CompressionType.Lz4 }));
    for (const version of d.commonVersions(ListOffsetsApi)) {
      for (const timestamp of [-2n, -1n, T0, T0 + 2500n, T0 + 4000n, T0 + 99_000n, ...(version >= 7 ? [-3n] : [])]) {
        await d.compare(ListOffsetsApi, version, listOffsetsRequest(topic, timestamp));
      }
      await d.compare(ListOffsetsApi, version, listOffsetsRequest(topic, -1n, 3));
      await d.compare(ListOffsetsApi, version, listOffsetsRequest(uniqueName('never-created'), -1n));
    }
  });

  test('ListOffsets by timestamp finds batches whose max timestamp is unset', {}, async () => {
    const d = harness.get();
    const topic = uniqueName('unset-max-timestamp');
    await d.createTopic(topic);
    const batch = buildRecordBatch(records(3));
    // Some clients leave the batch's max timestamp at -1; the broker computes it from the records.
    batch.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
    restampCrc(batch, 0);
    assert.equal((await produce(d, 9, topic, batch)).errorCode, 0);
    for (const timestamp of [T0 + 1000n, -3n]) {
      await d.compare(ListOffsetsApi, 8, listOffsetsRequest(topic, timestamp));
    }
  });
});
