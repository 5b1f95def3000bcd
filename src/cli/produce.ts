/** `sluice produce`: one record per input line, from stdin or a file, as text or JSON lines. */
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type ProduceRecord, Producer } from '../client/producer.js';
import { FORMAT_OPTION, int, keyValues, parse, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, parseAcks, parseCompression, withClient } from './bootstrap.js';
import { Progress } from './progress.js';

export const PRODUCE_HELP = `usage: sluice produce -t TOPIC [options]

Sends each line of stdin (or of --file) as one record. Empty lines are skipped. Records are batched per
partition and sent when a batch is full or input pauses for --linger-ms. A summary goes to stderr.
Ctrl-C (SIGINT) stops reading, sends every line read so far, prints the summary and exits with 130
(143 for SIGTERM); a second Ctrl-C quits at once.

options:
  -t, --topic TOPIC             topic to write to (created if the broker auto-creates topics)
  --file FILE                   read lines from FILE instead of stdin
  -f, --format text|json        text: each line is a value (default); json: each line is an object
                                {"key", "value", "headers", "partition", "timestamp"}, every field
                                optional but value; headers as {"name": "value", …} or as consume's
                                [{"key", "value"}]; a value that is not a string is sent as its JSON
                                text; "topic" and "offset" are ignored, so consume's JSON lines replay
  -k, --key KEY                 give every record the key KEY (a JSON line's own key wins)
  -K, --key-separator SEP       split each line at the first SEP into key and value; lines without SEP
                                are sent without a key, and counted in the summary
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
  sluice produce -t orders -K : -H source=import --file orders.txt      # lines like "order-17:{...}"
  sluice produce -t orders -k customer-42 < events.txt
  echo '{"key":"k1","value":{"id":1},"headers":{"source":"cli"}}' | sluice produce -t orders -f json
  sluice consume -t orders --from-beginning -e -f json | sluice produce -t orders-copy -f json
  seq 1000000 | sluice produce -t numbers --acks 1 -z lz4`;

const JSON_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp', 'topic', 'offset']);

/** Text for a key or value given in a JSON line: strings as they are, anything else as its JSON text. */
function jsonText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * One JSON input line as a record. Fields it does not know are errors rather than ignored, so that a typo
 * ("vale") is not sent as a record with a null value.
 */
export function jsonRecord(line: string): ProduceRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('expected a JSON object like {"key": "k", "value": "v"}');
  const o = parsed as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !JSON_FIELDS.has(k));
  if (unknown.length > 0)
    throw new Error(`unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${[...JSON_FIELDS].join(', ')}`);
  if (!Object.hasOwn(o, 'value')) throw new Error('no "value" field (give "value": null for a tombstone)');
  const record: ProduceRecord = { value: jsonText(o.value) };
  if (Object.hasOwn(o, 'key')) record.key = jsonText(o.key);
  if (o.partition !== undefined && o.partition !== null) {
    if (!Number.isSafeInteger(o.partition) || (o.partition as number) < 0)
      throw new Error(`"partition" must be a whole number 0 or more, got ${JSON.stringify(o.partition)}`);
    record.partition = o.partition as number;
  }
  if (o.timestamp !== undefined && o.timestamp !== null) {
    if (!Number.isSafeInteger(o.timestamp) && !(typeof o.timestamp === 'string' && /^\d+$/.test(o.timestamp)))
      throw new Error(`"timestamp" must be epoch milliseconds, got ${JSON.stringify(o.timestamp)}`);
    record.timestamp = BigInt(o.timestamp as number | string);
  }
  if (o.headers !== undefined && o.headers !== null) record.headers = jsonHeaders(o.headers);
  return record;
}

function jsonHeaders(h: unknown): Array<{ key: string; value: string | null }> {
  if (Array.isArray(h)) {
    return h.map((e) => {
      if (e === null || typeof e !== 'object' || typeof (e as { key?: unknown }).key !== 'string')
        throw new Error('"headers" as a list holds objects like {"key": "k", "value": "v"}');
      return { key: (e as { key: string }).key, value: jsonText((e as { value?: unknown }).value) };
    });
  }
  if (typeof h === 'object' && h !== null)
    return Object.entries(h).map(([key, value]) => ({ key, value: jsonText(value) }));
  throw new Error('"headers" must be an object {"name": "value"} or a list [{"key": …, "value": …}]');
}

