/**
 * ConsumerGroupHeartbeat (key 68), v0–v1: the KIP-848 consumer group protocol. A member joins (epoch 0),
 * heartbeats with its epoch and the partitions it owns, and leaves (epoch -1, or -2 for a static member
 * leaving for a while); the coordinator answers its epoch and, when it changed, its assignment.
 * - v1 adds subscribed_topic_regex (RE2/J syntax in Kafka; here JavaScript's RegExp, whole-name matches).
 * The work is in src/coordinator/group/consumer-group-manager.ts.
 */
import { clientHostOf } from '../../coordinator/group/handler-support.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConsumerGroupHeartbeatApi } from '../../protocol/generated/68-consumer-group-heartbeat.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: ConsumerGroupHeartbeatApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const response = ConsumerGroupHeartbeatApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      response.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return response;
    }
    // As Kafka: a member may subscribe only to topics it may describe, all of them or it is refused.
    const refused = (request.subscribedTopicNames ?? []).filter(
      (name) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name),
    );
    if (refused.length > 0) {
      response.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      response.errorMessage = `Not authorized to describe the subscribed topics: ${refused.join(', ')}`;
      return response;
    }
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return response;
    }
    const result = await groups.consumerGroupHeartbeat({
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId,
      rackId: request.rackId,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames,
      subscribedTopicRegex: ctx.version >= 1 ? request.subscribedTopicRegex : null,
      serverAssignor: request.serverAssignor,
      topicPartitions: request.topicPartitions,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection.remoteAddress),
    });
    response.errorCode = result.errorCode;
    response.errorMessage = result.errorMessage;
    response.memberId = result.memberId;
    response.memberEpoch = result.memberEpoch;
    response.heartbeatIntervalMs = result.heartbeatIntervalMs;
    response.assignment = result.assignment === null ? null : { topicPartitions: result.assignment };
    return response;
  },
});
