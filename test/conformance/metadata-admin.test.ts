/**
 * Differential conformance of Metadata, topic administration (CreateTopics, DeleteTopics, CreatePartitions,
 * DeleteRecords, OffsetForLeaderEpoch), configs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs)
 * and DescribeCluster against Kafka 4.3.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ProduceApi } from '../../src/protocol/generated/00-produce.js';
import { MetadataApi, type MetadataRequest, type MetadataResponse } from '../../src/protocol/generated/03-metadata.js';
import { CreateTopicsApi, type CreateTopicsResponse } from '../../src/protocol/generated/19-create-topics.js';
import { DeleteTopicsApi } from '../../src/protocol/generated/20-delete-topics.js';
import { DeleteRecordsApi } from '../../src/protocol/generated/21-delete-records.js';
import { OffsetForLeaderEpochApi } from '../../src/protocol/generated/23-offset-for-leader-epoch.js';
import { DescribeConfigsApi, type DescribeConfigsResponse } from '../../src/protocol/generated/32-describe-configs.js';
import { AlterConfigsApi } from '../../src/protocol/generated/33-alter-configs.js';
import { CreatePartitionsApi } from '../../src/protocol/generated/37-create-partitions.js';
import { IncrementalAlterConfigsApi } from '../../src/protocol/generated/44-incremental-alter-configs.js';
import { DescribeClusterApi } from '../../src/protocol/generated/60-describe-cluster.js';
import { ZERO_UUID } from '../../src/protocol/reader.js';
import { buildRecordBatch } from '../../src/records/index.js';
import { type Differential, type SideName, uniqueName, useDifferential } from './differential.js';

// Kafka's peer sets num.partitions=1 in its properties; the same static setting on Sluice.
const harness = useDifferential({ sluice: { 'num.partitions': 1 } });
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;

function metadata(topics: string[] | null, allowAutoTopicCreation = false): MetadataRequest {
  return {
    ...MetadataApi.defaultRequest(),
    topics: topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation,
  };
}

/** Internal topics appear on each broker when its coordinators first start; only user topics are compared. */
function userTopicsOnly(body: MetadataResponse): void {
  body.topics = body.topics.filter((t) => !t.name?.startsWith('__')).sort((a, b) => (a.name! < b.name! ? -1 : 1));
}

function createTopicsRequest(
  name: string,
  options: {
    partitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
    validateOnly?: boolean;
  } = {},
) {
  return {
    ...CreateTopicsApi.defaultRequest(),
    timeoutMs: 30_000,
    validateOnly: options.validateOnly ?? false,
    topics: [
      {
        name,
        numPartitions: options.partitions ?? 1,
        replicationFactor: options.replicationFactor ?? 1,
        assignments: [],
        configs: Object.entries(options.configs ?? {}).map(([n, value]) => ({ name: n, value })),
      },
    ],
  };
}

/**
 * CreateTopics v5+ answers every config of the new topic. Kafka has topic configs Sluice does not (tiered
 * storage, compaction tuning, …; docs/kafka-differences.md): the configs both list are compared.
 */
