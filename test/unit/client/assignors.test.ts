import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeAssignment } from '../../../src/client/admin.js';
import {
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  rangeAssign,
  roundRobinAssign,
} from '../../../src/client/group-consumer.js';

const flat = (m: Map<string, Array<{ topic: string; partition: number }>>) =>
  Object.fromEntries([...m].map(([id, tps]) => [id, tps.map((tp) => `${tp.topic}-${tp.partition}`)]));

describe('group assignors', () => {
  test('range gives each member a contiguous run per topic, the first members one extra', () => {
    const members = [
      { memberId: 'b', topics: ['t'] },
      { memberId: 'a', topics: ['t', 'u'] },
    ];
    const plan = rangeAssign(
      members,
      new Map([
        ['t', 5],
        ['u', 2],
      ]),
    );
    assert.deepEqual(flat(plan), { b: ['t-3', 't-4'], a: ['t-0', 't-1', 't-2', 'u-0', 'u-1'] });
  });

  test('round robin deals partitions in order to subscribed members', () => {
    const members = [
      { memberId: 'a', topics: ['t'] },
      { memberId: 'b', topics: ['t'] },
    ];
    assert.deepEqual(flat(roundRobinAssign(members, new Map([['t', 5]]))), {
      a: ['t-0', 't-2', 't-4'],
      b: ['t-1', 't-3'],
    });
  });

  test('subscriptions and assignments survive the consumer protocol encoding', () => {
    assert.deepEqual(decodeSubscription(encodeSubscription(['x', 'y'])), ['x', 'y']);
    assert.deepEqual(
      decodeAssignment(
        encodeAssignment([
          { topic: 'x', partition: 0 },
          { topic: 'x', partition: 2 },
          { topic: 'y', partition: 1 },
        ]),
      ),
      [
        { topic: 'x', partitions: [0, 2] },
        { topic: 'y', partitions: [1] },
      ],
    );
  });
});
