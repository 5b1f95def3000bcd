/**
 * Metadata (key 3), v0–v12: brokers, the controller, and topics with their partitions and leaders.
 *
 * - v0: an empty topic list means "all topics". From v1 null means all and an empty list means none.
 * - v1 adds the controller id and is_internal; v2 the cluster id; v5 offline replicas; v7 leader epochs.
 * - v4 adds allow_auto_topic_creation; before v4 a request always allows it (subject to
 *   auto.create.topics.enable).
 * - v8 adds authorized-operations bitfields (KIP-430), only computed when asked for.
 * - v10 adds topic ids (KIP-516) to the answer; a topic may be asked for by id (with a null name) only from
 *   v12: Kafka refuses ids and null names at v10–v11 with INVALID_REQUEST, and so does Sluice. From v12 a
 *   non-zero id means "by id" whatever the name says: Java's admin client sends an empty name with the id.
 * - v11 drops the cluster authorized operations (DescribeCluster has them).
 *
 * In a cluster (etcd) the brokers and the controller come from the cluster's metadata image, but every
 * partition is still led by the broker that answers: replication comes later (docs/skipped-features.md).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  MetadataApi,
  type MetadataResponsePartition,
  type MetadataResponseTopic,
} from '../../protocol/generated/03-metadata.js';
import {
  AclOperation,
  authorize,
  authorizeCluster,
  authorizedOperations,
  CLUSTER_NAME,
  ResourceType,
} from '../authorizer.js';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  CLUSTER_OPERATIONS,
  endpointFor,
  LEADER_EPOCH,
  TOPIC_OPERATIONS,
} from '../cluster-info.js';
import type { BrokerServices } from '../handler-context.js';
import { defineHandler, type HandlerContext } from '../registry.js';
import { type TopicInfo, topicNameError, ZERO_UUID } from '../topics.js';

export default defineHandler({
  api: MetadataApi,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = MetadataApi.defaultResponse();
    if (version >= 10 && version < 12 && request.topics?.some((t) => t.name === null || t.topicId !== ZERO_UUID)) {
      // Kafka answers this as an invalid request: no brokers, no cluster, each topic INVALID_REQUEST.
      response.topics = (request.topics ?? []).map((t) => errorTopic(ErrorCode.INVALID_REQUEST, t.name, t.topicId));
      return response;
    }
    // Every live broker and the controller, from the metadata source (partitions stay on this broker), each
    // at its address for the listener this client connected to, as Kafka answers.
    const image = broker.cluster.image();
    response.brokers = image.brokers.map((b) => {
      const { host, port } = endpointFor(broker, b, ctx.connection.listenerName);
      return { nodeId: b.nodeId, host, port, rack: b.rack };
    });
    response.clusterId = broker.clusterId;
    response.controllerId = image.controllerId;
    const withOps = version >= 8 && request.includeTopicAuthorizedOperations;
    if (version >= 8 && version <= 10 && request.includeClusterAuthorizedOperations) {
      response.clusterAuthorizedOperations = authorizedOperations(
        ctx,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
        CLUSTER_OPERATIONS,
      );
    }

    const allTopics = request.topics === null || (version === 0 && request.topics.length === 0);
    if (allTopics) {
      // Topics the client may not describe are left out of an all-topics answer, as Kafka does.
      response.topics = broker.topics
        .list()
        .filter((t) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name))
        .map((t) => describeTopic(ctx, t, withOps));
      return response;
    }

    const mayCreate =
      (version < 4 || request.allowAutoTopicCreation) && broker.config['auto.create.topics.enable'] === true;
    for (const requested of request.topics ?? []) {
      if (requested.name === null || requested.topicId !== ZERO_UUID) {
        const byId = broker.topics.getById(requested.topicId);
        if (byId && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, byId.name))
          response.topics.push(errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, null, requested.topicId));
        else
          response.topics.push(
            byId ? describeTopic(ctx, byId, withOps) : errorTopic(ErrorCode.UNKNOWN_TOPIC_ID, null, requested.topicId),
          );
        continue;
      }
      const name = requested.name;
      // A topic named explicitly that the client may not describe answers TOPIC_AUTHORIZATION_FAILED,
      // whether or not it exists, so its existence is not revealed.
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
        response.topics.push(errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name));
        continue;
      }
      let topic = broker.topics.get(name);
      if (!topic) {
        if (topicNameError(name) !== null) {
          response.topics.push(errorTopic(ErrorCode.INVALID_TOPIC_EXCEPTION, name));
          continue;
        }
        if (!mayCreate) {
          response.topics.push(errorTopic(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name));
          continue;
        }
        if (
          !authorizeCluster(ctx, AclOperation.CREATE) &&
          !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)
        ) {
          response.topics.push(errorTopic(ErrorCode.TOPIC_AUTHORIZATION_FAILED, name));
          continue;
        }
        const created = await broker.autoCreateTopic(name);
        // A concurrent request may have created it meanwhile; any other failure is reported as is.
        topic = broker.topics.get(name);
        if (!topic) {
          response.topics.push(errorTopic(created.errorCode, name));
          continue;
        }
      }
      response.topics.push(describeTopic(ctx, topic, withOps));
    }
    return response;
  },
});

function errorTopic(errorCode: ErrorCode, name: string | null, topicId = ZERO_UUID): MetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function describeTopic(ctx: HandlerContext, topic: TopicInfo, withOps: boolean): MetadataResponseTopic {
  const broker: BrokerServices = ctx.broker;
  const partitions: MetadataResponsePartition[] = [];
  for (let p = 0; p < topic.partitions; p++) {
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId: broker.nodeId,
      leaderEpoch: LEADER_EPOCH,
      replicaNodes: [broker.nodeId],
      isrNodes: [broker.nodeId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions,
    topicAuthorizedOperations: withOps
      ? authorizedOperations(ctx, ResourceType.TOPIC, topic.name, TOPIC_OPERATIONS)
      : AUTHORIZED_OPERATIONS_OMITTED,
  };
}
