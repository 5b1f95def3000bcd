/**
 * The composition root: configuration, topic registry, partition logs, handlers and listeners of one broker.
 * Handlers reach the broker's state through the BrokerServices it implements (handler-context.ts); Node's
 * event loop serializes every state change.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createMetadataSource, type MetadataSource } from '../cluster/index.js';
import { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { AdminServer } from '../http/admin-server.js';
import { CredentialStore } from '../network/sasl/credential-store.js';
import type { JwksValidator } from '../network/sasl/oauthbearer.js';
import { type BoundListener, KafkaServer, type ListenerOptions } from '../network/server.js';
import { ErrorCode } from '../protocol/error-codes.js';
import {
  type CleanupPolicy,
  COMPACTION_LAG_NEVER,
  createLogDir,
  createLogStore,
  DiskFs,
  FLUSH_NEVER,
  type LogConfig,
  type LogDirLock,
  type LogStore,
  lockLogDir,
  MemoryFs,
  type PartitionLog,
  type StorageFs,
} from '../storage/index.js';
import { SLUICE_VERSION } from '../version.js';
import { Authorizer } from './authorizer.js';
import {
  type BrokerConfig,
  CONFIG_DEFINITIONS,
  type ConfigOrigin,
  clientListeners,
  type Listener,
  parseHostPort,
  parseListener,
} from './config.js';
import { Dispatcher } from './dispatcher.js';
import type { FaultInjector } from './fault-injector.js';
import type { BrokerServices, CreateTopicRequest, TopicOutcome } from './handler-context.js';
import { registerAllHandlers } from './handlers/index.js';
import { listenerOptions, oauthBearerValidator } from './listener-security.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';
import { loadMetrics, type MetricsFactory } from './metrics-loader.js';
import { OffsetsTopicLog } from './offsets-topic.js';
import { ClientQuotas } from './quotas/client-quotas.js';
import { ConnectionQuotas, resolveMaxConnectionsPerIpOverrides } from './quotas/connection-quotas.js';
import { HandlerRegistry } from './registry.js';
import { effectiveTopicConfigs, TOPIC_CONFIGS, validateTopicConfigs } from './topic-config.js';

export type { CreateTopicRequest, TopicOutcome };

import { type TopicInfo, TopicRegistry, topicNameError } from './topics.js';

export interface BrokerOptions {
  config: BrokerConfig;
  logger?: Logger;
  storage?: 'disk' | 'memory';
  /** File-system layer under the partition logs (fault injection). */
  fs?: StorageFs;
  /**
   * Unref the broker's sockets and timers, so that a process embedding it (a test runner) can exit while
   * it runs; its clients' own sockets still keep the process alive while they are open.
   */
  unref?: boolean;
  /** Where each setting came from (resolveConfig), for the start-up line; unnamed ones show as overrides. */
  origins?: ReadonlyMap<string, ConfigOrigin>;
}

