/**
 * ListOffsets over the wire against an in-process broker: v0 (old_style_offsets, as Kafka 3.x served it)
 * and lookups by timestamp of batches whose producer left the header's max timestamp unset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Broker } from '../../../src/broker/broker.js';
import { defaultConfig } from '../../../src/broker/config.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/generated/api-keys.js';
import {
  ApiVersionsApi,
  CreateTopicsApi,
  ListOffsetsApi,
  type ListOffsetsRequestListOffsetsPartition,
  ProduceApi,
} from '../../../src/protocol/generated/index.js';
import {
  buildRecordBatch,
  buildRecordBatchAsync,
  CompressionType,
  hasValidCrc,
  MAX_TIMESTAMP_OFFSET,
  RECORD_BATCH_OVERHEAD,
  restampCrc,
} from '../../../src/records/index.js';
import { isLogError } from '../../../src/storage/index.js';
import { RawClient } from '../../helpers/raw-client.js';

let broker: Broker;
let client: RawClient;

before(async () => {
  broker = await Broker.start({
    config: defaultConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': '/nonexistent-memory' }),
    storage: 'memory',
  });
  client = await RawClient.connect(broker.port);
});

after(async () => {
  client.close();
  await broker.stop();
});

async function createTopic(name: string, configs: Array<{ name: string; value: string }> = []): Promise<void> {
  const res = await client.request(CreateTopicsApi, 4, {
    ...CreateTopicsApi.defaultRequest(),
    timeoutMs: 5000,
    topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs }],
  });
  assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE);
}

async function produce(topic: string, records: Buffer): Promise<number> {
  const res = await client.request(ProduceApi, 8, {
    ...ProduceApi.defaultRequest(),
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return res.responses[0]!.partitionResponses[0]!.errorCode;
}

async function listOffsets(
  version: number,
  topic: string,
  partition: Partial<ListOffsetsRequestListOffsetsPartition>,
  replicaId = -1,
) {
  const res = await client.request(ListOffsetsApi, version, {
    ...ListOffsetsApi.defaultRequest(),
    replicaId,
    topics: [
      {
        name: topic,
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1, ...partition }],
      },
    ],
  });
  return res.topics[0]!.partitions[0]!;
}

/** The stored batch at offset 0 of the topic's partition 0. */
async function storedBatch(topic: string): Promise<Buffer> {
  const read = await broker.partition(topic, 0)!.read(0n, 1 << 20);
  if (isLogError(read)) throw new Error(read.message);
  return read.records;
}

const T = 1_700_000_000_000n;
const RECORDS = [
  { key: 'a', value: 'first', timestamp: T },
  { key: 'b', value: 'latest', timestamp: T + 50n },
  { key: 'c', value: 'third', timestamp: T + 20n },
];

/** The batch a producer that leaves the header's max timestamp at -1 sends. */
async function unsetMaxTimestamp(compression: CompressionType): Promise<Buffer> {
  const b = await buildRecordBatchAsync(RECORDS, { compression });
  b.writeBigInt64BE(-1n, MAX_TIMESTAMP_OFFSET);
  restampCrc(b, 0);
  return b;
}

