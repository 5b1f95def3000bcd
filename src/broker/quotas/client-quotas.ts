/**
 * The broker's client quotas: the quota configs (QuotaStore) and one manager per quota type, applied to
 * each response as Kafka's KafkaApis applies them (KIP-219):
 *
 * - every request records its handler time against the request-time quota (`request_percentage`; an acks=0
 *   Produce is exempt), throttled for at most one quota window;
 * - a Produce records its request size against `producer_byte_rate`, once it was appended;
 * - a Fetch records its response size against `consumer_byte_rate`; a throttled Fetch (by either quota)
 *   takes its bytes back and is answered with no partitions, so a throttled consumer receives nothing;
 * - the longest throttle is put in the response's throttle_time_ms, the response is sent at once, and the
 *   connection is muted for that long: nothing more is read from it, whether or not the client backs off.
 */
import type { RequestContext, ResponseFrame } from '../../network/connection.js';
import type { FetchResponse } from '../../protocol/generated/01-fetch.js';
import type { BrokerMetrics } from '../metrics.js';
import { ClientQuotaManager, principalOf, type QuotaType } from './quota-manager.js';
import { QuotaStore } from './quota-store.js';
import type { RateWindows } from './sampled-rate.js';

const PRODUCE = 0;
const FETCH = 1;
/** Kafka counts request time as a percentage of one thread: 1 ms of handler time is 0.1 %·s. */
const PERCENT_PER_MS = 0.1;

/** A response encoded by the dispatcher: the frame, and its size in bytes. */
export interface EncodedResponse {
  frame: ResponseFrame;
  size: number;
}

export class ClientQuotas {
  readonly store: QuotaStore;
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;
  /** Whether any quota is set: when none is, responses pass through untouched. */
  enabled = false;

  constructor(
    dir: string | null,
    readonly windows: RateWindows,
    private readonly metrics: BrokerMetrics,
  ) {
    this.store = new QuotaStore(dir);
    this.produce = new ClientQuotaManager('produce', this.store, windows);
    this.fetch = new ClientQuotaManager('fetch', this.store, windows);
    this.request = new ClientQuotaManager('request', this.store, windows);
    this.store.onChange(() => {
      this.enabled = this.produce.quotasEnabled || this.fetch.quotasEnabled || this.request.quotasEnabled;
    });
  }

  load(): Promise<void> {
    return this.store.load();
  }

  /** The most record bytes a Fetch of this connection may return: Kafka caps it at one quota window's worth. */
  fetchMaxBytes(connection: RequestContext, clientId: string | null): number {
    if (!this.fetch.quotasEnabled) return Number.MAX_SAFE_INTEGER;
    return Math.floor(this.fetch.maxValueInQuotaWindow(principalOf(connection), clientId ?? ''));
  }

  /**
   * Records a request against the quotas, throttles its connection when one is exceeded, and encodes its
   * response (with throttle_time_ms set) through `encode`. `requestBytes` is the request's size without its
   * size prefix, `handlerMs` the handler's time on the event loop.
   */
  respond(
    connection: RequestContext,
    apiKey: number,
    clientId: string | null,
    requestBytes: number,
    response: unknown,
    handlerMs: number,
    encode: (response: unknown) => EncodedResponse,
  ): EncodedResponse | null {
    const user = principalOf(connection);
    const client = clientId ?? '';
    const now = Date.now();
    // An acks=0 Produce (no response) is exempt from the request-time quota, as in Kafka.
    const requestThrottle =
      response === null
        ? 0
        : this.request.recordAndGetThrottleTimeMs(user, client, handlerMs * PERCENT_PER_MS, now, this.windows.windowMs);
    let bandwidthThrottle = 0;
    let bandwidth: QuotaType | null = null;
    let encoded: EncodedResponse | null = null;
    if (apiKey === PRODUCE) {
      bandwidth = 'produce';
      bandwidthThrottle = this.produce.recordAndGetThrottleTimeMs(user, client, requestBytes, now);
    } else if (apiKey === FETCH && response !== null && this.fetch.quotasEnabled) {
      bandwidth = 'fetch';
      const fetch = response as FetchResponse;
      encoded = encode(response);
      bandwidthThrottle = this.fetch.recordAndGetThrottleTimeMs(user, client, encoded.size, now);

      if (Math.max(bandwidthThrottle, requestThrottle) > 0 && fetch.errorCode === 0) {
        // A throttled consumer gets nothing: its bytes are taken back and the answer has no partitions.
        this.fetch.unrecord(user, client, encoded.size, now);
        fetch.responses = [];
        encoded = null;
      }
    }
    const throttleMs = Math.max(bandwidthThrottle, requestThrottle);
    if (throttleMs > 0) {
      this.metrics.throttled(bandwidthThrottle > requestThrottle && bandwidth ? bandwidth : 'request', throttleMs);
      connection.mute?.(throttleMs);
    }
    if (response === null) return null;
    if (encoded !== null && throttleMs === 0) return encoded;
    if (throttleMs > 0 && typeof (response as { throttleTimeMs?: unknown }).throttleTimeMs === 'number')
      (response as { throttleTimeMs: number }).throttleTimeMs = throttleMs;
    return encode(response);
  }
}
