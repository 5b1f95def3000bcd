"""KIP-848 consumer groups with librdkafka (confluent-kafka, group.protocol=consumer).

Usage: kip848_scenario.py <bootstrap> — prints one check per line and a JSON summary last.
Three members share a 6-partition topic (two partitions each), consume every record exactly once with
commits before revocation, then one closes and the other two get three partitions each.
"""

import json
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = sys.argv[1]
checks = []


def check(name, ok, detail=None):
    checks.append({"ok": bool(ok), "name": name, **({"detail": str(detail)} if detail is not None else {})})
    print(("ok   " if ok else "FAIL ") + name + ("" if detail is None else f" # {detail}"), flush=True)


suffix = uuid.uuid4().hex[:10]
topic, group = f"kip848-rd-{suffix}", f"kip848-rd-group-{suffix}"
admin = AdminClient({"bootstrap.servers": bootstrap})
admin.create_topics([NewTopic(topic, 6, 1)])[topic].result()
producer = Producer({"bootstrap.servers": bootstrap})
for i in range(300):
    producer.produce(topic, value=f"v{i}", partition=i % 6)
producer.flush()

seen = {}


class Member:
    def __init__(self, name):
        self.name = name
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group,
                "group.protocol": "consumer",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "client.id": name,
            }
        )
        self.pending = []
        self.consumer.subscribe([topic], on_revoke=self.on_revoke)

    def commit(self):
        if not self.pending:
            return
        self.consumer.commit(asynchronous=False)
        for v in self.pending:
            seen[v] = seen.get(v, 0) + 1
        self.pending = []

    def on_revoke(self, consumer, partitions):
        self.commit()

    def poll(self):
        msg = self.consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            self.pending.append(msg.value().decode())
        self.commit()

    def owned(self):
        return sorted(tp.partition for tp in self.consumer.assignment())


def run(members, until, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in members:
            m.poll()
        if until():
            return True
    return False


members = [Member("a"), Member("b"), Member("c")]
balanced = run(members, lambda: [len(m.owned()) for m in members] == [2, 2, 2] and len(seen) == 300, 90)
check("three librdkafka members get 2 of 6 partitions each", balanced, [m.owned() for m in members])
owners = [p for m in members for p in m.owned()]
check("no partition is owned by two members", sorted(owners) == list(range(6)), owners)

members[0].commit()
members[0].consumer.close()
rest = members[1:]
for i in range(300, 450):
    producer.produce(topic, value=f"v{i}", partition=i % 6)
producer.flush()
moved = run(rest, lambda: [len(m.owned()) for m in rest] == [3, 3] and len(seen) == 450, 90)
check("after a member leaves, the other two get 3 partitions each", moved, [m.owned() for m in rest])
twice = [v for v, n in seen.items() if n > 1]
check("every record is consumed and committed exactly once", len(seen) == 450 and not twice, f"{len(seen)} seen, {len(twice)} twice")
for m in rest:
    m.commit()
    m.consumer.close()
committed = Consumer({"bootstrap.servers": bootstrap, "group.id": group}).committed(
    [TopicPartition(topic, p) for p in range(6)], timeout=10
)
check("the committed offsets cover every record", sum(tp.offset for tp in committed) == 450, [tp.offset for tp in committed])
print(json.dumps({"passed": sum(c["ok"] for c in checks), "failed": sum(not c["ok"] for c in checks), "checks": checks}))
