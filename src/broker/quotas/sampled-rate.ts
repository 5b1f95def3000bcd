/**
 * A rate measured over sampled time windows, with Kafka's arithmetic (its `Rate` over a `WindowedSum`, and
 * `QuotaUtils.throttleTime`), so that a client is throttled by the same amounts as by a Kafka broker.
 *
 * - Values are summed into samples of `windowMs` each; `samples` windows are measured (`quota.window.num`,
 *   `quota.window.size.seconds`), and one more is kept, as Kafka does, so the window being filled never
 *   pushes out a whole one.
 * - A sample whose last event is `samples × windowMs` old is emptied before measuring.
 * - The rate divides the sum by the time since the oldest sample started, but never by less than
 *   `samples - 1` whole windows: a client's first requests are measured as if it had been idle before, which
 *   lets a burst of up to `(samples - 1) × windowMs` worth of quota through before any throttling.
 * - A recorded value that takes the rate over the quota is kept (the request is served), and the client is
 *   told to wait `(rate - quota) / quota × window` ms: the time after which the same sum, spread over the
 *   longer window, meets the quota.
 */

interface Sample {
  value: number;
  eventCount: number;
  startTimeMs: number;
  lastEventMs: number;
}

export interface RateWindows {
  /** quota.window.num: windows measured. */
  samples: number;
  /** quota.window.size.seconds, in ms. */
  windowMs: number;
}

export class SampledRate {
  private readonly kept: Sample[] = [];
  private current = 0;

  constructor(private readonly windows: RateWindows) {}

  /** Adds `value` at `nowMs` (a negative value takes back one recorded before, as a throttled fetch does). */
  record(value: number, nowMs: number): void {
    let sample = this.currentSample(nowMs);
    if (nowMs - sample.startTimeMs >= this.windows.windowMs) sample = this.advance(nowMs);
    sample.value += value;
    sample.eventCount += 1;
    sample.lastEventMs = nowMs;
  }

  /** The rate per second at `nowMs`. */
  measure(nowMs: number): number {
    this.purgeObsolete(nowMs);
    let sum = 0;
    for (const s of this.kept) sum += s.value;
    return sum / (this.windowSizeMs(nowMs) / 1000);
  }

  /** The span the rate is measured over at `nowMs`, in ms: at least `samples - 1` windows, and at least 1 ms. */
  windowSizeMs(nowMs: number): number {
    this.purgeObsolete(nowMs);
    let elapsed = nowMs - this.oldest(nowMs).startTimeMs;
    const fullWindows = Math.floor(elapsed / this.windows.windowMs);
    const minFullWindows = this.windows.samples - 1;
    if (fullWindows < minFullWindows) elapsed += (minFullWindows - fullWindows) * this.windows.windowMs;
    return Math.max(elapsed, 1);
  }

  /**
   * Records `value` and returns how long the client must wait for the rate to come back to `quota` (0 when
   * it is within): Kafka's `Sensor.record` with its quota check, then `QuotaUtils.throttleTime`.
   */
  recordAndGetThrottleTimeMs(value: number, quota: number, nowMs: number): number {
    this.record(value, nowMs);
    const rate = this.measure(nowMs);
    if (rate <= quota) return 0;
    return Math.round(((rate - quota) / quota) * this.windowSizeMs(nowMs));
  }

  private currentSample(nowMs: number): Sample {
    if (this.kept.length === 0) this.kept.push(newSample(nowMs));
    return this.kept[this.current];
  }

  private advance(nowMs: number): Sample {
    this.current = (this.current + 1) % (this.windows.samples + 1);
    if (this.current >= this.kept.length) {
      const sample = newSample(nowMs);
      this.kept.push(sample);
      return sample;
    }
    const sample = this.kept[this.current];
    reset(sample, nowMs);
    return sample;
  }

  private oldest(nowMs: number): Sample {
    if (this.kept.length === 0) this.kept.push(newSample(nowMs));
    let oldest = this.kept[0];
    for (const s of this.kept) if (s.startTimeMs < oldest.startTimeMs) oldest = s;
    return oldest;
  }

  /** Samples with no event within the measured span no longer count, whenever they started. */
  private purgeObsolete(nowMs: number): void {
    const expireAge = this.windows.samples * this.windows.windowMs;
    for (const s of this.kept) if (nowMs - s.lastEventMs >= expireAge) reset(s, nowMs);
  }
}

function newSample(nowMs: number): Sample {
  return { value: 0, eventCount: 0, startTimeMs: nowMs, lastEventMs: nowMs };
}

function reset(sample: Sample, nowMs: number): void {
  sample.value = 0;
  sample.eventCount = 0;
  sample.startTimeMs = nowMs;
  sample.lastEventMs = nowMs;
}
