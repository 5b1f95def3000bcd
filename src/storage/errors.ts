/**
 * Errors the log returns as values, named as Kafka's error codes so the broker maps them one to one.
 * Exceptions remain for bugs; I/O failures on the append path become KAFKA_STORAGE_ERROR values.
 */

export type LogErrorCode =
  | 'CORRUPT_MESSAGE'
  | 'INVALID_RECORD'
  | 'UNSUPPORTED_FOR_MESSAGE_FORMAT'
  | 'MESSAGE_TOO_LARGE'
  | 'RECORD_LIST_TOO_LARGE'
  | 'OFFSET_OUT_OF_RANGE'
  | 'OUT_OF_ORDER_SEQUENCE_NUMBER'
  | 'INVALID_PRODUCER_EPOCH'
  | 'INVALID_TXN_STATE'
  | 'TRANSACTION_COORDINATOR_FENCED'
  | 'KAFKA_STORAGE_ERROR';

export interface LogError {
  errorCode: LogErrorCode;
  message: string;
}

export function logError(errorCode: LogErrorCode, message: string): LogError {
  return { errorCode, message };
}

export function isLogError(value: unknown): value is LogError {
  return typeof value === 'object' && value !== null && 'errorCode' in value;
}

/** The pino-style logger the storage layer writes to; the default discards everything. */
export interface StorageLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: StorageLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
