/** `sluice produce`: one record per input line, from stdin or a file. */
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type ProduceRecord, Producer } from '../client/producer.js';
import { int, keyValues, parse, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, parseAcks, parseCompression, withClient } from './bootstrap.js';
import { Progress } from './progress.js';

export const PRODUCE_HELP = `usage: sluice produce -t TOPIC [options]

Sends each line of stdin (or of --file) as one record. Empty lines are skipped. Records are batched per
partition and sent when a batch is full or input pauses for --linger-ms. A summary goes to stderr.

options:
  -t, --topic TOPIC             topic to write to (created if the broker auto-creates topics)
  -f, --file FILE               read lines from FILE instead of stdin
  -k, --key-separator SEP       split each line at the first SEP into key and value; a line without SEP
                                has no key
  -H, --header KEY=VALUE        add a header to every record; may be repeated
  -p, --partition N             write every record to partition N (default: by key, murmur2 like the
                                Java client; records without a key stick to one partition per batch)
  --acks 0|1|all                0: no answer, 1: the leader wrote it, all (-1): durable (default all)
  -z, --compression CODEC       none, gzip, snappy, lz4 or zstd (default none)
  --batch-size N                most records in one batch (default 10000)
  --linger-ms MS                send a partial batch after MS without new input (default 10)
  -q, --quiet                   no summary
${BOOTSTRAP_HELP}

examples:
  echo hello | sluice produce -t greetings
  sluice produce -t orders -k : -H source=import --file orders.txt      # lines like "order-17:{...}"
  seq 1000000 | sluice produce -t numbers --acks 1 -z lz4`;

export async function runProduce(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...BOOTSTRAP_OPTIONS,
    topic: { type: 'string', short: 't' },
    file: { type: 'string', short: 'f' },
    'key-separator': { type: 'string', short: 'k' },
    header: { type: 'string', short: 'H', multiple: true },
    partition: { type: 'string', short: 'p' },
    acks: { type: 'string' },
    compression: { type: 'string', short: 'z' },
    'batch-size': { type: 'string' },
    'linger-ms': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const topic = values.topic;
  if (!topic) throw new UsageError('--topic is required');
  const acks = parseAcks(values.acks);
  const compression = parseCompression(values.compression);
  const partition = int(values.partition, '--partition', { min: 0 });
  const batchSize = int(values['batch-size'], '--batch-size', { min: 1 }) ?? 10_000;
  const lingerMs = int(values['linger-ms'], '--linger-ms', { min: 0 }) ?? 10;
  const separator = values['key-separator'];
  if (separator === '') throw new UsageError('--key-separator cannot be empty');
  const headers = Object.entries(keyValues(values.header, '--header')).map(([key, value]) => ({ key, value }));
  if (values.file !== undefined) {
    try {
      await access(values.file, constants.R_OK);
    } catch {
      throw new Error(`cannot read ${values.file}: no such file, or not readable`);
    }
  }
  const input = values.file ? createReadStream(values.file) : process.stdin;

  return withClient(values, async (client) => {
    const producer = new Producer(client, { acks, compression });
    // Fail early, before reading input, when the topic cannot be written.
    const partitions = await producer.partitionCount(topic);
    if (partition !== undefined && partition >= partitions)
      throw new UsageError(`--partition ${partition}: topic "${topic}" has ${partitions} partitions`);

    const started = Date.now();
    let sent = 0;
    let pending: ProduceRecord[] = [];
    let sending: Promise<void> = Promise.resolve();
    let failure: Error | null = null;
    let timer: NodeJS.Timeout | undefined;
    const progress = process.stderr.isTTY && !values.quiet ? new Progress('produced', Number.POSITIVE_INFINITY) : null;

    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      // One send at a time keeps records in input order within each partition.
      sending = sending.then(async () => {
        if (failure) return;
        try {
          await producer.send(topic, batch);
          sent += batch.length;
          progress?.update(sent);
        } catch (err) {
          failure = err as Error;
        }
      });
    };

    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    const readError = new Promise<never>((_, reject) => input.once('error', reject));
    readError.catch(() => {});
    const reading = (async () => {
      for await (const line of lines) {
        if (failure) break;
        if (line === '') continue;
        const record: ProduceRecord = { value: line, headers, partition };
        if (separator !== undefined) {
          const at = line.indexOf(separator);
          if (at >= 0) {
            record.key = line.slice(0, at);
            record.value = line.slice(at + separator.length);
          }
        }
        pending.push(record);
        if (pending.length >= batchSize) {
          flush();
          await sending; // backpressure: read on only when the previous batch is out
        } else if (timer === undefined) {
          timer = setTimeout(flush, lingerMs);
        }
      }
    })();
    try {
      await Promise.race([reading, readError]);
    } catch (err) {
      throw new Error(`cannot read ${values.file ?? 'stdin'}: ${(err as Error).message}`);
    }
    flush();
    await sending;
    progress?.finish();
    if (failure) throw failure;
    if (!values.quiet) {
      const seconds = (Date.now() - started) / 1000;
      console.error(`produced ${sent} record${sent === 1 ? '' : 's'} to ${topic} in ${seconds.toFixed(2)} s`);
    }
    return 0;
  });
}
