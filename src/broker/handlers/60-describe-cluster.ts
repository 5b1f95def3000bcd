/**
 * DescribeCluster (key 60), v0–v1 (KIP-700): the brokers and the controller, as the admin client sees them.
 *
 * - v1 adds endpoint_type (KIP-919): 1 = brokers, 2 = controllers. This broker is both, and answers
 *   itself for either.
 *
 * The brokers and the controller come from the cluster's metadata image: this broker alone, or every
 * broker registered in etcd.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { DescribeClusterApi } from '../../protocol/generated/60-describe-cluster.js';
import { AclOperation, authorizeCluster, authorizedOperations, CLUSTER_NAME, ResourceType } from '../authorizer.js';
import { AUTHORIZED_OPERATIONS_OMITTED, CLUSTER_OPERATIONS, endpointFor } from '../cluster-info.js';
import { defineHandler } from '../registry.js';

export default defineHandler({
  api: DescribeClusterApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const { broker } = ctx;
    const response = DescribeClusterApi.defaultResponse();
    if (ctx.version >= 1) {
      if (request.endpointType !== 1 && request.endpointType !== 2) {
        response.errorCode = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE;
        response.errorMessage = `Unknown endpoint type ${request.endpointType}`;
        return response;
      }
      response.endpointType = request.endpointType;
    }
    const image = broker.cluster.image();
    response.clusterId = broker.clusterId;
    response.controllerId = image.controllerId;
    response.brokers = image.brokers.map((b) => {
      const { host, port } = endpointFor(broker, b, ctx.connection.listenerName);
      return { brokerId: b.nodeId, host, port, rack: b.rack };
    });
    // As Kafka: anyone may describe the cluster; its operations are told only to who may DESCRIBE it.
    response.clusterAuthorizedOperations = !request.includeClusterAuthorizedOperations
      ? AUTHORIZED_OPERATIONS_OMITTED
      : authorizeCluster(ctx, AclOperation.DESCRIBE)
        ? authorizedOperations(ctx, ResourceType.CLUSTER, CLUSTER_NAME, CLUSTER_OPERATIONS)
        : 0;
    return response;
  },
});
