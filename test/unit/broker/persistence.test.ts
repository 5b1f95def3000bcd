/** Topics, their ids and the cluster id survive restarts; partition.metadata carries the id as Kafka writes it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../../src/broker/broker.js';
import { defaultConfig } from '../../../src/broker/config.js';
import { topicIdToBase64 } from '../../../src/storage/checkpoint-files.js';
import { removeDir, startBrokerProcess, tempDir } from '../../helpers/broker-process.js';

test('topic ids, partition counts and the cluster id are the same after a restart', async () => {
  const dir = tempDir();
  try {
    const config = defaultConfig({ listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir });
    const first = await Broker.start({ config });
    const created = await first.createTopic({ name: 'kept', partitions: 3, replicationFactor: -1 });
    const topicId = created.topic!.topicId;
    const clusterId = first.clusterId;
    await first.stop();

    const metadata = readFileSync(join(dir, 'kept-1', 'partition.metadata'), 'utf8');
    assert.match(metadata, new RegExp(`topic_id: ${topicIdToBase64(topicId)}`));

    const second = await Broker.start({ config });
    try {
      const again = second.topics.get('kept');
      assert.equal(again?.topicId, topicId);
      assert.equal(again?.partitions, 3);
      assert.equal(second.clusterId, clusterId);
      assert.ok(second.partition('kept', 2), 'partition logs reopened');
    } finally {
      await second.stop();
    }
  } finally {
    removeDir(dir);
  }
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`the broker process exits cleanly (code 0) on ${signal}`, async () => {
    const broker = await startBrokerProcess();
    try {
      broker.child.kill(signal);
      const code = await new Promise<number | null>((resolve) => broker.child.once('exit', (c) => resolve(c)));
      assert.equal(code, 0, broker.output());
      assert.match(broker.output(), /shutting down/);
    } finally {
      removeDir(broker.dataDir);
    }
  });
}