export async function runProduce(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...BOOTSTRAP_OPTIONS,
    ...FORMAT_OPTION,
    topic: { type: 'string', short: 't' },
    file: { type: 'string' },
    key: { type: 'string', short: 'k' },
    'key-separator': { type: 'string', short: 'K' },
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
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    // -f used to be --file here; a file name given to it says so instead of failing as an unknown format.
    throw new UsageError(`--format (-f) takes text or json, got "${format}"; to read a file use --file`);
  }
  const acks = parseAcks(values.acks);
  const compression = parseCompression(values.compression);
  const partition = int(values.partition, '--partition', { min: 0 });
  const batchSize = int(values['batch-size'], '--batch-size', { min: 1 }) ?? 10_000;
  const lingerMs = int(values['linger-ms'], '--linger-ms', { min: 0 }) ?? 10;
  const separator = values['key-separator'];
  const key = values.key;
  if (separator === '') throw new UsageError('--key-separator cannot be empty');
  if (separator !== undefined && key !== undefined)
    throw new UsageError('choose one of --key (the same key for every record) and --key-separator (a key per line)');
  if (separator !== undefined && format === 'json')
    throw new UsageError('--key-separator is for text lines; a JSON line gives its key in "key"');
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
    // Ctrl-C ends the input, not the process: what was read is still sent, then the summary is printed.
    // The handlers are `once`: a second Ctrl-C, while the last records are sent, quits at once.
    let signal: NodeJS.Signals | null = null;
    let inputEnded = false;
    const onSignal = (name: NodeJS.Signals) => {
      if (inputEnded) return;
      signal ??= name;
      lines.close();
      input.destroy();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const readError = new Promise<never>((_, reject) => input.once('error', reject));
    readError.catch(() => {});
    let lineNumber = 0;
    let keyless = 0;
    const reading = (async () => {
      for await (const line of lines) {
        lineNumber++;
        if (failure) break;
        if (line === '') continue;
        let record: ProduceRecord;
        if (format === 'json') {
          try {
            record = jsonRecord(line);
          } catch (err) {
            throw new BadInput(lineNumber, (err as Error).message);
          }
          if (record.partition !== undefined && record.partition >= partitions)
            throw new BadInput(
              lineNumber,
              `topic "${topic}" has ${partitions} partitions; there is no partition ${record.partition}`,
            );
          record.partition ??= partition;
          if (!Object.hasOwn(record, 'key') && key !== undefined) record.key = key;
          record.headers = record.headers ? [...headers, ...record.headers] : headers;
        } else {
          record = { value: line, headers, partition };
          if (key !== undefined) record.key = key;
          else if (separator !== undefined) {
            const at = line.indexOf(separator);
            if (at >= 0) {
              record.key = line.slice(0, at);
              record.value = line.slice(at + separator.length);
            } else {
              keyless++;
            }
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
    let badInput: BadInput | null = null;
    try {
      await Promise.race([reading, readError]);
    } catch (err) {
      if (err instanceof BadInput) badInput = err;
      // A stream destroyed by Ctrl-C may report that it was closed early; that is not a read error.
      else if (!signal) throw new Error(`cannot read ${values.file ?? 'stdin'}: ${(err as Error).message}`);
    } finally {
      inputEnded = true;
    }
    try {
      flush();
      await sending;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    progress?.finish();
    if (failure) throw failure;
    const summary = `produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}`;
    if (badInput) throw new Error(`${badInput.message}; ${summary} from the lines before it`);
    if (keyless > 0) {
      console.error(
        `${keyless} line${keyless === 1 ? '' : 's'} had no "${separator}" and ${keyless === 1 ? 'was' : 'were'} sent without a key`,
      );
    }
    if (!values.quiet) {
      const seconds = (Date.now() - started) / 1000;
      console.error(`${summary} in ${seconds.toFixed(2)} s${signal ? ` (stopped by ${signal})` : ''}`);
    }
    // As a shell reports a command ended by a signal: 128 + the signal's number.
    if (signal) return signal === 'SIGINT' ? 130 : 143;
    return 0;
  });
}

/** A line of JSON input that is not a record; reported with its line number. */
class BadInput extends Error {
  constructor(lineNumber: number, message: string) {
    super(`line ${lineNumber}: ${message}`);
  }
}
