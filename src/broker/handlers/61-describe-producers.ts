/**
 * DescribeProducers (key 61), v0 (KIP-664): the producers a partition leader keeps state for, as the Admin
 * client's describeProducers and kafka-transactions.sh show them: producer id, epoch, last sequence, last
 * timestamp, coordinator epoch and the first offset of the open transaction (-1 when none).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DescribeProducersApi,
  type DescribeProducersResponsePartitionResponse,
} from '../../protocol/generated/61-describe-producers.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeProducersApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const { broker } = ctx;
    const response = DescribeProducersApi.defaultResponse();
    for (const t of request.topics) {
      const partitions: DescribeProducersResponsePartitionResponse[] = [];
      response.topics.push({ name: t.name, partitions });
      const allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      for (const partitionIndex of t.partitionIndexes) {
        if (!allowed) {
          partitions.push({
            partitionIndex,
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: null,
            activeProducers: [],
          });
          continue;
        }
        const found = lookupPartition(broker, t.name, partitionIndex);
        if (!found.log) {
          partitions.push({ partitionIndex, errorCode: found.errorCode, errorMessage: null, activeProducers: [] });
          continue;
        }
        partitions.push({
          partitionIndex,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: found.log.producers.entries().map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.producerEpoch,
            lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
            lastTimestamp: e.lastTimestamp,
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: e.currentTxnFirstOffset,
          })),
        });
      }
    }
    return response;
  },
});
