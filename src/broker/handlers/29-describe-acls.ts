/**
 * DescribeAcls (key 29), v0–v3: the ACL bindings a filter matches, grouped by resource pattern. Needs
 * DESCRIBE on the cluster; answers SECURITY_DISABLED when no authorizer is configured, as Kafka does.
 *
 * - v0 carries no pattern type filter: it matches LITERAL bindings (the codec's default).
 * - v2+ is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DescribeAclsApi } from '../../protocol/generated/29-describe-acls.js';
import { AclOperation, authorizeCluster, PatternType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeAclsApi,
  minVersion: 0,
  maxVersion: 3,
  handle(request, ctx) {
    const response = DescribeAclsApi.defaultResponse();
    const authorizer = ctx.broker.authorizer;
    if (authorizer === undefined || !authorizer.enabled) {
      response.errorCode = ErrorCode.SECURITY_DISABLED;
      response.errorMessage = 'No Authorizer is configured.';
      return response;
    }
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      response.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      response.errorMessage = 'Cluster authorization failed.';
      return response;
    }
    if (request.patternTypeFilter === PatternType.UNKNOWN) {
      response.errorCode = ErrorCode.INVALID_REQUEST;
      response.errorMessage = 'Unknown pattern type filter';
      return response;
    }
    const matched = authorizer.describe({
      resourceType: request.resourceTypeFilter,
      resourceName: request.resourceNameFilter,
      patternType: request.patternTypeFilter,
      principal: request.principalFilter,
      host: request.hostFilter,
      operation: request.operation,
      permissionType: request.permissionType,
    });
    const byResource = new Map<string, (typeof response.resources)[number]>();
    for (const acl of matched) {
      const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`;
      let resource = byResource.get(key);
      if (resource === undefined) {
        resource = {
          resourceType: acl.resourceType,
          resourceName: acl.resourceName,
          patternType: acl.patternType,
          acls: [],
        };
        byResource.set(key, resource);
      }
      resource.acls.push({
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation,
        permissionType: acl.permissionType,
      });
    }
    response.resources = [...byResource.values()];
    return response;
  },
});
