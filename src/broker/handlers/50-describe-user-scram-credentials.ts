/**
 * DescribeUserScramCredentials (key 50), v0 (KIP-554): the SCRAM mechanisms and iterations of users, never
 * the credentials themselves. A null or empty list of users describes every user that has one.
 */

import { SCRAM_MECHANISM_TYPES } from '../../network/sasl/scram.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DescribeUserScramCredentialsApi,
  type DescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult,
} from '../../protocol/generated/50-describe-user-scram-credentials.js';
import { AclOperation, authorizeCluster } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const response = DescribeUserScramCredentialsApi.defaultResponse();
    response.errorMessage = null;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      response.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return response;
    }
    const known = new Map(ctx.broker.credentials.list().map((u) => [u.user, u.credentials]));
    const result = (user: string): DescribeUserScramCredentialsResponseDescribeUserScramCredentialsResult => {
      const credentials = known.get(user);
      if (credentials === undefined)
        return {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: [],
        };
      return {
        user,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        credentialInfos: credentials.map((c) => ({
          mechanism: SCRAM_MECHANISM_TYPES[c.mechanism],
          iterations: c.iterations,
        })),
      };
    };
    if (request.users === null || request.users.length === 0) {
      response.results = [...known.keys()].map(result);
      return response;
    }
    const names = request.users.map((u) => u.name);
    const duplicates = new Set(names.filter((name, i) => names.indexOf(name) !== i));
    response.results = [...new Set(names)].map((user) =>
      duplicates.has(user)
        ? {
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
            credentialInfos: [],
          }
        : result(user),
    );
    return response;
  },
});
