import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaClient } from '../../src/client/client.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

test('the Apache Kafka peer starts on a free loopback port and answers Metadata', async (t) => {
  if (kafkaPeerOrSkip(t)) return;
  const peer = await startKafkaPeer();
  t.after(() => peer.stop());
  const client = new KafkaClient({ bootstrap: peer.bootstrap });
  t.after(() => client.close());
  const metadata = await client.metadata([]);
  assert.deepEqual(
    metadata.brokers.map((b) => `${b.host}:${b.port}`),
    [peer.bootstrap],
  );
});
