/** `sluice start`: runs a broker in the foreground until SIGTERM or SIGINT. */
import { Broker } from '../broker/broker.js';
import { describeIgnoredSettings, describeSettings, resolveConfig } from '../broker/config.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../broker/logger.js';
import { parse, UsageError } from './args.js';

export const START_HELP = `usage: sluice start [options]

Runs a broker in the foreground. Ctrl-C (SIGINT) or SIGTERM shuts it down cleanly.

options:
  --port P                 listen on 127.0.0.1:P (sets listeners=PLAINTEXT://127.0.0.1:P); 0 picks a free port
  --host H                 listen on H instead of 127.0.0.1 (with --port); for 0.0.0.0 also set
                           advertised.listeners, or clients are told 127.0.0.1
  --data-dir D             keep data in D (sets log.dirs=D); default ./data
  --config FILE            read a Kafka-style server.properties file
  --override KEY=VALUE     set any setting below; may be repeated
  --storage disk|memory    storage engine; memory keeps nothing after exit (default disk)
  --http HOST:PORT         serve Prometheus /metrics and /health there (sets admin.http.listener); off by default
  --etcd HOST:PORT[,…]     join the cluster kept in these etcd endpoints (sets metadata.etcd.endpoints); give each
                           broker its own node.id (preview: partitions are not replicated yet)
  --log-level LEVEL        ${LOG_LEVELS.join(', ')} (default info; env SLUICE_LOG_LEVEL)
  --log-format FORMAT      pretty (one readable line per entry) or json (one object per line); default pretty
                           on a terminal, json otherwise (env SLUICE_LOG_FORMAT)

Settings come from, later overriding earlier: defaults, --config, SLUICE_<NAME> environment variables
(e.g. SLUICE_LOG_DIRS=/var/lib/sluice for log.dirs), --port/--data-dir, --override. Kafka's own
server.properties loads as it is: settings that mean nothing on one broker (threads, KRaft controller
settings, replication factors of 1) are named in one warning and ignored.

examples:
  sluice start
  sluice start --port 19092 --data-dir /tmp/sluice
  sluice start --config server.properties --override num.partitions=3
  sluice start --etcd 10.0.0.1:2379 --override node.id=2 --host 10.0.0.2 --port 9092

settings:
${describeSettings()}
  listener.name.<listener>.<setting>   Any ssl.* setting, sasl.enabled.mechanisms or connections.max.reauth.ms
                                       for one listener; listener.name.<listener>.plain.sasl.jaas.config takes
                                       PLAIN users (PlainLoginModule required user_NAME="PASSWORD";).

Kafka settings accepted and ignored (with one warning), so that Kafka's server.properties loads:
${describeIgnoredSettings()}`;

export async function runStart(args: string[]): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    override: { type: 'string', multiple: true },
    storage: { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    http: { type: 'string' },
    etcd: { type: 'string' },
  });
  const level = (values['log-level'] ?? process.env.SLUICE_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw new UsageError(`invalid --log-level "${level}": use one of ${LOG_LEVELS.join(', ')}`);
  const format = (values['log-format'] ??
    (process.env.SLUICE_LOG_FORMAT || undefined) ??
    (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat;
  if (!LOG_FORMATS.includes(format))
    throw new UsageError(`invalid --log-format "${format}": use one of ${LOG_FORMATS.join(', ')}`);
  const storage = values.storage ?? 'disk';
  if (storage !== 'disk' && storage !== 'memory')
    throw new UsageError(`invalid --storage "${storage}": use disk or memory`);

  const overrides: Record<string, string> = {};
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535)
      throw new UsageError(`invalid --port "${values.port}"`);
    overrides.listeners = `PLAINTEXT://${values.host ?? '127.0.0.1'}:${values.port}`;
  } else if (values.host !== undefined) {
    overrides.listeners = `PLAINTEXT://${values.host}:9092`;
  }
  if (values['data-dir'] !== undefined) overrides['log.dirs'] = values['data-dir'];
  if (values.http !== undefined) overrides['admin.http.listener'] = values.http;
  if (values.etcd !== undefined) overrides['metadata.etcd.endpoints'] = values.etcd;
  for (const kv of values.override ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid --override "${kv}": expected KEY=VALUE`);
    overrides[kv.slice(0, eq).trim()] = kv.slice(eq + 1);
  }
  const { config, origins, warnings } = await resolveConfig({ file: values.config, env: process.env, overrides });
  const color = format === 'pretty' && process.stdout.isTTY && !process.env.NO_COLOR;
  const logger = createLogger(level, { format, color });
  for (const warning of warnings) logger.warn(warning);
  // Signals are caught from before the start: one that comes while the broker starts (after it logged
  // that it listens, say) stops it cleanly once started, rather than killing it half open.
  let signal: string | null = null;
  let wake: (() => void) | null = null;
  const onSignal = (name: string) => {
    if (signal) return;
    signal = name;
    wake?.();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const broker = await Broker.start({ config, logger, storage, origins });

  if (!signal) await new Promise<void>((resolve) => (wake = resolve));
  logger.info({ signal }, 'shutting down');
  try {
    await broker.stop();
  } catch (err) {
    logger.error(
      { err: (err as Error).message },
      'error during shutdown; logs not closed cleanly are scanned at the next start',
    );
  }
  logger.info('stopped');
  logger.flush();
  return 0;
}
