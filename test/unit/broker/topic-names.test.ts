/**
 * Topic names become directory names, so every way a client can name a topic is validated like Kafka:
 * [a-zA-Z0-9._-], at most 249 characters, not "." or "..". Tried through CreateTopics, Metadata
 * auto-creation and Produce; nothing may appear outside the data directory.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';
import type { ApiDescriptor } from '../../../src/protocol/api.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { ProduceApi } from '../../../src/protocol/generated/00-produce.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';
import { buildRecordBatch } from '../../../src/records/builder.js';

const BAD_NAMES = ['../x', 'a/b', '.', '..', 'x'.repeat(250), 'tópico', 'a b', '', '..\\..\\evil', 'a\u0000b'];

/** One request over a fresh connection with request header v1, decoded with the generated codec. */
async function call<Req, Res>(port: number, api: ApiDescriptor<Req, Res>, version: number, request: Req): Promise<Res> {
  const w = new Writer();
  const sizeAt = w.reserveInt32();
  w.int16(api.apiKey);
  w.int16(version);
  w.int32(7);
  w.nullableString('topic-names-test');
  if (api.flexibleMinVersion >= 0 && version >= api.flexibleMinVersion) w.uvarint(0);
  api.encodeRequest(w, version, request);
  w.patchSize(sizeAt);
  const frame = Buffer.from(w.toBuffer());
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(frame));
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        socket.destroy();
        const r = new Reader(buf, 4, 4 + buf.readInt32BE(0));
        assert.equal(r.int32(), 7);
        if (api.flexibleMinVersion >= 0 && version >= api.flexibleMinVersion) r.taggedFields();
        resolve(api.decodeResponse(r, version));
      }
    });
    socket.on('error', reject);
  });
}

describe('topic names are validated wherever a client can name a topic', () => {
  let kafka: EmbeddedBroker;
  let dataDir: string;

  before(async () => {
    kafka = await startBroker({ storage: 'disk' });
    dataDir = (kafka.broker.config['log.dirs'] as string[])[0];
  });

  after(async () => {
    await kafka?.stop();
  });

  test('CreateTopics refuses each illegal name with INVALID_TOPIC_EXCEPTION', async () => {
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    for (const name of BAD_NAMES.filter((n) => n !== '')) {
      await assert.rejects(
        admin.createTopics({ topics: [{ topic: name }] }),
        (err: Error & { errors?: Array<{ type: string }> }) => {
          assert.equal(err.errors?.[0]?.type, 'INVALID_TOPIC_EXCEPTION', `name ${JSON.stringify(name)}`);
          return true;
        },
      );
    }
    await admin.disconnect();
  });

  test('a 249-character name is the longest accepted', async () => {
    const ok = await kafka.broker.createTopic({ name: 'y'.repeat(249), partitions: 1, replicationFactor: -1 });
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.ok(existsSync(join(dataDir, `${'y'.repeat(249)}-0`)));
  });

  test('names differing only by "." and "_" collide, as in Kafka', async () => {
    assert.equal((await kafka.broker.createTopic({ name: 'a.b', partitions: 1, replicationFactor: -1 })).errorCode, 0);
    const clash = await kafka.broker.createTopic({ name: 'a_b', partitions: 1, replicationFactor: -1 });
    assert.equal(clash.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  test('Metadata auto-creation refuses illegal names and creates nothing', async () => {
    const request = MetadataApi.defaultRequest();
    request.topics = BAD_NAMES.map((name) => ({ name, topicId: '0'.repeat(32) }));
    request.allowAutoTopicCreation = true;
    const response = await call(kafka.port, MetadataApi, 12, request);
    assert.equal(response.topics.length, BAD_NAMES.length);
    for (const t of response.topics) assert.equal(t.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, `name ${t.name}`);
  });

  test('Produce to an illegal name is refused per partition as an unknown topic, as Kafka does, and writes nothing', async () => {
    const request = ProduceApi.defaultRequest();
    request.acks = -1;
    request.timeoutMs = 5000;
    const records = buildRecordBatch([{ key: 'k', value: 'v' }]);
    request.topicData = BAD_NAMES.map((name) => ({ name, partitionData: [{ index: 0, records }] }));
    const response = await call(kafka.port, ProduceApi, 9, request);
    for (const t of response.responses) {
      assert.equal(t.partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `name ${t.name}`);
    }
  });

  test('nothing was created outside the data directory, and only legal topic directories inside it', () => {
    const parent = readdirSync(dirname(dataDir));
    assert.ok(!parent.includes('x') && !parent.includes('evil'), 'no directory escaped the data directory');
    for (const entry of readdirSync(dataDir)) {
      if (!entry.includes('-') || entry.endsWith('.json') || entry.includes('checkpoint')) continue;
      assert.match(entry, /^[a-zA-Z0-9._-]{1,249}-\d+$/, `unexpected entry ${entry}`);
    }
  });
});
