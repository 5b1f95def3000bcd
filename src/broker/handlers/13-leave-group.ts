/**
 * LeaveGroup (key 13), v0–v5: members leave a group at once, so it rebalances without waiting for their
 * session timeouts.
 * - v0–v2: one member id; the answer has one error code (the group's, else the member's).
 * - v3 leaves in batches: members[] with member id and group_instance_id, one error each (KIP-345).
 * - v4 is flexible. v5 adds a reason per member (KIP-800), logged.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { LeaveGroupApi } from '../../protocol/generated/13-leave-group.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: LeaveGroupApi,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const { version } = ctx;
    const response = LeaveGroupApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      response.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      return response;
    }
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return response;
    }
    const leaving =
      version >= 3
        ? request.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            reason: version >= 5 ? m.reason : null,
          }))
        : [{ memberId: request.memberId, groupInstanceId: null }];
    const result = groups.leaveGroup(request.groupId, leaving);
    if (version >= 3) {
      response.errorCode = result.errorCode;
      response.members = result.members;
    } else {
      response.errorCode =
        result.errorCode !== ErrorCode.NONE
          ? result.errorCode
          : (result.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE);
    }
    return response;
  },
});
