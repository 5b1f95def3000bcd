/**
 * SyncGroup (key 14), v0–v5: after JoinGroup, the leader sends the assignment and every member receives
 * its own part of it, once the assignment is durable in __consumer_offsets.
 * - v1 adds throttle_time_ms. v3 adds group_instance_id (KIP-345). v4 is flexible.
 * - v5 carries protocol_type and protocol_name both ways; a mismatch with the group's is
 *   INCONSISTENT_GROUP_PROTOCOL (KIP-559).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { SyncGroupApi } from '../../protocol/generated/14-sync-group.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: SyncGroupApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const { version } = ctx;
    const response = SyncGroupApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      response.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return response;
    }
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return response;
    }
    const result = await groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: version >= 3 ? request.groupInstanceId : null,
      protocolType: version >= 5 ? request.protocolType : null,
      protocolName: version >= 5 ? request.protocolName : null,
      assignments: request.assignments,
    });
    response.errorCode = result.errorCode;
    response.protocolType = result.protocolType;
    response.protocolName = result.protocolName;
    response.assignment = result.assignment;
    return response;
  },
});
