/** What the client subcommands share: option parsing, usage errors, the bootstrap option, output helpers. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { KafkaClient } from '../client/client.js';
import { type Acks, compressionFromName } from '../client/producer.js';
import type { CompressionType } from '../records/index.js';

/** A mistake in the command line: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

export const BOOTSTRAP_HELP = `  -b, --bootstrap-server HOST:PORT[,…]   broker(s) to start from (default ${DEFAULT_BOOTSTRAP};
                                          env SLUICE_BOOTSTRAP_SERVER)
  --timeout MS                            request timeout (default 30000)`;

export const BOOTSTRAP_OPTIONS = {
  'bootstrap-server': { type: 'string', short: 'b' },
  timeout: { type: 'string' },
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;

type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: boolean };

/** node:util parseArgs with strict checking; its errors become UsageErrors. */
export function parse<O extends Options>(
  args: string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<Config<O>>> {
  try {
    return parseArgs<Config<O>>({ args, options, strict: true, allowPositionals });
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
    throw err;
  }
}

export function int(
  value: string | undefined,
  flag: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag} expects an integer, got "${value}"`);
  const n = Number(value);
  if (
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max) ||
    !Number.isSafeInteger(n)
  ) {
    throw new UsageError(`${flag} must be between ${range.min ?? '-∞'} and ${range.max ?? '∞'}, got ${value}`);
  }
  return n;
}

export function bigint(value: string | undefined, flag: string): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${flag} expects an integer, got "${value}"`);
  return BigInt(value.trim());
}

/** `key=value` pairs (repeatable flag) → record; a pair without '=' is a usage error. */
export function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} expects KEY=VALUE, got "${kv}"`);
    out[kv.slice(0, eq).trim()] = kv.slice(eq + 1);
  }
  return out;
}

export function oneOf<T extends string>(
  value: string | undefined,
  flag: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** --acks as Kafka's producers take it: 0, 1, all or -1 (the same as all, and the default). */
export function parseAcks(value: string | undefined): Acks {
  switch (value) {
    case undefined:
    case 'all':
    case '-1':
      return -1;
    case '1':
      return 1;
    case '0':
      return 0;
    default:
      throw new UsageError(`--acks must be 0, 1, all or -1, got "${value}"`);
  }
}

/** --compression: none (the default), gzip, snappy, lz4 or zstd. */
export function parseCompression(value: string | undefined): CompressionType {
  try {
    return compressionFromName(value ?? 'none');
  } catch (err) {
    throw new UsageError(`--compression: ${(err as Error).message}`);
  }
}

/** A client for the bootstrap servers named by -b (or SLUICE_BOOTSTRAP_SERVER, or the default). */
export function clientFrom(values: { 'bootstrap-server'?: string; timeout?: string }): KafkaClient {
  const bootstrap = values['bootstrap-server'] ?? process.env.SLUICE_BOOTSTRAP_SERVER ?? DEFAULT_BOOTSTRAP;
  const timeout = int(values.timeout, '--timeout', { min: 1 });
  try {
    return new KafkaClient({
      bootstrap,
      clientId: 'sluice-cli',
      requestTimeoutMs: timeout,
      connectTimeoutMs: timeout === undefined ? undefined : Math.min(timeout, 10_000),
    });
  } catch (err) {
    throw new UsageError(`--bootstrap-server: ${(err as Error).message}`);
  }
}

/** Runs `body` with a client, closing it afterwards. */
export async function withClient<T>(
  values: { 'bootstrap-server'?: string; timeout?: string },
  body: (client: KafkaClient) => Promise<T>,
): Promise<T> {
  const client = clientFrom(values);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** Left-aligned columns, two spaces apart, for tables printed to a terminal. */
export function table(header: string[], rows: Array<Array<string | number | bigint>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Prints the named helps of a command with sub-actions (`sluice topic create --help`). */
export function helpFor(helps: Record<string, string>, general: string, args: string[]): string {
  const action = args.find((a) => !a.startsWith('-'));
  return (action && helps[action]) || general;
}
