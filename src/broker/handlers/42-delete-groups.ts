/**
 * DeleteGroups (key 42), v0–v2: deletes groups without members, with their committed offsets
 * (tombstones in __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for
 * unknown groups.
 * - v1 is v0. v2 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DeleteGroupsApi } from '../../protocol/generated/42-delete-groups.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DeleteGroupsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const response = DeleteGroupsApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!groups) {
      response.results = request.groupsNames.map((groupId) => ({
        groupId,
        errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      }));
      return response;
    }
    const allowed = (g: string) => authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, g);
    const valid = request.groupsNames.filter((g) => g !== '' && allowed(g));
    const deleted = new Map((await groups.deleteGroups(valid)).map((r) => [r.groupId, r.errorCode]));
    response.results = request.groupsNames.map((groupId) => ({
      groupId,
      errorCode:
        deleted.get(groupId) ?? (allowed(groupId) ? ErrorCode.INVALID_GROUP_ID : ErrorCode.GROUP_AUTHORIZATION_FAILED),
    }));
    return response;
  },
});
