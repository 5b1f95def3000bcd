/**
 * Disk faults through the storage engine's file-system layer (startBroker's control.failDisk): a full disk
 * or an I/O error makes the affected partitions answer KAFKA_STORAGE_ERROR, nothing acknowledged is lost,
 * no half-written batch is ever served, and the broker recovers once the disk works again and on restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../../../src/index.js';
import { removeDir, tempDir } from '../../helpers/broker-process.js';
import { kcat } from '../../helpers/clients.js';

async function readAll(bootstrap: string, topic: string): Promise<string[]> {
  const r = await kcat(bootstrap, ['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o:%s\\n'], {
    timeoutMs: 20_000,
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

for (const code of ['ENOSPC', 'EIO'] as const) {
  test(`${code} on write and fsync: KAFKA_STORAGE_ERROR, no acknowledged record lost, recovery after healing and restart`, async () => {
    const dataDir = tempDir();
    let kafka = await startBroker({ storage: 'disk', dataDir, topics: ['df'] });
    try {
      const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const producer = client.producer({ retry: { retries: 0 } });
      await producer.connect();
      const acked: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [r] = await producer.send({ topic: 'df', acks: -1, messages: [{ value: `ok-${i}` }] });
        acked.push(`${r.baseOffset}:ok-${i}`);
      }

      kafka.control.failDisk(code);
      for (let i = 0; i < 3; i++) {
        await assert.rejects(
          producer.send({ topic: 'df', acks: -1, messages: [{ value: `lost-${i}` }] }),
          (err: Error & { type?: string; cause?: { type?: string } }) => {
            // kafkajs wraps the broker's error once its retries are spent.
            assert.equal(err.cause?.type ?? err.type, 'KAFKA_STORAGE_ERROR', String(err));
            return true;
          },
        );
      }
      // Reads still work and serve exactly the acknowledged records.
      assert.deepEqual(await readAll(kafka.bootstrap, 'df'), acked);

      kafka.control.healDisk();
      const [after] = await producer.send({ topic: 'df', acks: -1, messages: [{ value: 'healed' }] });
      assert.equal(after.baseOffset, '5', 'offsets of failed appends are reused: no gap');
      acked.push('5:healed');
      assert.deepEqual(await readAll(kafka.bootstrap, 'df'), acked);
      await producer.disconnect();

      await kafka.stop();
      kafka = await startBroker({ storage: 'disk', dataDir });
      assert.deepEqual(await readAll(kafka.bootstrap, 'df'), acked, 'after a restart');
    } finally {
      await kafka.stop();
      removeDir(dataDir);
    }
  });
}

test('a fault limited to one topic leaves the others writable', async () => {
  const kafka = await startBroker({ storage: 'disk', topics: ['sick', 'well'] });
  try {
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = client.producer({ retry: { retries: 0 } });
    await producer.connect();
    kafka.control.failDisk('EIO', { topic: 'sick' });
    await assert.rejects(producer.send({ topic: 'sick', acks: -1, messages: [{ value: 'x' }] }));
    const [ok] = await producer.send({ topic: 'well', acks: -1, messages: [{ value: 'y' }] });
    assert.equal(ok.errorCode, 0);
    await producer.disconnect();
  } finally {
    await kafka.stop();
  }
});
