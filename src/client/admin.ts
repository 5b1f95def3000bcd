/**
 * Administration: the cluster (brokers, controller, API versions), topics (create, list, describe, delete,
 * grow), configs (describe, replace, change incrementally) and consumer groups (list, describe, committed
 * offsets, commit, delete offsets, delete) and client quotas (describe, alter). Each method
 * returns per-item outcomes where Kafka answers per item, and throws KafkaError where it answers once.
 */
import type { ApiDescriptor } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { OffsetCommitApi } from '../protocol/generated/08-offset-commit.js';
import { OffsetFetchApi } from '../protocol/generated/09-offset-fetch.js';
import { DescribeGroupsApi } from '../protocol/generated/15-describe-groups.js';
import { ListGroupsApi } from '../protocol/generated/16-list-groups.js';
import { CreateTopicsApi } from '../protocol/generated/19-create-topics.js';
import { DeleteTopicsApi } from '../protocol/generated/20-delete-topics.js';
import { DescribeConfigsApi } from '../protocol/generated/32-describe-configs.js';
import { AlterConfigsApi } from '../protocol/generated/33-alter-configs.js';
import { CreatePartitionsApi } from '../protocol/generated/37-create-partitions.js';
import { DeleteGroupsApi } from '../protocol/generated/42-delete-groups.js';
import { IncrementalAlterConfigsApi } from '../protocol/generated/44-incremental-alter-configs.js';
import { OffsetDeleteApi } from '../protocol/generated/47-offset-delete.js';
import { DescribeClientQuotasApi } from '../protocol/generated/48-describe-client-quotas.js';
import { AlterClientQuotasApi } from '../protocol/generated/49-alter-client-quotas.js';
import { DescribeClusterApi } from '../protocol/generated/60-describe-cluster.js';
import {
  type ConsumerProtocolAssignment,
  decodeConsumerProtocolAssignment,
} from '../protocol/generated/consumer-protocol-assignment.js';
import { Reader, ZERO_UUID } from '../protocol/reader.js';
import type { BrokerInfo, KafkaClient, TopicMetadata } from './client.js';
import { KafkaError } from './errors.js';

/** Kafka's ConfigResource.Type codes. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's ConfigEntry.ConfigSource codes, by name. */
export const CONFIG_SOURCE_NAMES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
};

export interface Outcome {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/** One resource's answer to AlterConfigs and IncrementalAlterConfigs (the same fields in both). */
interface AlterConfigsResult {
  resourceName: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface NewTopic {
  name: string;
  /** -1 (default): the broker's num.partitions. */
  partitions?: number;
  /** -1 (default): the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface ConfigResource {
  type: number;
  name: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: number;
  sensitive: boolean;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
  documentation: string | null;
}

export interface ResourceConfigs extends ConfigResource {
  errorCode: number;
  errorMessage: string | null;
  configs: ConfigEntry[];
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';
const OPERATION_CODES: Record<ConfigOperation, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string | null;
  coordinator: number;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The consumer protocol assignment, when the group is a consumer group and the bytes decode. */
  assignment: Array<{ topic: string; partitions: number[] }>;
}

export interface GroupDescription {
  groupId: string;
  errorCode: number;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
  coordinator: number;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when the group has no offset for this partition. */
  offset: bigint;
  metadata: string | null;
  errorCode: number;
}

/** One component of a client quota entity: `user`, `client-id` or `ip`, and a name (null: the type's `<default>`). */
export interface QuotaEntityComponent {
  entityType: string;
  entityName: string | null;
}

/** DescribeClientQuotas match types (Kafka's ClientQuotaFilterComponent): a name, the default, any. */
export const QuotaMatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  /** The name for EXACT; null otherwise. */
  match: string | null;
}

export interface ClientQuotaEntry {
  entity: QuotaEntityComponent[];
  values: Record<string, number>;
}

export interface ClientQuotaAlteration {
  entity: QuotaEntityComponent[];
  /** A number sets the key; null removes it. */
  ops: Record<string, number | null>;
}

export interface ClientQuotaAlterOutcome {
  entity: QuotaEntityComponent[];
  errorCode: number;
  errorMessage: string | null;
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  /** Which request answered: DescribeCluster (Kafka 2.8+) or Metadata (older brokers). */
  source: 'DescribeCluster' | 'Metadata';
}

export interface OffsetDeleteResult {
  /** The group-level answer: NONE, or e.g. GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP. */
  errorCode: number;
  partitions: Array<{ topic: string; partition: number; errorCode: number }>;
}

export class Admin {
  constructor(readonly client: KafkaClient) {}

