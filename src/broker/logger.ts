/** Structured logging (pino): one JSON object per line, on stdout unless told otherwise. */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino({ level, base: { name: 'sluice' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** A logger that drops everything: embedded brokers in tests are quiet unless asked. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
