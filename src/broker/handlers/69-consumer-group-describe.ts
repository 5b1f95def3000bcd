/**
 * ConsumerGroupDescribe (key 69), v0: KIP-848 consumer groups with their epochs, assignor, and each
 * member's epoch, subscriptions, current and target assignment. A group that is not a consumer group
 * answers GROUP_ID_NOT_FOUND, as Kafka does.
 * Kafka 4.x also has v1 (the same fields); the message definitions this project generates from stop at v0.
 * - authorized_operations: -2147483648 unless asked for (KIP-430), as DescribeGroups.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { ConsumerGroupDescribeApi } from '../../protocol/generated/69-consumer-group-describe.js';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, GROUP_OPERATIONS } from '../cluster-info.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: ConsumerGroupDescribeApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const response = ConsumerGroupDescribeApi.defaultResponse();
    const groups = ctx.broker.groups;
    response.groups = request.groupIds.map((groupId) => {
      const allowed = authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId);
      const described =
        allowed && groupId !== '' && groups
          ? groups.consumerGroupDescribe(groupId)
          : {
              errorCode: !allowed
                ? ErrorCode.GROUP_AUTHORIZATION_FAILED
                : groups
                  ? ErrorCode.INVALID_GROUP_ID
                  : ErrorCode.COORDINATOR_NOT_AVAILABLE,
              errorMessage: null,
              groupId,
              groupState: '',
              groupEpoch: 0,
              assignmentEpoch: 0,
              assignorName: '',
              members: [],
            };
      const ops =
        request.includeAuthorizedOperations && allowed
          ? authorizedOperations(ctx, ResourceType.GROUP, groupId, GROUP_OPERATIONS)
          : AUTHORIZED_OPERATIONS_OMITTED;
      return { ...described, authorizedOperations: ops };
    });
    return response;
  },
});
