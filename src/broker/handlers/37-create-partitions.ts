/**
 * CreatePartitions (key 37), v0–v3 (KIP-195).
 *
 * - v1 no change (throttling); v2 is the flexible version; v3 no change (KIP-599 throttling).
 * Grows a topic to `count` partitions; fewer or as many as it has is INVALID_PARTITIONS. Manual
 * assignments must place each new partition on this broker alone. Keyed records written before the
 * change may now map to other partitions: Kafka's warning, and ours.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { CreatePartitionsApi } from '../../protocol/generated/37-create-partitions.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';
import { createPartitions } from '../topic-admin.js';

export default defineHandler({
  api: CreatePartitionsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const response = CreatePartitionsApi.defaultResponse();
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    for (const t of request.topics) {
      if ((counts.get(t.name) ?? 0) > 1) {
        response.results.push({
          name: t.name,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Duplicate topic in request.',
        });
        continue;
      }
      if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)) {
        response.results.push({
          name: t.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: 'Authorization failed.',
        });
        continue;
      }
      const outcome = await createPartitions(ctx.broker, t.name, t.count, t.assignments, request.validateOnly);
      response.results.push({ name: t.name, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
    }
    return response;
  },
});
