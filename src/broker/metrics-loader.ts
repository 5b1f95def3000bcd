/**
 * Loads the broker's metrics: Prometheus (prom-client) only when the admin listener can serve them, else
 * NO_METRICS (see metrics.ts). Apart from metrics.ts so that the interface the request path sees does not
 * depend on the Broker class.
 */
import { SLUICE_VERSION } from '../version.js';
import type { Broker } from './broker.js';
import { type BrokerMetrics, NO_METRICS } from './metrics.js';

/** A factory that makes the broker's metrics once the broker exists (gauges read its state when scraped). */
export type MetricsFactory = (broker: Broker) => BrokerMetrics;

/** Prometheus metrics when `enabled` (importing prom-client only then), else NO_METRICS. */
export async function loadMetrics(enabled: boolean): Promise<MetricsFactory> {
  if (!enabled) return () => NO_METRICS;
  const { PrometheusMetrics } = await import('../http/prometheus-metrics.js');
  return (broker) => new PrometheusMetrics(broker, SLUICE_VERSION);
}
