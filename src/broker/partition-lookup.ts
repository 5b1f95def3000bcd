/** Finding the log behind a (topic, partition) a client names, with the error codes Kafka answers. */
import { ErrorCode } from '../protocol/error-codes.js';
import type { LogError, PartitionLog } from '../storage/index.js';
import { LEADER_EPOCH } from './cluster-info.js';
import type { BrokerServices } from './handler-context.js';

export type Lookup = { log: PartitionLog; errorCode?: undefined } | { log?: undefined; errorCode: ErrorCode };

export function lookupPartition(broker: BrokerServices, topic: string, partition: number): Lookup {
  const log = broker.topics.get(topic) ? broker.partition(topic, partition) : undefined;
  return log ? { log } : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
}

/**
 * Fencing by leader epoch (KIP-320): a client that knows an older epoch is fenced, one that knows a newer
 * epoch than this broker has seen is ahead of it. -1 means the client does not check.
 */
export function leaderEpochError(currentLeaderEpoch: number): ErrorCode {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === LEADER_EPOCH) return ErrorCode.NONE;
  return currentLeaderEpoch < LEADER_EPOCH ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
}

/** The storage layer names its errors after Kafka's codes; this maps one to the number. */
export function logErrorCode(err: LogError): ErrorCode {
  return ErrorCode[err.errorCode];
}
