/**
 * FindCoordinator (key 10), v0–v6: which broker coordinates a consumer group (key type 0) or a
 * transactional id (key type 1). One broker coordinates everything, so the answer is always this broker.
 * - v1 adds key_type (v0 asks for groups only), throttle_time_ms and error_message.
 * - v3 is flexible.
 * - v4 batches keys: coordinator_keys in, one coordinators[] entry per key out (KIP-699).
 * - v5 may answer TRANSACTION_ABORTABLE (KIP-890), v6 adds key type 2, share groups (KIP-932): not served here.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { FindCoordinatorApi } from '../../protocol/generated/10-find-coordinator.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import type { HandlerContext } from '../registry.js';
import { defineHandler } from '../registry.js';

const GROUP_KEY = 0;
const TRANSACTION_KEY = 1;

interface Answer {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

function answer(keyType: number, key: string, ctx: HandlerContext): Answer {
  const fail = (errorCode: number, errorMessage: string): Answer => ({
    errorCode,
    errorMessage,
    nodeId: -1,
    host: '',
    port: -1,
  });
  if (keyType !== GROUP_KEY && keyType !== TRANSACTION_KEY) {
    return fail(ErrorCode.INVALID_REQUEST, `key type ${keyType} is not supported (0 groups, 1 transactions)`);
  }
  // As Kafka: finding a coordinator needs DESCRIBE on the group or transactional id it serves.
  if (keyType === GROUP_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
    return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
  }
  if (keyType === TRANSACTION_KEY && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
    return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'Transactional Id authorization failed.');
  }
  if (keyType === GROUP_KEY && !ctx.broker.groups) {
    return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not running');
  }
  const { broker } = ctx;
  const { host, port } = broker.advertisedFor(ctx.connection.listenerName);
  return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: broker.nodeId, host, port };
}

export default defineHandler({
  api: FindCoordinatorApi,
  minVersion: 0,
  maxVersion: 6,
  handle(request, ctx) {
    const response = FindCoordinatorApi.defaultResponse();
    if (ctx.version >= 4) {
      response.coordinators = request.coordinatorKeys.map((key) => ({ key, ...answer(request.keyType, key, ctx) }));
      return response;
    }
    // v0 knows only groups.
    Object.assign(response, answer(ctx.version >= 1 ? request.keyType : GROUP_KEY, request.key, ctx));
    return response;
  },
});
