/** What the subcommands share: option parsing, usage errors, output helpers. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in the command line: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

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
