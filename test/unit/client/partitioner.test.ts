import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey, RoundRobinPartitioner, StickyPartitioner } from '../../../src/client/partitioner.js';

describe('the default partitioner', () => {
  test('murmur2 matches the values in Kafka’s own Utils tests', () => {
    const vectors: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key)), hash, key);
  });

  test('a keyed record lands where kafkajs’s Java-compatible DefaultPartitioner puts it', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 2, 3, 7, 12, 100]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
        partitionErrorCode: 0,
        partitionId: i,
        leader: 1,
        replicas: [1],
        isr: [1],
      }));
      for (let i = 0; i < 300; i++) {
        const key = i % 2 === 0 ? Buffer.from(`key-${i}`) : randomBytes(i % 37);
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        assert.equal(partitionForKey(key, partitions), expected, `key ${key.toString('hex')} over ${partitions}`);
      }
    }
  });

  test('string keys hash their UTF-8 bytes', () => {
    assert.equal(partitionForKey('ключ', 10), partitionForKey(Buffer.from('ключ', 'utf8'), 10));
  });

  test('records without a key stick to one partition until its batch closes, then move', () => {
    let n = 0;
    const sticky = new StickyPartitioner(() => [0.1, 0.1, 0.6][n++ % 3]);
    const first = sticky.partition('t', 5);
    assert.equal(sticky.partition('t', 5), first);
    sticky.batchClosed('t', first, 5);
    const second = sticky.partition('t', 5);
    assert.notEqual(second, first, 'a new partition after the batch closed');
    sticky.batchClosed('t', 4, 5); // another partition's batch does not move the sticky one
    assert.equal(sticky.partition('t', 5), second);
  });

  test('round robin deals records to every partition in turn', () => {
    const rr = new RoundRobinPartitioner();
    assert.deepEqual(
      Array.from({ length: 7 }, () => rr.partition('t', 3)),
      [0, 1, 2, 0, 1, 2, 0],
    );
  });
});
