/**
 * InitProducerId (key 22), v0–v5: gives an idempotent producer its producer id and epoch. Without a
 * transactional id Kafka's TransactionCoordinator hands out a new producer id with epoch 0 every time,
 * whatever id and epoch the request carries; so does this broker. Transactions are not served: a
 * transactional id is answered INVALID_REQUEST (see docs/skipped-features.md), which every client treats
 * as fatal instead of retrying.
 *
 * - v1 is v0 with a throttle time that may be honoured after the response (KIP-219).
 * - v2 is flexible.
 * - v3 adds producer_id and producer_epoch, so a producer can ask to bump its epoch (KIP-360); both must be
 *   -1 or both set, else INVALID_REQUEST, as Kafka checks.
 * - v4 may answer PRODUCER_FENCED instead of INVALID_PRODUCER_EPOCH (KIP-588), v5 may answer
 *   TRANSACTION_ABORTABLE (KIP-890): both only for transactional ids.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { InitProducerIdApi } from '../../protocol/generated/22-init-producer-id.js';
import { AclOperation, authorize, authorizeAny, authorizeCluster, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

const NO_PRODUCER_ID = -1n;
const NO_PRODUCER_EPOCH = -1;

export default defineHandler({
  api: InitProducerIdApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = InitProducerIdApi.defaultResponse();
    response.producerId = NO_PRODUCER_ID;
    response.producerEpoch = NO_PRODUCER_EPOCH;
    if ((request.producerId === NO_PRODUCER_ID) !== (request.producerEpoch === NO_PRODUCER_EPOCH)) {
      response.errorCode = ErrorCode.INVALID_REQUEST;
      return response;
    }
    if (
      request.transactionalId !== null &&
      !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)
    ) {
      response.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      return response;
    }
    // As Kafka: an idempotent producer needs IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
    if (
      request.transactionalId === null &&
      !authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE) &&
      !authorizeAny(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    ) {
      response.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return response;
    }
    if (request.transactionalId !== null) {
      broker.logger.warn(
        { transactionalId: request.transactionalId, clientId: ctx.header.clientId },
        'a transactional producer asked for a producer id; transactions are not supported yet, so it gets INVALID_REQUEST (drop transactional.id to use an idempotent producer)',
      );
      response.errorCode = ErrorCode.INVALID_REQUEST;
      return response;
    }
    try {
      response.producerId = await broker.logs.producerIds.generateProducerId();
      response.producerEpoch = 0;
    } catch (err) {
      broker.logger.error(
        { err },
        'could not reserve a block of producer ids in the log dir; producers retry (check the disk)',
      );
      // What Kafka answers while it cannot get a block of ids: retriable.
      response.errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    }
    return response;
  },
});
