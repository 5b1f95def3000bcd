"""The interop scenario with today's confluent-kafka-python (PyPI, bundled librdkafka), run by
test/interop/confluent-kafka-2x.test.ts against Sluice and against the Apache Kafka peer.

usage: python confluent_scenario.py BOOTSTRAP TOPIC_PREFIX
Prints one line per check ("ok - name" or "not ok - name # why") and, last, a JSON summary line.
"""
import json
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
MAIN, GROUP, TS_TOPIC = prefix + "-main", prefix + "-group", prefix + "-ts"
CODECS = ["gzip", "snappy", "lz4", "zstd"]
COMMON = {"bootstrap.servers": bootstrap, "client.id": "sluice-interop-confluent-2x"}
results = []


def check(name, ok, why=""):
    results.append({"name": name, "ok": bool(ok)})
    print(("ok - %s" if ok else "not ok - %s # " + str(why)) % name, flush=True)
    return ok


def create_topics(admin, topics):
    futures = admin.create_topics([NewTopic(t, n, 1) for t, n in topics])
    for f in futures.values():
        f.result(30)
    # Kafka propagates a new topic's leader asynchronously: wait until metadata shows every partition led.
    deadline = time.time() + 30
    while time.time() < deadline:
        md = admin.list_topics(timeout=10).topics
        if all(t in md and md[t].error is None and len(md[t].partitions) == n and
               all(p.leader >= 0 for p in md[t].partitions.values()) for t, n in topics):
            return
        time.sleep(0.2)
    raise RuntimeError("topics not ready: %s" % topics)


def produce(topic, records, **config):
    """records: (key, value, headers, timestamp_ms or 0). Returns delivery reports in send order."""
    producer = Producer(dict(COMMON, **{"acks": "all", "linger.ms": 5, "enable.idempotence": False}, **config))
    reports = [None] * len(records)

    def report_for(i):
        def report(err, msg):
            reports[i] = {"error": err.name() if err else None, "partition": msg.partition(), "offset": msg.offset()}
        return report

    for i, (key, value, headers, ts) in enumerate(records):
        producer.produce(topic, value=value, key=key, headers=headers, timestamp=ts, on_delivery=report_for(i))
        producer.poll(0)
    left = producer.flush(30)
    if left:
        raise RuntimeError("%d records not delivered" % left)
    return reports


def consume_group(group, topic, want, timeout_s=60):
    consumer = Consumer(dict(COMMON, **{"group.id": group, "auto.offset.reset": "earliest",
                                        "enable.auto.commit": False, "fetch.wait.max.ms": 200}))
    consumer.subscribe([topic])
    records, last = [], {}
    deadline = time.time() + timeout_s
    while len(records) < want and time.time() < deadline:
        m = consumer.poll(0.2)
        if m is None or m.error():
            continue
        records.append({"p": m.partition(), "o": m.offset(), "k": m.key(), "v": m.value()})
        last[m.partition()] = m.offset()
    # A short grace period catches duplicates delivered after the wanted count.
    grace = time.time() + 1
    while time.time() < grace:
        m = consumer.poll(0.1)
        if m is not None and not m.error():
            records.append({"p": m.partition(), "o": m.offset(), "k": m.key(), "v": m.value()})
            last[m.partition()] = m.offset()
    if last:
        consumer.commit(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()], asynchronous=False)
    consumer.close()
    return records


def read_partition(topic, partition, count, timeout_s=30):
    consumer = Consumer(dict(COMMON, **{"group.id": prefix + "-reader", "enable.auto.commit": False}))
    consumer.assign([TopicPartition(topic, partition, 0)])
    out = []
    deadline = time.time() + timeout_s
    while len(out) < count and time.time() < deadline:
        m = consumer.poll(0.2)
        if m is not None and not m.error():
            out.append(m)
    consumer.close()
    return out


