/**
 * WriteTxnMarkers (key 27), v1: the request a transaction coordinator sends to partition leaders to end
 * a transaction, one COMMIT or ABORT marker per producer and partition (see txn-marker-writer.ts, which the
 * in-process coordinator calls directly). Each partition answers once its marker is durable.
 *
 * - v1 is flexible. v0 is not served: Kafka 4.x dropped it (KIP-896) and advertises 1 as the lowest version.
 * - Kafka 4.3's v2 adds the transaction version (KIP-890); the message definitions here stop at v1.
 *
 * Kafka marks this API for the broker listeners ("listeners": ["zkBroker", "broker"] in its definition, and
 * a CLUSTER_ACTION ACL); in KRaft a broker's listeners serve clients and brokers alike, so Kafka 4.x lists it
 * in the ApiVersions answer a client gets, and so does this broker. Without ACLs anyone may call it, as on a
 * Kafka broker without an authorizer.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { WriteTxnMarkersApi } from '../../protocol/generated/27-write-txn-markers.js';
import { AclOperation, authorizeCluster } from '../authorizer.js';
import { defineHandler } from '../registry.js';
import { writeTxnMarkers } from '../txn-marker-writer.js';

export default defineHandler({
  api: WriteTxnMarkersApi,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, ctx) {
    const { broker } = ctx;
    const response = WriteTxnMarkersApi.defaultResponse();
    // As Kafka: only brokers (CLUSTER_ACTION) write markers; every partition is refused otherwise.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) {
      response.markers = request.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          })),
        })),
      }));
      return response;
    }
    const results = await writeTxnMarkers(
      { partition: (topic, partition) => (broker.topics.get(topic) ? broker.partition(topic, partition) : undefined) },
      request.markers.map((m) => ({
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        committed: m.transactionResult,
        coordinatorEpoch: m.coordinatorEpoch,
        partitions: m.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition }))),
      })),
    );
    for (const result of results) {
      const topics = new Map<string, Array<{ partitionIndex: number; errorCode: ErrorCode }>>();
      for (const p of result.partitions) {
        let partitions = topics.get(p.topic);
        if (!partitions) topics.set(p.topic, (partitions = []));
        partitions.push({ partitionIndex: p.partition, errorCode: p.errorCode });
      }
      response.markers.push({
        producerId: result.producerId,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      });
    }
    return response;
  },
});
