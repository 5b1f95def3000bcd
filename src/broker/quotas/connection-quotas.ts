/**
 * The connection creation rates of KIP-612, measured as Kafka's ConnectionQuotas measures them: one event
 * per new connection in a sampled rate (`quota.window.num` windows of `quota.window.size.seconds`), and a
 * throttle time by Kafka's arithmetic, at most one window long.
 *
 * - `max.connection.creation.rate` limits the connections the broker accepts per second, from anyone;
 * - an `ip` entity's `connection_creation_rate` (AlterClientQuotas; the `<default>` ip entity for addresses
 *   without their own) limits those from one address. A connection refused by it is taken back out of the
 *   rate, so a client that keeps reconnecting is let in again once its rate has come down.
 *
 * IP entities are matched by address as written in the quota (Kafka resolves a host name given there).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionRateQuotas } from '../../network/server.js';
import { ConfigError, parseMaxConnectionsPerIpOverrides } from '../config.js';
import { CONNECTION_CREATION_RATE, IP, type QuotaStore } from './quota-store.js';
import { type RateWindows, SampledRate } from './sampled-rate.js';

/** Kafka's default for both rates: Int.MaxValue, which means no limit. */
const UNLIMITED = 2147483647;
/** A per-IP rate not used for this long is dropped (Kafka expires inactive quota sensors after an hour). */
const SENSOR_EXPIRY_MS = 3_600_000;

interface IpSensor {
  rate: SampledRate;
  lastRecordMs: number;
}

export class ConnectionQuotas implements ConnectionRateQuotas {
  private readonly brokerRate: SampledRate;
  private readonly ipRates = new Map<string, IpSensor>();
  private lastExpiryMs = 0;

  constructor(
    private readonly maxConnectionCreationRate: number,
    private readonly store: QuotaStore,
    private readonly windows: RateWindows,
  ) {
    this.brokerRate = new SampledRate(windows);
  }

  recordConnectionAndGetThrottleTimeMs(nowMs: number): number {
    if (this.maxConnectionCreationRate >= UNLIMITED) return 0;
    const throttleMs = this.brokerRate.recordAndGetThrottleTimeMs(1, this.maxConnectionCreationRate, nowMs);
    return Math.min(throttleMs, this.windows.windowMs);
  }

  recordIpConnectionAndGetThrottleTimeMs(ip: string, nowMs: number): number {
    const quota = this.connectionRateForIp(ip);
    if (quota >= UNLIMITED) return 0;
    this.expireIdle(nowMs);
    let sensor = this.ipRates.get(ip);
    if (sensor === undefined) {
      sensor = { rate: new SampledRate(this.windows), lastRecordMs: nowMs };
      this.ipRates.set(ip, sensor);
    }
    sensor.lastRecordMs = nowMs;
    const throttleMs = sensor.rate.recordAndGetThrottleTimeMs(1, quota, nowMs);
    if (throttleMs === 0) return 0;
    // The connection is not accepted, so it does not count against the address's rate.
    sensor.rate.record(-1, nowMs);
    return Math.min(throttleMs, this.windows.windowMs);
  }

  /** The address's own quota, else the `<default>` ip entity's, else none. */
  private connectionRateForIp(ip: string): number {
    return (
      this.store.get(new Map([[IP, ip]]), CONNECTION_CREATION_RATE) ??
      this.store.get(new Map([[IP, null]]), CONNECTION_CREATION_RATE) ??
      UNLIMITED
    );
  }

  private expireIdle(nowMs: number): void {
    if (nowMs - this.lastExpiryMs < 60_000) return;
    this.lastExpiryMs = nowMs;
    for (const [ip, sensor] of this.ipRates)
      if (nowMs - sensor.lastRecordMs > SENSOR_EXPIRY_MS) this.ipRates.delete(ip);
  }
}

/**
 * `max.connections.per.ip.overrides` by address: Kafka resolves each host name when it reads the setting,
 * so a name that does not resolve fails start-up.
 */
export async function resolveMaxConnectionsPerIpOverrides(text: string | null): Promise<Map<string, number>> {
  const byAddress = new Map<string, number>();
  for (const [host, count] of parseMaxConnectionsPerIpOverrides(text)) {
    if (isIP(host) !== 0) {
      byAddress.set(host, count);
      continue;
    }
    let address: string;
    try {
      address = (await lookup(host)).address;
    } catch (err) {
      throw new ConfigError(
        `max.connections.per.ip.overrides names ${host}, which does not resolve (${(err as Error).message}); name an address or a host that resolves`,
      );
    }
    byAddress.set(address, count);
  }
  return byAddress;
}
