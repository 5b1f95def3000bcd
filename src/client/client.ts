/**
 * The cluster as a client sees it: bootstrap addresses, one connection per broker, Metadata (brokers,
 * topics, partitions and their leaders), group coordinators, and retries of retriable errors. Producer,
 * consumer and admin build on this; it works against any Kafka-compatible broker.
 */
import type { ApiDescriptor } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { MetadataApi, type MetadataRequest } from '../protocol/generated/03-metadata.js';
import { FindCoordinatorApi } from '../protocol/generated/10-find-coordinator.js';
import { ZERO_UUID } from '../protocol/reader.js';
import { Connection } from './connection.js';
import { ConnectionError, isRetriableError, KafkaError } from './errors.js';

export interface ClientOptions {
  /** `host:port`, comma-separated or as an array. */
  bootstrap: string | string[];
  clientId?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Attempts after the first for retriable errors (NOT_LEADER_OR_FOLLOWER, COORDINATOR_LOAD_IN_PROGRESS…). Default 5. */
  retries?: number;
  /** Wait before the first retry; doubled each time, up to 1 s. Default 100 ms. */
  retryBackoffMs?: number;
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  errorCode: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  internal: boolean;
  errorCode: number;
  /** Ordered by partition index. */
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
}

export function parseAddress(text: string): { host: string; port: number } {
  const trimmed = text.trim();
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(trimmed);
  const host = m?.[1] ?? '';
  const port = m?.[2] === undefined ? 9092 : Number(m[2]);
  if (!m || host === '' || port < 1 || port > 65535)
    throw new Error(`invalid broker address "${text}": expected host:port`);
  return { host, port };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class KafkaClient {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  private readonly bootstrap: Array<{ host: string; port: number }>;
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly brokers = new Map<number, BrokerInfo>();
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly coordinators = new Map<string, number>();
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private closed = false;
  clusterId: string | null = null;
  controllerId = -1;

  constructor(private readonly options: ClientOptions) {
    const list = Array.isArray(options.bootstrap) ? options.bootstrap : options.bootstrap.split(',');
    this.bootstrap = list.filter((s) => s.trim() !== '').map(parseAddress);
    if (this.bootstrap.length === 0) throw new Error('no bootstrap server given');
    this.clientId = options.clientId ?? 'sluice';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.retries = options.retries ?? 5;
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
  }

  /** The connection to `host:port`, opened (with the ApiVersions handshake) on first use and after a failure. */
  connectTo(host: string, port: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError('client is closed'));
    const address = `${host}:${port}`;
    const existing = this.connections.get(address);
    if (existing) return existing;
    const opening = Connection.connect({
      host,
      port,
      clientId: this.clientId,
      connectTimeoutMs: this.options.connectTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
    }).then(
      (connection) => {
        connection.onClose(() => {
          if (this.connections.get(address) === opening) this.connections.delete(address);
        });
        if (this.closed) connection.close();
        return connection;
      },
      (err: Error) => {
        this.connections.delete(address);
        throw err;
      },
    );
    this.connections.set(address, opening);
    return opening;
  }

  /** The connection to broker `nodeId`, as metadata knows it. */
  async connectToNode(nodeId: number): Promise<Connection> {
    let broker = this.brokers.get(nodeId);
    if (!broker) {
      await this.metadata([]);
      broker = this.brokers.get(nodeId);
    }
    if (!broker)
      throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${nodeId} is not in the cluster metadata`);
    return this.connectTo(broker.host, broker.port);
  }

  /** Any live connection: an open one, else a known broker, else the bootstrap servers in turn. */
  async anyConnection(): Promise<Connection> {
    for (const c of this.connections.values()) {
      const connection = await c.catch(() => null);
      if (connection && !connection.closed) return connection;
    }
    const candidates = [...this.brokers.values(), ...this.bootstrap];
    let lastError: Error | null = null;
    for (const b of candidates) {
      try {
        return await this.connectTo(b.host, b.port);
      } catch (err) {
        lastError = err as Error;
      }
    }
    throw lastError ?? new ConnectionError('no broker to connect to');
  }

  /** Sends to any broker. */
  async send<Req, Res>(api: ApiDescriptor<Req, Res>, request: Req | ((version: number) => Req)): Promise<Res> {
    const connection = await this.anyConnection();
    return sendOn(connection, api, request);
  }

  /** Sends to broker `nodeId`. */
  async sendTo<Req, Res>(
    nodeId: number,
    api: ApiDescriptor<Req, Res>,
    request: Req | ((version: number) => Req),
    timeoutMs?: number,
  ): Promise<Res> {
    const connection = await this.connectToNode(nodeId);
    return sendOn(connection, api, request, timeoutMs);
  }

  /**
   * Metadata for `topics` (null: every topic; []: brokers only). Updates the cached brokers and topics.
   * `autoCreate` asks the broker to create unknown topics, as a producer does (Metadata v4+).
   */
  async metadata(topics: string[] | null, options: { autoCreate?: boolean } = {}): Promise<ClusterMetadata> {
    const response = await this.send(MetadataApi, (version): MetadataRequest => {
      const request = MetadataApi.defaultRequest();
      request.topics = topics === null ? null : topics.map((name) => ({ topicId: ZERO_UUID, name }));
      // Before v4 the broker alone decides whether unknown topics are created.
      request.allowAutoTopicCreation = version >= 4 ? (options.autoCreate ?? false) : true;
      return request;
    });
    const md: ClusterMetadata = {
      clusterId: response.clusterId,
      controllerId: response.controllerId,
      brokers: response.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
      topics: response.topics.map((t) => ({
        name: t.name ?? '',
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            errorCode: p.errorCode,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
          }))
          .sort((a, b) => a.partition - b.partition),
      })),
    };
    this.clusterId = md.clusterId;
    this.controllerId = md.controllerId;
    for (const b of md.brokers) this.brokers.set(b.nodeId, b);
    for (const t of md.topics) {
      if (t.errorCode === ErrorCode.NONE) this.topics.set(t.name, t);
      else this.topics.delete(t.name);
    }
    return md;
  }

  /**
   * One topic's metadata, from the cache unless `refresh`. Waits out LEADER_NOT_AVAILABLE (a topic just
   * created); throws UNKNOWN_TOPIC_OR_PARTITION and other errors as KafkaError.
   */
  async topic(name: string, options: { refresh?: boolean; autoCreate?: boolean } = {}): Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached && !options.refresh) return cached;
    return this.retry(async () => {
      const md = await this.metadata([name], { autoCreate: options.autoCreate });
      const t = md.topics.find((x) => x.name === name);
      if (!t) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" was not in the answer`);
      if (t.errorCode !== ErrorCode.NONE) {
        if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
          // Worth waiting for only while the broker may still be creating it.
          throw new KafkaError(t.errorCode, `topic "${name}" does not exist`, options.autoCreate === true);
        }
        throw new KafkaError(t.errorCode, `topic "${name}"`);
      }
      const leaderless = t.partitions.find((p) => p.errorCode === ErrorCode.LEADER_NOT_AVAILABLE || p.leader < 0);
      if (leaderless) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${name}-${leaderless.partition}`);
      return t;
    });
  }

  /** The leader of a partition, from cached metadata (fetched when missing). */
  async leaderFor(topic: string, partition: number): Promise<number> {
    const t = await this.topic(topic);
    const p = t.partitions[partition];
    if (!p || p.partition !== partition) {
      throw new KafkaError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `topic "${topic}" has ${t.partitions.length} partitions; there is no partition ${partition}`,
      );
    }
    return p.leader;
  }

  /** Forgets a topic's cached metadata (after NOT_LEADER_OR_FOLLOWER and the like). */
  invalidateTopic(topic: string): void {
    this.topics.delete(topic);
  }

  /** The broker coordinating a consumer group (FindCoordinator), cached until `invalidateCoordinator`. */
  async coordinatorFor(groupId: string): Promise<number> {
    const cached = this.coordinators.get(groupId);
    if (cached !== undefined) return cached;
    return this.retry(async () => {
      const response = await this.send(FindCoordinatorApi, (version) => {
        const request = FindCoordinatorApi.defaultRequest();
        request.keyType = 0;
        if (version >= 4) request.coordinatorKeys = [groupId];
        else request.key = groupId;
        return request;
      });
      const found =
        response.coordinators.length > 0
          ? response.coordinators[0]
          : {
              errorCode: response.errorCode,
              errorMessage: response.errorMessage,
              nodeId: response.nodeId,
              host: response.host,
              port: response.port,
            };
      if (found.errorCode !== ErrorCode.NONE)
        throw new KafkaError(found.errorCode, found.errorMessage ?? `coordinator of group "${groupId}"`);
      this.brokers.set(found.nodeId, { nodeId: found.nodeId, host: found.host, port: found.port, rack: null });
      this.coordinators.set(groupId, found.nodeId);
      return found.nodeId;
    });
  }

  invalidateCoordinator(groupId: string): void {
    this.coordinators.delete(groupId);
  }

  /** Known brokers (after at least one Metadata request). */
  knownBrokers(): BrokerInfo[] {
    return [...this.brokers.values()];
  }

  /**
   * Runs `attempt` again after retriable errors, with a doubling backoff. `onRetry` runs before each new
   * attempt (to forget stale leaders or coordinators).
   */
  async retry<T>(attempt: () => Promise<T>, onRetry?: (err: Error) => void): Promise<T> {
    let backoff = this.retryBackoffMs;
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (i >= this.retries || !isRetriableError(err) || this.closed) throw err;
        onRetry?.(err as Error);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const c of all) {
      const connection = await c.catch(() => null);
      connection?.close();
    }
  }
}

function sendOn<Req, Res>(
  connection: Connection,
  api: ApiDescriptor<Req, Res>,
  request: Req | ((version: number) => Req),
  timeoutMs?: number,
): Promise<Res> {
  const version = connection.version(api);
  const body = typeof request === 'function' ? (request as (v: number) => Req)(version) : request;
  return connection.send(api, body, { version, timeoutMs });
}
