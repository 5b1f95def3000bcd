/**
 * Heartbeat (key 12), v0–v4: a member says it is alive; REBALANCE_IN_PROGRESS tells it to rejoin.
 * - v1 adds throttle_time_ms. v3 adds group_instance_id (KIP-345). v4 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { HeartbeatApi } from '../../protocol/generated/12-heartbeat.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: HeartbeatApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    const response = HeartbeatApi.defaultResponse();
    const groups = ctx.broker.groups;
    response.errorCode = !authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)
      ? ErrorCode.GROUP_AUTHORIZATION_FAILED
      : groups
        ? groups.heartbeat({
            groupId: request.groupId,
            generationId: request.generationId,
            memberId: request.memberId,
            groupInstanceId: ctx.version >= 3 ? request.groupInstanceId : null,
          })
        : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return response;
  },
});