describe('ListOffsets v0', () => {
  test('ApiVersions advertises ListOffsets from v0', async () => {
    const res = await client.request(ApiVersionsApi, 3, {
      ...ApiVersionsApi.defaultRequest(),
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    const listOffsets = res.apiKeys.find((k) => k.apiKey === ApiKey.LIST_OFFSETS);
    assert.deepEqual([listOffsets?.minVersion, listOffsets?.maxVersion], [0, 10]);
  });

  test('answers old_style_offsets: the log end offset for latest, the log start offset for earliest', async () => {
    await createTopic('v0-offsets');
    for (let i = 0; i < 3; i++) assert.equal(await produce('v0-offsets', buildRecordBatch(RECORDS)), ErrorCode.NONE);
    const latest = await listOffsets(0, 'v0-offsets', { timestamp: -1n, maxNumOffsets: 1 });
    assert.deepEqual([latest.errorCode, latest.oldStyleOffsets], [ErrorCode.NONE, [9n]]);
    // One segment: the log end offset, then the segment's base offset.
    const two = await listOffsets(0, 'v0-offsets', { timestamp: -1n, maxNumOffsets: 10 });
    assert.deepEqual(two.oldStyleOffsets, [9n, 0n]);
    const earliest = await listOffsets(0, 'v0-offsets', { timestamp: -2n, maxNumOffsets: 10 });
    assert.deepEqual(earliest.oldStyleOffsets, [0n]);
    const before1970 = await listOffsets(0, 'v0-offsets', { timestamp: 0n, maxNumOffsets: 10 });
    assert.deepEqual([before1970.errorCode, before1970.oldStyleOffsets], [ErrorCode.NONE, []]);
  });

  test('answers an unknown partition with its error and no offsets, a negative max_num_offsets as Kafka does', async () => {
    const unknown = await listOffsets(0, 'v0-no-such-topic', { timestamp: -1n });
    assert.deepEqual([unknown.errorCode, unknown.oldStyleOffsets], [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []]);
    await createTopic('v0-negative');
    const negative = await listOffsets(0, 'v0-negative', { timestamp: -1n, maxNumOffsets: -1 });
    assert.equal(negative.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
  });
});

describe('a batch whose header max timestamp is unset', () => {
  for (const compression of [CompressionType.None, CompressionType.Gzip, CompressionType.Zstd]) {
    const name = CompressionType[compression]!.toLowerCase();
    test(`(${name}) is found by timestamp and stored with its records' max timestamp and a valid CRC`, async () => {
      const topic = `unset-max-${name}`;
      await createTopic(topic);
      assert.equal(await produce(topic, await unsetMaxTimestamp(compression)), ErrorCode.NONE);
      const found = await listOffsets(8, topic, { timestamp: T + 30n });
      assert.deepEqual([found.errorCode, found.offset, found.timestamp], [ErrorCode.NONE, 1n, T + 50n]);
      const max = await listOffsets(8, topic, { timestamp: -3n });
      assert.deepEqual([max.offset, max.timestamp], [1n, T + 50n]);
      const stored = await storedBatch(topic);
      assert.equal(stored.readBigInt64BE(MAX_TIMESTAMP_OFFSET), T + 50n);
      assert.ok(hasValidCrc(stored, 0));
    });
  }

  test('in a LogAppendTime topic gets the broker time, as any batch there', async () => {
    await createTopic('unset-max-append-time', [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    const before = BigInt(Date.now());
    assert.equal(await produce('unset-max-append-time', await unsetMaxTimestamp(CompressionType.Gzip)), ErrorCode.NONE);
    const stored = await storedBatch('unset-max-append-time');
    assert.ok(stored.readBigInt64BE(MAX_TIMESTAMP_OFFSET) >= before);
    assert.ok(hasValidCrc(stored, 0));
  });

  test('compressed with records that do not decompress is refused as corrupt, not stored', async () => {
    await createTopic('unset-max-garbage');
    const b = await unsetMaxTimestamp(CompressionType.Gzip);
    b.fill(0xff, RECORD_BATCH_OVERHEAD);
    restampCrc(b, 0);
    assert.equal(await produce('unset-max-garbage', b), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(broker.partition('unset-max-garbage', 0)!.logEndOffset, 0n);
  });

  test('compressed with a CRC that does not match is refused as corrupt, not restamped', async () => {
    await createTopic('unset-max-bad-crc');
    const b = await unsetMaxTimestamp(CompressionType.Gzip);
    b.writeUInt32BE((b.readUInt32BE(17) + 1) >>> 0, 17);
    assert.equal(await produce('unset-max-bad-crc', b), ErrorCode.CORRUPT_MESSAGE);
  });
});
