/**
 * Shared machinery of the consumer-group interop tests: real consumers as child processes that report
 * every record they receive as a line on stdout, a producer and an admin view from kafkajs.
 *
 * Every consumer process understands "close" on stdin (close the consumer properly, which sends
 * LeaveGroup, then exit) and can be SIGKILLed (no LeaveGroup: the broker notices by the session timeout).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '../helpers/broker-process.js';
import { PYTHON } from '../helpers/clients.js';

export const PARTITIONS = 6;
/** Short sessions so that a killed member is noticed quickly (group.min.session.timeout.ms is 6000). */
export const SESSION_TIMEOUT_MS = 6000;
export const BROKER_OVERRIDES = { 'group.initial.rebalance.delay.ms': 0, 'auto.create.topics.enable': false };

export interface ConsumerRecordLine {
  partition: number;
  offset: number;
  value: string;
}

/** One consumer process and what it printed. */
export class ConsumerProcess {
  readonly records: ConsumerRecordLine[] = [];
  private out = '';
  private err = '';
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcessWithoutNullStreams,
    parse: (line: string) => ConsumerRecordLine | null,
  ) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
      let nl = this.out.indexOf('\n');
      while (nl >= 0) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        const record = line.trim() === '' ? null : parse(line);
        if (record) this.records.push(record);
        nl = this.out.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.err = (this.err + chunk).slice(-8000);
    });
    child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  get values(): string[] {
    return this.records.map((r) => r.value);
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Closes the consumer the proper way (LeaveGroup, final commit) and waits for the process to end. */
  async close(timeoutMs = 20_000): Promise<void> {
    if (!this.running) return;
    if (this.name.startsWith('kcat')) this.child.kill('SIGTERM');
    else this.child.stdin.write('close\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the process outright: the consumer never says goodbye. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface ConsumerOptions {
  bootstrap: string;
  groupId: string;
  topic: string;
  name: string;
  /** confluent-kafka-python only: 'range' or 'cooperative-sticky'. */
  assignor?: string;
}

const RECORD_JSON = (line: string): ConsumerRecordLine | null => {
  try {
    const parsed = JSON.parse(line) as { p: number; o: number; v: string };
    return { partition: parsed.p, offset: parsed.o, value: parsed.v };
  } catch {
    return null;
  }
};

const KAFKAJS_CONSUMER = `
const { Kafka, logLevel } = require(process.env.KAFKAJS);
const [bootstrap, groupId, topic, clientId, session] = process.argv.slice(1);
const kafka = new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20 } });
const consumer = kafka.consumer({ groupId, sessionTimeout: Number(session), heartbeatInterval: 1000,
  rebalanceTimeout: 15000, maxWaitTimeInMs: 500 });
let closing = false;
process.stdin.setEncoding('utf8').on('data', async (d) => {
  if (!d.includes('close') || closing) return;
  closing = true;
  await consumer.disconnect();
  process.exit(0);
});
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => {
    process.stdout.write(JSON.stringify({ p: partition, o: Number(message.offset), v: message.value.toString() }) + '\\n');
  } });
})().catch((e) => { console.error(e); process.exit(2); });
`;

export function kafkajsConsumer(o: ConsumerOptions): ConsumerProcess {
  const kafkajsPath = createRequire(`${REPO_ROOT}package.json`).resolve('kafkajs');
  const child = spawn(
    process.execPath,
    ['-e', KAFKAJS_CONSUMER, o.bootstrap, o.groupId, o.topic, o.name, String(SESSION_TIMEOUT_MS)],
    { env: { ...process.env, KAFKAJS: kafkajsPath }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new ConsumerProcess(`kafkajs:${o.name}`, child, RECORD_JSON);
}

const PYTHON_LOOP = `
import json, os, select, sys
def emit(p, o, v):
    sys.stdout.write(json.dumps({"p": p, "o": o, "v": v}) + "\\n")
    sys.stdout.flush()
def close_requested():
    r, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(r) and "close" in sys.stdin.readline()
`;

const CONFLUENT_CONSUMER = `${PYTHON_LOOP}
from confluent_kafka import Consumer
bootstrap, group, topic, name, assignor, session = sys.argv[1:7]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
              "partition.assignment.strategy": assignor, "session.timeout.ms": int(session),
              "heartbeat.interval.ms": 1000, "max.poll.interval.ms": 15000, "auto.offset.reset": "earliest",
              "enable.auto.commit": True, "auto.commit.interval.ms": 500})
c.subscribe([topic])
while True:
    m = c.poll(0.2)
    if m is not None and m.error() is None:
        emit(m.partition(), m.offset(), m.value().decode())
    if close_requested():
        c.close()
        sys.exit(0)
`;

export function confluentConsumer(o: ConsumerOptions): ConsumerProcess {
  const child = spawn(
    PYTHON,
    [
      '-u',
      '-c',
      CONFLUENT_CONSUMER,
      o.bootstrap,
      o.groupId,
      o.topic,
      o.name,
      o.assignor ?? 'range',
      String(SESSION_TIMEOUT_MS),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new ConsumerProcess(`confluent:${o.name}`, child, RECORD_JSON);
}

const KAFKA_PYTHON_CONSUMER = `${PYTHON_LOOP}
from kafka import KafkaConsumer
bootstrap, group, topic, name, session = sys.argv[1:6]
c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id=name,
                  session_timeout_ms=int(session), heartbeat_interval_ms=1000, max_poll_interval_ms=15000,
                  auto_offset_reset="earliest", enable_auto_commit=True, auto_commit_interval_ms=500)
while True:
    for tp, records in c.poll(timeout_ms=200).items():
        for m in records:
            emit(m.partition, m.offset, m.value.decode())
    if close_requested():
        c.close()
        sys.exit(0)
`;

export function kafkaPythonConsumer(o: ConsumerOptions): ConsumerProcess {
  const child = spawn(
    PYTHON,
    ['-u', '-c', KAFKA_PYTHON_CONSUMER, o.bootstrap, o.groupId, o.topic, o.name, String(SESSION_TIMEOUT_MS)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new ConsumerProcess(`kafka-python:${o.name}`, child, RECORD_JSON);
}

/** kcat's balanced consumer (-G): one line per record, "partition offset value". */
export function kcatConsumer(o: ConsumerOptions): ConsumerProcess {
  const child = spawn(
    'kcat',
    [
      '-b',
      o.bootstrap,
      '-G',
      o.groupId,
      o.topic,
      '-u',
      '-q',
      '-f',
      '%p %o %s\\n',
      '-X',
      `client.id=${o.name}`,
      '-X',
      `session.timeout.ms=${SESSION_TIMEOUT_MS}`,
      '-X',
      'heartbeat.interval.ms=1000',
      '-X',
      'max.poll.interval.ms=15000',
      '-X',
      'auto.offset.reset=earliest',
      '-X',
      'auto.commit.interval.ms=500',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return new ConsumerProcess(`kcat:${o.name}`, child, (line) => {
    const m = /^(\d+) (\d+) (.*)$/.exec(line);
    return m ? { partition: Number(m[1]), offset: Number(m[2]), value: m[3] } : null;
  });
}

export type ConsumerFactory = (o: ConsumerOptions) => ConsumerProcess;

// ── producing, administering, waiting ──────────────────────────────────────────────────────────────

export class Cluster {
  private readonly kafka: Kafka;
  private readonly admin;
  private readonly producer;

  constructor(bootstrap: string) {
    this.kafka = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect().catch(() => {});
    await this.admin.disconnect().catch(() => {});
  }

  async createTopic(topic: string, partitions = PARTITIONS): Promise<void> {
    await this.admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  }

  /** Produces `count` records named `${prefix}-${i}`, spread over every partition; returns their values. */
  async produce(topic: string, prefix: string, count: number, partitions = PARTITIONS): Promise<string[]> {
    const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    await this.producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ value, partition: i % partitions })),
    });
    return values;
  }

  /** Committed offsets of the group for each partition of `topic` (-1: none), via OffsetFetch. */
  async fetchOffsets(groupId: string, topic: string): Promise<number[]> {
    const result = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return result[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  }

  /** The group as DescribeGroups shows it, with each member's decoded partitions of `topic`. */
  async describe(groupId: string, topic: string): Promise<{ state: string; members: Map<string, number[]> }> {
    const { groups } = await this.admin.describeGroups([groupId]);
    const g = groups[0];
    const members = new Map<string, number[]>();
    for (const m of g.members) {
      const decoded =
        m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
      members.set(
        m.clientId,
        [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b),
      );
    }
    return { state: g.state, members };
  }

  /** Waits until the group is Stable with exactly these clients, together owning every partition of `topic`. */
  async waitForAssignment(
    groupId: string,
    topic: string,
    clientIds: string[],
    timeoutMs = 45_000,
  ): Promise<Map<string, number[]>> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const { state, members } = await this.describe(groupId, topic);
      const owned = [...members.values()].flat().sort((a, b) => a - b);
      last = `${state} ${JSON.stringify([...members])}`;
      if (
        state === 'Stable' &&
        members.size === clientIds.length &&
        clientIds.every((c) => members.has(c)) &&
        JSON.stringify(owned) === JSON.stringify(Array.from({ length: PARTITIONS }, (_, i) => i))
      ) {
        return members;
      }
      if (Date.now() > deadline) {
        throw new Error(`group ${groupId} did not settle on ${clientIds.join(', ')} in ${timeoutMs} ms; last: ${last}`);
      }
      await sleep(250);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until the consumers together have received every value (or throws with what is missing). */
export async function waitForValues(consumers: ConsumerProcess[], values: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = new Set(consumers.flatMap((c) => c.values));
    const missing = values.filter((v) => !seen.has(v));
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      const dead = consumers.filter((c) => !c.running).map((c) => `${c.name} exited: ${c.stderr}`);
      throw new Error(
        `${missing.length} of ${values.length} records never arrived (e.g. ${missing[0]}) ${dead.join('; ')}`,
      );
    }
    await sleep(100);
  }
}

/** Every value arrived at exactly one of the consumers, exactly once, from the partitions it owns. */
export function assertEachOnce(consumers: ConsumerProcess[], values: string[], owners?: Map<string, number[]>): void {
  const wanted = new Set(values);
  const receivedBy = new Map<string, string[]>();
  for (const c of consumers) {
    for (const r of c.records) {
      if (!wanted.has(r.value)) continue;
      const list = receivedBy.get(r.value) ?? [];
      list.push(c.name);
      receivedBy.set(r.value, list);
      if (owners) {
        const client = c.name.slice(c.name.indexOf(':') + 1);
        assert.ok(
          owners.get(client)?.includes(r.partition),
          `${c.name} got ${r.value} of partition ${r.partition} it does not own`,
        );
      }
    }
  }
  for (const v of values)
    assert.equal(receivedBy.get(v)?.length, 1, `${v} received by ${receivedBy.get(v)?.join(', ') ?? 'nobody'}`);
}

/** Closes (or kills) every consumer still running, whatever happened to the test. */
export async function stopAll(consumers: ConsumerProcess[]): Promise<void> {
  await Promise.all(consumers.map((c) => c.kill()));
}
