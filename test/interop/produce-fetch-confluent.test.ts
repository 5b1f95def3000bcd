/**
 * confluent-kafka-python (librdkafka) produces keyed records with headers and explicit create times,
 * acks=all, plain and with every codec, and reads them back with `Consumer.assign()` from offset 0 of
 * each partition (no group membership, no commits). Delivery reports give each record's partition and offset.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lastJson, PYTHON, run } from '../helpers/clients.js';
import {
  assertRoundTrip,
  type ConsumedRecord,
  type Delivery,
  PARTITIONS,
  RECORDS,
  type SentRecord,
  sentRecord,
  storedCodecs,
  suiteBroker,
} from './produce-fetch-expect.js';

/** Reads {topic, codec, partitions, records} on stdin; prints deliveries and everything consumed. */
const SCRIPT = `
import json, sys
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

job = json.load(sys.stdin)
bootstrap, topic, partitions, records = job["bootstrap"], job["topic"], job["partitions"], job["records"]
admin = AdminClient({"bootstrap.servers": bootstrap})  # kept referenced: a collected client cancels its futures
admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(20)

producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                     "compression.type": job["codec"], "enable.idempotence": False})
delivered = [None] * len(records)
def on_delivery(i):
    def report(err, msg):
        delivered[i] = {"error": err.name() if err else None, "partition": msg.partition(), "offset": msg.offset()}
    return report
for i, r in enumerate(records):
    while True:
        try:
            producer.produce(topic, key=r["key"].encode(), value=r["value"].encode(),
                             headers=[(k, v.encode()) for k, v in r["headers"]],
                             timestamp=r["timestamp"], on_delivery=on_delivery(i))
            break
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)
unflushed = producer.flush(30)

consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "assign-only", "enable.auto.commit": False,
                     "enable.partition.eof": True, "auto.offset.reset": "error"})
consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
consumed, at_end, errors = [], set(), []
while len(at_end) < partitions:
    msg = consumer.poll(10)
    if msg is None:
        errors.append("poll timed out")
        break
    if msg.error():
        if msg.error().code() == KafkaError._PARTITION_EOF:
            at_end.add(msg.partition())
        else:
            errors.append(msg.error().name())
        continue
    ts_type, ts = msg.timestamp()
    consumed.append({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode(),
                     "value": msg.value().decode(), "timestampType": ts_type, "timestamp": ts,
                     "headers": [[k, v.decode()] for k, v in (msg.headers() or [])]})
consumer.close()
print(json.dumps({"unflushed": unflushed, "delivered": delivered, "consumed": consumed, "errors": errors}))
`;

interface Outcome {
  unflushed: number;
  delivered: Array<{ error: string | null; partition: number; offset: number } | null>;
  consumed: Array<ConsumedRecord & { timestampType: number }>;
  errors: string[];
}

async function roundTrip(bootstrap: string, topic: string, codec: string, sent: SentRecord[]) {
  const job = { bootstrap, topic, codec, partitions: PARTITIONS, records: sent };
  const r = await run(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(job), timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = lastJson<Outcome>(r);
  assert.equal(out.unflushed, 0, 'every record was delivered before flush() returned');
  assert.deepEqual(out.errors, []);
  const deliveries: Delivery[] = out.delivered.map((d, i) => {
    assert.ok(d && d.error === null, `record ${i} delivery: ${JSON.stringify(d)}`);
    return { partition: d.partition, offset: d.offset };
  });
  // 1 is TIMESTAMP_CREATE_TIME: the producer's timestamps were kept, not replaced by the broker's clock.
  assert.ok(
    out.consumed.every((c) => c.timestampType === 1),
    'every record has a create time',
  );
  assertRoundTrip(sent, out.consumed, { deliveries });
}

describe('confluent-kafka-python produces and reads back by assigned partition and offset', () => {
  const suite = suiteBroker();

  test('10,000 keyed records with headers and timestamps land where the delivery reports said', async () => {
    const sent = Array.from({ length: RECORDS }, (_, i) => sentRecord('confluent', i, { timestamps: true }));
    await roundTrip(suite.broker.bootstrap, 'ck-keyed', 'none', sent);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    test(`records produced with compression.type=${codec} come back intact`, async () => {
      const sent = Array.from({ length: 2000 }, (_, i) => sentRecord(`confluent-${codec}`, i, { timestamps: true }));
      await roundTrip(suite.broker.bootstrap, `ck-${codec}`, codec, sent);
      if (codec === 'zstd') assert.deepEqual([...(await storedCodecs(suite.broker.port, 'ck-zstd'))], ['zstd']);
    });
  }

  test('gzip, snappy and lz4 batches from confluent-kafka are stored compressed', async () => {
    for (const codec of ['gzip', 'snappy', 'lz4']) {
      // librdkafka may send a lone first record uncompressed; every larger batch carries the codec.
      assert.ok((await storedCodecs(suite.broker.port, `ck-${codec}`)).has(codec), codec);
    }
  });
});
