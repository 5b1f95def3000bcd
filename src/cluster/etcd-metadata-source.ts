/**
 * Cluster metadata kept in etcd: the cluster id, broker registrations under leases, and the controller
 * election. The keys (see etcd-keys.ts) are:
 *
 *   /sluice/cluster-id                              the cluster id, created once by compare-and-swap
 *   /sluice/<cluster-id>/brokers/<node.id>          a live broker: its listeners and rack, under its lease
 *   /sluice/<cluster-id>/election/controller/<id>   candidates for controller (etcd's election recipe)
 *
 * A broker's lease lives as long as it keeps it alive (every third of broker.session.timeout.ms); a broker
 * that dies or is cut off disappears when the lease expires, as a Kafka broker whose heartbeats stop is
 * fenced after broker.session.timeout.ms. The broker epoch (KIP-903) is the etcd revision that wrote the
 * registration, so each registration gets a larger epoch than the one before.
 *
 * The image is rebuilt from one watch on /sluice/<cluster-id>/, so requests read memory, never etcd.
 * etcd3 (with gRPC) is imported only here, and this file only when a broker runs with etcd.
 */
import type { Etcd3, IKeyValue, IOptions, Lease, Watcher } from 'etcd3';
import type { Logger } from '../broker/logger.js';
import {
  brokerKey,
  CLUSTER_ID_KEY,
  CONTROLLER_ELECTION,
  clusterPrefix,
  controllerFrom,
  parseRegistration,
  registrationValue,
} from './etcd-keys.js';
import type { BrokerRegistration, LocalBroker, MetadataImage, MetadataSource } from './metadata-source.js';
import { newClusterId } from './single-node-source.js';

export interface EtcdSourceOptions {
  /** host:port of each etcd endpoint (metadata.etcd.endpoints). */
  endpoints: string[];
  /** broker.session.timeout.ms: the lease TTL, rounded up to whole seconds as etcd counts them. */
  sessionTimeoutMs: number;
  logger: Logger;
}

