/**
 * DeleteAcls (key 31), v0–v3: removes the ACL bindings each filter matches and lists them per filter.
 * Needs ALTER on the cluster; answers SECURITY_DISABLED for every filter when no authorizer is configured,
 * as Kafka does.
 *
 * - v0 carries no pattern type filter: it matches LITERAL bindings (the codec's default).
 * - v2+ is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DeleteAclsApi } from '../../protocol/generated/31-delete-acls.js';
import { type AclBindingFilter, AclOperation, authorizeCluster, PatternType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DeleteAclsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const response = DeleteAclsApi.defaultResponse();
    const authorizer = ctx.broker.authorizer;
    const fail = (errorCode: ErrorCode, errorMessage: string) =>
      request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] }));
    if (authorizer === undefined || !authorizer.enabled) {
      response.filterResults = fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
      return response;
    }
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      response.filterResults = fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      return response;
    }
    const filters: AclBindingFilter[] = request.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    }));
    const valid = filters.filter((f) => f.patternType !== PatternType.UNKNOWN);
    const removed = await authorizer.delete(valid);
    let next = 0;
    response.filterResults = filters.map((f) => {
      if (f.patternType === PatternType.UNKNOWN)
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unknown pattern type filter', matchingAcls: [] };
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: removed[next++].map((acl) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          principal: acl.principal,
          host: acl.host,
          operation: acl.operation,
          permissionType: acl.permissionType,
        })),
      };
    });
    return response;
  },
});
