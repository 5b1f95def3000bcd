/**
 * CreateTopics (key 19), v0–v7.
 *
 * - v1 adds validate_only and error messages; v2 throttle time.
 * - v4 lets num_partitions and replication_factor be -1: the broker's defaults (KIP-464).
 * - v5 answers with the created topic's partition count, replication factor and configs (KIP-525).
 * - v7 answers with the topic id (KIP-516).
 * Manual assignments must name only this broker, one replica per partition.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  CreateTopicsApi,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponseCreatableTopicResult,
} from '../../protocol/generated/19-create-topics.js';
import { AclOperation, authorize, authorizeCluster, ResourceType } from '../authorizer.js';
import { ConfigSource } from '../config-source.js';
import type { HandlerContext } from '../registry.js';
import { defineHandler } from '../registry.js';
import { newTopicId, ZERO_UUID } from '../topics.js';

export default defineHandler({
  api: CreateTopicsApi,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, ctx) {
    const response = CreateTopicsApi.defaultResponse();
    // As Kafka: CREATE on the cluster allows every topic; without it, CREATE on each topic is needed.
    const mayCreateAll = authorizeCluster(ctx, AclOperation.CREATE);
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    for (const t of request.topics) {
      if ((counts.get(t.name) ?? 0) > 1) {
        response.topics.push(
          result(t.name, ErrorCode.INVALID_REQUEST, `Duplicate topic name ${t.name} in the request`),
        );
        continue;
      }
      if (!mayCreateAll && !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
        response.topics.push(result(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
        continue;
      }
      response.topics.push(await createOne(ctx, t, request.validateOnly, ctx.version));
    }
    return response;
  },
});

function result(
  name: string,
  errorCode: ErrorCode,
  errorMessage: string | null,
): CreateTopicsResponseCreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    // Kafka answers a topic it did not create with an empty config list (v5+), never a null one.
    configs: [],
  };
}

async function createOne(
  ctx: HandlerContext,
  t: CreateTopicsRequestCreatableTopic,
  validateOnly: boolean,
  version: number,
): Promise<CreateTopicsResponseCreatableTopicResult> {
  const { broker } = ctx;
  let partitions = t.numPartitions;
  let replicationFactor = t.replicationFactor;
  if (t.assignments.length > 0) {
    if (partitions !== -1 || replicationFactor !== -1) {
      return result(
        t.name,
        ErrorCode.INVALID_REQUEST,
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
    const dense = indexes.every((p, i) => p === i);
    const onlyHere = t.assignments.every((a) => a.brokerIds.length === 1 && a.brokerIds[0] === broker.nodeId);
    if (!dense || !onlyHere) {
      return result(
        t.name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `Partitions must be numbered 0..n-1 and each assigned to broker ${broker.nodeId} alone`,
      );
    }
    partitions = t.assignments.length;
    replicationFactor = 1;
  }
  const configs: Record<string, string | null> = {};
  for (const c of t.configs) configs[c.name] = c.value;
  const outcome = await broker.createTopic({ name: t.name, partitions, replicationFactor, configs, validateOnly });
  const out = result(t.name, outcome.errorCode, outcome.errorMessage);
  if (outcome.errorCode !== ErrorCode.NONE || !outcome.topic) return out;
  // Kafka answers a validate-only creation with a fresh id too, as if the topic had been created.
  if (version >= 7) out.topicId = validateOnly ? newTopicId() : outcome.topic.topicId;
  if (version >= 5) {
    out.numPartitions = outcome.topic.partitions;
    out.replicationFactor = outcome.topic.replicationFactor;
    // As Kafka: the created topic's configs are answered only to a client that may describe them.
    if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, t.name)) {
      out.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      return out;
    }
    out.configs = Object.entries(broker.effectiveTopicConfigs(outcome.topic)).map(([name, v]) => ({
      name,
      value: v.value,
      readOnly: false,
      configSource: v.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.TOPIC_CONFIG,
      isSensitive: false,
    }));
  }
  return out;
}
