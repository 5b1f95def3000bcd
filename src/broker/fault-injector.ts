/**
 * Fault injection for embedded brokers, in the spirit of franz-go's kfake and librdkafka's mock cluster:
 * fail the next N requests of an API with an error code, delay responses, drop connections.
 *
 * An injected error is applied to the response the handler built: every `errorCode` field in it (the
 * top-level one and those of each topic, partition, group or member entry) is set to the injected code.
 * The handler still ran, so its effects stand — a Produce with an injected error was appended, exactly
 * like a real broker whose acknowledgement was lost; the client sees the error and decides what to do.
 */

export interface InjectedFault {
  errorCode?: number;
  delayMs?: number;
}

interface Rule {
  apiKey: number | 'all';
  remaining: number;
  fault: InjectedFault;
}

export class FaultInjector {
  private rules: Rule[] = [];

  /** The next `count` requests of `apiKey` get `errorCode` in every error field of their response. */
  failNext(apiKey: number, errorCode: number, count = 1): void {
    this.rules.push({ apiKey, remaining: count, fault: { errorCode } });
  }

  /** Delay the next `count` responses of `apiKey` (or of every API) by `ms`; count Infinity for all. */
  delay(apiKey: number | 'all', ms: number, count = Number.POSITIVE_INFINITY): void {
    this.rules.push({ apiKey, remaining: count, fault: { delayMs: ms } });
  }

  /** Removes every pending rule. */
  clear(): void {
    this.rules = [];
  }

  /** Consumes the rules that apply to this request and returns the combined fault, or null. */
  take(apiKey: number): InjectedFault | null {
    if (this.rules.length === 0) return null;
    let fault: InjectedFault | null = null;
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || (rule.apiKey !== 'all' && rule.apiKey !== apiKey)) continue;
      rule.remaining--;
      fault = { ...(fault ?? {}), ...rule.fault };
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return fault;
  }
}

/** Sets every `errorCode` field in a response object tree to `code`. */
export function setErrorCodes(response: unknown, code: number): void {
  if (Array.isArray(response)) {
    for (const item of response) setErrorCodes(item, code);
    return;
  }
  if (response === null || typeof response !== 'object' || Buffer.isBuffer(response)) return;
  const obj = response as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'errorCode' && typeof value === 'number') obj[key] = code;
    else if (typeof value === 'object') setErrorCodes(value, code);
  }
}
