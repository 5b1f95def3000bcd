/** Constants of a single-broker cluster that several handlers report. */

/**
 * The leader epoch of every partition. A single broker never changes leader, so the epoch stays 0;
 * clients use it to validate positions (OffsetForLeaderEpoch) and it is stamped into every batch.
 */
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
