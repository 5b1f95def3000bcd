/**
 * Logging (pino). Two formats: `json`, one object per line with the level as a name ("level":"info") for
 * log collectors, and `pretty`, one readable line per entry for a person at a terminal. The pretty format
 * is a small formatter of pino's own output lines (the streamWrite hook) rather than pino-pretty, which
 * would add a dozen packages and their load time to every broker start.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** Default json. */
  format?: LogFormat;
  /** ANSI colours in the pretty format; default off. */
  color?: boolean;
  /** Default stdout. */
  destination?: DestinationStream;
}

export function createLogger(level: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const pretty = options.format === 'pretty';
  const color = options.color ?? false;
  return pino(
    {
      level,
      base: { name: 'sluice' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: "level":"warn" needs no lookup table to read or to filter on.
      formatters: { level: (label) => ({ level: label }) },
      ...(pretty ? { hooks: { streamWrite: (line: string) => prettyLine(line, color) } } : {}),
    },
    options.destination,
  );
}

/** A logger that drops everything: embedded brokers in tests are quiet unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const LEVEL_COLORS: Record<string, string> = {
  fatal: '\x1b[35m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
};
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
/** Fields every line has, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/** `2026-01-02T10:00:00.000Z INFO  message key=value …`, and an error's stack on the lines after. */
export function prettyLine(json: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(entry.level ?? '');
  const shownLevel = level.toUpperCase().padEnd(5);
  let out = `${entry.time ?? ''} ${color ? `${LEVEL_COLORS[level] ?? ''}${shownLevel}${RESET}` : shownLevel} ${entry.msg ?? ''}`;
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (HEAD_FIELDS.has(key) || value === undefined) continue;
    if (isErrorLike(value)) {
      stack = `\n    ${String(value.stack).split('\n').join('\n    ')}`;
      out += ` ${field(key, value.message, color)}`;
      continue;
    }
    out += ` ${field(key, value, color)}`;
  }
  return `${out}${stack}\n`;
}

function field(key: string, value: unknown, color: boolean): string {
  const text =
    typeof value === 'string' ? (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)) : JSON.stringify(value);
  return color ? `${DIM}${key}=${RESET}${text}` : `${key}=${text}`;
}

function isErrorLike(value: unknown): value is { message: unknown; stack: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { stack?: unknown }).stack === 'string';
}
