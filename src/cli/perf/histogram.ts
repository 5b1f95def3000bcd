/**
 * A latency histogram in the manner of HdrHistogram: values (microseconds) below 2048 are counted
 * exactly, larger ones in log-linear buckets of 1024 steps per power of two, so every recorded value is
 * known to better than 0.1 % (three significant digits) whatever its size, in fixed memory, at the cost of
 * an array increment per value. Percentiles report the highest value equivalent to the bucket, as
 * HdrHistogram does, so they never understate a latency.
 *
 * Written here rather than taken from hdr-histogram-js because `sluice perf` ships with the package and
 * this is all of it that the perf tools need.
 */

const SUB_BUCKET_BITS = 11;
const SUB_BUCKET_COUNT = 1 << SUB_BUCKET_BITS; // 2048: exact below this
const SUB_BUCKET_HALF = SUB_BUCKET_COUNT >> 1; // 1024 steps in each further power of two
const MAX_VALUE = 0x7fffffff; // about 35 minutes in microseconds
const BUCKETS = SUB_BUCKET_COUNT + (31 - SUB_BUCKET_BITS) * SUB_BUCKET_HALF;

function indexOf(value: number): number {
  if (value < SUB_BUCKET_COUNT) return value;
  const shift = 32 - Math.clz32(value) - SUB_BUCKET_BITS;
  return SUB_BUCKET_COUNT + (shift - 1) * SUB_BUCKET_HALF + ((value >>> shift) - SUB_BUCKET_HALF);
}

/** The highest value counted in bucket `index`. */
function highestEquivalent(index: number): number {
  if (index < SUB_BUCKET_COUNT) return index;
  const rest = index - SUB_BUCKET_COUNT;
  const shift = Math.floor(rest / SUB_BUCKET_HALF) + 1;
  const sub = (rest % SUB_BUCKET_HALF) + SUB_BUCKET_HALF;
  return (sub + 1) * 2 ** shift - 1;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;
  min = Number.POSITIVE_INFINITY;
  private sum = 0;

  /** Records `value` microseconds, `times` times (a batch's records share one latency). */
  record(value: number, times = 1): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(value)));
    this.counts[indexOf(v)] += times;
    this.count += times;
    this.sum += v * times;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value at percentile `p` (0–100): the smallest recorded value that `p` % of the values do not exceed. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const wanted = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= wanted) return Math.min(highestEquivalent(i), this.max);
    }
    return this.max;
  }

  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Number.POSITIVE_INFINITY;
  }
}
