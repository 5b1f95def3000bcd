/**
 * The compaction topic configs are accepted with Kafka's names, defaults (from log.cleaner.*) and ranges, and
 * reach the partition logs' config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';

describe('compaction topic configs', () => {
  let kafka: EmbeddedBroker;

  before(async () => {
    kafka = await startBroker({ config: { 'log.cleaner.delete.retention.ms': 5000 } });
  });

  after(async () => {
    await kafka?.stop();
  });

  test('a compacted topic takes them, and its logs use them', async () => {
    const outcome = await kafka.broker.createTopic({
      name: 'settled',
      partitions: 1,
      replicationFactor: -1,
      configs: {
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': '0.1',
        'min.compaction.lag.ms': '10',
        'max.compaction.lag.ms': '1000',
      },
    });
    assert.equal(outcome.errorCode, ErrorCode.NONE, outcome.errorMessage ?? '');
    const config = kafka.broker.partition('settled', 0)!.config;
    assert.equal(config.minCleanableDirtyRatio, 0.1);
    assert.equal(config.minCompactionLagMs, 10);
    assert.equal(config.maxCompactionLagMs, 1000);
    assert.equal(config.deleteRetentionMs, 5000, 'from log.cleaner.delete.retention.ms');
  });

  test('defaults are Kafka’s, shown as DescribeConfigs shows them', () => {
    const effective = kafka.broker.effectiveTopicConfigs({
      name: 'x',
      partitions: 1,
      replicationFactor: 1,
      configs: {},
      internal: false,
      topicId: '0'.repeat(32),
    });
    assert.equal(effective['min.cleanable.dirty.ratio']!.value, '0.5');
    assert.equal(effective['min.compaction.lag.ms']!.value, '0');
    assert.equal(effective['max.compaction.lag.ms']!.value, '9223372036854775807');
    assert.equal(effective['delete.retention.ms']!.value, '5000');
  });

  test('values out of range, or a minimum lag above the maximum, are INVALID_CONFIG', async () => {
    const refused: Array<Record<string, string>> = [
      { 'min.cleanable.dirty.ratio': '1.5' },
      { 'delete.retention.ms': '-1' },
      { 'max.compaction.lag.ms': '0' },
      { 'min.compaction.lag.ms': '2000', 'max.compaction.lag.ms': '1000' },
    ];
    for (const configs of refused) {
      const outcome = await kafka.broker.createTopic({
        name: 'refused',
        partitions: 1,
        replicationFactor: -1,
        configs,
      });
      assert.equal(outcome.errorCode, ErrorCode.INVALID_CONFIG, JSON.stringify(configs));
    }
  });
});
