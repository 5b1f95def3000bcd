/**
 * The error codes `sluice group …` can meet, each explained in words an operator can act on. Printed as
 * `<NAME>: <explanation>`, so that the name stays searchable while the sentence says what to do.
 */
import { ErrorCode, errorName } from '../protocol/error-codes.js';

type Explain = (group: string) => string;

export const GROUP_ERROR_EXPLANATIONS: ReadonlyMap<number, Explain> = new Map<number, Explain>([
  [ErrorCode.GROUP_ID_NOT_FOUND, (g) => `group "${g}" does not exist`],
  [ErrorCode.NON_EMPTY_GROUP, (g) => `group "${g}" has active members; stop them first`],
  [ErrorCode.INVALID_GROUP_ID, (g) => `"${g}" is not a valid group id (it must not be empty)`],
  [
    ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
    (g) => `a member of group "${g}" is subscribed to this topic; stop the group's consumers first`,
  ],
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, () => 'the topic or partition does not exist'],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, () => 'the group coordinator is not available yet; try again shortly'],
  [
    ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    () => 'the group coordinator is still loading its groups; try again shortly',
  ],
  [ErrorCode.NOT_COORDINATOR, () => 'the broker asked is no longer the group coordinator; try again'],
  [ErrorCode.GROUP_AUTHORIZATION_FAILED, (g) => `this client is not allowed to access group "${g}"`],
  [ErrorCode.TOPIC_AUTHORIZATION_FAILED, () => 'this client is not allowed to access the topic'],
  [ErrorCode.UNKNOWN_MEMBER_ID, (g) => `a consumer joined group "${g}" meanwhile; stop its consumers first`],
  [ErrorCode.ILLEGAL_GENERATION, (g) => `group "${g}" rebalanced meanwhile; stop its consumers first`],
  [ErrorCode.REBALANCE_IN_PROGRESS, (g) => `group "${g}" is rebalancing; stop its consumers first`],
  [ErrorCode.OFFSET_METADATA_TOO_LARGE, () => 'the offset metadata is larger than the broker accepts'],
  [ErrorCode.INVALID_COMMIT_OFFSET_SIZE, () => 'the offset commit is larger than the broker accepts'],
  [ErrorCode.UNSTABLE_OFFSET_COMMIT, () => 'a transaction is still committing offsets of this partition; try again'],
  [ErrorCode.UNSUPPORTED_VERSION, () => 'the broker does not serve this request at a version this client speaks'],
  [ErrorCode.REQUEST_TIMED_OUT, () => 'the broker did not answer in time; try again or raise --timeout'],
  [ErrorCode.UNKNOWN_SERVER_ERROR, () => 'the broker failed unexpectedly; its log says why'],
]);

/** `NAME: explanation` for an error code; `NAME` alone for a code the table does not explain. */
export function explainGroupError(code: number, group: string, brokerMessage?: string | null): string {
  const explain = GROUP_ERROR_EXPLANATIONS.get(code);
  const text = explain ? `${errorName(code)}: ${explain(group)}` : errorName(code);
  return brokerMessage ? `${text} (${brokerMessage})` : text;
}
