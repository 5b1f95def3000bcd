/**
 * A BrokerServices for handler tests that need no broker: defaults for everything, and the services a
 * test names. A service the test did not expect to be used rejects or throws, naming itself.
 */
import { buildConfig } from '../../src/broker/config.js';
import type { BrokerServices } from '../../src/broker/handler-context.js';
import { silentLogger } from '../../src/broker/logger.js';
import { NO_METRICS } from '../../src/broker/metrics.js';
import { ClientQuotas } from '../../src/broker/quotas/client-quotas.js';
import type { TopicInfo } from '../../src/broker/topics.js';
import { CredentialStore } from '../../src/network/sasl/credential-store.js';

function unused(name: string): () => never {
  return () => {
    throw new Error(`this test's broker has no ${name}`);
  };
}

/** Topics as a plain list: `get`, `getById` and `list` over `topics`. */
export function topicsOf(topics: TopicInfo[]): BrokerServices['topics'] {
  return {
    get: (name) => topics.find((t) => t.name === name),
    getById: (id) => topics.find((t) => t.topicId === id),
    list: () => [...topics],
    update: unused('topics.update'),
  };
}

export function fakeServices(services: Partial<BrokerServices> = {}): BrokerServices {
  const broker: Omit<BrokerServices, 'advertisedFor'> & Partial<BrokerServices> = {
    nodeId: 1,
    clusterId: 'test-cluster',
    advertised: { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 },
    // The fake broker alone, at its advertised address, and its own controller.
    cluster: {
      image: () => ({
        clusterId: 'test-cluster',
        controllerId: 1,
        brokers: [
          {
            nodeId: 1,
            rack: null,
            listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }],
            brokerEpoch: -1n,
          },
        ],
      }),
    },
    config: buildConfig([]),
    logger: silentLogger(),
    metrics: NO_METRICS,
    topics: topicsOf([]),
    partition: () => undefined,
    registry: { ranges: () => [] },
    createTopic: unused('createTopic'),
    autoCreateTopic: unused('autoCreateTopic'),
    deleteTopic: unused('deleteTopic'),
    changeTopics: unused('changeTopics'),
    effectiveTopicConfigs: unused('effectiveTopicConfigs'),
    logConfig: unused('logConfig'),
    logs: {
      getOrCreate: unused('logs'),
      producerIds: { generateProducerId: unused('producerIds') },
    },
    credentials: new CredentialStore(null, silentLogger()),
    // No quota is ever set on a fake broker: the dispatcher skips quota accounting while none is.
    quotas: new ClientQuotas(null, { samples: 11, windowMs: 1000 }, NO_METRICS),
    ...services,
  };
  // Unless a test says otherwise, every listener advertises the one address the fake broker has.
  return { advertisedFor: () => broker.advertised, ...broker };
}
