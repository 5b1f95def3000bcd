import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/args.js';
import { explainGroupError } from '../../../src/cli/group-errors.js';
import { formatResetPlan, parseDateTime, parseDuration, parseResetPlan } from '../../../src/cli/reset-specs.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';

describe('--to-datetime', () => {
  test('a time without a zone is UTC, as in Kafka’s tool', () => {
    assert.equal(parseDateTime('2024-06-01T12:00:00.000'), BigInt(Date.UTC(2024, 5, 1, 12)));
    assert.equal(parseDateTime('2024-06-01T12:00:00'), BigInt(Date.UTC(2024, 5, 1, 12)));
  });

  test('zones Z, +HH, +HHMM and -HH:MM move the instant', () => {
    const noon = BigInt(Date.UTC(2024, 5, 1, 12));
    assert.equal(parseDateTime('2024-06-01T12:00:00.000Z'), noon);
    assert.equal(parseDateTime('2024-06-01T14:00:00.000+02'), noon);
    assert.equal(parseDateTime('2024-06-01T14:30:00.000+0230'), noon);
    assert.equal(parseDateTime('2024-06-01T09:15:00.250-02:45'), noon + 250n);
  });

  test('a date that does not exist or text without a T is a usage error', () => {
    assert.throws(() => parseDateTime('2024-02-30T00:00:00.000'), UsageError);
    assert.throws(() => parseDateTime('2024-06-01T24:00:00.000'), UsageError);
    assert.throws(() => parseDateTime('2024-06-01 12:00:00.000'), UsageError);
    assert.throws(() => parseDateTime('yesterday'), /--to-datetime expects/);
  });
});

describe('--by-duration', () => {
  test('days, hours, minutes and fractional seconds add up in milliseconds', () => {
    assert.equal(parseDuration('PT30M'), 1_800_000n);
    assert.equal(parseDuration('P1DT2H'), 93_600_000n);
    assert.equal(parseDuration('PT1.5S'), 1_500n);
    assert.equal(parseDuration('pt10s'), 10_000n);
    assert.equal(parseDuration('-PT1H'), -3_600_000n);
    assert.equal(parseDuration('PT-0.5S'), -500n);
  });

  test('years, months, weeks and empty forms are refused, as Java’s Duration.parse refuses them', () => {
    for (const bad of ['P1Y', 'P2M', 'P1W', 'P', 'PT', 'P1DT', '30m', ''])
      assert.throws(() => parseDuration(bad), UsageError, bad);
  });
});

describe('reset plan CSV', () => {
  test('--export output reads back through --from-file', () => {
    const plan = [
      { topic: 'orders', partition: 0, offset: 17n },
      { topic: 'orders', partition: 1, offset: 9_007_199_254_740_993n },
    ];
    const csv = formatResetPlan(plan);
    assert.equal(csv, 'orders,0,17\norders,1,9007199254740993\n');
    assert.deepEqual(parseResetPlan(csv, 'billing', 'plan.csv'), plan);
  });

  test('a file with a group column keeps only the named group’s rows', () => {
    const csv = 'billing,orders,0,5\r\nother,orders,0,99\n\nbilling,orders,1,6\n';
    assert.deepEqual(parseResetPlan(csv, 'billing', 'plan.csv'), [
      { topic: 'orders', partition: 0, offset: 5n },
      { topic: 'orders', partition: 1, offset: 6n },
    ]);
  });

  test('a malformed line is reported with its line number; a file without the group’s rows is an error', () => {
    assert.throws(() => parseResetPlan('orders,0,5\norders,x,5\n', 'g', 'plan.csv'), /plan\.csv:2: expected/);
    assert.throws(() => parseResetPlan('orders,0,-5\n', 'g', 'plan.csv'), /plan\.csv:1/);
    assert.throws(() => parseResetPlan('other,orders,0,5\n', 'g', 'plan.csv'), /no offsets for group "g"/);
  });
});

describe('group error explanations', () => {
  test('read NAME: explanation, and a code without an explanation keeps its name', () => {
    assert.equal(
      explainGroupError(ErrorCode.GROUP_ID_NOT_FOUND, 'billing'),
      'GROUP_ID_NOT_FOUND: group "billing" does not exist',
    );
    assert.equal(
      explainGroupError(ErrorCode.NON_EMPTY_GROUP, 'billing'),
      'NON_EMPTY_GROUP: group "billing" has active members; stop them first',
    );
    assert.equal(explainGroupError(ErrorCode.CORRUPT_MESSAGE, 'billing'), 'CORRUPT_MESSAGE');
  });
});
