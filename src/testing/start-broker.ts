/**
 * `startBroker()`: a real Sluice broker inside the caller's process, on a free port, in milliseconds —
 * for tests of applications that use Kafka clients. `control` injects faults.
 *
 *   const kafka = await startBroker({ topics: ['orders'] });
 *   // point any Kafka client at kafka.bootstrap …
 *   kafka.control.failNext('Produce', 'NOT_LEADER_OR_FOLLOWER');
 *   await kafka.stop();
 *
 * Or `await using kafka = await startBroker()` (Node 20.4+) stops it at the end of the block. A broker
 * that is never stopped does not keep the process alive: its sockets and timers are unref'd.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../broker/broker.js';
import { buildConfig, ConfigError } from '../broker/config.js';
import { FaultInjector } from '../broker/fault-injector.js';
import { createLogger, type Logger, type LogLevel } from '../broker/logger.js';
import { scramCredential } from '../network/sasl/scram.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { API_VERSION_TABLE } from '../protocol/generated/version-table.js';
import { DiskFs, fsError, InterceptFs, MemoryFs } from '../storage/index.js';

export type TopicSpec = string | { name: string; partitions?: number; configs?: Record<string, string> };

export interface StartBrokerOptions {
  /** 'memory' (default) keeps nothing after stop(); 'disk' writes Kafka's layout to `dataDir`. */
  storage?: 'memory' | 'disk';
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** With storage 'disk': where the data goes; default a temporary directory removed by stop(). */
  dataDir?: string;
  /** Topics to create before the broker is returned. */
  topics?: TopicSpec[];
  /** Any broker setting by its Kafka name, e.g. { 'num.partitions': 3 }. */
  config?: Record<string, string | number | boolean | string[]>;
  /** Log level of the embedded broker; default 'silent'. */
  logLevel?: LogLevel;
  logger?: Logger;
  /** SCRAM users to create before the broker is returned (mechanism default SCRAM-SHA-512). */
  users?: Array<{ name: string; password: string; mechanism?: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' }>;
}

export interface BrokerControl {
  /** The next `count` requests of an API (name like 'Produce' or api key) answer `error` in every error field. */
  failNext(api: string | number, error: keyof typeof ErrorCode | number, count?: number): void;
  /** Delay the next `count` responses of an API (or 'all') by `ms`; all of them when count is omitted. */
  delay(api: string | number | 'all', ms: number, count?: number): void;
  /** Closes every client connection now (clients reconnect). */
  dropConnections(): void;
  /** Makes every member of a consumer group rejoin (a rebalance), as when a member joins or leaves. */
  forceRebalance(groupId: string): Promise<void>;
  /**
   * Makes the disk fail: from now on every write (and fsync, unless `fsync: false`) of partition logs
   * throws `code` (ENOSPC: disk full, EIO: I/O error), until healDisk(). Affected partitions answer
   * KAFKA_STORAGE_ERROR; nothing already acknowledged is lost.
   */
  failDisk(code?: 'ENOSPC' | 'EIO', options?: { fsync?: boolean; topic?: string }): void;
  /** The disk works again (as when space was freed). */
  healDisk(): void;
  /** Removes every pending fault. */
  clear(): void;
  /**
   * Runs one pass of the log cleaner now over every compacted partition with data to clean, whatever its
   * dirty ratio (the periodic cleaner waits for min.cleanable.dirty.ratio). Only closed segments are
   * cleaned: a small segment.bytes makes data reach them. Resolves with the partitions cleaned.
   */
  compact(): Promise<Array<{ topic: string; partition: number }>>;
}

export interface EmbeddedBroker {
  /** host:port for clients' bootstrap servers. */
  bootstrap: string;
  port: number;
  /** host:port of every listener, by listener name (e.g. `SASL_SSL`). */
  listeners: Record<string, string>;
  broker: Broker;
  control: BrokerControl;
  stop(): Promise<void>;
  /** `stop()`, for `await using` (where the runtime has Symbol.asyncDispose, Node 20.4+). */
  [Symbol.asyncDispose](): Promise<void>;
}

function apiKeyOf(api: string | number): number {
  if (typeof api === 'number') return api;
  const found = API_VERSION_TABLE.find((a) => a?.name.toLowerCase() === api.toLowerCase());
  if (!found) throw new ConfigError(`unknown API "${api}" (use Kafka's name, e.g. Produce, Fetch, JoinGroup)`);
  return found.apiKey;
}

