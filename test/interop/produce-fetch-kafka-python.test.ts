/**
 * kafka-python produces keyed records with headers and explicit create times, acks=all, plain and with
 * every codec it has, and reads them back with `assign()` + `seek_to_beginning()` (no group). Each record's
 * RecordMetadata (partition, offset, timestamp) is checked against where it was read.
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

/** Reads {bootstrap, topic, codec, partitions, records} on stdin; prints deliveries and everything consumed. */
const SCRIPT = `
import json, sys
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

job = json.load(sys.stdin)
bootstrap, topic, partitions, records = job["bootstrap"], job["topic"], job["partitions"], job["records"]
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, compression_type=job["codec"])
futures = [producer.send(topic, key=r["key"].encode(), value=r["value"].encode(),
                         headers=[(k, v.encode()) for k, v in r["headers"]], timestamp_ms=r["timestamp"])
           for r in records]
producer.flush(30)
delivered = []
for f in futures:
    md = f.get(timeout=30)
    delivered.append({"partition": md.partition, "offset": md.offset, "timestamp": md.timestamp})
producer.close()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
tps = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(tps)
consumer.seek_to_beginning()
end = consumer.end_offsets(tps)
consumed = []
polls = 0
while any(consumer.position(tp) < end[tp] for tp in tps) and polls < 200:
    polls += 1
    for tp, msgs in consumer.poll(timeout_ms=1000).items():
        for m in msgs:
            consumed.append({"partition": m.partition, "offset": m.offset, "key": m.key.decode(),
                             "value": m.value.decode(), "timestampType": m.timestamp_type, "timestamp": m.timestamp,
                             "headers": [[k, v.decode()] for k, v in m.headers]})
consumer.close()
print(json.dumps({"delivered": delivered, "consumed": consumed,
                  "end": {str(tp.partition): o for tp, o in end.items()}}))
`;

interface Outcome {
  delivered: Array<Delivery & { timestamp: number }>;
  consumed: Array<ConsumedRecord & { timestampType: number }>;
  end: Record<string, number>;
}

async function roundTrip(bootstrap: string, topic: string, codec: string | null, sent: SentRecord[]) {
  const job = { bootstrap, topic, codec, partitions: PARTITIONS, records: sent };
  const r = await run(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(job), timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = lastJson<Outcome>(r);
  out.delivered.forEach((d, i) => {
    assert.equal(d.timestamp, sent[i]!.timestamp, `reported timestamp of record ${i}`);
  });
  assert.equal(
    Object.values(out.end).reduce((a, b) => a + b, 0),
    sent.length,
    'the end offsets add up to the records sent',
  );
  assert.ok(
    out.consumed.every((c) => c.timestampType === 0),
    'every record has a create time',
  );
  assertRoundTrip(sent, out.consumed, { deliveries: out.delivered });
}

describe('kafka-python produces and reads back by assigned partition and offset', () => {
  const suite = suiteBroker();

  test('10,000 keyed records with headers and timestamps land where RecordMetadata said', async () => {
    const sent = Array.from({ length: RECORDS }, (_, i) => sentRecord('kafka-python', i, { timestamps: true }));
    await roundTrip(suite.broker.bootstrap, 'kp-keyed', null, sent);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    test(`records produced with compression_type=${codec} are stored compressed and come back intact`, async () => {
      const sent = Array.from({ length: 2000 }, (_, i) => sentRecord(`kafka-python-${codec}`, i, { timestamps: true }));
      await roundTrip(suite.broker.bootstrap, `kp-${codec}`, codec, sent);
      assert.deepEqual([...(await storedCodecs(suite.broker.port, `kp-${codec}`))], [codec]);
    });
  }
});
