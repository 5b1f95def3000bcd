/**
 * `sluice perf produce|consume`: load generators in the manner of Kafka's kafka-producer-perf-test and
 * kafka-consumer-perf-test. The client library does the set-up (ApiVersions, Metadata, CreateTopics,
 * ListOffsets); the load itself goes through a bare pipelined connection (perf/request-pipe.ts) with
 * requests encoded once, so that the broker, not this process, is the bottleneck.
 */

import { Admin } from '../client/admin.js';
import type { KafkaClient } from '../client/client.js';
import { listOffsets } from '../client/consumer.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { ProduceApi } from '../protocol/generated/00-produce.js';
import { FetchApi } from '../protocol/generated/01-fetch.js';
import { FORMAT_OPTION, helpFor, int, outputFormat, parse, toJson, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, parseAcks, parseCompression, withClient } from './bootstrap.js';
import { consumePerf } from './perf/consume.js';
import { producePerf } from './perf/produce.js';
import { formatSummary, type PerfSummary } from './perf/stats.js';

const PRODUCE_PERF_HELP = `usage: sluice perf produce -t TOPIC -n COUNT [options]

Sends COUNT records of --record-size bytes as fast as the broker takes them (or at --throughput), then
prints records/s, MB/s (MB = 2^20 bytes, as Kafka's tools count) and the latency of Produce requests:
avg, max and the 50th, 95th, 99th and 99.9th percentiles. Batches are built once and sent again and again.
The topic is created with --partitions partitions when it does not exist.

options:
  -t, --topic TOPIC             topic to write to
  -n, --num-records N           records to send
  -s, --record-size BYTES       value size of each record (default 100); keys are null
  --batch-size BYTES            batch size, as Kafka's batch.size: as many records as fit (default 16384)
  --linger-ms MS                with --throughput: send a batch when MS have passed since its first
                                record, full or not (default 5)
  --acks 0|1|all                0: no answer, 1: the leader wrote it, all (-1): durable (default all)
  -z, --compression CODEC       none, gzip, snappy, lz4 or zstd (default none)
  -p, --partitions N            send batches round-robin to partitions 0..N-1 (default: all of the
                                topic's partitions; 1 for a new topic)
  --max-in-flight N             unanswered requests allowed on the connection (default 5)
  --throughput N                records per second; -1: as fast as possible (default -1)
  --reporting-interval MS       progress line every MS on stderr (default 5000)
  -f, --format text|json        print the summary as text (default) or as one JSON object
  --json                        the same as --format json
  -q, --quiet                   no progress lines
${BOOTSTRAP_HELP}

examples:
  sluice perf produce -t perf -n 1000000 -s 1024 --acks 1
  sluice perf produce -t perf -n 200000 -s 1024 --acks all --batch-size 16384 --max-in-flight 5
  sluice perf produce -t perf -n 500000 -s 100 --throughput 100000 --linger-ms 5`;

const CONSUME_PERF_HELP = `usage: sluice perf consume -t TOPIC -n COUNT [options]

Reads COUNT records from the start of every partition (or until --idle-timeout passes without a new
record), then prints records/s, MB/s of record batches (MB = 2^20 bytes) and the latency of Fetch
requests. Records are counted from batch headers, not decoded.

options:
  -t, --topic TOPIC             topic to read
  -n, --num-records N           records to read
  --fetch-max-bytes N           max bytes per Fetch response (default 52428800)
  --partition-max-bytes N       max bytes per partition in a response (default 1048576)
  --max-wait-ms MS              how long the broker may wait for data (default 500)
  --max-in-flight N             concurrent Fetch requests; partitions are spread over them (default 5)
  --check-crcs                  verify each batch's CRC32C, as Kafka's consumer does by default
  --idle-timeout MS             stop when no record arrived for MS (default 10000)
  --reporting-interval MS       progress line every MS on stderr (default 5000)
  -f, --format text|json        print the summary as text (default) or as one JSON object
  --json                        the same as --format json
  -q, --quiet                   no progress lines
${BOOTSTRAP_HELP}

examples:
  sluice perf consume -t perf -n 1000000
  sluice perf consume -t perf -n 1000000 --partition-max-bytes 4194304 --check-crcs`;

