/** Errors the client raises: a Kafka error code from a response, or a failure to reach or talk to a broker. */
import { errorName, isRetriable } from '../protocol/error-codes.js';

/** A response carried a non-zero error code. `message` reads `NAME: broker's message` when it sent one. */
export class KafkaError extends Error {
  readonly type: string;
  readonly retriable: boolean;

  /** `retriable` overrides Kafka's classification where the caller knows better (a topic that does not exist). */
  constructor(
    readonly code: number,
    detail?: string | null,
    retriable?: boolean,
  ) {
    super(detail ? `${errorName(code)}: ${detail}` : errorName(code));
    this.name = 'KafkaError';
    this.type = errorName(code);
    this.retriable = retriable ?? isRetriable(code);
  }
}

/** The broker could not be reached, closed the connection, or did not answer in time. Always retriable. */
export class ConnectionError extends Error {
  readonly retriable = true;

  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** A request took longer than its timeout; the connection it was sent on is closed. */
export class RequestTimeoutError extends ConnectionError {
  constructor(message: string) {
    super(message);
    this.name = 'RequestTimeoutError';
  }
}

/** Throws a KafkaError when `code` is not NONE (0). */
export function check(code: number, detail?: string | null): void {
  if (code !== 0) throw new KafkaError(code, detail);
}

export function isRetriableError(err: unknown): boolean {
  return (err instanceof KafkaError || err instanceof ConnectionError) && err.retriable;
}
