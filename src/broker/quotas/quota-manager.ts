/**
 * Client quotas (KIP-13 byte rates, KIP-124 request-time percentage), enforced as Kafka's ClientQuotaManager
 * enforces them. One manager per quota type (produce bytes, fetch bytes, request time) keeps a sampled rate
 * per quota entity and, when a request takes the rate over its quota, answers how long the client must wait.
 *
 * Which quota applies to a (user, client id) is Kafka's precedence, for each quota type on its own:
 *   user+client-id, user+<default> client-id, user, <default> user+client-id,
 *   <default> user+<default> client-id, <default> user, client-id, <default> client-id.
 * Clients that share the entity the quota came from share its rate: a quota set on a user limits all of
 * that user's clients together; a quota set on `<default>` client-id limits each client id on its own.
 */
import type { RequestContext } from '../../network/connection.js';
import {
  CLIENT_ID,
  CONSUMER_BYTE_RATE,
  PRODUCER_BYTE_RATE,
  type QuotaEntity,
  type QuotaStore,
  REQUEST_PERCENTAGE,
  USER,
} from './quota-store.js';
import { type RateWindows, SampledRate } from './sampled-rate.js';

export type QuotaType = 'produce' | 'fetch' | 'request';

const QUOTA_KEY: Record<QuotaType, string> = {
  produce: PRODUCER_BYTE_RATE,
  fetch: CONSUMER_BYTE_RATE,
  request: REQUEST_PERCENTAGE,
};

/** Kafka's principal name of an unauthenticated client (`User:ANONYMOUS`). */
export const ANONYMOUS = 'ANONYMOUS';

/**
 * The user name quotas are looked up by: the name of the principal the connection authenticated as (SASL,
 * or a TLS client certificate after the mapping rules); `ANONYMOUS` otherwise, as on Kafka's PLAINTEXT
 * listeners. This is the one place that decides it.
 */
export function principalOf(connection: RequestContext): string {
  return connection.security?.principal.name ?? ANONYMOUS;
}

/** The rate of an entity that has no quota: recorded nowhere, never throttled. */
const UNLIMITED = Number.POSITIVE_INFINITY;
/** A rate not used for this long is dropped (Kafka expires inactive quota sensors after an hour). */
const SENSOR_EXPIRY_MS = 3_600_000;

interface Sensor {
  rate: SampledRate;
  lastRecordMs: number;
}

function entity(user: string | null | undefined, clientId: string | null | undefined): QuotaEntity {
  const m = new Map<string, string | null>();
  if (user !== undefined) m.set(USER, user);
  if (clientId !== undefined) m.set(CLIENT_ID, clientId);
  return m;
}

export class ClientQuotaManager {
  private readonly key: string;
  private readonly sensors = new Map<string, Sensor>();
  /** Whether any entity has this type's quota: otherwise nothing is recorded, as in Kafka. */
  private enabled = false;
  private lastExpiryMs = 0;

  constructor(
    readonly type: QuotaType,
    private readonly store: QuotaStore,
    private readonly windows: RateWindows,
  ) {
    this.key = QUOTA_KEY[type];
    this.enabled = store.has(this.key);
    store.onChange(() => {
      this.enabled = store.has(this.key);
    });
  }

  get quotasEnabled(): boolean {
    return this.enabled;
  }

  /**
   * The entity whose rate a (user, client id) is measured by: the (user, client id) pair when a quota at
   * either user level, combined with client ids, applies; the user alone when a user quota applies; else the
   * client id alone. An empty string stands for "not part of the entity", as in Kafka's metric tags.
   */
  metricTags(user: string, clientId: string): [user: string, clientId: string] {
    const has = (u: string | null | undefined, c: string | null | undefined) =>
      this.store.get(entity(u, c), this.key) !== undefined;
    if (has(user, clientId) || has(user, null)) return [user, clientId];
    if (has(user, undefined)) return [user, ''];
    if (has(null, clientId) || has(null, null)) return [user, clientId];
    if (has(null, undefined)) return [user, ''];
    return ['', clientId];
  }

  /** The quota of a rate's entity, in Kafka's precedence within its level; UNLIMITED when none is set. */
  quotaLimit(userTag: string, clientIdTag: string): number {
    const get = (u: string | null | undefined, c: string | null | undefined) => this.store.get(entity(u, c), this.key);
    let limit: number | undefined;
    if (userTag !== '' && clientIdTag !== '')
      limit = get(userTag, clientIdTag) ?? get(userTag, null) ?? get(null, clientIdTag) ?? get(null, null);
    else if (userTag !== '') limit = get(userTag, undefined) ?? get(null, undefined);
    else if (clientIdTag !== '') limit = get(undefined, clientIdTag) ?? get(undefined, null);
    return limit ?? UNLIMITED;
  }

  /** The quota that applies to a (user, client id). */
  quotaFor(user: string, clientId: string): number {
    const [u, c] = this.metricTags(user, clientId);
    return this.quotaLimit(u, c);
  }

  /**
   * Records `value` for the client and returns its throttle time in ms (0 within quota), Kafka's
   * `maybeRecordAndGetThrottleTimeMs`. `maxThrottleMs` bounds the answer (the request-time quota's one window).
   */
  recordAndGetThrottleTimeMs(user: string, clientId: string, value: number, nowMs: number, maxThrottleMs = Infinity) {
    if (!this.enabled) return 0;
    const [u, c] = this.metricTags(user, clientId);
    const sensor = this.sensor(u, c, nowMs);
    const quota = this.quotaLimit(u, c);
    if (quota === UNLIMITED) {
      sensor.rate.record(value, nowMs);
      return 0;
    }
    return Math.min(sensor.rate.recordAndGetThrottleTimeMs(value, quota, nowMs), maxThrottleMs);
  }

  /** Takes back a value recorded before: a throttled fetch is answered empty, so its bytes do not count. */
  unrecord(user: string, clientId: string, value: number, nowMs: number): void {
    if (!this.enabled) return;
    const [u, c] = this.metricTags(user, clientId);
    this.sensor(u, c, nowMs).rate.record(-value, nowMs);
  }

  /** The most one request may record without being throttled for certain: Kafka caps a fetch's size by it. */
  maxValueInQuotaWindow(user: string, clientId: string): number {
    if (!this.enabled) return Number.MAX_VALUE;
    const quota = this.quotaFor(user, clientId);
    if (quota === UNLIMITED) return Number.MAX_VALUE;
    return (quota * (this.windows.samples - 1) * this.windows.windowMs) / 1000;
  }

  private sensor(userTag: string, clientIdTag: string, nowMs: number): Sensor {
    if (nowMs - this.lastExpiryMs > 60_000) {
      this.lastExpiryMs = nowMs;
      for (const [k, s] of this.sensors) if (nowMs - s.lastRecordMs > SENSOR_EXPIRY_MS) this.sensors.delete(k);
    }
    const k = `${userTag}\u0000${clientIdTag}`;
    let sensor = this.sensors.get(k);
    if (sensor === undefined) {
      sensor = { rate: new SampledRate(this.windows), lastRecordMs: nowMs };
      this.sensors.set(k, sensor);
    }
    sensor.lastRecordMs = nowMs;
    return sensor;
  }
}
