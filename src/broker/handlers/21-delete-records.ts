/**
 * DeleteRecords (key 21), v0–v2: advances a partition's log start offset (offset -1 means the high
 * watermark); whole segments below it are deleted. v2 is flexible.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  DeleteRecordsApi,
  type DeleteRecordsResponseDeleteRecordsPartitionResult,
} from '../../protocol/generated/21-delete-records.js';
import { isLogError } from '../../storage/index.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { logErrorCode, lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DeleteRecordsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const response = DeleteRecordsApi.defaultResponse();
    for (const t of request.topics) {
      const partitions: DeleteRecordsResponseDeleteRecordsPartitionResult[] = [];
      response.topics.push({ name: t.name, partitions });
      // As Kafka: DELETE on the topic is checked before whether it exists.
      const allowed = authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, t.name);
      for (const p of t.partitions) {
        const out = { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.NONE as number };
        partitions.push(out);
        if (!allowed) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        const found = lookupPartition(ctx.broker, t.name, p.partitionIndex);
        if (!found.log) {
          out.errorCode = found.errorCode;
          continue;
        }
        const result = await found.log.deleteRecordsBefore(p.offset);
        if (isLogError(result)) out.errorCode = logErrorCode(result);
        else out.lowWatermark = result.lowWatermark;
      }
    }
    return response;
  },
});
