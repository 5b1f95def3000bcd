/**
 * Metadata v12 looks topics up by id (KIP-516). Kafka treats any entry with a non-zero topic id as a lookup
 * by id, whatever its name: the Java admin client's describeTopics(TopicCollection.ofTopicIds(…)) sends the
 * id with an empty name, not a null one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { RawClient } from '../../helpers/raw-client.js';

const ZERO_UUID = '0'.repeat(32);

describe('Metadata by topic id', () => {
  let kafka: EmbeddedBroker;
  let client: RawClient;
  let topicId: string;

  before(async () => {
    kafka = await startBroker({ topics: [{ name: 'by-id', partitions: 2 }] });
    client = await RawClient.connect(kafka.port);
    const request = MetadataApi.defaultRequest();
    request.topics = [{ name: 'by-id', topicId: ZERO_UUID }];
    topicId = (await client.request(MetadataApi, 12, request)).topics[0]!.topicId;
    assert.notEqual(topicId, ZERO_UUID);
  });

  after(async () => {
    client.socket.destroy();
    await kafka.stop();
  });

  async function byId(id: string, name: string | null) {
    const request = MetadataApi.defaultRequest();
    request.topics = [{ name, topicId: id }];
    return (await client.request(MetadataApi, 12, request)).topics;
  }

  test('an id with an empty name (as the Java admin client sends it) finds the topic', async () => {
    const [topic] = await byId(topicId, '');
    assert.equal(topic!.errorCode, ErrorCode.NONE);
    assert.equal(topic!.name, 'by-id');
    assert.equal(topic!.topicId, topicId);
    assert.equal(topic!.partitions.length, 2);
  });

  test('an id with a null name finds the topic', async () => {
    const [topic] = await byId(topicId, null);
    assert.equal(topic!.errorCode, ErrorCode.NONE);
    assert.equal(topic!.name, 'by-id');
  });

  test('an unknown id answers UNKNOWN_TOPIC_ID with that id and no name, whatever the name', async () => {
    const unknown = 'ab'.repeat(16);
    const [topic] = await byId(unknown, '');
    assert.equal(topic!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(topic!.topicId, unknown);
    assert.equal(topic!.name, null);
  });
});
