import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeOffsetsTopicKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from '../../../src/coordinator/group/offsets-topic-records.js';
import { javaStringHashCode, kafkaAbs, partitionForGroup } from '../../../src/coordinator/group/partition-for.js';

describe('__consumer_offsets partitioning', () => {
  it('Java’s String.hashCode is computed over UTF-16 code units with 32-bit overflow', () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('a'), 97);
    // "abc": 97·31² + 98·31 + 99 = 93217 + 3038 + 99
    assert.equal(javaStringHashCode('abc'), 96354);
    // "my-group" overflows: its hash is negative.
    assert.equal(javaStringHashCode('my-group'), -1906497762);
    // U+1F600 is the surrogate pair D83D DE00: 0xD83D·31 + 0xDE00 = 1716067 + 56832.
    assert.equal(javaStringHashCode('\u{1F600}'), 1772899);
    // The well-known string whose hash is Integer.MIN_VALUE.
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  });

  it('Kafka’s Utils.abs maps Integer.MIN_VALUE to 0 instead of leaving it negative', () => {
    assert.equal(kafkaAbs(-2147483648), 0);
    assert.equal(kafkaAbs(-5), 5);
    assert.equal(kafkaAbs(7), 7);
  });

  it('a group lands on the partition Kafka would choose', () => {
    // Kafka's docs and tooling: "my-group" lives in __consumer_offsets-12 of 50.
    assert.equal(partitionForGroup('my-group', 50), 12);
    assert.equal(partitionForGroup('abc', 50), 96354 % 50);
    assert.equal(partitionForGroup('polygenelubricants', 50), 0);
    assert.equal(partitionForGroup('', 50), 0);
  });
});

describe('__consumer_offsets record formats', () => {
  it('an OffsetCommitKey is version 1, group, topic and partition', () => {
    const key = encodeOffsetCommitKey('g', 't', 3);
    assert.deepEqual([...key], [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 3]);
    assert.deepEqual(decodeOffsetsTopicKey(key), { type: 'offset', group: 'g', topic: 't', partition: 3 });
    // Version 0 keys (written by old Kafka) have the same layout.
    key.writeInt16BE(0, 0);
    assert.deepEqual(decodeOffsetsTopicKey(key), { type: 'offset', group: 'g', topic: 't', partition: 3 });
  });

  it('a GroupMetadataKey is version 2 and the group', () => {
    const key = encodeGroupMetadataKey('g');
    assert.deepEqual([...key], [0, 2, 0, 1, 0x67]);
    assert.deepEqual(decodeOffsetsTopicKey(key), { type: 'group', group: 'g' });
  });

  it('keys of record types this coordinator does not keep (share groups) are skipped, not misread', () => {
    assert.equal(decodeOffsetsTopicKey(Buffer.from([0, 11, 0, 1, 0x67])), null);
  });

  it('keys of KIP-848 consumer group records decode with Kafka’s versions 3 to 8', () => {
    assert.deepEqual(decodeOffsetsTopicKey(Buffer.from([0, 3, 0, 1, 0x67])), {
      type: 'consumer-group-metadata',
      group: 'g',
    });
    assert.deepEqual(decodeOffsetsTopicKey(Buffer.from([0, 8, 0, 1, 0x67, 0, 1, 0x6d])), {
      type: 'consumer-group-current-member-assignment',
      group: 'g',
      memberId: 'm',
    });
  });

  it('an OffsetCommitValue is written as v3, or v1 when it carries an expire timestamp', () => {
    const v3 = encodeOffsetCommitValue({
      offset: 5n,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000n,
      expireTimestamp: -1n,
    });
    assert.deepEqual([...v3], [0, 3, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2, 0, 1, 0x6d, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]);
    assert.deepEqual(decodeOffsetCommitValue(v3), {
      offset: 5n,
      leaderEpoch: 2,
      metadata: 'm',
      commitTimestamp: 1000n,
      expireTimestamp: -1n,
    });
    const v1 = encodeOffsetCommitValue({
      offset: 5n,
      leaderEpoch: 2,
      metadata: '',
      commitTimestamp: 1000n,
      expireTimestamp: 2000n,
    });
    assert.equal(v1.readInt16BE(0), 1);
    assert.deepEqual(decodeOffsetCommitValue(v1), {
      offset: 5n,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1000n,
      expireTimestamp: 2000n,
    });
  });

  it('OffsetCommitValue v0 and the flexible v4 decode too', () => {
    const v0 = Buffer.from([0, 0, ...[0, 0, 0, 0, 0, 0, 0, 9], 0, 0, ...[0, 0, 0, 0, 0, 0, 0, 1]]);
    assert.deepEqual(decodeOffsetCommitValue(v0), {
      offset: 9n,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1n,
      expireTimestamp: -1n,
    });
    // v4: offset, leaderEpoch, compact string "ab", commitTimestamp, empty tagged fields.
    const v4 = Buffer.from([
      0,
      4,
      ...[0, 0, 0, 0, 0, 0, 0, 9],
      ...[0, 0, 0, 1],
      3,
      0x61,
      0x62,
      ...[0, 0, 0, 0, 0, 0, 0, 1],
      0,
    ]);
    assert.deepEqual(decodeOffsetCommitValue(v4), {
      offset: 9n,
      leaderEpoch: 1,
      metadata: 'ab',
      commitTimestamp: 1n,
      expireTimestamp: -1n,
    });
  });

  it('a GroupMetadataValue round-trips as v3 with its members', () => {
    const value = {
      protocolType: 'consumer',
      generation: 7,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 123n,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: 'i1',
          clientId: 'c1',
          clientHost: '/127.0.0.1',
          rebalanceTimeoutMs: 300_000,
          sessionTimeoutMs: 10_000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    };
    const bytes = encodeGroupMetadataValue(value);
    assert.equal(bytes.readInt16BE(0), 3);
    assert.deepEqual(decodeGroupMetadataValue(bytes), value);
  });

  it('a v0 GroupMetadataValue (no rebalance timeout) uses the session timeout for it', () => {
    const str = (s: string) => [0, s.length, ...Buffer.from(s)];
    const bytes = Buffer.from([
      0,
      0,
      ...str('consumer'),
      0,
      0,
      0,
      1,
      ...str('range'),
      ...str('m'),
      0,
      0,
      0,
      1,
      ...str('m'),
      ...str('c'),
      ...str('/h'),
      0,
      0,
      0x27,
      0x10,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    const decoded = decodeGroupMetadataValue(bytes);
    assert.equal(decoded.members[0].sessionTimeoutMs, 10_000);
    assert.equal(decoded.members[0].rebalanceTimeoutMs, 10_000);
    assert.equal(decoded.members[0].groupInstanceId, null);
    assert.equal(decoded.currentStateTimestamp, -1n);
  });
});
