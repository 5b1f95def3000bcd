/**
 * What a handler can reach of its broker: the named services below, not the whole Broker (Redpanda's
 * `request_context` does the same). The list is what handlers and the helpers they call
 * (partition-lookup.ts, topic-admin.ts) use. Broker implements it; a test can build one without a broker.
 *
 * This file imports types only from modules that do not import broker.ts, so handlers, the registry and
 * the dispatcher no longer depend on the Broker class, even at type level.
 */

import type { MetadataSource } from '../cluster/metadata-source.js';
import type { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { CredentialStore } from '../network/sasl/credential-store.js';
import type { ErrorCode } from '../protocol/error-codes.js';
import type { LogConfig, LogStore, PartitionLog } from '../storage/index.js';
import type { Authorizer } from './authorizer.js';
import type { BrokerConfig, Listener } from './config.js';
import type { Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';
import type { ClientQuotas } from './quotas/client-quotas.js';
import type { effectiveTopicConfigs } from './topic-config.js';
import type { TopicInfo, TopicRegistry } from './topics.js';

export interface TopicOutcome {
  errorCode: ErrorCode;
  errorMessage: string | null;
  topic?: TopicInfo;
}

export interface CreateTopicRequest {
  name: string;
  /** -1: the broker's num.partitions. */
  partitions: number;
  /** -1: the broker's default.replication.factor. */
  replicationFactor: number;
  configs?: Record<string, string | null>;
  validateOnly?: boolean;
}

/** A served API's version range, as ApiVersions lists it. */
export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface BrokerServices {
  readonly nodeId: number;
  readonly clusterId: string;
  /** The cluster's metadata image (live brokers, controller): this broker alone, or etcd's view. */
  readonly cluster: Pick<MetadataSource, 'image'>;
  /** Host and port clients are told to connect to. */
  readonly advertised: Listener;
  /** The advertised address of the listener a client connected to (Metadata, FindCoordinator, DescribeCluster). */
  advertisedFor(listenerName: string | undefined): Listener;
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly metrics: BrokerMetrics;
  /** The topics this broker knows; changed only through the topic lifecycle below. */
  readonly topics: Pick<TopicRegistry, 'get' | 'getById' | 'list' | 'update'>;
  /** The log of a partition, or undefined when the partition does not exist. */
  partition(topic: string, partition: number): PartitionLog | undefined;
  /** The group coordinator; undefined on a broker without one (group APIs answer COORDINATOR_NOT_AVAILABLE). */
  readonly groups?: GroupCoordinator;
  /** The served API versions (ApiVersions). */
  readonly registry: { ranges(): ApiRange[] };

  // The topic lifecycle (CreateTopics, DeleteTopics, CreatePartitions, configs, auto-creation).
  createTopic(req: CreateTopicRequest): Promise<TopicOutcome>;
  autoCreateTopic(name: string): Promise<TopicOutcome>;
  deleteTopic(name: string): Promise<TopicOutcome>;
  /** Runs a change to the set of topics after the changes before it (see Broker.changeTopics). */
  changeTopics<T>(change: () => Promise<T>): Promise<T>;
  effectiveTopicConfigs(topic: TopicInfo): ReturnType<typeof effectiveTopicConfigs>;
  logConfig(topic: TopicInfo): LogConfig;
  readonly logs: Pick<LogStore, 'getOrCreate'> & {
    readonly producerIds: Pick<LogStore['producerIds'], 'generateProducerId'>;
  };
  /** SCRAM credentials of SASL users (DescribeUserScramCredentials, AlterUserScramCredentials). */
  readonly credentials: CredentialStore;
  /** Client quotas: their configs (DescribeClientQuotas, AlterClientQuotas) and a fetch's byte cap. */
  readonly quotas: ClientQuotas;
  /** ACLs and their checks (authorizer.ts); absent (everything allowed) in tests that build services by hand. */
  readonly authorizer?: Authorizer;
}
