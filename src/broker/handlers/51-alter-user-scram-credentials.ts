/**
 * AlterUserScramCredentials (key 51), v0 (KIP-554): adds, replaces and deletes users' SCRAM credentials.
 * The client sends the salt and salted password (it never sends the password); the broker keeps the
 * derived StoredKey and ServerKey in the credentials file of its data directory.
 *
 * Each user is checked on its own, with Kafka's errors: a user named twice in one request
 * (DUPLICATE_RESOURCE), an unknown mechanism (UNSUPPORTED_SASL_MECHANISM), iterations outside 4096–16384
 * or an empty name (UNACCEPTABLE_CREDENTIAL), deleting a credential that does not exist (RESOURCE_NOT_FOUND).
 */

import {
  credentialFromSaltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  type ScramCredential,
  type ScramMechanism,
  scramMechanismOfType,
} from '../../network/sasl/scram.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  AlterUserScramCredentialsApi,
  type AlterUserScramCredentialsResponseAlterUserScramCredentialsResult,
} from '../../protocol/generated/51-alter-user-scram-credentials.js';
import { AclOperation, authorizeCluster } from '../authorizer.js';
import { defineHandler } from '../registry.js';

type Result = AlterUserScramCredentialsResponseAlterUserScramCredentialsResult;

export default defineHandler({
  api: AlterUserScramCredentialsApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const store = ctx.broker.credentials;
    const response = AlterUserScramCredentialsApi.defaultResponse();
    const users = [...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)];
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      response.results = [...new Set(users)].map((user) => ({
        user,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
      }));
      return response;
    }
    const failed = new Map<string, Result>();
    const fail = (user: string, errorCode: ErrorCode, errorMessage: string) => {
      if (!failed.has(user)) failed.set(user, { user, errorCode, errorMessage });
    };
    const seen = new Set<string>();
    for (const alteration of [...request.deletions, ...request.upsertions]) {
      const key = `${alteration.name}\u0000${alteration.mechanism}`;
      if (seen.has(key))
        fail(
          alteration.name,
          ErrorCode.DUPLICATE_RESOURCE,
          'A user credential cannot be altered twice in the same request',
        );
      seen.add(key);
    }
    const deletions: Array<{ user: string; mechanism: ScramMechanism }> = [];
    for (const d of request.deletions) {
      const mechanism = scramMechanismOfType(d.mechanism);
      if (d.name === '') fail(d.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
      else if (mechanism === undefined) fail(d.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
      else if (store.get(d.name, mechanism) === undefined)
        fail(d.name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
      else deletions.push({ user: d.name, mechanism });
    }
    const upsertions: Array<{ user: string; mechanism: ScramMechanism; credential: ScramCredential }> = [];
    for (const u of request.upsertions) {
      const mechanism = scramMechanismOfType(u.mechanism);
      if (u.name === '') fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
      else if (mechanism === undefined) fail(u.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
      else if (u.iterations < SCRAM_MIN_ITERATIONS)
        fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
      else if (u.iterations > SCRAM_MAX_ITERATIONS)
        fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
      else
        upsertions.push({
          user: u.name,
          mechanism,
          credential: credentialFromSaltedPassword(mechanism, u.saltedPassword, u.salt, u.iterations),
        });
    }
    const ok = (user: string) => !failed.has(user);
    await store.change(
      upsertions.filter((u) => ok(u.user)),
      deletions.filter((d) => ok(d.user)),
    );
    response.results = [...new Set(users)].map(
      (user) => failed.get(user) ?? { user, errorCode: ErrorCode.NONE, errorMessage: null },
    );
    return response;
  },
});
