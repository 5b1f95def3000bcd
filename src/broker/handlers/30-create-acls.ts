/**
 * CreateAcls (key 30), v0–v3: adds ACL bindings. Needs ALTER on the cluster; answers SECURITY_DISABLED for
 * every creation when no authorizer is configured, as Kafka does. An invalid binding fails alone with
 * INVALID_REQUEST; the valid ones of the same request are still added.
 *
 * - v0 carries no pattern type: its bindings are LITERAL (the codec's default).
 * - v2+ is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { CreateAclsApi } from '../../protocol/generated/30-create-acls.js';
import { type AclBinding, AclOperation, authorizeCluster, bindingProblem } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: CreateAclsApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const response = CreateAclsApi.defaultResponse();
    const authorizer = ctx.broker.authorizer;
    const fail = (errorCode: ErrorCode, errorMessage: string) =>
      request.creations.map(() => ({ errorCode, errorMessage }));
    if (authorizer === undefined || !authorizer.enabled) {
      response.results = fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
      return response;
    }
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      response.results = fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      return response;
    }
    const valid: AclBinding[] = [];
    response.results = request.creations.map((c) => {
      const binding: AclBinding = {
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      };
      const problem = bindingProblem(binding);
      if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
      valid.push(binding);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
    await authorizer.create(valid);
    return response;
  },
});