function configsBothKnow({ kafka, sluice }: { kafka: CreateTopicsResponse; sluice: CreateTopicsResponse }): void {
  kafka.topics.forEach((k, i) => {
    const s = sluice.topics[i];
    if (!s || !k.configs || !s.configs) return;
    // min.insync.replicas: Kafka's storage format sets it as a cluster-wide dynamic default (source 3).
    const kNames = new Set(k.configs.map((c) => c.name).filter((n) => n !== 'min.insync.replicas'));
    const sNames = new Set(s.configs.map((c) => c.name));
    k.configs = k.configs.filter((c) => sNames.has(c.name) && kNames.has(c.name)).sort(byName);
    s.configs = s.configs.filter((c) => kNames.has(c.name)).sort(byName);
  });
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

async function produceSome(d: Differential, topic: string, count: number): Promise<void> {
  const batch = buildRecordBatch(Array.from({ length: count }, (_, i) => ({ value: `v${i}`, timestamp: 1000 + i })));
  await d.send(ProduceApi, 9, {
    ...ProduceApi.defaultRequest(),
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
}

describe('Metadata, topic admin and configs against Apache Kafka', { skip: harness.skip }, () => {
  test('Metadata answers the same for named, unknown and invalid topics at every version both serve', async () => {
    const d = harness.get();
    const topic = uniqueName('metadata');
    await d.createTopic(topic, 3);
    for (const version of d.commonVersions(MetadataApi)) {
      await d.compare(MetadataApi, version, metadata([topic]));
      if (version >= 4) {
        await d.compare(MetadataApi, version, metadata([uniqueName('unknown')]));
        await d.compare(MetadataApi, version, metadata(['bad name!', '..']));
      }
      // v1+: an empty list asks for no topics, null for all of them (v0 has no null: empty means all).
      if (version >= 1) await d.compare(MetadataApi, version, metadata([]));
      await d.compare(MetadataApi, version, metadata(version >= 1 ? null : []), { normalise: userTopicsOnly });
    }
  });

  test('Metadata v10+ by topic id answers as Kafka does for a known and an unknown id', async () => {
    const d = harness.get();
    const topic = uniqueName('metadata-ids');
    await d.createTopic(topic);
    for (const version of d.commonVersions(MetadataApi).filter((v) => v >= 10)) {
      await d.compare(MetadataApi, version, (side: SideName) => ({
        ...metadata([]),
        topics: [{ topicId: d.topicId(side, topic), name: null }],
      }));
      await d.compare(MetadataApi, version, {
        ...metadata([]),
        topics: [{ topicId: '0123456789abcdef0123456789abcdef', name: null }],
      });
    }
  });

  test('Metadata with auto-creation: Kafka answers UNKNOWN_TOPIC_OR_PARTITION until its controller created the topic, Sluice answers it at once', async () => {
    const d = harness.get();
    const topic = uniqueName('auto-created');
    const first = await d.send(MetadataApi, 12, metadata([topic], true));
    assert.equal(first.kafka.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(first.sluice.topics[0]!.errorCode, ErrorCode.NONE);
    for (;;) {
      const { kafka } = await d.send(MetadataApi, 12, metadata([topic]));
      if (kafka.topics[0]!.errorCode === 0 && kafka.topics[0]!.partitions.every((p) => p.leaderId >= 0)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await d.compare(MetadataApi, 12, metadata([topic], true));
  });

  test('CreateTopics answers the same at every version both serve, for new, duplicate and invalid topics', async () => {
    const d = harness.get();
    for (const version of d.commonVersions(CreateTopicsApi)) {
      const topic = uniqueName(`create-v${version}`);
      const answers = await d.compare(CreateTopicsApi, version, createTopicsRequest(topic, { partitions: 2 }), {
        normaliseBoth: configsBothKnow,
      });
      assert.equal(answers!.kafka.topics[0]!.errorCode, 0);
      await d.compare(CreateTopicsApi, version, createTopicsRequest(topic), {
        normaliseBoth: configsBothKnow,
      });
      for (const bad of [
        createTopicsRequest('bad name!'),
        createTopicsRequest(uniqueName('zero-partitions'), { partitions: 0 }),
        createTopicsRequest(uniqueName('rf3'), { replicationFactor: 3 }),
        createTopicsRequest(uniqueName('bad-config'), { configs: { 'no.such.config': '1' } }),
        createTopicsRequest(uniqueName('bad-value'), { configs: { 'retention.ms': 'soon' } }),
        createTopicsRequest(uniqueName('validate-only'), { validateOnly: true, configs: { 'retention.ms': '1000' } }),
      ]) {
        await d.compare(CreateTopicsApi, version, bad, { normaliseBoth: configsBothKnow });
      }
    }
  });

  test('DeleteTopics answers the same for known and unknown topics, by name and (v6) by id', async () => {
    const d = harness.get();
    for (const version of d.commonVersions(DeleteTopicsApi)) {
      const topic = uniqueName(`delete-v${version}`);
      await d.createTopic(topic);
      const request = (side: SideName) =>
        version >= 6
          ? {
              ...DeleteTopicsApi.defaultRequest(),
              timeoutMs: 30_000,
              topics: [{ name: null, topicId: d.topicId(side, topic) }],
            }
          : { ...DeleteTopicsApi.defaultRequest(), timeoutMs: 30_000, topicNames: [topic] };
      await d.compare(DeleteTopicsApi, version, request);
      await d.compare(DeleteTopicsApi, version, {
        ...DeleteTopicsApi.defaultRequest(),
        timeoutMs: 30_000,
        topicNames: [uniqueName('never-created')],
        topics: [{ name: uniqueName('never-created'), topicId: ZERO_UUID }],
      });
    }
  });

  test('CreatePartitions answers the same when adding, keeping and removing partitions', async () => {
    const d = harness.get();
    for (const version of d.commonVersions(CreatePartitionsApi)) {
      const topic = uniqueName(`partitions-v${version}`);
      await d.createTopic(topic, 2);
      for (const count of [4, 4, 1]) {
        await d.compare(CreatePartitionsApi, version, {
          ...CreatePartitionsApi.defaultRequest(),
          timeoutMs: 30_000,
          topics: [{ name: topic, count, assignments: null }],
        });
      }
      await d.compare(CreatePartitionsApi, version, {
        ...CreatePartitionsApi.defaultRequest(),
        timeoutMs: 30_000,
        topics: [{ name: uniqueName('never-created'), count: 3, assignments: null }],
      });
    }
  });

  test('DeleteRecords answers the same low watermarks and errors', async () => {
    const d = harness.get();
    for (const version of d.commonVersions(DeleteRecordsApi)) {
      const topic = uniqueName(`delete-records-v${version}`);
      await d.createTopic(topic);
      await produceSome(d, topic, 5);
      for (const offset of [2n, 1n, -1n, 9n]) {
        await d.compare(
          DeleteRecordsApi,
          version,
          {
            timeoutMs: 10_000,
            topics: [
              { name: topic, partitions: [{ partitionIndex: 0, offset }] },
              { name: `zz-${uniqueName('never-created')}`, partitions: [{ partitionIndex: 0, offset }] },
            ],
          },
          { normalise: (body) => body.topics.sort(byName) },
        );
      }
    }
  });

  test('OffsetForLeaderEpoch answers the same end offsets for the current, an older and a future epoch', async () => {
    const d = harness.get();
    const topic = uniqueName('leader-epoch');
    await d.createTopic(topic);
    await produceSome(d, topic, 3);
    for (const version of d.commonVersions(OffsetForLeaderEpochApi)) {
      for (const [currentLeaderEpoch, leaderEpoch] of [
        [-1, 0],
        [0, 0],
        [-1, 5],
        [3, 0],
      ]) {
        await d.compare(OffsetForLeaderEpochApi, version, {
          replicaId: -1,
          topics: [
            {
              topic,
              partitions: [
                { partition: 0, currentLeaderEpoch: currentLeaderEpoch!, leaderEpoch: leaderEpoch! },
                { partition: 4, currentLeaderEpoch: -1, leaderEpoch: 0 },
              ],
            },
          ],
        });
      }
    }
  });

  test('DescribeConfigs answers the same values, sources and flags for the topic configs both know', async () => {
    const d = harness.get();
    const topic = uniqueName('configs');
    await d.createTopic(topic, 1, { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
    // min.insync.replicas is left out: Kafka's storage format sets it as a cluster-wide dynamic default.
    const keys = [
      'retention.ms',
      'cleanup.policy',
      'segment.bytes',
      'max.message.bytes',
      'message.timestamp.type',
      'retention.bytes',
    ];
    for (const version of d.commonVersions(DescribeConfigsApi)) {
      await d.compare(
        DescribeConfigsApi,
        version,
        {
          resources: [
            { resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: keys },
            { resourceType: TOPIC_RESOURCE, resourceName: uniqueName('never-created'), configurationKeys: null },
          ],
          includeSynonyms: version >= 1,
          includeDocumentation: false,
        },
        { normalise: sortConfigs },
      );
    }
  });

  test('DescribeConfigs of the broker answers the same for settings both have', async () => {
    const d = harness.get();
    const keys = [
      'num.partitions',
      'message.max.bytes',
      'auto.create.topics.enable',
      'log.retention.hours',
      'log.segment.bytes',
    ];
    for (const version of d.commonVersions(DescribeConfigsApi)) {
      await d.compare(
        DescribeConfigsApi,
        version,
        {
          resources: [{ resourceType: BROKER_RESOURCE, resourceName: '1', configurationKeys: keys }],
          includeSynonyms: false,
          includeDocumentation: false,
        },
        { normalise: brokerConfigs },
      );
    }
  });

  test('AlterConfigs and IncrementalAlterConfigs answer the same for valid, unknown and invalid configs', async () => {
    const d = harness.get();
    const topic = uniqueName('alter-configs');
    await d.createTopic(topic);
    for (const version of d.commonVersions(AlterConfigsApi)) {
      for (const configs of [
        [{ name: 'retention.ms', value: '7200000' }],
        [{ name: 'no.such.config', value: '1' }],
        [{ name: 'retention.ms', value: 'later' }],
      ]) {
        await d.compare(AlterConfigsApi, version, {
          validateOnly: false,
          resources: [
            { resourceType: TOPIC_RESOURCE, resourceName: topic, configs },
            { resourceType: TOPIC_RESOURCE, resourceName: uniqueName('never-created'), configs },
          ],
        });
      }
    }
    for (const version of d.commonVersions(IncrementalAlterConfigsApi)) {
      for (const [configOperation, name, value] of [
        [0, 'retention.ms', '600000'],
        [1, 'retention.ms', null],
        [0, 'no.such.config', '1'],
        [2, 'cleanup.policy', 'compact'],
        [3, 'cleanup.policy', 'compact'],
      ] as const) {
        await d.compare(IncrementalAlterConfigsApi, version, {
          validateOnly: false,
          resources: [
            { resourceType: TOPIC_RESOURCE, resourceName: topic, configs: [{ name, configOperation, value }] },
            {
              resourceType: TOPIC_RESOURCE,
              resourceName: uniqueName('never-created'),
              configs: [{ name, configOperation, value }],
            },
          ],
        });
      }
      await d.compare(
        DescribeConfigsApi,
        4,
        {
          resources: [
            {
              resourceType: TOPIC_RESOURCE,
              resourceName: topic,
              configurationKeys: ['retention.ms', 'cleanup.policy'],
            },
          ],
          includeSynonyms: false,
          includeDocumentation: false,
        },
        { normalise: sortConfigs },
      );
    }
  });

  test('DescribeCluster answers the same at every version both serve', async () => {
    const d = harness.get();
    for (const version of d.commonVersions(DescribeClusterApi)) {
      await d.compare(DescribeClusterApi, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    }
  });
});

/** Configs sorted by name (Kafka answers them in hash order) and retention.ms's broker synonyms dropped. */
function sortConfigs(body: DescribeConfigsResponse): void {
  for (const r of body.results) {
    r.configs.sort(byName);
    for (const c of r.configs) {
      // docs/kafka-differences.md: Sluice names log.retention.hours among retention.ms's synonyms.
      if (c.name === 'retention.ms') c.synonyms = c.synonyms.filter((s) => s.source !== 5);
    }
  }
}

/**
 * Broker settings are static in Sluice (read-only, skipped-features.md), and it reports a setting equal
 * to its default as DEFAULT_CONFIG even when given: both are documented differences.
 */
function brokerConfigs(body: DescribeConfigsResponse): void {
  sortConfigs(body);
  for (const r of body.results) {
    for (const c of r.configs) {
      c.readOnly = false;
      if (c.configSource === 4) c.configSource = 5;
      c.isDefault = false;
      for (const s of c.synonyms) if (s.source === 4) s.source = 5;
    }
  }
}
