/**
 * DescribeClientQuotas (key 48), v0–v1 (KIP-546): the quota configs of the entities a filter matches.
 *
 * Each filter component names an entity type (user, client-id, ip) and a match: exact (a name), default
 * (the type's `<default>` entity) or specified (any entity that has the type). Without `strict`, matched
 * entities may have other types too; with it, they have exactly the filter's types. Filters Kafka refuses
 * answer an error code for the whole request and no entries (see quotas/quota-store.ts).
 *
 * - v1 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DescribeClientQuotasApi } from '../../protocol/generated/48-describe-client-quotas.js';
import { AclOperation, authorizeCluster } from '../authorizer.js';
import { QuotaRequestError } from '../quotas/quota-store.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeClientQuotasApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const response = DescribeClientQuotasApi.defaultResponse();
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      response.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      response.errorMessage = null;
      response.entries = null;
      return response;
    }
    try {
      const matched = ctx.broker.quotas.store.describe(request.components, request.strict);
      response.entries = matched.map((e) => ({
        entity: [...e.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
        values: [...e.values].map(([key, value]) => ({ key, value })),
      }));
    } catch (err) {
      if (!(err instanceof QuotaRequestError)) throw err;
      response.errorCode = err.errorCode;
      response.errorMessage = err.message;
      response.entries = null;
    }
    if (response.errorCode === ErrorCode.NONE) response.errorMessage = null;
    return response;
  },
});
