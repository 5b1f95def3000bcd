/** Constants of a single-broker cluster that several handlers report. */

/**
 * The leader epoch of every partition. A single broker never changes leader, so the epoch stays 0;
 * clients use it to validate positions (OffsetForLeaderEpoch) and it is stamped into every batch.
 */
import type { BrokerRegistration } from '../cluster/metadata-source.js';
import { AclOperation } from './authorizer.js';
import type { BrokerServices } from './handler-context.js';
export const LEADER_EPOCH = 0;

/** Kafka's "authorized operations not requested" value (INT32_MIN). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * The operations each resource type has, as KIP-430 bitfields (bit n = AclOperation n): what an authorized
 * operations field can grant at most; the authorizer keeps the ones a principal is allowed.
 */
const op = (...operations: AclOperation[]) => operations.reduce((bits, o) => bits | (1 << o), 0);
export const TOPIC_OPERATIONS = op(
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.CREATE,
  AclOperation.DELETE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
);
export const CLUSTER_OPERATIONS = op(
  AclOperation.CREATE,
  AclOperation.ALTER,
  AclOperation.DESCRIBE,
  AclOperation.CLUSTER_ACTION,
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
  AclOperation.IDEMPOTENT_WRITE,
);
export const GROUP_OPERATIONS = op(AclOperation.READ, AclOperation.DELETE, AclOperation.DESCRIBE);

/**
 * Where a client that came in on `listenerName` is told broker `b` listens (Metadata, DescribeCluster): this
 * broker's own advertised address for that listener, another broker's listener of the same name, or else its
 * first one. So a client on SASL_SSL stays on SASL_SSL, as Kafka answers.
 */
export function endpointFor(
  broker: Pick<BrokerServices, 'nodeId' | 'advertisedFor'>,
  b: BrokerRegistration,
  listenerName: string | undefined,
): { host: string; port: number } {
  if (b.nodeId === broker.nodeId) return broker.advertisedFor(listenerName);
  return b.listeners.find((l) => l.name === listenerName) ?? b.listeners[0]!;
}
