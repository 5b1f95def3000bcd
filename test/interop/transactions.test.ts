/**
 * Real consumers against the partition side of transactions. There is no transaction coordinator yet, so the
 * test plays its part: transactional batches are built by hand (producer ids from InitProducerId without a
 * transactional id) and sent with Produce, and the transactions are ended with WriteTxnMarkers. Then kcat,
 * confluent-kafka (librdkafka) and kafkajs read the partition at both isolation levels.
 *
 * The partition holds: plain-0 | A: aborted-1 aborted-2 | B: committed-1 committed-2 | ABORT A | COMMIT B |
 * C: open-1 (never ended) | plain-after. read_committed stops at C's open transaction and drops A's records;
 * read_uncommitted sees every data record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/records/builder.js';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { kcat, lastJson, python } from '../helpers/clients.js';
import { RawClient } from '../helpers/raw-client.js';
import { initProducerId, produceBatch, transactionalBatch, writeTxnMarker } from '../helpers/txn-requests.js';

const TOPIC = 'ledger';
const COMMITTED_VIEW = ['plain-0', 'committed-1', 'committed-2'];
const UNCOMMITTED_VIEW = ['plain-0', 'aborted-1', 'aborted-2', 'committed-1', 'committed-2', 'open-1', 'plain-after'];

describe('read_committed and read_uncommitted consumers over hand-made transactions', () => {
  let kafka: EmbeddedBroker;
  let client: RawClient;

  before(async () => {
    kafka = await startBroker({ topics: [TOPIC] });
    client = await RawClient.connect(kafka.port);
    const producerId = async () => (await initProducerId(client)).producerId;
    const produce = async (values: string[], producer?: bigint) => {
      const records = values.map((v) => ({ key: v, value: Buffer.from(v) }));
      const batch = producer === undefined ? buildRecordBatch(records) : transactionalBatch(records, producer);
      assert.equal((await produceBatch(client, TOPIC, batch)).errorCode, ErrorCode.NONE);
    };
    const end = async (producer: bigint, committed: boolean) => {
      const res = await writeTxnMarker(client, { topic: TOPIC, producerId: producer, committed });
      assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    };
    const [a, b, c] = [await producerId(), await producerId(), await producerId()];
    await produce(['plain-0']);
    await produce(['aborted-1', 'aborted-2'], a);
    await produce(['committed-1', 'committed-2'], b);
    await end(a, false);
    await end(b, true);
    await produce(['open-1'], c);
    await produce(['plain-after']);
  });

  after(async () => {
    client?.close();
    await kafka?.stop();
  });

  for (const [level, expected] of [
    ['read_committed', COMMITTED_VIEW],
    ['read_uncommitted', UNCOMMITTED_VIEW],
  ] as const) {
    it(`kcat with isolation.level=${level} reads ${expected.length} records`, async () => {
      const r = await kcat(
        kafka.bootstrap,
        ['-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-f', '%s\\n', '-X', `isolation.level=${level}`],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), expected);
    });

    it(`confluent-kafka with isolation.level=${level} reads ${expected.length} records and stops at the end`, async () => {
      const r = await python(
        kafka.bootstrap,
        `
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': 'txn-${level}', 'isolation.level': '${level}',
              'enable.partition.eof': True, 'enable.auto.commit': False})
c.assign([TopicPartition('${TOPIC}', 0, 0)])
seen = []
while True:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        break
    seen.append(m.value().decode())
c.close()
print(json.dumps({'seen': seen}))
`,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lastJson<{ seen: string[] }>(r).seen, expected);
    });
  }

  it('kafkajs (read_committed by default) drops the aborted records and stops at the open transaction', async () => {
    const kafkajs = new Kafka({ brokers: [kafka.bootstrap], clientId: 'txn-kafkajs', logLevel: logLevel.NOTHING });
    for (const readUncommitted of [false, true]) {
      const consumer = kafkajs.consumer({
        groupId: `txn-kafkajs-${readUncommitted}`,
        readUncommitted,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      const seen: string[] = [];
      const expected = readUncommitted ? UNCOMMITTED_VIEW : COMMITTED_VIEW;
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
        },
      });
      const deadline = Date.now() + 20_000;
      while (seen.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // A little longer: a read_committed consumer must not go on past the open transaction.
      await new Promise((r) => setTimeout(r, 500));
      await consumer.disconnect();
      assert.deepEqual(seen, expected, `readUncommitted: ${readUncommitted}`);
    }
  });
});
