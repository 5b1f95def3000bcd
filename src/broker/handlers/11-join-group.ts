/**
 * JoinGroup (key 11), v0–v9: a member joins (or rejoins) a group of the classic protocol; the answer is
 * parked until the rebalance completes, and the leader's answer carries every member's metadata.
 * - v0 has no rebalance timeout: the session timeout stands in for it, as in Kafka.
 * - v2 adds throttle_time_ms.
 * - v4: a member without a member id is answered MEMBER_ID_REQUIRED with one, and joins again (KIP-394).
 * - v5 adds group_instance_id: static membership (KIP-345).
 * - v6 is flexible. v7 answers protocol_type and a nullable protocol_name (KIP-559).
 * - v8 adds the join reason (KIP-800), logged. v9 adds skip_assignment (KIP-814), always false here.
 */
import { clientHostOf } from '../../coordinator/group/handler-support.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { JoinGroupApi } from '../../protocol/generated/11-join-group.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: JoinGroupApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, ctx) {
    const { version } = ctx;
    const response = JoinGroupApi.defaultResponse();
    const groups = ctx.broker.groups;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      response.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      response.memberId = request.memberId;
      if (version < 7) response.protocolName = '';
      return response;
    }
    if (!groups) {
      response.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      response.memberId = request.memberId;
      return response;
    }
    const result = await groups.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: version >= 5 ? request.groupInstanceId : null,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection.remoteAddress),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      protocolType: request.protocolType,
      // The metadata outlives the request frame it was decoded from.
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: version >= 4,
      reason: version >= 8 ? request.reason : null,
    });
    response.errorCode = result.errorCode;
    response.generationId = result.generationId;
    response.protocolType = result.protocolType;
    // Before v7 the protocol name is not nullable: Kafka sends "" when there is none.
    response.protocolName = version >= 7 ? result.protocolName : (result.protocolName ?? '');
    response.leader = result.leader;
    response.skipAssignment = result.skipAssignment;
    response.memberId = result.memberId;
    response.members = result.members;
    return response;
  },
});
