/**
 * Topic and broker configs with real admin clients: DescribeConfigs, AlterConfigs and CreatePartitions
 * through kafkajs and confluent-kafka-python (librdkafka), IncrementalAlterConfigs through Sluice's own
 * client (confluent-kafka-python 1.7 predates it). A changed config reaches the partition logs at once
 * and survives a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { Admin, ResourceType } from '../../src/client/admin.js';
import { KafkaClient } from '../../src/client/client.js';
import { KafkaError } from '../../src/client/errors.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { lastJson, python } from '../helpers/clients.js';

// kafkajs's enum is not importable from ESM (a CommonJS module); its values are Kafka's resource type codes.
const TOPIC = ResourceType.TOPIC as ConfigResourceTypes;
const BROKER = ResourceType.BROKER as ConfigResourceTypes;

describe('topic configs and partitions with real admin clients', () => {
  let broker: BrokerProcess;
  let client: KafkaClient;
  let admin: Admin;

  before(async () => {
    broker = await startBrokerProcess({ overrides: { 'num.partitions': 2 } });
    client = new KafkaClient({ bootstrap: broker.bootstrap });
    admin = new Admin(client);
  });

  after(async () => {
    await client?.close();
    await stopAndRemove(broker);
  });

  const topicConfigs = async (name: string) => {
    const [r] = await admin.describeConfigs([{ type: ResourceType.TOPIC, name }], { synonyms: true });
    assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
    return new Map(r.configs.map((c) => [c.name, c]));
  };

  test('kafkajs describes, alters and grows a topic', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const js = kafka.admin();
    await js.connect();
    try {
      await js.createTopics({
        topics: [{ topic: 'cfg-js', configEntries: [{ name: 'retention.ms', value: '7200000' }] }],
      });
      const described = await js.describeConfigs({
        includeSynonyms: true,
        resources: [{ type: TOPIC, name: 'cfg-js', configNames: ['retention.ms', 'cleanup.policy'] }],
      });
      const entries = new Map(described.resources[0].configEntries.map((e) => [e.configName, e]));
      assert.equal(entries.size, 2, 'only the configs asked for');
      assert.equal(entries.get('retention.ms')?.configValue, '7200000');
      assert.equal(entries.get('retention.ms')?.isDefault, false);
      assert.equal(entries.get('cleanup.policy')?.configValue, 'delete');
      assert.equal(entries.get('cleanup.policy')?.isDefault, true);
      const synonyms = entries.get('retention.ms')?.configSynonyms.map((s) => s.configName);
      assert.deepEqual(synonyms, ['retention.ms', 'log.retention.hours']);

      await js.alterConfigs({
        validateOnly: false,
        resources: [{ type: TOPIC, name: 'cfg-js', configEntries: [{ name: 'segment.ms', value: '60000' }] }],
      });
      const configs = await topicConfigs('cfg-js');
      assert.equal(configs.get('segment.ms')?.value, '60000');
      assert.equal(configs.get('retention.ms')?.isDefault, true, 'AlterConfigs replaces the whole set of overrides');

      await js.createPartitions({ topicPartitions: [{ topic: 'cfg-js', count: 5 }] });
      const md = await js.fetchTopicMetadata({ topics: ['cfg-js'] });
      assert.equal(md.topics[0].partitions.length, 5);
      await assert.rejects(js.createPartitions({ topicPartitions: [{ topic: 'cfg-js', count: 3 }] }), (err: Error) => {
        const text = `${err.message} ${JSON.stringify((err as { errors?: unknown }).errors ?? '')}`;
        return /INVALID_PARTITIONS|partitions/i.test(text);
      });

      const brokerConfigs = await js.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: BROKER, name: '1', configNames: ['num.partitions'] }],
      });
      const np = brokerConfigs.resources[0].configEntries[0];
      assert.deepEqual([np.configName, np.configValue, np.readOnly], ['num.partitions', '2', true]);
    } finally {
      await js.disconnect();
    }
  });

  test('confluent-kafka-python describes, alters and grows a topic and reads broker configs', async () => {
    const r = await python(
      broker.bootstrap,
      `
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, NewPartitions
a = AdminClient({'bootstrap.servers': BOOTSTRAP})
for f in a.create_topics([NewTopic('cfg-py', 2, 1)]).values(): f.result()
out = {}
res = ConfigResource('topic', 'cfg-py', set_config={'retention.ms': '1234567', 'cleanup.policy': 'compact'})
for f in a.alter_configs([res]).values(): f.result()
got = list(a.describe_configs([ConfigResource('topic', 'cfg-py')]).values())[0].result()
out['retention'] = [got['retention.ms'].value, got['retention.ms'].source, got['retention.ms'].is_default]
out['cleanup'] = got['cleanup.policy'].value
out['segment_default'] = [got['segment.bytes'].is_default, got['segment.bytes'].source]
for f in a.create_partitions([NewPartitions('cfg-py', 4)]).values(): f.result()
md = a.list_topics('cfg-py', timeout=10)
out['partitions'] = len(md.topics['cfg-py'].partitions)
try:
    for f in a.create_partitions([NewPartitions('cfg-py', 4)]).values(): f.result()
    out['same_count'] = 'accepted'
except Exception as e:
    out['same_count'] = e.args[0].name()
try:
    list(a.describe_configs([ConfigResource('topic', 'no-such-topic')]).values())[0].result()
    out['missing'] = 'found'
except Exception as e:
    out['missing'] = e.args[0].name()
b = list(a.describe_configs([ConfigResource('broker', '1')]).values())[0].result()
out['broker'] = [b['log.retention.hours'].value, b['log.retention.hours'].is_read_only]
print(json.dumps(out))
`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lastJson(r), {
      retention: ['1234567', 1, false],
      cleanup: 'compact',
      segment_default: [true, 5],
      partitions: 4,
      same_count: 'INVALID_PARTITIONS',
      missing: 'UNKNOWN_TOPIC_OR_PART', // librdkafka's name for it
      broker: ['168', true],
    });
  });

  test('incremental changes set, delete, append and subtract, and are checked', async () => {
    await admin.createTopics([{ name: 'cfg-inc', configs: { 'retention.ms': '5000', 'segment.ms': '70000' } }]);
    const [ok] = await admin.incrementalAlterConfigs([
      {
        type: ResourceType.TOPIC,
        name: 'cfg-inc',
        ops: [
          { name: 'retention.ms', op: 'delete' },
          { name: 'max.message.bytes', op: 'set', value: '2000' },
          { name: 'cleanup.policy', op: 'append', value: 'compact' },
        ],
      },
    ]);
    assert.equal(ok.errorCode, ErrorCode.NONE, ok.errorMessage ?? '');
    let configs = await topicConfigs('cfg-inc');
    assert.equal(configs.get('retention.ms')?.isDefault, true);
    assert.equal(configs.get('segment.ms')?.value, '70000', 'keys not named keep their overrides');
    assert.equal(configs.get('cleanup.policy')?.value, 'delete,compact');
    await admin.incrementalAlterConfigs([
      { type: ResourceType.TOPIC, name: 'cfg-inc', ops: [{ name: 'cleanup.policy', op: 'subtract', value: 'delete' }] },
    ]);
    configs = await topicConfigs('cfg-inc');
    assert.equal(configs.get('cleanup.policy')?.value, 'compact');

    const outcomes = await admin.incrementalAlterConfigs([
      { type: ResourceType.TOPIC, name: 'cfg-inc', ops: [{ name: 'retention.ms', op: 'append', value: '1' }] },
      { type: ResourceType.TOPIC, name: 'no-such-topic', ops: [{ name: 'retention.ms', op: 'set', value: '1' }] },
      { type: ResourceType.BROKER, name: '1', ops: [{ name: 'num.partitions', op: 'set', value: '3' }] },
      { type: 16, name: 'x', ops: [] },
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.errorCode),
      [
        ErrorCode.INVALID_CONFIG,
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
      ],
    );
    const [bad] = await admin.alterConfigs([
      { type: ResourceType.TOPIC, name: 'cfg-inc', configs: { 'retention.ms': 'soon' } },
    ]);
    assert.equal(bad.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(bad.errorMessage ?? '', /retention\.ms/);
    const [validated] = await admin.incrementalAlterConfigs(
      [{ type: ResourceType.TOPIC, name: 'cfg-inc', ops: [{ name: 'segment.ms', op: 'set', value: '80000' }] }],
      { validateOnly: true },
    );
    assert.equal(validated.errorCode, ErrorCode.NONE);
    assert.equal((await topicConfigs('cfg-inc')).get('segment.ms')?.value, '70000', 'validate-only changes nothing');
  });

  test('a changed max.message.bytes applies to the next produce, and overrides survive a restart', async () => {
    await admin.createTopics([{ name: 'cfg-live', partitions: 1 }]);
    const producer = new Producer(client, { acks: 1 });
    const big = 'x'.repeat(5000);
    await producer.send('cfg-live', [{ value: big }]);
    await admin.incrementalAlterConfigs([
      { type: ResourceType.TOPIC, name: 'cfg-live', ops: [{ name: 'max.message.bytes', op: 'set', value: '1000' }] },
    ]);
    await assert.rejects(
      producer.send('cfg-live', [{ value: big }]),
      (err: unknown) => err instanceof KafkaError && err.code === ErrorCode.MESSAGE_TOO_LARGE,
    );
    await producer.send('cfg-live', [{ value: 'small' }]);

    await client.close();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir: broker.dataDir });
    client = new KafkaClient({ bootstrap: broker.bootstrap });
    admin = new Admin(client);
    const configs = await topicConfigs('cfg-live');
    assert.equal(configs.get('max.message.bytes')?.value, '1000');
    assert.equal((await client.topic('cfg-js')).partitions.length, 5, 'added partitions survive too');
  });
});
