/**
 * Prometheus metrics of one broker (prom-client, with a registry per broker so several embedded brokers
 * in one process keep their figures apart). Counters move on the request path; log offsets, sizes, group
 * lag and connection counts are read from the broker's state when scraped. Loaded only when the admin
 * listener is configured (see src/broker/metrics.ts). Besides the broker's own figures: the process and
 * Node runtime metrics every Node exporter has (CPU, memory, event-loop lag, GC) and sluice_build_info.
 *
 * Per-partition series of internal topics (__consumer_offsets: 50 partitions) are left out unless
 * `metrics.internal.topics.enable` is true: they would outnumber a small deployment's own series.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Broker } from '../broker/broker.js';
import type { BrokerMetrics } from '../broker/metrics.js';
import { errorName } from '../protocol/error-codes.js';
import type { PartitionLog, StorageFs } from '../storage/index.js';

interface TopicCounters {
  bytesIn: { inc(value: number): void };
  recordsIn: { inc(value: number): void };
  bytesOut: { inc(value: number): void };
  recordsOut: { inc(value: number): void };
}

export class PrometheusMetrics implements BrokerMetrics {
  readonly enabled = true;
  readonly registry = new Registry();
  readonly requests: Counter<'api' | 'error_code' | 'error'>;
  readonly requestSeconds: Histogram<'api'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly fsyncSeconds: Histogram;
  private readonly throttledResponses: Counter<'quota_type'>;
  private readonly throttleSeconds: Counter<'quota_type'>;
  private readonly refusedConnections: Counter<'reason'>;
  private readonly throttledAccepts: Counter;
  private readonly acceptThrottleSeconds: Counter;
  private readonly topicBytesIn: Counter<'topic'>;
  private readonly topicRecordsIn: Counter<'topic'>;
  private readonly topicBytesOut: Counter<'topic'>;
  private readonly topicRecordsOut: Counter<'topic'>;
  /** Each topic's counter children, so the request path does not hash label values on every call. */
  private readonly topicCounters = new Map<string, TopicCounters>();

  constructor(
    private readonly broker: Broker,
    version: string,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'sluice_build_info',
      help: 'Always 1; the labels say which Sluice and which Node.js run.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version, node_version: process.version }, 1);
    this.requests = new Counter({
      name: 'sluice_requests_total',
      help: 'Requests handled, by API and by the first error code of the response, as a number and a name (0 and NONE when every part succeeded).',
      labelNames: ['api', 'error_code', 'error'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'sluice_request_duration_seconds',
      help: 'Time from a decoded request to its encoded response, including long-poll waits.',
      labelNames: ['api'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.bytesIn = new Counter({ name: 'sluice_network_bytes_in_total', help: 'Request bytes read.', registers });
    this.bytesOut = new Counter({ name: 'sluice_network_bytes_out_total', help: 'Response bytes written.', registers });
    this.fsyncSeconds = new Histogram({
      name: 'sluice_fsync_duration_seconds',
      help: 'Duration of fsyncs of partition logs (one covers a whole group commit): fdatasync calls, and writes of acks=all batches made durable as they are written (O_DSYNC).',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });

    this.throttledResponses = new Counter({
      name: 'sluice_quota_throttled_responses_total',
      help: 'Responses whose client exceeded a client quota and was throttled, by the quota that throttled it longest (produce, fetch, request).',
      labelNames: ['quota_type'],
      registers,
    });
    this.throttleSeconds = new Counter({
      name: 'sluice_quota_throttle_seconds_total',
      help: 'Throttle time given to clients over their quota (the connection is muted that long), by quota type.',
      labelNames: ['quota_type'],
      registers,
    });
    this.refusedConnections = new Counter({
      name: 'sluice_connections_refused_total',
      help: 'Connections closed on accept by a connection limit, by reason: max (max.connections), per_ip (max.connections.per.ip or its overrides), ip_creation_rate (the ip quota connection_creation_rate; closed after the throttle time).',
      labelNames: ['reason'],
      registers,
    });
    this.throttledAccepts = new Counter({
      name: 'sluice_connections_accept_throttled_total',
      help: 'Times accepting new connections paused because max.connection.creation.rate was exceeded.',
      registers,
    });
    this.acceptThrottleSeconds = new Counter({
      name: 'sluice_connections_accept_throttle_seconds_total',
      help: 'Time accepting new connections was paused by max.connection.creation.rate.',
      registers,
    });

    const prune = () => this.forgetDeletedTopics();
    const topicCounter = (name: string, help: string) =>
      new Counter({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect: prune,
      });
    this.topicBytesIn = topicCounter(
      'sluice_topic_bytes_in_total',
      'Record batch bytes producers appended to a topic.',
    );
    this.topicRecordsIn = topicCounter('sluice_topic_records_in_total', 'Records producers appended to a topic.');
    this.topicBytesOut = topicCounter('sluice_topic_bytes_out_total', 'Record bytes sent to consumers of a topic.');
    this.topicRecordsOut = topicCounter('sluice_topic_records_out_total', 'Records sent to consumers of a topic.');

    const internalTopics = broker.config['metrics.internal.topics.enable'] as boolean;
    const exported = (topic: string) =>
      internalTopics || !(broker.topics.get(topic)?.internal ?? topic.startsWith('__'));
    new Gauge({
      name: 'sluice_connections',
      help: 'Open client connections.',
      registers,
      collect() {
        this.set(broker.connectionCount);
      },
    });
    // Kafka's successful-authentication-total and failed-authentication-total, over SASL listeners.
    for (const [outcome, help] of [
      ['successful', 'SASL authentications that succeeded.'],
      ['failed', 'SASL authentications that failed (wrong password, unknown user, bad token).'],
      ['reauthenticated', 'SASL sessions renewed on an open connection (KIP-368).'],
    ] as const) {
      new Counter({
        name:
          outcome === 'reauthenticated'
            ? 'sluice_successful_reauthentication_total'
            : `sluice_${outcome}_authentication_total`,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(broker.authentications[outcome]);
        },
      });
    }
    new Gauge({
      name: 'sluice_cluster_brokers',
      help: 'Live brokers of the cluster as this broker sees them (1 for a broker without etcd).',
      registers,
      collect() {
        this.set(broker.cluster.image().brokers.length);
      },
    });
    new Gauge({
      name: 'sluice_cluster_is_controller',
      help: '1 when this broker is the elected controller of the cluster (always for a broker without etcd), else 0.',
      registers,
      collect() {
        this.set(broker.cluster.image().controllerId === broker.nodeId ? 1 : 0);
      },
    });
    const partitionGauge = (name: string, help: string, read: (log: PartitionLog) => number | bigint) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const log of broker.logs.partitions()) {
            if (!exported(log.topic)) continue;
            this.set({ topic: log.topic, partition: String(log.partition) }, Number(read(log)));
          }
        },
      });
    partitionGauge('sluice_log_end_offset', 'Next offset to be assigned in a partition.', (l) => l.logEndOffset);
    partitionGauge('sluice_log_start_offset', 'First offset still kept in a partition.', (l) => l.logStartOffset);
    partitionGauge(
      'sluice_high_watermark',
      'Offset up to which consumers can read (fsynced data).',
      (l) => l.highWatermark,
    );
    partitionGauge('sluice_log_size_bytes', 'Bytes of all segments of a partition.', (l) => l.sizeInBytes);
    // The log cleaner's figures, read from its stats when scraped (counters are set to its running totals).
    // Read then, not now: the metrics exist before the broker's log store.
    const cleaner = () => broker.logs.cleaner.stats;
    new Gauge({
      name: 'sluice_log_cleaner_dirty_bytes',
      help: 'Bytes of compacted logs not yet cleaned, as last measured by the cleaner (its backlog).',
      registers,
      collect() {
        this.set(cleaner().dirtyBytes);
      },
    });
    new Counter({
      name: 'sluice_log_cleaner_reclaimed_bytes_total',
      help: 'Bytes the log cleaner removed from compacted logs.',
      registers,
      collect() {
        this.reset();
        this.inc(cleaner().bytesReclaimed);
      },
    });
    new Counter({
      name: 'sluice_log_cleaner_runs_total',
      help: 'Cleanings of a compacted log done by the log cleaner.',
      registers,
      collect() {
        this.reset();
        this.inc(cleaner().runs);
      },
    });
    new Gauge({
      name: 'sluice_group_lag',
      help: "Records a group has yet to consume in a partition: high watermark minus the group's committed offset.",
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const groupId of broker.groups.groupIds()) {
          const group = broker.groups.group(groupId);
          if (!group) continue;
          for (const { topic, partition, committed } of group.allOffsets()) {
            const log = broker.partition(topic, partition);
            if (!log) continue;
            const lag = log.highWatermark - committed.offset;
            this.set({ group: groupId, topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
          }
        }
      },
    });
  }

  observe(api: string, response: unknown, seconds: number): void {
    const code = firstErrorCode(response, 0);
    this.requests.inc({ api, error_code: String(code), error: errorName(code) });
    this.requestSeconds.observe({ api }, seconds);
  }

  throttled(quotaType: string, throttleMs: number): void {
    this.throttledResponses.inc({ quota_type: quotaType });
    this.throttleSeconds.inc({ quota_type: quotaType }, throttleMs / 1000);
  }

  connectionRefused(reason: string): void {
    this.refusedConnections.inc({ reason });
  }

  acceptThrottled(throttleMs: number): void {
    this.throttledAccepts.inc();
    this.acceptThrottleSeconds.inc(throttleMs / 1000);
  }

  topicIn(topic: string, bytes: number, records: number): void {
    const counters = this.countersOf(topic);
    counters.bytesIn.inc(bytes);
    counters.recordsIn.inc(records);
  }

  topicOut(topic: string, bytes: number, records: number): void {
    const counters = this.countersOf(topic);
    counters.bytesOut.inc(bytes);
    counters.recordsOut.inc(records);
  }

  private countersOf(topic: string): TopicCounters {
    let counters = this.topicCounters.get(topic);
    if (!counters) {
      counters = {
        bytesIn: this.topicBytesIn.labels(topic),
        recordsIn: this.topicRecordsIn.labels(topic),
        bytesOut: this.topicBytesOut.labels(topic),
        recordsOut: this.topicRecordsOut.labels(topic),
      };
      this.topicCounters.set(topic, counters);
    }
    return counters;
  }

  /** A deleted topic's series end with it, as Kafka removes a deleted topic's metrics. */
  private forgetDeletedTopics(): void {
    for (const topic of this.topicCounters.keys()) {
      if (this.broker.topics.get(topic)) continue;
      this.topicCounters.delete(topic);
      for (const counter of [this.topicBytesIn, this.topicRecordsIn, this.topicBytesOut, this.topicRecordsOut])
        counter.remove(topic);
    }
  }

  timeFsync(inner: StorageFs): StorageFs {
    const histogram = this.fsyncSeconds;
    /** Descriptors opened 'dsync': their writes include an fsync. */
    const durable = new Set<number>();
    const timed = async <T>(call: Promise<T>): Promise<T> => {
      const end = histogram.startTimer();
      try {
        return await call;
      } finally {
        end();
      }
    };
    // A plain delegating object rather than a Proxy: a Proxy's get trap binds a new function on every call.
    return {
      async open(path, mode) {
        const fd = await inner.open(path, mode);
        if (mode === 'dsync') durable.add(fd);
        else durable.delete(fd);
        return fd;
      },
      close(fd) {
        durable.delete(fd);
        return inner.close(fd);
      },
      read: (fd, buffer, offset, length, position) => inner.read(fd, buffer, offset, length, position),
      write: (fd, buffer, offset, length, position) => {
        const call = inner.write(fd, buffer, offset, length, position);
        return durable.has(fd) ? timed(call) : call;
      },
      writev: (fd, buffers, position) => {
        const call = inner.writev(fd, buffers, position);
        return durable.has(fd) ? timed(call) : call;
      },
      fdatasync: (fd) => timed(inner.fdatasync(fd)),
      ftruncate: (fd, length) => inner.ftruncate(fd, length),
      fstat: (fd) => inner.fstat(fd),
      stat: (path) => inner.stat(path),
      readdir: (path) => inner.readdir(path),
      mkdir: (path) => inner.mkdir(path),
      rename: (from, to) => inner.rename(from, to),
      unlink: (path) => inner.unlink(path),
      rmdir: (path) => inner.rmdir(path),
      syncDir: (path) => inner.syncDir(path),
    };
  }

  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** Depth-first search for a non-zero `errorCode`, skipping record bytes; bounded by the response's size. */
function firstErrorCode(value: unknown, depth: number): number {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || depth > 6) return 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      const code = firstErrorCode(item, depth + 1);
      if (code !== 0) return code;
    }
    return 0;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.errorCode === 'number' && obj.errorCode !== 0) return obj.errorCode;
  for (const key in obj) {
    const v = obj[key];
    if (v !== null && typeof v === 'object') {
      const code = firstErrorCode(v, depth + 1);
      if (code !== 0) return code;
    }
  }
  return 0;
}