/** An etcd client for `endpoints`, with calls bounded in time (a cut link must not hang a call forever). */
export async function connectEtcd(endpoints: string[], callTimeoutMs: number): Promise<Etcd3> {
  const { Etcd3 } = await import('etcd3');
  const options: IOptions = {
    hosts: endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`)),
    dialTimeout: callTimeoutMs,
    // gRPC keep-alive pings find a dead connection (a cut link) and fail the calls on it, which etcd3 then
    // re-opens; otherwise a call on a dead connection waits for TCP to give up, minutes later, and keeps
    // a stopping broker's process alive (etcd3 half-closes its lease stream rather than cancelling it).
    // 5 s is as often as etcd lets a client ping (--grpc-keepalive-min-time); each ping follows the last
    // one's answer, so the pings never come sooner.
    grpcOptions: { 'grpc.keepalive_time_ms': 5000, 'grpc.keepalive_timeout_ms': 1500 },
    // Unary calls get a deadline; the watch and keep-alive streams live as long as the session.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    // etcd3's default circuit breaker shuns a host for 5 s after three failures, which would hold a broker
    // out of the cluster well after its link is back; the session loop below does its own pacing.
    faultHandling: { host: () => PASS_THROUGH as never },
  };
  return new Etcd3(options);
}

// Async, so that a call that throws at once (etcd3 marks a host failed that way) becomes a rejection.
const PASS_THROUGH = { execute: async <T>(fn: () => T) => fn() };

export class EtcdMetadataSource implements MetadataSource {
  readonly kind = 'etcd';
  private clusterId = '';
  private self: LocalBroker | null = null;
  private brokerEpoch = -1n;
  /** Registration and election keys seen by the watch, by key. */
  private readonly registrations = new Map<string, IKeyValue>();
  private readonly candidates = new Map<string, IKeyValue>();
  private current: MetadataImage = { clusterId: '', controllerId: -1, brokers: [] };
  private watcher: Watcher | null = null;
  private stopped = false;
  /** Ends the current session (lease lost, or stop). */
  private endSession: (() => void) | null = null;
  private session: Lease | null = null;
  private sessionLoop: Promise<void> | null = null;
  private readonly ttlSeconds: number;
  /** Why the last registration attempt failed, for the error of a start that gives up. */
  private problem = 'no answer from etcd';

  private constructor(
    private readonly client: Etcd3,
    private readonly options: EtcdSourceOptions,
  ) {
    this.ttlSeconds = Math.max(1, Math.ceil(options.sessionTimeoutMs / 1000));
  }

  static async connect(options: EtcdSourceOptions): Promise<EtcdMetadataSource> {
    return new EtcdMetadataSource(await connectEtcd(options.endpoints, options.sessionTimeoutMs), options);
  }

  /**
   * When a step of joining gives up: a broker that cannot reach etcd, or whose node.id stays taken, fails
   * its start with the reason rather than hang in it (deaf to SIGTERM, which start-up does not interrupt).
   * Each step has its own deadline, so a long log recovery between them does not use it up.
   */
  private joinDeadline(): number {
    return Date.now() + joinTimeoutMs(this.options.sessionTimeoutMs);
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  /**
   * The first broker to start writes the cluster id; every later one reads it. The write is a transaction
   * that succeeds only if the key does not exist yet, so brokers starting at once all agree on one id.
   */
  async agreeClusterId(local: string | null, configured: string | null): Promise<string> {
    const deadline = this.joinDeadline();
    const proposal = local ?? configured ?? newClusterId();
    const result = await this.retry(
      'read the cluster id',
      () =>
        this.client
          .if(CLUSTER_ID_KEY, 'Create', '==', 0)
          .then(this.client.put(CLUSTER_ID_KEY).value(proposal))
          .else(this.client.get(CLUSTER_ID_KEY))
          .commit(),
      deadline,
    );
    const clusterId = result.succeeded ? proposal : result.responses[0].response_range.kvs[0].value.toString();
    if (result.succeeded) this.logger.info({ clusterId }, `created cluster ${clusterId} in etcd`);
    // Kafka refuses a broker whose meta.properties names another cluster (INCONSISTENT_CLUSTER_ID).
    if (local !== null && local !== clusterId)
      throw new Error(
        `the data dir belongs to cluster ${local} (meta.properties) but etcd at ${this.options.endpoints.join(',')} holds cluster ${clusterId}: point metadata.etcd.endpoints at that cluster's etcd, or start with an empty log dir`,
      );
    if (local === null && configured !== null && configured !== clusterId)
      throw new Error(
        `cluster.id is ${configured} but etcd at ${this.options.endpoints.join(',')} holds cluster ${clusterId}: remove the setting or use another etcd`,
      );
    this.clusterId = clusterId;
    this.current = { ...this.current, clusterId };
    return clusterId;
  }

  /** Starts watching the cluster, then keeps a registration (and a candidacy for controller) alive. */
  async register(self: LocalBroker): Promise<void> {
    this.self = self;
    const deadline = this.joinDeadline();
    await this.retry('watch the cluster', () => this.watch(), deadline);
    let registered!: (done: boolean) => void;
    const first = new Promise<boolean>((resolve) => (registered = resolve));
    this.sessionLoop = this.runSessions(() => registered(true));
    const timer = setTimeout(() => registered(false), Math.max(0, deadline - Date.now()));
    const joined = await first;
    clearTimeout(timer);
    if (joined) return;
    await this.stop();
    throw new Error(
      `could not register node.id ${self.nodeId} in etcd at ${this.options.endpoints.join(',')} within ${joinTimeoutMs(this.options.sessionTimeoutMs) / 1000} s: ${this.problem}`,
    );
  }

  image(): MetadataImage {
    return this.current;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Revoking the lease removes the registration and the candidacy at once: the others see this broker
    // leave now, not a session timeout later (Kafka's controlled shutdown has the same aim).
    const session = this.session;
    this.endSession?.();
    // Bounded: a broker cut off from etcd still stops, its lease left to expire. The watch is cancelled
    // without waiting for etcd's answer, which a cut link never brings: what matters is that etcd3 stops
    // reconnecting it, which would keep the process alive after the client is closed.
    const leaving = Promise.allSettled([session?.revoke(), this.sessionLoop, this.watcher?.cancel()]);
    await Promise.race([leaving, sleep(this.options.sessionTimeoutMs, { unref: true })]);
    this.client.close();
  }

  /** Loads everything under the cluster's prefix, then follows changes from the next revision. */
  private async watch(): Promise<void> {
    const prefix = clusterPrefix(this.clusterId);
    const snapshot = await this.client.getAll().prefix(prefix).exec();
    this.registrations.clear();
    this.candidates.clear();
    for (const kv of snapshot.kvs) this.remember(kv);
    this.rebuild();
    const watcher = await this.client
      .watch()
      .prefix(prefix)
      .startRevision(String(BigInt(snapshot.header.revision) + 1n))
      .create();
    watcher.on('put', (kv) => {
      this.remember(kv);
      this.rebuild();
    });
    watcher.on('delete', (kv) => {
      const key = kv.key.toString();
      this.registrations.delete(key);
      this.candidates.delete(key);
      this.rebuild();
    });
    // A watch that cannot resume (its revision compacted away) is started again from a fresh snapshot.
    watcher.on('error', (err) => {
      if (this.stopped) return;
      this.logger.warn({ err: err.message }, 'the etcd watch of the cluster failed; reloading the cluster metadata');
      watcher.cancel().catch(() => undefined);
      this.retry('watch the cluster', () => this.watch()).catch(() => undefined);
    });
    this.watcher = watcher;
  }

  private remember(kv: IKeyValue): void {
    const key = kv.key.toString();
    const prefix = clusterPrefix(this.clusterId);
    if (key.startsWith(`${prefix}brokers/`)) this.registrations.set(key, kv);
    else if (key.startsWith(`${prefix}${CONTROLLER_ELECTION}`)) this.candidates.set(key, kv);
  }

  private rebuild(): void {
    const brokers: BrokerRegistration[] = [];
    for (const kv of this.registrations.values()) {
      const registration = parseRegistration(kv);
      if (registration) brokers.push(registration);
      else this.logger.warn({ key: kv.key.toString() }, 'ignoring an unreadable broker registration in etcd');
    }
    // This broker serves its partitions even while cut off from etcd: clients must still find it.
    const self = this.self;
    if (self && !brokers.some((b) => b.nodeId === self.nodeId)) brokers.push({ ...self, brokerEpoch: -1n });
    brokers.sort((a, b) => a.nodeId - b.nodeId);
    const previous = this.current.controllerId;
    this.current = { clusterId: this.clusterId, controllerId: controllerFrom(this.candidates.values()), brokers };
    if (this.current.controllerId !== previous) {
      const elected = this.current.controllerId === self?.nodeId;
      this.logger.info(
        { controllerId: this.current.controllerId },
        elected ? 'elected controller' : `controller is now ${this.current.controllerId}`,
      );
    }
  }

  /**
   * Registers and stands for controller, and starts over whenever the lease is lost, until stop.
   *
   * The registration and the candidacy are written in one transaction under one lease (etcd's election
   * recipe on the broker's session, as Go's concurrency.Election does it): they appear at one revision
   * and vanish at one revision, so no image ever names a controller that is not a live broker. etcd3's
   * Campaign takes a lease of its own, which expired apart from the registration's in tests.
   */
  private async runSessions(registered: () => void): Promise<void> {
    const self = this.self as LocalBroker;
    const key = brokerKey(this.clusterId, self.nodeId);
    const pause = Math.max(100, Math.floor(this.options.sessionTimeoutMs / 4));
    let waitedFor: string | null = null;
    while (!this.stopped) {
      const ended = new Promise<string>((resolve) => {
        this.endSession = () => resolve('stopping');
        const lease = this.client.lease(this.ttlSeconds);
        lease.on('lost', (err) => resolve(`lease lost: ${err.message}`));
        this.session = lease;
      });
      const lease = this.session as Lease;
      try {
        const leaseId = await lease.grant();
        const candidate = `${clusterPrefix(this.clusterId)}${CONTROLLER_ELECTION}${leaseId}`;
        const result = await this.client
          .if(key, 'Create', '==', 0)
          .then(
            this.client.put(key).value(registrationValue(self)).lease(leaseId),
            this.client.put(candidate).value(String(self.nodeId)).lease(leaseId),
          )
          .else(this.client.get(key))
          .commit();
        if (!result.succeeded) {
          // Kafka refuses a second live registration of one node id (DUPLICATE_BROKER_REGISTRATION); the
          // holder may be this broker's former process, whose lease has yet to expire.
          const holder = result.responses[0].response_range.kvs[0]?.lease ?? '?';
          if (waitedFor !== holder)
            this.logger.warn(
              { nodeId: self.nodeId, lease: holder },
              `node.id ${self.nodeId} is registered by another broker (lease ${holder}); waiting for that registration to expire (broker.session.timeout.ms). If another broker runs with this node.id, give this one its own`,
            );
          waitedFor = holder;
          this.problem = `node.id ${self.nodeId} is registered by another live broker (lease ${holder})`;
          await lease.revoke().catch(() => undefined);
          await sleep(pause);
          continue;
        }
        waitedFor = null;
        this.brokerEpoch = BigInt(result.header.revision);
        this.logger.info(
          { nodeId: self.nodeId, brokerEpoch: String(this.brokerEpoch), lease: leaseId },
          `registered in cluster ${this.clusterId} with broker epoch ${this.brokerEpoch}`,
        );
        registered();
        const why = await ended;
        if (this.stopped) return;
        this.logger.warn(
          { nodeId: self.nodeId, brokerEpoch: String(this.brokerEpoch), reason: why },
          'lost the cluster registration; registering again',
        );
      } catch (err) {
        if (this.stopped) return;
        this.problem = (err as Error).message;
        this.logger.warn(
          { err: (err as Error).message, endpoints: this.options.endpoints },
          'cannot register with etcd; retrying (check that etcd runs and is reachable at metadata.etcd.endpoints)',
        );
      }
      this.brokerEpoch = -1n;
      await lease.revoke().catch(() => undefined);
      await sleep(pause);
    }
  }

  /** Runs `call` until it succeeds or the source stops, saying what fails once per distinct error. */
  private async retry<T>(what: string, call: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
    let said = '';
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (this.stopped) throw err;
        const message = (err as Error).message;
        if (Date.now() >= deadline)
          throw new Error(`could not ${what} in etcd at ${this.options.endpoints.join(',')}: ${message}`);
        if (message !== said)
          this.logger.warn(
            { err: message, endpoints: this.options.endpoints },
            `cannot ${what} in etcd; retrying (check that etcd runs and is reachable at metadata.etcd.endpoints)`,
          );
        said = message;
        await sleep(500);
      }
    }
  }
}

/** How long a start may take to join: the longer of 10 s and five session timeouts. */
function joinTimeoutMs(sessionTimeoutMs: number): number {
  return Math.max(10_000, 5 * sessionTimeoutMs);
}

function sleep(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
}
