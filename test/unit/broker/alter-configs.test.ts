/**
 * AlterConfigs and IncrementalAlterConfigs answer each resource on its own: repeated resources and keys,
 * broker resources and unknown resource types are refused the same way by both; topics are changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigResourceType } from '../../../src/broker/topic-admin.js';
import { Connection } from '../../../src/client/connection.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { AlterConfigsApi } from '../../../src/protocol/generated/33-alter-configs.js';
import { IncrementalAlterConfigsApi } from '../../../src/protocol/generated/44-incremental-alter-configs.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';

const SET = 0;
const BROKER_IS_STATIC = 'Broker settings cannot be changed while Sluice runs: restart it with --override KEY=VALUE';

describe('AlterConfigs and IncrementalAlterConfigs', () => {
  let kafka: EmbeddedBroker;
  let connection: Connection;

  before(async () => {
    kafka = await startBroker({ topics: ['orders', 'events'] });
    connection = await Connection.connect({ host: '127.0.0.1', port: kafka.port });
  });

  after(async () => {
    connection?.close();
    await kafka?.stop();
  });

  const resources = <C>(configs: (name: string, value: string) => C) => [
    { resourceType: ConfigResourceType.TOPIC, resourceName: 'orders', configs: [configs('retention.ms', '1000')] },
    { resourceType: ConfigResourceType.TOPIC, resourceName: 'twice', configs: [] },
    { resourceType: ConfigResourceType.TOPIC, resourceName: 'twice', configs: [] },
    {
      resourceType: ConfigResourceType.TOPIC,
      resourceName: 'events',
      configs: [configs('retention.ms', '1'), configs('retention.ms', '2')],
    },
    { resourceType: ConfigResourceType.TOPIC, resourceName: 'missing', configs: [] },
    { resourceType: ConfigResourceType.BROKER, resourceName: '', configs: [] },
    { resourceType: ConfigResourceType.BROKER, resourceName: '7', configs: [] },
    { resourceType: ConfigResourceType.BROKER_LOGGER, resourceName: 'x', configs: [] },
  ];

  /** One answer per resource of `resources()`, in its order; only the repeated key is worded per API. */
  function assertAnswers(
    answers: Array<{ resourceType: number; resourceName: string; errorCode: number; errorMessage: string | null }>,
    duplicateKey: string,
  ): void {
    assert.deepEqual(
      answers.map((r) => [r.resourceType, r.resourceName]),
      resources(() => ({})).map((r) => [r.resourceType, r.resourceName]),
    );
    assert.deepEqual(
      answers.map((r) => [r.errorCode, r.errorMessage]),
      [
        [ErrorCode.NONE, null],
        [ErrorCode.INVALID_REQUEST, 'Duplicate resource in the request'],
        [ErrorCode.INVALID_REQUEST, 'Duplicate resource in the request'],
        [ErrorCode.INVALID_REQUEST, duplicateKey],
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "Topic 'missing' does not exist"],
        [ErrorCode.INVALID_REQUEST, BROKER_IS_STATIC],
        [
          ErrorCode.INVALID_REQUEST,
          `Unexpected broker id, expected ${kafka.broker.nodeId} or empty string, but received 7`,
        ],
        [ErrorCode.INVALID_REQUEST, 'Sluice does not alter configs of resource type 8; use 2 (topic)'],
      ],
    );
  }

  test('AlterConfigs answers each resource in request order and replaces the topic overrides', async () => {
    const response = await connection.send(AlterConfigsApi, {
      ...AlterConfigsApi.defaultRequest(),
      resources: resources((name, value) => ({ name, value })),
      validateOnly: false,
    });
    assertAnswers(response.responses, 'Duplicate config key retention.ms');
    assert.deepEqual(kafka.broker.topics.get('orders')?.configs, { 'retention.ms': '1000' });
    assert.deepEqual(kafka.broker.topics.get('events')?.configs, {});
  });

  test('IncrementalAlterConfigs answers the same way, with its own words for a repeated key', async () => {
    const response = await connection.send(IncrementalAlterConfigsApi, {
      ...IncrementalAlterConfigsApi.defaultRequest(),
      resources: resources((name, value) => ({ name, configOperation: SET, value })),
      validateOnly: false,
    });
    assertAnswers(response.responses, 'Error due to duplicate config keys: retention.ms');
    assert.deepEqual(kafka.broker.topics.get('orders')?.configs, { 'retention.ms': '1000' });
  });

  test('validateOnly checks a topic change without making it', async () => {
    const response = await connection.send(IncrementalAlterConfigsApi, {
      ...IncrementalAlterConfigsApi.defaultRequest(),
      resources: [
        {
          resourceType: ConfigResourceType.TOPIC,
          resourceName: 'events',
          configs: [{ name: 'retention.ms', configOperation: SET, value: '5' }],
        },
      ],
      validateOnly: true,
    });
    assert.deepEqual(
      response.responses.map((r) => [r.errorCode, r.errorMessage]),
      [[ErrorCode.NONE, null]],
    );
    assert.deepEqual(kafka.broker.topics.get('events')?.configs, {});
  });
});
