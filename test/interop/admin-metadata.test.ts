/**
 * Real clients against a real broker process: metadata and topic administration.
 * kcat (librdkafka), kafkajs, confluent-kafka-python (librdkafka) and kafka-python each connect, list the
 * broker, create and list topics; topics and their ids survive a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { kcat, lastJson, python } from '../helpers/clients.js';

interface KcatMetadata {
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }>; error?: string }>;
}

describe('metadata and admin with real clients', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBrokerProcess();
  });

  after(async () => {
    await stopAndRemove(broker);
  });

  test('kcat -L lists the broker with its advertised host and port', async () => {
    const r = await kcat(broker.bootstrap, ['-L', '-J'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const md = JSON.parse(r.stdout) as KcatMetadata;
    assert.deepEqual(
      md.brokers.map((b) => b.name),
      [`127.0.0.1:${broker.port}`],
    );
    assert.equal(md.brokers[0].id, 1);
  });

  test('kcat producing to an unknown topic auto-creates it with num.partitions partitions', async () => {
    const r = await kcat(broker.bootstrap, ['-L', '-J', '-t', 'kcat-auto'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const md = JSON.parse(r.stdout) as KcatMetadata;
    const t = md.topics.find((x) => x.topic === 'kcat-auto');
    assert.ok(t, 'topic listed');
    assert.equal(t.partitions.length, 1);
    assert.equal(t.partitions[0].leader, 1);
  });

  test('kafkajs admin creates, lists, describes and deletes topics', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(
        await admin.createTopics({
          topics: [{ topic: 'js-a', numPartitions: 3 }, { topic: 'js-b' }],
          waitForLeaders: true,
        }),
        true,
      );
      assert.equal(
        await admin.createTopics({ topics: [{ topic: 'js-a', numPartitions: 3 }] }),
        false,
        'already exists',
      );
      const topics = await admin.listTopics();
      assert.ok(topics.includes('js-a') && topics.includes('js-b'), `listTopics: ${topics}`);
      const md = await admin.fetchTopicMetadata({ topics: ['js-a'] });
      assert.equal(md.topics[0].name, 'js-a');
      assert.deepEqual(md.topics[0].partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]).sort(), [
        [0, 1, [1], [1]],
        [1, 1, [1], [1]],
        [2, 1, [1], [1]],
      ]);
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers, [{ nodeId: 1, host: '127.0.0.1', port: broker.port }]);
      assert.equal(cluster.controller, 1);
      await admin.deleteTopics({ topics: ['js-b'] });
      assert.ok(!(await admin.listTopics()).includes('js-b'), 'js-b deleted');
      await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad/name' }] }), (err: Error) =>
        /invalid|topic/i.test(err.message),
      );
    } finally {
      await admin.disconnect();
    }
  });

  test('confluent-kafka-python AdminClient creates and lists topics, and sees Kafka error codes', async () => {
    const r = await python(
      broker.bootstrap,
      `
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import KafkaException
a = AdminClient({"bootstrap.servers": BOOTSTRAP})
fs = a.create_topics([NewTopic("py-ck", num_partitions=4, replication_factor=1)], request_timeout=15)
fs["py-ck"].result(timeout=20)
dup = None
try:
    a.create_topics([NewTopic("py-ck", num_partitions=1, replication_factor=1)])["py-ck"].result(timeout=20)
except KafkaException as e:
    dup = e.args[0].name()
bad_rf = None
try:
    a.create_topics([NewTopic("py-rf", num_partitions=1, replication_factor=3)])["py-rf"].result(timeout=20)
except KafkaException as e:
    bad_rf = e.args[0].name()
md = a.list_topics(timeout=10)
t = md.topics["py-ck"]
print(json.dumps({"partitions": sorted(t.partitions.keys()), "leaders": sorted({p.leader for p in t.partitions.values()}),
                  "brokers": sorted(md.brokers.keys()), "dup": dup, "bad_rf": bad_rf}))
`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), {
      partitions: [0, 1, 2, 3],
      leaders: [1],
      brokers: [1],
      dup: 'TOPIC_ALREADY_EXISTS',
      bad_rf: 'INVALID_REPLICATION_FACTOR',
    });
  });

  test('kafka-python KafkaAdminClient connects, creates and lists topics', async () => {
    const r = await python(
      broker.bootstrap,
      `
from kafka.admin import KafkaAdminClient, NewTopic
a = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
a.create_topics([NewTopic("py-kp", num_partitions=2, replication_factor=1)])
names = a.list_topics()
desc = a.describe_topics(["py-kp"])
a.close()
print(json.dumps({"listed": "py-kp" in names, "partitions": sorted(p["partition"] for p in desc[0]["partitions"])}))
`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), { listed: true, partitions: [0, 1] });
  });

  test('topics and their ids survive a broker restart', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'survivor', numPartitions: 2 }] });
    await admin.disconnect();
    const before = await python(
      broker.bootstrap,
      `
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": BOOTSTRAP}).list_topics(timeout=10)
print(json.dumps(sorted(md.topics.keys())))
`,
    );
    const topicsBefore = lastJson<string[]>(before);
    assert.ok(topicsBefore.includes('survivor'));

    const dataDir = broker.dataDir;
    assert.equal(await broker.stop(), 0, 'clean exit on SIGTERM');
    broker = await startBrokerProcess({ dataDir });
    const after = await python(
      broker.bootstrap,
      `
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": BOOTSTRAP}).list_topics(timeout=10)
print(json.dumps(sorted(md.topics.keys())))
`,
    );
    assert.deepEqual(lastJson<string[]>(after), topicsBefore);
  });
});
