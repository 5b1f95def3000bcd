import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatLeaderEpochCheckpoint,
  formatOffsetCheckpoint,
  formatPartitionMetadata,
  parseLeaderEpochCheckpoint,
  parseOffsetCheckpoint,
  parsePartitionMetadata,
  topicIdToBase64,
} from '../../../src/storage/checkpoint-files.js';
import { segmentFileName } from '../../../src/storage/log-segment.js';

describe('checkpoint files', () => {
  it('writes offset checkpoints as Kafka does: version, count, then one partition per line', () => {
    const text = formatOffsetCheckpoint([
      { topic: 'a.b-c', partition: 0, offset: 42n },
      { topic: '__consumer_offsets', partition: 17, offset: 9_007_199_254_740_993n },
    ]).toString('utf8');
    assert.equal(text, '0\n2\na.b-c 0 42\n__consumer_offsets 17 9007199254740993\n');
    assert.deepEqual(parseOffsetCheckpoint(text), [
      { topic: 'a.b-c', partition: 0, offset: 42n },
      { topic: '__consumer_offsets', partition: 17, offset: 9_007_199_254_740_993n },
    ]);
  });

  it('refuses a checkpoint that announces more entries than it holds', () => {
    assert.throws(() => parseOffsetCheckpoint('0\n2\nt 0 1\n'), /2 entries announced/);
    assert.throws(() => parseOffsetCheckpoint('1\n0\n'), /unsupported version/);
  });

  it('round-trips the leader epoch checkpoint', () => {
    const text = formatLeaderEpochCheckpoint([
      { epoch: 0, startOffset: 0n },
      { epoch: 3, startOffset: 120n },
    ]).toString('utf8');
    assert.equal(text, '0\n2\n0 0\n3 120\n');
    assert.deepEqual(parseLeaderEpochCheckpoint(text), [
      { epoch: 0, startOffset: 0n },
      { epoch: 3, startOffset: 120n },
    ]);
  });

  it('writes the topic id in partition.metadata as unpadded url-safe base64, like Kafka Uuid.toString', () => {
    const hex = 'fb8c6a9d3e0f4a7b9c1d2e3f40516273';
    const text = formatPartitionMetadata(hex).toString('utf8');
    assert.equal(text, `version: 0\ntopic_id: ${Buffer.from(hex, 'hex').toString('base64url')}\n`);
    assert.ok(!text.includes('='));
    assert.equal(topicIdToBase64(hex).length, 22);
    assert.equal(parsePartitionMetadata(text), hex);
  });

  it('names segment files by their base offset in 20 zero-padded digits', () => {
    assert.equal(segmentFileName(0n, '.log'), '00000000000000000000.log');
    assert.equal(segmentFileName(1234567n, '.timeindex'), '00000000000001234567.timeindex');
  });
});
