/**
 * DescribeGroups (key 15), v0–v5: state, protocol and members of groups. Member metadata and assignments
 * are given once the group is Stable, as Kafka does; an unknown group is described as Dead.
 * - v1 adds throttle_time_ms. v3 can ask for authorized operations (KIP-430); -2147483648 when not asked.
 * - v4 adds each member's group_instance_id (KIP-345). v5 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DescribeGroupsApi } from '../../protocol/generated/15-describe-groups.js';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, GROUP_OPERATIONS } from '../cluster-info.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const response = DescribeGroupsApi.defaultResponse();
    const groups = ctx.broker.groups;
    const withOps = ctx.version >= 3 && request.includeAuthorizedOperations;
    response.groups = request.groups.map((groupId) => {
      const allowed = authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId);
      const described =
        allowed && groupId !== '' && groups
          ? groups.describeGroup(groupId)
          : {
              errorCode: !allowed
                ? ErrorCode.GROUP_AUTHORIZATION_FAILED
                : groups
                  ? ErrorCode.INVALID_GROUP_ID
                  : ErrorCode.COORDINATOR_NOT_AVAILABLE,
              groupId,
              groupState: '',
              protocolType: '',
              protocolData: '',
              members: [],
            };
      const ops =
        withOps && allowed
          ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_OPERATIONS)
          : AUTHORIZED_OPERATIONS_OMITTED;
      return { ...described, authorizedOperations: ops };
    });
    return response;
  },
});