const PERF_HELP = `usage: sluice perf produce|consume [options]

Load generators, like Kafka's kafka-producer-perf-test and kafka-consumer-perf-test.

actions:
  produce      send records as fast as the broker takes them; report throughput and latency
  consume      read records as fast as the broker serves them; report throughput and latency

Run 'sluice perf produce --help' or 'sluice perf consume --help' for their options.`;

export function perfHelp(args: string[]): string {
  return helpFor({ produce: PRODUCE_PERF_HELP, consume: CONSUME_PERF_HELP }, PERF_HELP, args);
}

const COMMON_OPTIONS = {
  ...BOOTSTRAP_OPTIONS,
  topic: { type: 'string', short: 't' },
  'num-records': { type: 'string', short: 'n' },
  'max-in-flight': { type: 'string' },
  'reporting-interval': { type: 'string' },
  ...FORMAT_OPTION,
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function runPerf(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'produce') return runProducePerf(rest);
  if (action === 'consume') return runConsumePerf(rest);
  throw new UsageError(
    action ? `unknown action "${action}": use produce or consume` : 'name an action: produce or consume',
  );
}

/** The host and port of the broker leading `partitions` of `topic`; perf drives one broker. */
async function leaderAddress(
  client: KafkaClient,
  topic: string,
  partitions: number[],
): Promise<{ nodeId: number; host: string; port: number }> {
  const leaders = new Set<number>();
  for (const p of partitions) leaders.add(await client.leaderFor(topic, p));
  if (leaders.size > 1) {
    throw new UsageError(
      `the partitions of "${topic}" have leaders on ${leaders.size} brokers; perf drives one broker: ` +
        'use --partitions (produce) with partitions led by one broker',
    );
  }
  const [nodeId] = leaders;
  const broker = client.knownBrokers().find((b) => b.nodeId === nodeId);
  if (!broker) throw new Error(`broker ${nodeId} is not in the cluster metadata`);
  return { nodeId, host: broker.host, port: broker.port };
}

function print(summary: PerfSummary, values: { format?: string; json?: boolean }): void {
  const json = values.json || outputFormat(values.format) === 'json';
  console.log(json ? toJson(summary) : formatSummary(summary));
}

