/** `sluice consume`: prints records of a topic, from chosen partitions and offsets or as a group member. */
import type { KafkaClient } from '../client/client.js';
import {
  type ConsumedRecord,
  listOffsets,
  type OffsetSpec,
  PartitionConsumer,
  type TopicPartitionOffset,
} from '../client/consumer.js';
import { GroupConsumer } from '../client/group-consumer.js';
import { bigint, FORMAT_OPTION, int, parse, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';
import { FORMAT_TOKENS_HELP, recordPrinter } from './record-format.js';

export const CONSUME_HELP = `usage: sluice consume -t TOPIC [options]

Prints the records of a topic, one per line. Without --exit-at-end or --count it follows the topic until
Ctrl-C. Without a starting point it prints only new records (from the log end), like Kafka's console
consumer; with --group it starts from the group's committed offsets.

options:
  -t, --topic TOPIC             topic to read
  -p, --partition N             read partition N only; may be repeated (default: every partition)
  --from-beginning              start at the log start (with --group: where the group has no offset)
  -o, --offset N                start at offset N; --offset=-N starts N records before the log end
  --timestamp MS                start at the first record with a timestamp at or after MS (epoch ms)
  -g, --group GROUP             consume as a member of GROUP: partitions are shared with the group's
                                other members and offsets are committed
  -f, --format text|json|FMT    text: the value (default); json: one object per line with topic,
                                partition, offset, timestamp, key, value and headers (offsets and
                                timestamps as JSON numbers); FMT: a kcat format string, see below
  --print-key                   text format: print the key, then --key-separator, then the value
  -K, --key-separator SEP       separator for --print-key (default a tab)
  -n, --count N                 exit after N records
  -e, --exit-at-end             exit after reaching the end of every partition
${BOOTSTRAP_HELP}

${FORMAT_TOKENS_HELP}

examples:
  sluice consume -t orders --from-beginning --exit-at-end
  sluice consume -t orders -p 0 -o 1200 -n 10 -f json
  sluice consume -t orders -e -f '%p/%o %T %k=%s [%h]\\n'   # partition/offset, timestamp, key, value, headers
  sluice consume -t orders --offset=-5 -e                   # the last 5 records of each partition
  sluice consume -t orders --timestamp 1718000000000 -e
  sluice consume -t orders -g billing --from-beginning`;

export async function runConsume(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...BOOTSTRAP_OPTIONS,
    topic: { type: 'string', short: 't' },
    partition: { type: 'string', short: 'p', multiple: true },
    'from-beginning': { type: 'boolean' },
    offset: { type: 'string', short: 'o' },
    timestamp: { type: 'string' },
    group: { type: 'string', short: 'g' },
    ...FORMAT_OPTION,
    'print-key': { type: 'boolean' },
    'key-separator': { type: 'string', short: 'K' },
    count: { type: 'string', short: 'n' },
    'exit-at-end': { type: 'boolean', short: 'e' },
  });
  const topic = values.topic;
  if (!topic) throw new UsageError('--topic is required');
  const count = int(values.count, '--count', { min: 1 });
  const offset = bigint(values.offset, '--offset');
  const timestamp = bigint(values.timestamp, '--timestamp');
  const partitions = (values.partition ?? []).map((p) => int(p, '--partition', { min: 0 }) as number);
  const starts = [
    values['from-beginning'] && '--from-beginning',
    offset !== undefined && '--offset',
    timestamp !== undefined && '--timestamp',
  ].filter(Boolean);
  if (starts.length > 1) throw new UsageError(`choose one of ${starts.join(', ')}`);
  if (values.group !== undefined && (offset !== undefined || timestamp !== undefined))
    throw new UsageError('--group starts from committed offsets; use "sluice group reset-offsets" to move them');
  if (values.group !== undefined && partitions.length > 0)
    throw new UsageError('--group and --partition cannot be combined: the group assigns partitions');
  const print = recordPrinter(values.format, values['print-key'] ?? false, values['key-separator'] ?? '\t');

  return withClient(values, async (client) => {
    let consumer: { records(): AsyncGenerator<ConsumedRecord> };
    let stop: () => Promise<void>;
    if (values.group !== undefined) {
      const group = new GroupConsumer(client, {
        groupId: values.group,
        topics: [topic],
        autoOffsetReset: values['from-beginning'] ? 'earliest' : 'latest',
        exitAtEnd: values['exit-at-end'],
      });
      await client.topic(topic);
      consumer = group;
      stop = () => group.close();
    } else {
      const positions = await startPositions(
        client,
        topic,
        partitions,
        values['from-beginning'] ? 'earliest' : (offset ?? (timestamp !== undefined ? { timestamp } : 'latest')),
      );
      const partitionConsumer = new PartitionConsumer(client, positions, {
        exitAtEnd: values['exit-at-end'],
        onOutOfRange: 'error',
      });
      consumer = partitionConsumer;
      stop = async () => partitionConsumer.stop();
    }

    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      void stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let brokenPipe = false;
    const onStdoutError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') {
        brokenPipe = true;
        void stop();
      }
    };
    process.stdout.on('error', onStdoutError);
    let seen = 0;
    try {
      for await (const record of consumer.records()) {
        const ok = process.stdout.write(print(record));
        seen++;
        if ((count !== undefined && seen >= count) || brokenPipe || interrupted) break;
        if (!ok) await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await stop();
      process.stdout.off('error', onStdoutError);
    }
    return 0;
  });
}

/** Start offsets for the chosen partitions (all when none is named). */
async function startPositions(
  client: KafkaClient,
  topic: string,
  chosen: number[],
  spec: OffsetSpec | bigint,
): Promise<TopicPartitionOffset[]> {
  const t = await client.topic(topic);
  for (const p of chosen) {
    if (p >= t.partitions.length)
      throw new UsageError(`--partition ${p}: topic "${topic}" has ${t.partitions.length} partitions`);
  }
  const partitions = chosen.length > 0 ? chosen : t.partitions.map((p) => p.partition);
  if (typeof spec === 'bigint' && spec >= 0n)
    return partitions.map((partition) => ({ topic, partition, offset: spec }));
  if (typeof spec === 'bigint') {
    // N records before the end, but not before the log start.
    const [ends, startsAt] = await Promise.all([
      listOffsets(client, topic, partitions, 'latest'),
      listOffsets(client, topic, partitions, 'earliest'),
    ]);
    return partitions.map((partition) => {
      const end = ends.get(partition)?.offset ?? 0n;
      const start = startsAt.get(partition)?.offset ?? 0n;
      const offset = end + spec < start ? start : end + spec;
      return { topic, partition, offset };
    });
  }
  const offsets = await listOffsets(client, topic, partitions, spec);
  return partitions.map((partition) => ({ topic, partition, offset: offsets.get(partition)?.offset ?? 0n }));
}
