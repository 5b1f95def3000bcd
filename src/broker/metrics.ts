/**
 * The broker's metrics as the request path sees them: byte counters, one observation per response and
 * timed fsyncs. Prometheus metrics (prom-client, see src/http/prometheus-metrics.ts) are loaded only when
 * the admin listener is configured: prom-client costs about 150 ms and 9 MiB at start-up, for figures
 * nobody could scrape. Otherwise the broker uses NO_METRICS, whose calls do nothing and whose timeFsync
 * returns the file system unwrapped, so the request and fsync paths pay nothing for metrics that are off.
 */
import type { StorageFs } from '../storage/index.js';

export interface MetricCounter {
  inc(value?: number): void;
}

export interface BrokerMetrics {
  /** False for NO_METRICS: work done only to feed metrics (walking batch headers) can be skipped. */
  readonly enabled: boolean;
  /** Request bytes read. */
  readonly bytesIn: MetricCounter;
  /** Response bytes written. */
  readonly bytesOut: MetricCounter;
  /** Counts a response (labelled with its first non-zero error code) and its duration. */
  observe(api: string, response: unknown, seconds: number): void;
  /** Counts a batch a producer appended to a topic: its bytes, and records from its header's count. */
  topicIn(topic: string, bytes: number, records: number): void;
  /** Counts record bytes and records sent to consumers of a topic. */
  topicOut(topic: string, bytes: number, records: number): void;
  /** Counts a response throttled by a client quota (`produce`, `fetch`, `request`) and its throttle time. */
  throttled(quotaType: string, throttleMs: number): void;
  /** Counts a connection closed on accept by a connection limit: `max`, `per_ip` or `ip_creation_rate`. */
  connectionRefused(reason: string): void;
  /** Counts a pause of accepting by `max.connection.creation.rate`, and its length. */
  acceptThrottled(throttleMs: number): void;
  /** Wraps a StorageFs so fdatasync durations are observed. */
  timeFsync(inner: StorageFs): StorageFs;
  /** The exposition text served at /metrics. */
  scrape(): Promise<{ contentType: string; text: string }>;
}

const NOTHING: MetricCounter = { inc() {} };

/** Metrics switched off: every call returns at once. */
export const NO_METRICS: BrokerMetrics = {
  enabled: false,
  bytesIn: NOTHING,
  bytesOut: NOTHING,
  observe() {},
  topicIn() {},
  topicOut() {},
  throttled() {},
  connectionRefused() {},
  acceptThrottled() {},
  timeFsync: (inner) => inner,
  scrape: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', text: '' }),
};