async function runProducePerf(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...COMMON_OPTIONS,
    'record-size': { type: 'string', short: 's' },
    'batch-size': { type: 'string' },
    'linger-ms': { type: 'string' },
    acks: { type: 'string' },
    compression: { type: 'string', short: 'z' },
    partitions: { type: 'string', short: 'p' },
    throughput: { type: 'string' },
  });
  const topic = values.topic;
  if (!topic) throw new UsageError('--topic is required');
  outputFormat(values.format); // a bad --format is reported now, not after the run
  const numRecords = int(values['num-records'], '--num-records', { min: 1 });
  if (numRecords === undefined) throw new UsageError('--num-records is required');
  const compression = parseCompression(values.compression);
  const wantedPartitions = int(values.partitions, '--partitions', { min: 1 });
  const options = {
    recordSize: int(values['record-size'], '--record-size', { min: 0, max: 100 * 1024 * 1024 }) ?? 100,
    batchSize: int(values['batch-size'], '--batch-size', { min: 1 }) ?? 16384,
    lingerMs: int(values['linger-ms'], '--linger-ms', { min: 0 }) ?? 5,
    acks: parseAcks(values.acks),
    maxInFlight: int(values['max-in-flight'], '--max-in-flight', { min: 1 }) ?? 5,
    throughput: int(values.throughput, '--throughput', { min: -1 }) ?? -1,
    reportingIntervalMs: int(values['reporting-interval'], '--reporting-interval', { min: 1 }) ?? 5000,
  };

  return withClient(values, async (client) => {
    const described = (await new Admin(client).describeTopics([topic]))[0];
    if (described.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
      const [created] = await new Admin(client).createTopics([{ name: topic, partitions: wantedPartitions ?? 1 }]);
      if (created.errorCode !== ErrorCode.NONE && created.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
        throw new Error(
          `cannot create topic "${topic}": ${errorName(created.errorCode)} ${created.errorMessage ?? ''}`,
        );
      }
    }
    const metadata = await client.topic(topic, { refresh: true });
    const partitions = wantedPartitions ?? metadata.partitions.length;
    if (partitions > metadata.partitions.length) {
      throw new UsageError(`--partitions ${partitions}: topic "${topic}" has ${metadata.partitions.length} partitions`);
    }
    const partitionList = Array.from({ length: partitions }, (_, i) => i);
    const leader = await leaderAddress(client, topic, partitionList);
    const connection = await client.connectToNode(leader.nodeId);
    const summary = await producePerf({
      ...options,
      host: leader.host,
      port: leader.port,
      topic,
      produceVersion: connection.version(ProduceApi),
      numRecords,
      compression,
      partitions,
      timeoutMs: 30_000,
      onProgress: values.quiet ? undefined : (line) => console.error(line),
    });
    print(summary, values);
    return 0;
  });
}

async function runConsumePerf(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...COMMON_OPTIONS,
    'fetch-max-bytes': { type: 'string' },
    'partition-max-bytes': { type: 'string' },
    'max-wait-ms': { type: 'string' },
    'check-crcs': { type: 'boolean' },
    'idle-timeout': { type: 'string' },
  });
  const topic = values.topic;
  if (!topic) throw new UsageError('--topic is required');
  outputFormat(values.format); // a bad --format is reported now, not after the run
  const numRecords = int(values['num-records'], '--num-records', { min: 1 });
  if (numRecords === undefined) throw new UsageError('--num-records is required');
  const options = {
    fetchMaxBytes: int(values['fetch-max-bytes'], '--fetch-max-bytes', { min: 1 }) ?? 52428800,
    partitionMaxBytes: int(values['partition-max-bytes'], '--partition-max-bytes', { min: 1 }) ?? 1048576,
    maxWaitMs: int(values['max-wait-ms'], '--max-wait-ms', { min: 0 }) ?? 500,
    maxInFlight: int(values['max-in-flight'], '--max-in-flight', { min: 1 }) ?? 5,
    timeoutMs: int(values['idle-timeout'], '--idle-timeout', { min: 1 }) ?? 10_000,
    reportingIntervalMs: int(values['reporting-interval'], '--reporting-interval', { min: 1 }) ?? 5000,
  };

  return withClient(values, async (client) => {
    const metadata = await client.topic(topic, { refresh: true });
    const partitionList = metadata.partitions.map((p) => p.partition);
    const leader = await leaderAddress(client, topic, partitionList);
    const connection = await client.connectToNode(leader.nodeId);
    const earliest = await listOffsets(client, topic, partitionList, 'earliest');
    const summary = await consumePerf({
      ...options,
      host: leader.host,
      port: leader.port,
      topic,
      topicId: metadata.topicId,
      fetchVersion: connection.version(FetchApi),
      offsets: new Map(partitionList.map((p) => [p, earliest.get(p)?.offset ?? 0n])),
      numRecords,
      checkCrcs: values['check-crcs'] ?? false,
      onProgress: values.quiet ? undefined : (line) => console.error(line),
    });
    print(summary, values);
    if (summary.timedOut) {
      console.error(
        `sluice perf consume: stopped after ${summary.records} of ${numRecords} records: ` +
          `no new record within ${options.timeoutMs} ms (--idle-timeout)`,
      );
      return 1;
    }
    return 0;
  });
}
