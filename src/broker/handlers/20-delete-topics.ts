/**
 * DeleteTopics (key 20), v0–v6.
 *
 * - v1 adds throttle time; v5 error messages.
 * - v6 names topics by name or by id (KIP-516): `topics` replaces `topic_names`.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DeleteTopicsApi } from '../../protocol/generated/20-delete-topics.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';
import { ZERO_UUID } from '../topics.js';

export default defineHandler({
  api: DeleteTopicsApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = DeleteTopicsApi.defaultResponse();
    const wanted =
      version >= 6
        ? request.topics
        : request.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    for (const w of wanted) {
      let name = w.name;
      if (name === null) {
        const byId = broker.topics.getById(w.topicId);
        if (!byId) {
          response.responses.push({
            name: null,
            topicId: w.topicId,
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
            errorMessage: `No topic with id ${w.topicId}`,
          });
          continue;
        }
        // As Kafka: a topic named by id that the client may not describe is answered without its name.
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, byId.name)) {
          response.responses.push(denied(null, w.topicId));
          continue;
        }
        name = byId.name;
      }
      if (!authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
        response.responses.push(denied(name, w.topicId));
        continue;
      }
      const topic = broker.topics.get(name);
      if (topic?.internal) {
        response.responses.push({
          name,
          topicId: topic.topicId,
          errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
          errorMessage: `${name} is an internal topic and cannot be deleted`,
        });
        continue;
      }
      const outcome = await broker.deleteTopic(name);
      response.responses.push({
        name,
        topicId: outcome.topic?.topicId ?? ZERO_UUID,
        errorCode: outcome.errorCode,
        errorMessage: outcome.errorMessage,
      });
    }
    return response;
  },
});

function denied(name: string | null, topicId: string) {
  return { name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
}