  /**
   * The cluster id, controller and brokers. DescribeCluster (KIP-700) where the broker serves it, since it
   * names the active controller; Metadata otherwise.
   */
  async describeCluster(): Promise<ClusterDescription> {
    const connection = await this.client.anyConnection();
    if (!connection.supports(DescribeClusterApi)) {
      const md = await this.client.metadata([]);
      return { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers, source: 'Metadata' };
    }
    const response = await this.client.send(DescribeClusterApi, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1, // brokers (v1, KIP-919); v0 ignores it
    });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, response.errorMessage);
    return {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      brokers: response.brokers
        .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
        .sort((a, b) => a.nodeId - b.nodeId),
      source: 'DescribeCluster',
    };
  }

  /** The API version ranges broker `nodeId` advertised in its ApiVersions answer, by API key. */
  async apiVersions(nodeId: number): Promise<Array<{ apiKey: number; minVersion: number; maxVersion: number }>> {
    const connection = await this.client.connectToNode(nodeId);
    return [...connection.brokerRanges].sort((a, b) => a.apiKey - b.apiKey);
  }

  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<Outcome[]> {
    const response = await this.client.send(CreateTopicsApi, (version) => {
      const request = CreateTopicsApi.defaultRequest();
      request.timeoutMs = options.timeoutMs ?? 30_000;
      request.validateOnly = options.validateOnly ?? false;
      request.topics = topics.map((t) => ({
        name: t.name,
        // -1 (the broker's default) needs v4; older brokers get Kafka's usual defaults.
        numPartitions: t.partitions ?? (version >= 4 ? -1 : 1),
        replicationFactor: t.replicationFactor ?? (version >= 4 ? -1 : 1),
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      }));
      return request;
    });
    return response.topics.map((t) => ({ name: t.name, errorCode: t.errorCode, errorMessage: t.errorMessage }));
  }

  async deleteTopics(names: string[], options: { timeoutMs?: number } = {}): Promise<Outcome[]> {
    const response = await this.client.send(DeleteTopicsApi, (version) => {
      const request = DeleteTopicsApi.defaultRequest();
      request.timeoutMs = options.timeoutMs ?? 30_000;
      if (version >= 6) request.topics = names.map((name) => ({ name, topicId: ZERO_UUID }));
      else request.topicNames = names;
      return request;
    });
    for (const name of names) this.client.invalidateTopic(name);
    return response.responses.map((r) => ({
      name: r.name ?? '',
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
    }));
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const md = await this.client.metadata(null);
    return md.topics
      .filter((t) => t.errorCode === ErrorCode.NONE && (options.includeInternal || !t.internal))
      .map((t) => t.name)
      .sort();
  }

  /** Metadata of the named topics; a topic that does not exist has errorCode UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(names: string[]): Promise<TopicMetadata[]> {
    const md = await this.client.metadata(names);
    return names.map(
      (name) =>
        md.topics.find((t) => t.name === name) ?? {
          name,
          topicId: ZERO_UUID,
          internal: false,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          partitions: [],
        },
    );
  }

  /** Grows topics to `count` partitions each. */
  async createPartitions(
    topics: Array<{ name: string; count: number }>,
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<Outcome[]> {
    const response = await this.client.send(CreatePartitionsApi, {
      topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: null })),
      timeoutMs: options.timeoutMs ?? 30_000,
      validateOnly: options.validateOnly ?? false,
    });
    for (const t of topics) this.client.invalidateTopic(t.name);
    return response.results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage }));
  }

  /** Configs of topics and brokers. A broker resource is asked of that broker; topics of any broker. */
  async describeConfigs(
    resources: Array<ConfigResource & { keys?: string[] }>,
    options: { synonyms?: boolean; documentation?: boolean } = {},
  ): Promise<ResourceConfigs[]> {
    const out: ResourceConfigs[] = [];
    for (const [nodeId, list] of this.routeResources(resources)) {
      const build = () => {
        const request = DescribeConfigsApi.defaultRequest();
        request.includeSynonyms = options.synonyms ?? false;
        request.includeDocumentation = options.documentation ?? false;
        request.resources = list.map((r) => ({
          resourceType: r.type,
          resourceName: r.name,
          configurationKeys: r.keys ?? null,
        }));
        return request;
      };
      const response = await this.sendRouted(nodeId, DescribeConfigsApi, build);
      for (const r of response.results) {
        out.push({
          type: r.resourceType,
          name: r.resourceName,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          configs: r.configs.map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: c.readOnly,
            // v0 says isDefault; v1+ says where the value comes from.
            isDefault: c.isDefault || c.configSource === 5,
            source: c.configSource,
            sensitive: c.isSensitive,
            synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })),
            documentation: c.documentation,
          })),
        });
      }
    }
    return out;
  }

  /** Replaces the whole set of overrides of each resource (AlterConfigs): keys not given return to defaults. */
  async alterConfigs(
    resources: Array<ConfigResource & { configs: Record<string, string> }>,
    options: { validateOnly?: boolean } = {},
  ): Promise<Outcome[]> {
    return this.alterResources(AlterConfigsApi, resources, (list) => ({
      validateOnly: options.validateOnly ?? false,
      resources: list.map((r) => ({
        resourceType: r.type,
        resourceName: r.name,
        configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })),
      })),
    }));
  }

  /** Changes single keys (IncrementalAlterConfigs, KIP-339): set, delete, append to or subtract from a list. */
  async incrementalAlterConfigs(
    resources: Array<ConfigResource & { ops: Array<{ name: string; op: ConfigOperation; value?: string | null }> }>,
    options: { validateOnly?: boolean } = {},
  ): Promise<Outcome[]> {
    return this.alterResources(IncrementalAlterConfigsApi, resources, (list) => ({
      validateOnly: options.validateOnly ?? false,
      resources: list.map((r) => ({
        resourceType: r.type,
        resourceName: r.name,
        configs: r.ops.map((o) => ({ name: o.name, configOperation: OPERATION_CODES[o.op], value: o.value ?? null })),
      })),
    }));
  }

  /** Whether the cluster serves IncrementalAlterConfigs (Kafka 2.3+). */
  async supportsIncrementalAlterConfigs(): Promise<boolean> {
    return (await this.client.anyConnection()).supports(IncrementalAlterConfigsApi);
  }

  /** Broker resources go to the broker they name; everything else to any broker (null). */
  private routeResources<T extends ConfigResource>(resources: T[]): Map<number | null, T[]> {
    const routes = new Map<number | null, T[]>();
    for (const r of resources) {
      const nodeId =
        (r.type === ResourceType.BROKER || r.type === ResourceType.BROKER_LOGGER) && /^\d+$/.test(r.name)
          ? Number(r.name)
          : null;
      let list = routes.get(nodeId);
      if (!list) routes.set(nodeId, (list = []));
      list.push(r);
    }
    return routes;
  }

  /** To broker `nodeId`, or to any broker when it is null (see routeResources). */
  private sendRouted<Req, Res>(
    nodeId: number | null,
    api: ApiDescriptor<Req, Res>,
    request: Req | ((version: number) => Req),
  ): Promise<Res> {
    return nodeId === null ? this.client.send(api, request) : this.client.sendTo(nodeId, api, request);
  }

  /** AlterConfigs or IncrementalAlterConfigs: each broker gets its share of `resources`, built by `request`. */
  private async alterResources<R extends ConfigResource, Req, Res extends { responses: AlterConfigsResult[] }>(
    api: ApiDescriptor<Req, Res>,
    resources: R[],
    request: (list: R[]) => Req,
  ): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const [nodeId, list] of this.routeResources(resources)) {
      const response = await this.sendRouted(nodeId, api, request(list));
      for (const r of response.responses) {
        out.push({ name: r.resourceName, errorCode: r.errorCode, errorMessage: r.errorMessage });
      }
    }
    return out;
  }

  /** Every group of every broker (ListGroups is answered per coordinator). */
  async listGroups(): Promise<GroupListing[]> {
    await this.client.metadata([]);
    const out: GroupListing[] = [];
    for (const broker of this.client.knownBrokers()) {
      const response = await this.client.sendTo(broker.nodeId, ListGroupsApi, ListGroupsApi.defaultRequest());
      if (response.errorCode !== ErrorCode.NONE)
        throw new KafkaError(response.errorCode, `ListGroups on broker ${broker.nodeId}`);
      for (const g of response.groups) {
        out.push({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState || null,
          coordinator: broker.nodeId,
        });
      }
    }
    return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const described = await this.client.retry(
        async () => {
          const coordinator = await this.client.coordinatorFor(groupId);
          const response = await this.client.sendTo(coordinator, DescribeGroupsApi, {
            groups: [groupId],
            includeAuthorizedOperations: false,
          });
          const g = response.groups[0];
          if (!g) throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `no description of group "${groupId}"`);
          if (g.errorCode !== ErrorCode.NONE) {
            const err = new KafkaError(g.errorCode, `group "${groupId}"`);
            if (err.retriable) throw err;
          }
          return { g, coordinator };
        },
        () => this.client.invalidateCoordinator(groupId),
      );
      const { g, coordinator } = described;
      out.push({
        groupId: g.groupId,
        errorCode: g.errorCode,
        state: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        coordinator,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
        })),
      });
    }
    return out;
  }

  /** A group's committed offsets: of the given partitions, or of every partition it has one for (null). */
  async fetchOffsets(
    groupId: string,
    topics: Array<{ topic: string; partitions: number[] }> | null = null,
  ): Promise<CommittedOffset[]> {
    return this.client.retry(
      async () => {
        const coordinator = await this.client.coordinatorFor(groupId);
        const response = await this.client.sendTo(coordinator, OffsetFetchApi, (version) => {
          const request = OffsetFetchApi.defaultRequest();
          const wanted = topics?.map((t) => ({ name: t.topic, partitionIndexes: t.partitions })) ?? null;
          if (version >= 8) {
            request.groups = [{ groupId, memberId: null, memberEpoch: -1, topics: wanted }];
          } else {
            request.groupId = groupId;
            request.topics = wanted;
          }
          return request;
        });
        // v8+ answers per group (we ask for one); older versions answer at the top level.
        const answer = response.groups.length > 0 ? response.groups[0] : response;
        if (answer.errorCode !== ErrorCode.NONE)
          throw new KafkaError(answer.errorCode, `offsets of group "${groupId}"`);
        const out: CommittedOffset[] = [];
        for (const t of answer.topics)
          for (const p of t.partitions)
            out.push({
              topic: t.name,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              metadata: p.metadata,
              errorCode: p.errorCode,
            });
        return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      },
      () => this.client.invalidateCoordinator(groupId),
    );
  }

  /**
   * Commits offsets for a group from outside it (generation -1, no member id), as Kafka's tools do; the
   * coordinator accepts this only while the group has no members.
   */
  async commitOffsets(
    groupId: string,
    offsets: Array<{ topic: string; partition: number; offset: bigint; metadata?: string | null }>,
    member: { generationId: number; memberId: string; groupInstanceId?: string | null } = {
      generationId: -1,
      memberId: '',
    },
  ): Promise<Array<{ topic: string; partition: number; errorCode: number }>> {
    return this.client.retry(
      async () => {
        const coordinator = await this.client.coordinatorFor(groupId);
        const byTopic = new Map<string, typeof offsets>();
        for (const o of offsets) {
          let list = byTopic.get(o.topic);
          if (!list) byTopic.set(o.topic, (list = []));
          list.push(o);
        }
        const response = await this.client.sendTo(coordinator, OffsetCommitApi, () => {
          const request = OffsetCommitApi.defaultRequest();
          request.groupId = groupId;
          request.generationIdOrMemberEpoch = member.generationId;
          request.memberId = member.memberId;
          request.groupInstanceId = member.groupInstanceId ?? null;
          request.retentionTimeMs = -1n;
          request.topics = [...byTopic].map(([name, list]) => ({
            name,
            partitions: list.map((o) => ({
              partitionIndex: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: o.metadata ?? '',
            })),
          }));
          return request;
        });
        const out = response.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode })),
        );
        const coordinatorMoved = out.find(
          (o) => o.errorCode === ErrorCode.NOT_COORDINATOR || o.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
        );
        if (coordinatorMoved) throw new KafkaError(coordinatorMoved.errorCode, `group "${groupId}"`);
        return out;
      },
      () => this.client.invalidateCoordinator(groupId),
    );
  }

  /**
   * Deletes a group's committed offsets of some partitions (OffsetDelete, KIP-496). The coordinator allows it
   * for an empty group, and for topics no member subscribes to in a group with members.
   */
  async deleteOffsets(
    groupId: string,
    topics: Array<{ topic: string; partitions: number[] }>,
  ): Promise<OffsetDeleteResult> {
    return this.client.retry(
      async () => {
        const coordinator = await this.client.coordinatorFor(groupId);
        const response = await this.client.sendTo(coordinator, OffsetDeleteApi, {
          groupId,
          topics: topics.map((t) => ({
            name: t.topic,
            partitions: t.partitions.map((partitionIndex) => ({ partitionIndex })),
          })),
        });
        if (
          response.errorCode === ErrorCode.NOT_COORDINATOR ||
          response.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
        )
          throw new KafkaError(response.errorCode, `group "${groupId}"`);
        return {
          errorCode: response.errorCode,
          partitions: response.topics
            .flatMap((t) =>
              t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode })),
            )
            .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
        };
      },
      () => this.client.invalidateCoordinator(groupId),
    );
  }

  /**
   * The client quota entries a filter matches (KIP-546). Kafka answers once for the whole filter, so an
   * error (INVALID_REQUEST for a filter it refuses) is thrown.
   */
  async describeClientQuotas(components: QuotaFilterComponent[], strict = false): Promise<ClientQuotaEntry[]> {
    const response = await this.client.send(DescribeClientQuotasApi, () => {
      const request = DescribeClientQuotasApi.defaultRequest();
      request.components = components.map((c) => ({
        entityType: c.entityType,
        matchType: c.matchType,
        match: c.match,
      }));
      request.strict = strict;
      return request;
    });
    if (response.errorCode !== ErrorCode.NONE)
      throw new KafkaError(response.errorCode, response.errorMessage ?? 'describe client quotas');
    return (response.entries ?? []).map((e) => ({
      entity: e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName })),
      values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
    }));
  }

  /** Sets and removes client quota values, one outcome per entity (each is applied, or refused, on its own). */
  async alterClientQuotas(
    alterations: ClientQuotaAlteration[],
    options: { validateOnly?: boolean } = {},
  ): Promise<ClientQuotaAlterOutcome[]> {
    const response = await this.client.send(AlterClientQuotasApi, () => {
      const request = AlterClientQuotasApi.defaultRequest();
      request.validateOnly = options.validateOnly ?? false;
      request.entries = alterations.map((a) => ({
        entity: a.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName })),
        ops: Object.entries(a.ops).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null })),
      }));
      return request;
    });
    return response.entries.map((e) => ({
      entity: e.entity.map((c) => ({ entityType: c.entityType, entityName: c.entityName })),
      errorCode: e.errorCode,
      errorMessage: e.errorMessage,
    }));
  }

  async deleteGroups(groupIds: string[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const groupId of groupIds) {
      const coordinator = await this.client.coordinatorFor(groupId);
      const response = await this.client.sendTo(coordinator, DeleteGroupsApi, { groupsNames: [groupId] });
      for (const r of response.results) out.push({ name: r.groupId, errorCode: r.errorCode, errorMessage: null });
    }
    return out;
  }
}

/** Decodes a consumer group member's assignment bytes (int16 version, then ConsumerProtocolAssignment). */
export function decodeAssignment(bytes: Buffer): Array<{ topic: string; partitions: number[] }> {
  if (bytes.length < 2) return [];
  try {
    const r = new Reader(bytes);
    const version = r.int16();
    const assignment: ConsumerProtocolAssignment = decodeConsumerProtocolAssignment(r, Math.min(version, 3));
    return assignment.assignedPartitions.map((a) => ({ topic: a.topic, partitions: a.partitions }));
  } catch {
    return [];
  }
}
