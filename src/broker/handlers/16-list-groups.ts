/**
 * ListGroups (key 16), v0–v5: every group this coordinator knows, with its protocol type.
 * - v1 adds throttle_time_ms. v3 is flexible.
 * - v4 adds states_filter and answers each group's state (KIP-518); states match case-insensitively.
 * - v5 adds types_filter and answers each group's type (KIP-848): every group here is "classic".
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { ListGroupsApi } from '../../protocol/generated/16-list-groups.js';
import { AclOperation, authorize, authorizeCluster, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: ListGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  handle(request, ctx) {
    const { version } = ctx;
    const response = ListGroupsApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      return response;
    }
    const result = groups.listGroups(version >= 4 ? request.statesFilter : [], version >= 5 ? request.typesFilter : []);
    response.errorCode = result.errorCode;
    // As Kafka: DESCRIBE on the cluster lists every group, else only those the client may describe.
    response.groups = authorizeCluster(ctx, AclOperation.DESCRIBE)
      ? result.groups
      : result.groups.filter((g) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId));
    return response;
  },
});
