/**
 * startBroker() with kafkajs only: an embedded broker starts fast, serves a real client, and each fault hook
 * does what it says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';

describe('startBroker', () => {
  let kafka: EmbeddedBroker;
  let client: Kafka;

  before(async () => {
    const t0 = performance.now();
    kafka = await startBroker({ topics: ['orders', { name: 'wide', partitions: 4 }] });
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `started in ${ms.toFixed(0)} ms`);
    client = new Kafka({
      brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 200 },
    });
  });

  after(async () => {
    await kafka?.stop();
  });

  test('serves a real client on a free port with the requested topics', async () => {
    assert.match(kafka.bootstrap, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(kafka.port, 9092);
    const admin = client.admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['orders', 'wide'] });
    assert.deepEqual(md.topics.map((t) => [t.name, t.partitions.length]).sort(), [
      ['orders', 1],
      ['wide', 4],
    ]);
    await admin.disconnect();
  });

  test('failNext answers the next request of an API with the given error, then recovers', async () => {
    const admin = client.admin({ retry: { retries: 0 } });
    await admin.connect();
    kafka.control.failNext('CreateTopics', 'POLICY_VIOLATION');
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'refused' }] }),
      (err: Error & { errors?: Array<{ type: string }> }) => {
        assert.equal(err.errors?.[0]?.type, 'POLICY_VIOLATION');
        return true;
      },
    );
    assert.equal(await admin.createTopics({ topics: [{ topic: 'accepted' }] }), true);
    await admin.disconnect();
  });

  test('a retriable produce error is retried by the client and the record lands', async () => {
    const producer = client.producer();
    await producer.connect();
    kafka.control.failNext('Produce', 'NOT_LEADER_OR_FOLLOWER', 2);
    const [res] = await producer.send({ topic: 'orders', messages: [{ key: 'k', value: 'v' }] });
    assert.equal(res.errorCode, 0);
    await producer.disconnect();
    // The injected errors replaced acknowledgements of appends that happened, as with a lost ack.
    const admin = client.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets('orders');
    assert.equal(offsets.high, String(Number(res.baseOffset) + 1));
    assert.equal(Number(res.baseOffset), 2, 'two earlier attempts were appended before the retry succeeded');
    await admin.disconnect();
  });

  test('delay holds responses of an API back', async () => {
    const admin = client.admin();
    await admin.connect();
    kafka.control.delay('ListOffsets', 300, 1);
    const t0 = performance.now();
    await admin.fetchTopicOffsets('wide');
    assert.ok(performance.now() - t0 >= 290, 'response was delayed');
    const t1 = performance.now();
    await admin.fetchTopicOffsets('wide');
    assert.ok(performance.now() - t1 < 290, 'only the first response was delayed');
    await admin.disconnect();
  });

  test('dropConnections closes client connections and clients reconnect', async () => {
    const admin = client.admin();
    await admin.connect();
    await admin.listTopics();
    assert.ok(kafka.broker.connectionCount >= 1);
    kafka.control.dropConnections();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(kafka.broker.connectionCount, 0);
    const topics = await admin.listTopics();
    assert.ok(topics.includes('orders'));
    await admin.disconnect();
  });

  test('forceRebalance makes the members of a group join again', async () => {
    const consumer = client.consumer({ groupId: 'rebalanced', heartbeatInterval: 100 });
    let joins = 0;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joins++;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'wide', fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 15_000;
      while (joins < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(joins >= n, `expected ${n} joins, saw ${joins}`);
    };
    await waitFor(1);
    await kafka.control.forceRebalance('rebalanced');
    await waitFor(2);
    await consumer.disconnect();
  });

  test('a disk broker keeps data in Kafka layout and removes its temporary directory on stop', async () => {
    const disk = await startBroker({ storage: 'disk', topics: [{ name: 'd', partitions: 2 }] });
    const dir = (disk.broker.config['log.dirs'] as string[])[0];
    const { existsSync } = await import('node:fs');
    assert.ok(existsSync(`${dir}/d-0/00000000000000000000.log`));
    await disk.stop();
    assert.ok(!existsSync(dir), 'temporary data directory removed');
  });
});
