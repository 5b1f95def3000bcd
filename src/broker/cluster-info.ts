/** Constants of a single-broker cluster that several handlers report. */

/**
 * The leader epoch of every partition. A single broker never changes leader, so the epoch stays 0;
 * clients use it to validate positions (OffsetForLeaderEpoch) and it is stamped into every batch.
 */
import type { BrokerRegistration } from '../cluster/metadata-source.js';
import type { BrokerServices } from './handler-context.js';
export const LEADER_EPOCH = 0;

/** Kafka's "authorized operations not requested" value (INT32_MIN). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** AclOperation codes (KIP-430 bitfields): without ACLs every operation is allowed. */
const op = (...codes: number[]) => codes.reduce((bits, c) => bits | (1 << c), 0);
// READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11
export const TOPIC_OPERATIONS = op(3, 4, 5, 6, 7, 8, 10, 11);
// CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12
export const CLUSTER_OPERATIONS = op(5, 7, 8, 9, 10, 11, 12);
// READ 3, DELETE 6, DESCRIBE 8
export const GROUP_OPERATIONS = op(3, 6, 8);

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