function errorCodeOf(error: keyof typeof ErrorCode | number): number {
  if (typeof error === 'number') return error;
  const code = ErrorCode[error];
  if (code === undefined)
    throw new ConfigError(`unknown error "${error}" (use Kafka's name, e.g. NOT_LEADER_OR_FOLLOWER)`);
  return code;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<EmbeddedBroker> {
  const storage = options.storage ?? 'memory';
  let dataDir = options.dataDir;
  let ownDir = false;
  if (storage === 'disk' && !dataDir) {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-'));
    ownDir = true;
  }
  const config = buildConfig([
    new Map<string, unknown>([
      ['listeners', `PLAINTEXT://${options.host ?? '127.0.0.1'}:${options.port ?? 0}`],
      ['log.dirs', dataDir ?? '/sluice-memory'],
      // Tests want groups to form at once; Kafka's own test harness does the same.
      ['group.initial.rebalance.delay.ms', 0],
    ]),
    new Map(Object.entries(options.config ?? {})),
  ]);
  const logger = options.logger ?? createLogger(options.logLevel ?? 'silent');
  let diskFault: { code: string; fsync: boolean; topic?: string } | null = null;
  const baseFs = storage === 'memory' ? new MemoryFs() : new DiskFs();
  const fs = new InterceptFs(baseFs, (call) => {
    if (!diskFault) return;
    const failing = call.op === 'write' || call.op === 'writev' || (diskFault.fsync && call.op === 'fdatasync');
    if (!failing) return;
    if (diskFault.topic && !call.path.includes(`/${diskFault.topic}-`)) return;
    throw fsError(diskFault.code, `injected by control.failDisk() on ${call.op} ${call.path}`);
  });
  const broker = await Broker.start({ config, logger, storage, fs, unref: true });
  const faults = new FaultInjector();
  broker.faults = faults;
  try {
    for (const user of options.users ?? []) {
      const mechanism = user.mechanism ?? 'SCRAM-SHA-512';
      const credential = await scramCredential(mechanism, user.password);
      await broker.credentials.change([{ user: user.name, mechanism, credential }]);
    }
    for (const spec of options.topics ?? []) {
      const t = typeof spec === 'string' ? { name: spec } : spec;
      const outcome = await broker.createTopic({
        name: t.name,
        partitions: t.partitions ?? -1,
        replicationFactor: -1,
        configs: t.configs,
      });
      if (outcome.errorCode !== ErrorCode.NONE) {
        throw new ConfigError(
          `cannot create topic "${t.name}": ${outcome.errorMessage ?? ErrorCode[outcome.errorCode]}`,
        );
      }
    }
  } catch (err) {
    await broker.stop();
    throw err;
  }

  const control: BrokerControl = {
    failNext: (api, error, count = 1) => faults.failNext(apiKeyOf(api), errorCodeOf(error), count),
    delay: (api, ms, count) => faults.delay(api === 'all' ? 'all' : apiKeyOf(api), ms, count),
    dropConnections: () => broker.dropConnections('dropped by control.dropConnections()'),
    forceRebalance: async (groupId) => broker.forceRebalance(groupId),
    failDisk: (code = 'ENOSPC', opts = {}) => {
      diskFault = { code, fsync: opts.fsync ?? true, topic: opts.topic };
    },
    healDisk: () => {
      diskFault = null;
    },
    clear: () => {
      faults.clear();
      diskFault = null;
    },
    compact: async () =>
      (await broker.logs.cleaner.cleanOnce({ all: true })).map(({ topic, partition }) => ({ topic, partition })),
  };
  const stop = async () => {
    await broker.stop();
    if (ownDir && dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  const embedded = {
    bootstrap: `${broker.advertised.host}:${broker.port}`,
    port: broker.port,
    listeners: Object.fromEntries(broker.boundListeners.map((l) => [l.name, `${l.host}:${l.port}`])),
    broker,
    control,
    stop,
  } as EmbeddedBroker;
  // Node 20.0–20.3 has no Symbol.asyncDispose: there `await using` cannot be written anyway.
  if (typeof Symbol.asyncDispose === 'symbol') embedded[Symbol.asyncDispose] = stop;
  return embedded;
}