def main():
    version, librdkafka = confluent_kafka.__version__, confluent_kafka.libversion()[0]
    check("client is confluent-kafka 2.x with librdkafka 2.x (%s, %s)" % (version, librdkafka),
          version.startswith("2.") and librdkafka.startswith("2."))
    admin = AdminClient(COMMON)
    md = admin.list_topics(timeout=15)
    host, port = bootstrap.rsplit(":", 1)
    check("metadata lists the one broker at the bootstrap address",
          [(b.host, b.port) for b in md.brokers.values()] == [(host, int(port))], md.brokers)

    create_topics(admin, [(MAIN, 3), (TS_TOPIC, 1)] + [(prefix + "-c-" + c, 1) for c in CODECS])
    check("create_topics made a 3-partition topic", len(admin.list_topics(MAIN, timeout=10).topics[MAIN].partitions) == 3)

    records = [(("key-%d" % (i % 10)).encode(), ("value-%d" % i).encode(), [("seq", str(i).encode())], 0)
               for i in range(1000)]
    reports = produce(MAIN, records)
    check("1000 keyed acks=all records were acknowledged", all(r and r["error"] is None for r in reports),
          [r for r in reports if not r or r["error"]][:3])
    by_key = {}
    for (key, _, _, _), r in zip(records, reports):
        by_key.setdefault(key, set()).add(r["partition"])
    check("each key landed in one partition", all(len(ps) == 1 for ps in by_key.values()), by_key)
    per_partition = {}
    for r in reports:
        per_partition.setdefault(r["partition"], []).append(r["offset"])
    check("offsets run densely from 0 in each partition",
          all(sorted(o) == list(range(len(o))) for o in per_partition.values()), per_partition.keys())

    got = consume_group(GROUP, MAIN, 1000)
    values = [r["v"] for r in got]
    check("the group consumed every record exactly once", len(values) == 1000 and len(set(values)) == 1000, len(values))
    order_ok = True
    last_seq = {}
    for r in sorted(got, key=lambda r: (r["p"], r["o"])):
        seq = int(r["v"].decode().split("-")[1])
        if seq <= last_seq.get(r["k"], -1):
            order_ok = False
        last_seq[r["k"]] = seq
    check("records of one key arrive in the order produced", order_ok)

    produce(MAIN, [(("key-%d" % i).encode(), ("more-%d" % i).encode(), None, 0) for i in range(10)])
    resumed = consume_group(GROUP, MAIN, 10, timeout_s=30)
    check("the group resumes from its committed offsets: only the 10 new records",
          sorted(r["v"] for r in resumed) == sorted(("more-%d" % i).encode() for i in range(10)),
          [r["v"] for r in resumed][:12])

    for codec in CODECS:
        topic = prefix + "-c-" + codec
        payload = [(b"k", ("%s-%d-" % (codec, i)).encode() * 20, None, 0) for i in range(50)]
        produce(topic, payload, **{"compression.type": codec})
        back = read_partition(topic, 0, 50)
        check("%s: 50 records round-trip" % codec,
              [m.value() for m in back] == [v for _, v, _, _ in payload], len(back))

    t0 = int(time.time() * 1000) - 60_000
    produce(TS_TOPIC, [(None, b"a", None, t0), (None, b"b", None, t0 + 1000), (None, b"c", None, t0 + 2000)])
    consumer = Consumer(dict(COMMON, **{"group.id": prefix + "-ts"}))
    # One partition per request: a request naming a partition twice is not what clients send.
    found = [consumer.offsets_for_times([TopicPartition(TS_TOPIC, 0, ts)], timeout=15)[0].offset
             for ts in (t0 - 1000, t0 + 500, t0 + 2000)]
    check("offsets_for_times finds the first record at or after each timestamp", found == [0, 1, 2], found)
    after = consumer.offsets_for_times([TopicPartition(TS_TOPIC, 0, t0 + 10_000)], timeout=15)
    check("a timestamp after the last record answers -1 (end)", after[0].offset == -1, after[0].offset)
    low, high = consumer.get_watermark_offsets(TopicPartition(TS_TOPIC, 0), timeout=15)
    check("watermarks are 0 and 3", (low, high) == (0, 3), (low, high))
    consumer.close()

    doomed = [MAIN, TS_TOPIC] + [prefix + "-c-" + c for c in CODECS]
    for f in admin.delete_topics(doomed, operation_timeout=30).values():
        f.result(30)
    deadline = time.time() + 30
    while time.time() < deadline and any(t in admin.list_topics(timeout=10).topics for t in doomed):
        time.sleep(0.2)
    check("delete_topics removed every topic", not any(t in admin.list_topics(timeout=10).topics for t in doomed))


try:
    main()
except Exception as e:  # an exception is one more failed check, with its text
    check("scenario ran to the end", False, repr(e))
print(json.dumps({"passed": sum(r["ok"] for r in results), "failed": sum(not r["ok"] for r in results),
                  "failures": [r["name"] for r in results if not r["ok"]]}))
