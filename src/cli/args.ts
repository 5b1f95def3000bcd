/** What the subcommands share: option parsing, usage errors, output helpers. */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in the command line: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: boolean };

/** node:util parseArgs with strict checking; its errors become one-line UsageErrors (see usageMessage). */
export function parse<O extends Options>(
  args: string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<Config<O>>> {
  try {
    return parseArgs<Config<O>>({ args, options, strict: true, allowPositionals });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError(usageMessage(code, (err as Error).message, args, options));
    throw err;
  }
}

/**
 * node:util's parse errors are sentences in its own words ("Option '-t, --topic <value>' argument missing");
 * these are short and name the option as the user would type it, plus the nearest known option for a typo.
 */
function usageMessage(code: string, message: string, args: string[], options: Options): string {
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  // "-t, --topic <value>" or "--quiet": the long name is the last word starting with --, else the short one.
  const named = quoted.split(/[ ,]+/).filter((w) => w.startsWith('-'));
  const flag = named.find((w) => w.startsWith('--')) ?? named[0] ?? quoted;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/=.*/, '');
    const near = nearestOption(name, options);
    return `unknown option ${name}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument "${quoted}"`;
  if (/argument missing/.test(message)) return `option ${flag} needs a value`;
  if (/does not take an argument/.test(message)) return `option ${flag} takes no value`;
  if (/ambiguous/.test(message)) {
    const long = /'(--[\w-]+)=-XYZ'/.exec(message)?.[1] ?? flag;
    const value = args[args.indexOf(flag) + 1] ?? '-…';
    // "-p -b host": the value was forgotten, not meant to start with a dash.
    const known = Object.entries(options).some(([name, o]) => value === `--${name}` || value === `-${o.short}`);
    if (known) return `option ${long} needs a value`;
    return `option ${flag} is followed by "${value}": write ${long}=${value} for a value that starts with "-"`;
  }
  return message.replace(/\s*\n\s*/g, ' ');
}

/** The known long option closest to a mistyped one, when it is a likely typo (an edit distance of 2 or less). */
function nearestOption(typed: string, options: Options): string | undefined {
  if (!typed.startsWith('--')) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of Object.keys(options)) {
    const d = editDistance(typed.slice(2), name);
    if (d < bestDistance) [best, bestDistance] = [`--${name}`, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
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

/**
 * -f/--format means the output format (the input format in produce) in every command, as in kcat and rpk.
 * Commands that only print tables or JSON spread this into their options and read it with outputFormat().
 */
export const FORMAT_OPTION = { format: { type: 'string', short: 'f' } } as const;

export function outputFormat(value: string | undefined): 'text' | 'json' {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new UsageError(`--format must be text or json, got "${value}"`);
}

/**
 * One JSON value as text. Offsets, timestamps and lags are bigints; they are written as JSON numbers with
 * every digit kept (JSON.stringify refuses bigints, and Number() would round offsets above 2^53).
 */
export function toJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(value)) if (v !== undefined) fields.push(`${JSON.stringify(k)}:${toJson(v)}`);
  return `{${fields.join(',')}}`;
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
