/**
 * AlterClientQuotas (key 49), v0–v1 (KIP-546): sets or removes quota values of user, client-id and ip
 * entities (a null name is the type's `<default>`). Each entity is validated on its own, as Kafka's
 * controller does, and answered with its own error; an entity's ops apply together or not at all;
 * validate_only checks without changing anything. Changes are persisted before the answer and apply to
 * the next request of every client they match.
 *
 * - v1 is flexible.
 */

import { ErrorCode } from '../../protocol/error-codes.js';
import { AlterClientQuotasApi } from '../../protocol/generated/49-alter-client-quotas.js';
import { AclOperation, authorizeCluster } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: AlterClientQuotasApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, ctx) {
    const response = AlterClientQuotasApi.defaultResponse();
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS)) {
      response.entries = request.entries.map((e) => ({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        entity: e.entity.map(({ entityType, entityName }) => ({ entityType, entityName })),
      }));
      return response;
    }
    const outcomes = await ctx.broker.quotas.store.alter(request.entries, request.validateOnly);
    response.entries = outcomes.map((o) => ({
      errorCode: o.errorCode,
      errorMessage: o.errorMessage,
      entity: [...o.entity].map(([entityType, entityName]) => ({ entityType, entityName })),
    }));
    return response;
  },
});
