import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, errorName, isRetriable } from '../../../src/protocol/error-codes.js';

test('error codes carry the numbers and names Kafka gives them', () => {
  assert.equal(ErrorCode.NONE, 0);
  assert.equal(ErrorCode.UNKNOWN_SERVER_ERROR, -1);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 3);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(ErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(ErrorCode.UNKNOWN_TOPIC_ID, 100);
  assert.equal(ErrorCode.INVALID_REGULAR_EXPRESSION, 128);
  const codes = Object.values(ErrorCode).filter((v) => typeof v === 'number');
  assert.equal(codes.length, 129, 'every code from -1 to 128 except the unused 99');
});

test('errorName gives the Kafka name of a code and a readable placeholder for unknown codes', () => {
  assert.equal(errorName(3), 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(errorName(-1), 'UNKNOWN_SERVER_ERROR');
  assert.equal(errorName(99), 'UNKNOWN_ERROR_CODE_99');
});

test('retriable codes are those whose Kafka exception is retriable', () => {
  assert.equal(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER), true);
  assert.equal(isRetriable(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), true);
  assert.equal(isRetriable(ErrorCode.TOPIC_AUTHORIZATION_FAILED), false);
  assert.equal(isRetriable(ErrorCode.NONE), false);
});
