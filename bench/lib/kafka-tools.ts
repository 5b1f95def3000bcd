/**
 * Apache Kafka's own load generators (kafka-tools: ProducerPerformance, ConsumerPerformance), run from the
 * jars of the Kafka peer against any broker, so the bench can drive Sluice and Kafka with the same client.
 */
import { spawn } from 'node:child_process';
import { kafkaClasspath } from '../../test/helpers/kafka-peer.js';

export interface ToolRate {
  recordsPerSec: number;
  mbPerSec: number;
}

function runJava(mainClass: string, args: string[], timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-Xmx512m', '-cp', kafkaClasspath(), mainClass, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${mainClass} failed (${signal ?? `exit ${code}`}):\n${(stderr || stdout).slice(-3000)}`));
    });
  });
}

/**
 * ProducerPerformance, unthrottled. Idempotence is off for both brokers (Sluice does not serve
 * InitProducerId yet), so both see the same requests.
 */
export async function producerPerformance(o: {
  bootstrap: string;
  topic: string;
  records: number;
  recordSize: number;
  acks: '1' | 'all';
  batchSize: number;
}): Promise<ToolRate> {
  const out = await runJava('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--record-size',
    String(o.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${o.bootstrap}`,
    `acks=${o.acks}`,
    'enable.idempotence=false',
    `batch.size=${o.batchSize}`,
    'linger.ms=5',
    'max.in.flight.requests.per.connection=5',
  ]);
  // The last summary line: "N records sent, R records/sec (M MB/sec), …".
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)[^\n]*$/.exec(out.trim());
  if (!m) throw new Error(`ProducerPerformance printed no summary:\n${out.slice(-2000)}`);
  if (Number(m[1]) !== o.records) throw new Error(`ProducerPerformance sent ${m[1]} records, not ${o.records}`);
  return { recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]) };
}

/**
 * ConsumerPerformance in a fresh consumer group, from the beginning. The fetch figures leave out the
 * time spent joining the group, which depends on group.initial.rebalance.delay.ms, not on the broker's speed.
 */
export async function consumerPerformance(o: { bootstrap: string; topic: string; records: number }): Promise<ToolRate> {
  const out = await runJava('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    o.bootstrap,
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--group',
    `bench-${o.topic}-${Date.now()}`,
    '--timeout',
    '60000',
  ]);
  const lines = out.trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  if (header < 0 || header + 1 >= lines.length) throw new Error(`ConsumerPerformance printed no figures:\n${out}`);
  const names = lines[header].split(',').map((s) => s.trim());
  const values = lines[header + 1].split(',').map((s) => s.trim());
  const field = (name: string) => Number(values[names.indexOf(name)]);
  const consumed = field('data.consumed.in.nMsg');
  if (consumed < o.records) throw new Error(`ConsumerPerformance read ${consumed} records, not ${o.records}`);
  return { recordsPerSec: field('fetch.nMsg.sec'), mbPerSec: field('fetch.MB.sec') };
}
