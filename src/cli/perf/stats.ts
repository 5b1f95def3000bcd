/** What both load generators report: counts, rates and a latency distribution, as a summary and as progress. */
import { Histogram } from './histogram.js';

/** Kafka's perf tools count a MB as 2^20 bytes; so do these, so the figures compare. */
export const MB = 1024 * 1024;

export interface LatencySummary {
  /** Milliseconds. */
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** Number of requests the latencies were measured on. */
  samples: number;
}

export interface PerfSummary {
  kind: 'produce' | 'consume';
  topic: string;
  records: number;
  /** Bytes counted for MB/s: record values for produce (as Kafka counts), record batch bytes for consume. */
  bytes: number;
  requests: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
  latencyMs: LatencySummary;
  /** Produce only: records and bytes of each full batch sent. */
  batchRecords?: number;
  batchBytes?: number;
}

export function summarizeLatency(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    mean: ms(h.mean),
    p50: ms(h.percentile(50)),
    p95: ms(h.percentile(95)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.count === 0 ? 0 : h.max),
    samples: h.count,
  };
}

/** Counts for the progress line: what happened since the last line. */
export class Window {
  records = 0;
  bytes = 0;
  readonly latency = new Histogram();
  private started = performance.now();

  add(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
  }

  /** Kafka's perf-test progress line, for the window since the last call, which starts a new window. */
  line(verb: string): string {
    const now = performance.now();
    const seconds = Math.max(1e-9, (now - this.started) / 1000);
    const l = this.latency;
    const latency =
      l.count > 0 ? `, ${(l.mean / 1000).toFixed(1)} ms avg latency, ${(l.max / 1000).toFixed(1)} ms max latency` : '';
    const text =
      `${this.records} records ${verb}, ${(this.records / seconds).toFixed(1)} records/sec ` +
      `(${(this.bytes / MB / seconds).toFixed(2)} MB/sec)${latency}.`;
    this.records = 0;
    this.bytes = 0;
    this.latency.reset();
    this.started = now;
    return text;
  }
}

export function formatSummary(s: PerfSummary): string {
  const l = s.latencyMs;
  const verb = s.kind === 'produce' ? 'sent' : 'consumed';
  const latency =
    l.samples > 0
      ? `, ${l.mean.toFixed(2)} ms avg latency, ${l.max.toFixed(2)} ms max latency, ` +
        `${l.p50.toFixed(2)} ms 50th, ${l.p95.toFixed(2)} ms 95th, ${l.p99.toFixed(2)} ms 99th, ${l.p999.toFixed(2)} ms 99.9th`
      : ' (no latencies: acks=0 gets no responses)';
  return (
    `${s.records} records ${verb} in ${s.seconds.toFixed(2)} s, ${s.recordsPerSec.toFixed(1)} records/sec ` +
    `(${s.mbPerSec.toFixed(2)} MB/sec)${latency}.`
  );
}
