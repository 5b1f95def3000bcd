/**
 * OffsetDelete (key 47), v0: deletes a group's committed offsets of some partitions (KIP-496).
 * Allowed for an Empty group; in a consumer group with members, only for topics no member subscribes
 * to (else GROUP_SUBSCRIBED_TO_TOPIC, read from the members' ConsumerProtocolSubscription); a
 * non-consumer group with members answers NON_EMPTY_GROUP. Unknown topics: UNKNOWN_TOPIC_OR_PARTITION.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { OffsetDeleteApi } from '../../protocol/generated/47-offset-delete.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: OffsetDeleteApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = OffsetDeleteApi.defaultResponse();
    const groups = broker.groups;
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      response.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return response;
    }
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return response;
    }
    if (request.groupId === '') {
      response.errorCode = ErrorCode.INVALID_GROUP_ID;
      return response;
    }
    // As Kafka: READ on a topic is checked before whether it exists.
    const readable = new Set(
      request.topics.filter((t) => authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)).map((t) => t.name),
    );
    const known = request.topics.filter((t) => readable.has(t.name) && broker.topics.get(t.name));
    const result = await groups.deleteOffsets(
      request.groupId,
      known.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
    );
    response.errorCode = result.errorCode;
    if (result.errorCode !== ErrorCode.NONE) return response;
    const answered = new Map(result.topics.map((t) => [t.name, t]));
    response.topics = request.topics.map((t) => {
      const found = answered.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: !readable.has(t.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : (found?.partitions.find((q) => q.partition === p.partitionIndex)?.errorCode ??
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        })),
      };
    });
    return response;
  },
});
