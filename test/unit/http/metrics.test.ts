/** The admin HTTP listener: /metrics in Prometheus' text format with counters that move, and /health. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { NO_METRICS } from '../../../src/broker/metrics.js';
import { fetchPartitions, KafkaClient, Producer } from '../../../src/client/index.js';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';
import { REPO_ROOT } from '../../helpers/broker-process.js';

type Samples = Map<string, number>;

/** Parses the exposition format into `name{labels}` → value, checking every line's shape. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    // prom-client writes NaN as "Nan"; Prometheus reads either spelling.
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `malformed exposition line: ${line}`);
    samples.set(m[1] + (m[2] ?? ''), Number(m[3]));
  }
  return samples;
}

describe('admin http listener', () => {
  let kafka: EmbeddedBroker;
  let base: string;

  before(async () => {
    kafka = await startBroker({
      storage: 'disk',
      topics: [{ name: 'metered', partitions: 2 }],
      config: { 'admin.http.listener': '127.0.0.1:0' },
    });
    base = `http://127.0.0.1:${kafka.broker.httpPort}`;
  });

  after(async () => {
    await kafka?.stop();
  });

  async function scrape(): Promise<Samples> {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    return parseExposition(await res.text());
  }

  test('/health answers ok while the broker serves', async () => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  test('request counters, byte counters, log offsets and fsync latency move with traffic', async () => {
    const before = await scrape();
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'metered', acks: -1, messages: [{ key: 'same-key', value: `v${i}` }] });
    }
    const after = await scrape();
    await producer.disconnect();

    const produced = (s: Samples) => s.get('sluice_requests_total{api="Produce",error_code="0",error="NONE"}') ?? 0;
    assert.equal(produced(after) - produced(before), 5);
    assert.ok((after.get('sluice_request_duration_seconds_count{api="Produce"}') ?? 0) >= 5);
    assert.ok((after.get('sluice_network_bytes_in_total') ?? 0) > (before.get('sluice_network_bytes_in_total') ?? 0));
    assert.ok((after.get('sluice_network_bytes_out_total') ?? 0) > (before.get('sluice_network_bytes_out_total') ?? 0));
    const leo = [0, 1].map((p) => after.get(`sluice_log_end_offset{topic="metered",partition="${p}"}`) ?? 0);
    assert.equal(leo[0] + leo[1], 5, 'five records across the two partitions');
    assert.ok((after.get('sluice_log_size_bytes{topic="metered",partition="0"}') ?? -1) >= 0);
    assert.ok((after.get('sluice_fsync_duration_seconds_count') ?? 0) >= 1, 'acks=all appends were fsynced');
    assert.ok((after.get('sluice_connections') ?? 0) >= 1);
  });

  test('errors are counted under their Kafka error code', async () => {
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = client.admin();
    await admin.connect();
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'metered' }], validateOnly: false }).then((ok) => {
        if (!ok) throw new Error('already exists');
      }),
    );
    await admin.disconnect();
    const s = await scrape();
    assert.ok(
      (s.get('sluice_requests_total{api="CreateTopics",error_code="36",error="TOPIC_ALREADY_EXISTS"}') ?? 0) >= 1,
      'the code and its name',
    );
  });

  test('process and Node runtime metrics and sluice_build_info are exported', async () => {
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    const s = parseExposition(text);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.equal(s.get(`sluice_build_info{version="${version}",node_version="${process.version}"}`), 1);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(s.has(name), `${name} is exported`);
    }
    assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  });

  test('per-topic bytes and records in and out count what producers wrote and consumers read', async () => {
    await kafka.broker.createTopic({ name: 'counted', partitions: 1, replicationFactor: 1 });
    const client = new KafkaClient({ bootstrap: kafka.bootstrap });
    try {
      const values = ['a', 'bb', 'ccc', 'dddd', 'eeeee'].map((v) => ({ value: Buffer.from(v), partition: 0 }));
      await new Producer(client).send('counted', values);
      const fetched = await fetchPartitions(client, [{ topic: 'counted', partition: 0, offset: 0n }]);
      const s = await scrape();
      assert.equal(s.get('sluice_topic_records_in_total{topic="counted"}'), 5);
      assert.equal(s.get('sluice_topic_records_out_total{topic="counted"}'), 5);
      const stored = kafka.broker.partition('counted', 0)?.sizeInBytes ?? 0;
      assert.equal(s.get('sluice_topic_bytes_in_total{topic="counted"}'), stored, 'the appended batch, whole');
      assert.equal(s.get('sluice_topic_bytes_out_total{topic="counted"}'), fetched[0].records?.length);
    } finally {
      await client.close();
    }
    await kafka.broker.deleteTopic('counted');
    const gone = await scrape();
    assert.equal(gone.has('sluice_topic_records_in_total{topic="counted"}'), false, 'a deleted topic leaves no series');
  });

  test("internal topics' per-partition series are left out by default", async () => {
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    // Committing an offset creates __consumer_offsets.
    await admin.setOffsets({ groupId: 'lagging', topic: 'metered', partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();
    const s = await scrape();
    assert.ok(kafka.broker.partition('__consumer_offsets', 0), '__consumer_offsets exists');
    assert.equal([...s.keys()].filter((k) => k.includes('topic="__consumer_offsets"')).length, 0);
    assert.ok(s.has('sluice_group_lag{group="lagging",topic="metered",partition="0"}'));
  });

  test('unknown paths get 404', async () => {
    const res = await fetch(`${base}/nope`);
    assert.equal(res.status, 404);
    await res.text();
  });
});

test("metrics.internal.topics.enable=true exports internal topics' partitions too", async () => {
  const kafka = await startBroker({
    topics: [{ name: '__consumer_offsets', partitions: 2 }],
    config: { 'admin.http.listener': '127.0.0.1:0', 'metrics.internal.topics.enable': true },
  });
  try {
    const s = parseExposition(await (await fetch(`http://127.0.0.1:${kafka.broker.httpPort}/metrics`)).text());
    assert.ok(s.has('sluice_log_end_offset{topic="__consumer_offsets",partition="1"}'));
  } finally {
    await kafka.stop();
  }
});

test('without the admin listener the broker keeps no metrics (prom-client is not loaded for nothing)', async () => {
  const kafka = await startBroker({ storage: 'memory', topics: [{ name: 'quiet', partitions: 1 }] });
  try {
    assert.equal(kafka.broker.metrics, NO_METRICS);
    assert.equal(kafka.broker.httpPort, 0);
  } finally {
    await kafka.stop();
  }
});