export class Broker implements BrokerServices {
  readonly registry = new HandlerRegistry();
  readonly logs: LogStore;
  readonly metrics: BrokerMetrics;
  /** Client quotas (produce/fetch byte rates, request time), their configs and their enforcement. */
  readonly quotas: ClientQuotas;
  private admin: AdminServer | undefined;
  /** Fault injection for embedded test brokers (startBroker's `control`); null in production. */
  faults: FaultInjector | null = null;
  /** The group coordinator (consumer groups, committed offsets), replayed from __consumer_offsets at start. */
  groups!: GroupCoordinator;
  readonly topics: TopicRegistry;
  readonly nodeId: number;
  clusterId = '';
  /** The brokers and controller of the cluster (this broker alone without etcd); see src/cluster/. */
  cluster!: MetadataSource;
  /** Host and port clients are told to connect to (first advertised listener). */
  advertised: Listener = { name: 'PLAINTEXT', host: '127.0.0.1', port: 0 };
  /** The address each listener advertises, by listener name. */
  private readonly advertisedListeners = new Map<string, Listener>();
  /** SCRAM credentials of SASL users (scram-credentials.json in the data directory). */
  readonly credentials: CredentialStore;
  /** ACLs (acls.json in the data directory) and their checks; off unless authorizer.class.name is set. */
  readonly authorizer: Authorizer;
  /** The JWKS keys OAUTHBEARER tokens are verified with; null without sasl.oauthbearer.jwks.endpoint.url. */
  private oauthBearer: JwksValidator | null = null;
  /**
   * Authentications on SASL listeners since start (Kafka's successful-authentication-total,
   * failed-authentication-total, successful-reauthentication-total).
   */
  readonly authentications = { successful: 0, failed: 0, reauthenticated: 0 };
  private server: KafkaServer | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private producerExpirationTimer: NodeJS.Timeout | undefined;
  private readonly logDir: string;
  /** The log dir's `.lock` (disk engine), held from before the first read of the dir until stop. */
  private lock: LogDirLock | null = null;
  private stopped = false;
  /** The tail of the chain of topic creations and deletions (see `changeTopics`). */
  private topicChanges: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly config: BrokerConfig,
    readonly logger: Logger,
    readonly storage: 'disk' | 'memory',
    fs: StorageFs | undefined,
    metrics: MetricsFactory,
  ) {
    this.nodeId = config['node.id'] as number;
    this.logDir = resolve((config['log.dirs'] as string[])[0]);
    this.topics = new TopicRegistry(storage === 'disk' ? this.logDir : null);
    this.credentials =
      storage === 'disk' ? CredentialStore.inDataDir(this.logDir, logger) : new CredentialStore(null, logger);
    this.authorizer = new Authorizer(config, storage === 'disk' ? this.logDir : null);
    this.metrics = metrics(this);
    this.quotas = new ClientQuotas(
      storage === 'disk' ? this.logDir : null,
      {
        samples: config['quota.window.num'] as number,
        windowMs: (config['quota.window.size.seconds'] as number) * 1000,
      },
      this.metrics,
    );
    const baseFs = fs ?? (storage === 'memory' ? new MemoryFs() : new DiskFs());
    this.logs = createLogStore({
      engine: storage,
      logDirs: [this.logDir],
      fs: this.metrics.timeFsync(baseFs),
      defaults: logConfigFor({}, config),
      logger,
      producerIdExpirationMs: config['producer.id.expiration.ms'] as number,
      cleaner: {
        enable: config['log.cleaner.enable'] as boolean,
        backoffMs: config['log.cleaner.backoff.ms'] as number,
        ioMaxBytesPerSecond: config['log.cleaner.io.max.bytes.per.second'] as number,
        dedupeBufferSize: config['log.cleaner.dedupe.buffer.size'] as number,
        loadFactor: config['log.cleaner.io.buffer.load.factor'] as number,
        ioBufferSize: config['log.cleaner.io.buffer.size'] as number,
      },
    });
  }

  static async start(options: BrokerOptions): Promise<Broker> {
    const started = Date.now();
    const logger = options.logger ?? silentLogger();
    const storage = options.storage ?? 'disk';
    const config = options.config;
    const logDir = resolve((config['log.dirs'] as string[])[0]);
    // The log dir is locked before anything in it is read: a second broker on it would recover and append
    // to the first one's live logs. The memory engine's logs belong to their broker alone: nothing to lock.
    const lockDir = async () => {
      await createLogDir(logDir);
      return lockLogDir(logDir);
    };
    // Metrics (prom-client) load only when the admin listener can serve them.
    const version = SLUICE_VERSION;
    const [metrics, lock, cluster] = await Promise.all([
      loadMetrics(Boolean(config['admin.http.listener'])),
      storage === 'disk' ? lockDir() : null,
      createMetadataSource(config, logger),
    ]);
    const broker = new Broker(config, logger, storage, options.fs, metrics);
    broker.lock = lock;
    broker.cluster = cluster;
    try {
      await broker.open(options.unref ?? false);
    } catch (err) {
      await broker.abandon();
      throw err;
    }
    // The one line an operator reads to know what started: what, where, and every setting changed.
    const listeners = broker.server?.bound.map((l) => `${l.name}://${l.host}:${l.port}`) ?? [];
    const { name, host, port } = broker.advertised;
    logger.info(
      {
        version,
        clusterId: broker.clusterId,
        nodeId: broker.nodeId,
        listeners,
        advertised: `${name}://${host}:${port}`,
        logDir: storage === 'disk' ? logDir : '(memory)',
        settings: changedSettings(config, options.origins),
        ms: Date.now() - started,
      },
      `listening on ${listeners.join(', ')} (sluice ${version}, node ${broker.nodeId}, cluster ${broker.clusterId})`,
    );
    return broker;
  }

  private async open(unref: boolean): Promise<void> {
    // The listeners are bound before the logs are opened: a port in use fails the start at once, before a
    // recovery scans or cuts anything. Requests that arrive meanwhile wait until the logs are open.
    registerAllHandlers(this.registry);

    await this.credentials.load();
    if (this.storage === 'disk') this.credentials.watch();
    this.oauthBearer = oauthBearerValidator(this.config, this.logger);
    if (this.oauthBearer !== null) {
      await this.oauthBearer.load();
      this.oauthBearer.watch();
    }
    // KRaft controller listeners of a Kafka server.properties are accepted but not served.
    const listeners = listenerOptions(this.config, {
      credentials: this.credentials,
      oauthBearer: this.oauthBearer,
      logger: this.logger,
      onAuthentication: (succeeded, mechanism, detail, reauthentication) =>
        this.countAuthentication(succeeded, mechanism, detail, reauthentication),
    });
    this.warnWithoutUsers(listeners);
    const dispatcher = new Dispatcher(this);
    let opened!: () => void;
    let opening: Promise<void> | null = new Promise((resolve) => (opened = resolve));
    // KRaft controller listeners of a Kafka server.properties are accepted but not served.
    this.server = new KafkaServer({
      listeners,
      handler: (frame, ctx) =>
        opening === null ? dispatcher.handle(frame, ctx) : opening.then(() => dispatcher.handle(frame, ctx)),
      logger: this.logger,
      maxRequestBytes: this.config['socket.request.max.bytes'] as number,
      maxQueuedRequests: this.config['queued.max.requests'] as number,
      maxConnections: this.config['max.connections'] as number,
      maxConnectionsPerIp: this.config['max.connections.per.ip'] as number,
      maxConnectionsPerIpOverrides: await resolveMaxConnectionsPerIpOverrides(
        this.config['max.connections.per.ip.overrides'] as string | null,
      ),
      connectionRates: new ConnectionQuotas(
        this.config['max.connection.creation.rate'] as number,
        this.quotas.store,
        this.quotas.windows,
      ),
      connectionMetrics: this.metrics,
      idleTimeoutMs: this.config['connections.max.idle.ms'] as number,
      unref,
    });
    const bound = await this.server.listen();
    const advertised = clientListeners(
      ((this.config['advertised.listeners'] as string[] | null) ?? []).map(parseListener),
      this.config,
    );
    // Each bound listener advertises its entry of advertised.listeners, or else its own address. A wildcard
    // bind is not an address a client can dial; it advertises loopback then, like a local broker.
    for (const listener of bound) {
      const host = listener.host === '0.0.0.0' || listener.host === '::' ? '127.0.0.1' : listener.host;
      const own = advertised.find((a) => a.name === listener.name);
      this.advertisedListeners.set(listener.name, own ?? { name: listener.name, host, port: listener.port });
    }
    this.advertised = advertised[0] ?? this.advertisedListeners.get(bound[0].name)!;

    // Independent files: read them at once.
    const [clusterId] = await Promise.all([
      this.loadClusterId(),
      this.topics.load(),
      this.logs.open(),
      this.quotas.load(),
      this.authorizer.load(),
    ]);
    this.clusterId = clusterId;
    for (const topic of this.topics.list()) await this.openPartitions(topic);
    this.groups = new GroupCoordinator({
      log: new OffsetsTopicLog(this),
      config: {
        initialRebalanceDelayMs: this.config['group.initial.rebalance.delay.ms'] as number,
        minSessionTimeoutMs: this.config['group.min.session.timeout.ms'] as number,
        maxSessionTimeoutMs: this.config['group.max.session.timeout.ms'] as number,
        maxGroupSize: this.config['group.max.size'] as number,
        offsetsRetentionMs: (this.config['offsets.retention.minutes'] as number) * 60_000,
        consumerSessionTimeoutMs: this.config['group.consumer.session.timeout.ms'] as number,
        consumerHeartbeatIntervalMs: this.config['group.consumer.heartbeat.interval.ms'] as number,
        consumerAssignors: (this.config['group.consumer.assignors'] as string[]).map((a) => a.trim().toLowerCase()),
        consumerMaxSize: this.config['group.consumer.max.size'] as number,
      },
      // KIP-848 consumer groups see topics by name and id, and regex subscriptions never match internal topics.
      topics: {
        byName: (name) => {
          const t = this.topics.get(name);
          return t ? { topicId: t.topicId, numPartitions: t.partitions } : undefined;
        },
        byId: (topicId) => {
          const t = this.topics.getById(topicId);
          return t ? { name: t.name, numPartitions: t.partitions } : undefined;
        },
        names: () =>
          this.topics
            .list()
            .filter((t) => !t.internal)
            .map((t) => t.name),
      },
      logger: this.logger,
    });
    await this.groups.load();
    await this.cluster.register({
      nodeId: this.nodeId,
      rack: this.config['broker.rack'] as string | null,
      listeners: advertised.length > 0 ? advertised : [this.advertised],
    });
    opening = null;
    opened();

    const http = this.config['admin.http.listener'] as string | null;
    if (http) {
      const { host, port } = parseHostPort(http);
      const { AdminServer } = await import('../http/admin-server.js');
      this.admin = new AdminServer({ host, port, metrics: this.metrics, health: () => this.healthProblem() });
      await this.admin.listen();
      if (unref) this.admin.unref();
      this.logger.info({ url: `http://${host}:${this.admin.port}/metrics` }, 'admin http listening');
    }
    const every = this.config['log.retention.check.interval.ms'] as number;
    this.retentionTimer = setInterval(() => {
      this.logs
        .applyRetention(Date.now())
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'retention failed'));
    }, every);
    this.retentionTimer.unref();
    const expirationMs = this.config['producer.id.expiration.ms'] as number;
    this.producerExpirationTimer = setInterval(() => {
      const removed = this.logs.removeExpiredProducers(Date.now(), expirationMs);
      if (removed > 0) this.logger.debug({ removed }, 'expired idle producer ids');
    }, this.config['producer.id.expiration.check.interval.ms'] as number);
    this.producerExpirationTimer.unref();
  }

  /**
   * The address a client connected to `listenerName` is told (Metadata, FindCoordinator): that listener's
   * advertised address, as Kafka answers, so a client that came in over SASL_SSL stays on SASL_SSL.
   */
  advertisedFor(listenerName: string | undefined): Listener {
    return (listenerName !== undefined && this.advertisedListeners.get(listenerName)) || this.advertised;
  }

  /** A SASL listener nobody can log in to yet deserves a word at start-up, with what to do. */
  private warnWithoutUsers(listeners: ListenerOptions[]): void {
    if (this.credentials.list().length > 0) return;
    for (const l of listeners) {
      if (l.sasl === undefined || l.sasl.plainUsers.size > 0 || l.sasl.oauthBearer !== null) continue;
      const how =
        this.storage === 'disk'
          ? `'sluice user create NAME --password … --data-dir ${this.logDir}' (a running broker picks it up)`
          : 'AlterUserScramCredentials on another listener (sluice user create -b …)';
      this.logger.warn(
        { listener: l.name },
        `listener ${l.name} asks for SASL but no user exists yet: create one with ${how}`,
      );
    }
  }

  private countAuthentication(succeeded: boolean, mechanism: string, detail: string, reauthentication: boolean): void {
    if (succeeded) {
      this.authentications.successful++;
      if (reauthentication) this.authentications.reauthenticated++;
    } else {
      this.authentications.failed++;
      this.logger.info({ mechanism, reason: detail }, 'SASL authentication failed');
    }
  }

  get httpPort(): number {
    return this.admin?.port ?? 0;
  }

  /** Null when the broker serves requests; otherwise why it does not. */
  healthProblem(): string | null {
    if (this.stopped) return 'stopping';
    if (!this.server || this.server.bound.length === 0) return 'no listener bound';
    return null;
  }

  /** Every listener bound, with its port and security protocol. */
  get boundListeners(): readonly BoundListener[] {
    return this.server?.bound ?? [];
  }

  get port(): number {
    return this.server?.bound[0]?.port ?? 0;
  }

  get connectionCount(): number {
    return this.server?.connectionCount ?? 0;
  }

  /**
   * Kafka keeps the cluster id in meta.properties in each log dir; the metadata source settles it with
   * what the cluster holds (an in-memory broker has no file and takes the source's id).
   */
  private async loadClusterId(): Promise<string> {
    const configured = this.config['cluster.id'] as string | null;
    if (this.storage === 'memory') return this.cluster.agreeClusterId(null, configured);
    const file = join(this.logDir, 'meta.properties');
    try {
      const text = await readFile(file, 'utf8');
      const m = /^cluster\.id=(.+)$/m.exec(text);
      if (m) return this.cluster.agreeClusterId(m[1].trim(), configured);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const clusterId = await this.cluster.agreeClusterId(null, configured);
    await writeFile(
      file,
      `#\n#${new Date().toUTCString()}\ncluster.id=${clusterId}\nnode.id=${this.nodeId}\nversion=1\n`,
    );
    return clusterId;
  }

  logConfig(topic: TopicInfo): LogConfig {
    return logConfigFor(topic.configs, this.config);
  }

  /** Opens (or creates) the logs of a topic's partitions from `from` on, many at once. */
  private async openPartitions(topic: TopicInfo, from = 0): Promise<void> {
    const partitions = Array.from({ length: Math.max(0, topic.partitions - from) }, (_, i) => from + i);
    await this.logs.getOrCreateMany(topic.name, partitions, { topicId: topic.topicId, config: this.logConfig(topic) });
  }

  partition(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(topic, partition);
  }

  /**
   * Runs a change to the set of topics after the changes before it. Creating and deleting a topic each
   * span several awaits (the registry file, a directory per partition): a create and a delete of one name
   * interleaved would meet each other's half-made or half-removed partition logs, and could leave behind a
   * partition log that belongs to no topic. A change must not itself call createTopic or deleteTopic.
   */
  changeTopics<T>(change: () => Promise<T>): Promise<T> {
    const run = this.topicChanges.then(change);
    this.topicChanges = run.catch(() => undefined);
    return run;
  }

  /** Validates and (unless validateOnly) creates a topic, with Kafka's error codes. */
  createTopic(req: CreateTopicRequest): Promise<TopicOutcome> {
    return this.changeTopics(() => this.createTopicNow(req));
  }

  private async createTopicNow(req: CreateTopicRequest): Promise<TopicOutcome> {
    const nameError = topicNameError(req.name);
    if (nameError) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameError };
    if (this.topics.get(req.name))
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${req.name}' already exists.` };
    const collides = this.topics.collidesWith(req.name);
    if (collides)
      return {
        errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
        errorMessage: `Topic '${req.name}' collides with existing topic '${collides}' ('.' and '_' are treated alike)`,
      };
    const partitions = req.partitions === -1 ? (this.config['num.partitions'] as number) : req.partitions;
    if (partitions < 1 || partitions > 100_000)
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Number of partitions must be 1..100000, got ${partitions}`,
      };
    const rf =
      req.replicationFactor === -1 ? (this.config['default.replication.factor'] as number) : req.replicationFactor;
    if (rf !== 1)
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Replication factor ${rf} is larger than the number of brokers (1)`,
      };
    let configs: Record<string, string>;
    try {
      configs = validateTopicConfigs(req.configs ?? {});
    } catch (err) {
      return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: (err as Error).message };
    }
    const draft = { name: req.name, partitions, replicationFactor: rf, configs, internal: req.name.startsWith('__') };
    if (req.validateOnly)
      return { errorCode: ErrorCode.NONE, errorMessage: null, topic: { ...draft, topicId: '0'.repeat(32) } };
    const topic = await this.topics.add(draft);
    await this.openPartitions(topic);
    this.logger.info({ topic: topic.name, partitions, topicId: topic.topicId }, 'created topic');
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  /** Auto-creation for Metadata/Produce of unknown topics, when auto.create.topics.enable is on. */
  async autoCreateTopic(name: string): Promise<TopicOutcome> {
    return this.createTopic({ name, partitions: -1, replicationFactor: -1 });
  }

  deleteTopic(name: string): Promise<TopicOutcome> {
    return this.changeTopics(() => this.deleteTopicNow(name));
  }

  private async deleteTopicNow(name: string): Promise<TopicOutcome> {
    const topic = this.topics.get(name);
    if (!topic)
      return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist` };
    if (!(this.config['delete.topic.enable'] as boolean))
      return { errorCode: ErrorCode.TOPIC_DELETION_DISABLED, errorMessage: 'delete.topic.enable is false' };
    await this.topics.remove(name);
    for (let p = 0; p < topic.partitions; p++) await this.logs.delete(name, p);
    this.logger.info({ topic: name, topicId: topic.topicId }, 'deleted topic');
    return { errorCode: ErrorCode.NONE, errorMessage: null, topic };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.producerExpirationTimer) clearInterval(this.producerExpirationTimer);
    // Leaving the cluster first: the others stop sending clients here before the listeners close.
    await this.cluster.stop();
    await this.admin?.close();
    await this.server?.close();
    this.groups?.close();
    this.credentials.close();
    this.oauthBearer?.close();
    try {
      await this.logs.close();
    } finally {
      await this.lock?.release();
    }
  }

  /**
   * Undoes a start that failed: closes the listeners and gives the lock back, but leaves the logs as they
   * are (closing them would mark a shutdown clean whose recovery may not have finished).
   */
  private async abandon(): Promise<void> {
    this.stopped = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.groups?.close();
    this.credentials.close();
    this.oauthBearer?.close();
    await Promise.allSettled([this.admin?.close(), this.server?.close(), this.cluster.stop()]);
    await this.lock?.release();
  }

  /** Makes every member of a group rejoin; a no-op for an unknown group. */
  async forceRebalance(groupId: string): Promise<void> {
    await this.groups.forceRebalance(groupId);
  }

  dropConnections(reason: string): void {
    this.server?.dropConnections(reason);
  }

  /** Names of the topic configs the broker understands (DescribeConfigs). */
  static topicConfigNames(): string[] {
    return Object.keys(TOPIC_CONFIGS);
  }

  effectiveTopicConfigs(topic: TopicInfo) {
    return effectiveTopicConfigs(topic.configs, this.config);
  }
}

/** Settings whose value differs from the default, as `value (origin)`. */
function changedSettings(config: BrokerConfig, origins: ReadonlyMap<string, ConfigOrigin> | undefined) {
  const text = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));
  const out: Record<string, string> = {};
  for (const [key, def] of Object.entries(CONFIG_DEFINITIONS) as Array<
    [string, { default: unknown; sensitive?: boolean }]
  >) {
    const value = config[key as keyof BrokerConfig];
    if (text(value) === text(def.default)) continue;
    // Keys and passwords never reach a log.
    out[key] = `${def.sensitive ? '(hidden)' : text(value)} (${origins?.get(key) ?? 'override'})`;
  }
  // Per-listener settings (listener.name.<l>.…): JAAS configurations hold passwords.
  for (const key of Object.keys(config)) {
    if (!key.startsWith('listener.name.')) continue;
    const secret = /password|\.key$|jaas\.config$/.test(key);
    out[key] = `${secret ? '(hidden)' : text(config[key as keyof BrokerConfig])} (${origins?.get(key) ?? 'override'})`;
  }
  return out;
}

const NEVER = '9223372036854775807';

/** Maps Kafka's topic config names (overrides over broker defaults) to the storage layer's LogConfig. */
export function logConfigFor(overrides: Record<string, string>, config: BrokerConfig): LogConfig {
  const eff = effectiveTopicConfigs(overrides, config);
  const num = (k: string) => Number(eff[k].value);
  const optional = (k: string) => (eff[k].value === '' || eff[k].value === NEVER ? FLUSH_NEVER : Number(eff[k].value));
  return {
    segmentBytes: num('segment.bytes'),
    segmentMs: num('segment.ms'),
    retentionMs: num('retention.ms'),
    retentionBytes: num('retention.bytes'),
    indexIntervalBytes: num('index.interval.bytes'),
    segmentIndexBytes: num('segment.index.bytes'),
    flushMessages: optional('flush.messages'),
    flushMs: optional('flush.ms'),
    maxMessageBytes: num('max.message.bytes'),
    messageTimestampType: eff['message.timestamp.type'].value as 'CreateTime' | 'LogAppendTime',
    cleanupPolicy: eff['cleanup.policy'].value.split(',') as CleanupPolicy[],
    minCleanableDirtyRatio: num('min.cleanable.dirty.ratio'),
    minCompactionLagMs: num('min.compaction.lag.ms'),
    maxCompactionLagMs:
      eff['max.compaction.lag.ms'].value === NEVER ? COMPACTION_LAG_NEVER : num('max.compaction.lag.ms'),
    deleteRetentionMs: num('delete.retention.ms'),
  };
}
