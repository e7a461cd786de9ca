/**
 * A latency histogram in the manner of HdrHistogram: log-linear buckets of
 * 2048 linear sub-buckets each, so every recorded value keeps 3 significant
 * decimal digits (relative error under 0.1%) from 1 µs up to about 71
 * minutes, in one preallocated typed array. Recording is a few integer
 * operations and one array increment: no allocation per value.
 *
 * @module
 */

/** log2 of the sub-bucket count: 2048 sub-buckets give 3 significant digits. */
const SUB_BUCKET_BITS = 11;
const SUB_BUCKET_HALF_BITS = SUB_BUCKET_BITS - 1;
const SUB_BUCKET_MASK = (1 << SUB_BUCKET_BITS) - 1;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_BITS;
/** `31 - clz32(v | mask)` minus the half-count bits: the bucket of value `v`. */
const LEADING_ZERO_BASE = 32 - SUB_BUCKET_HALF_BITS - 1;
/** Largest recordable value (µs); larger ones are clamped to it and counted in `clamped`. */
export const HISTOGRAM_MAX_VALUE = 0xffff_ffff;
const BUCKETS = LEADING_ZERO_BASE - Math.clz32(HISTOGRAM_MAX_VALUE | SUB_BUCKET_MASK) + 1;

/**
 * Integer values (microseconds, for latency) with 3 significant digits.
 *
 * @example
 * const h = new Histogram();
 * h.record(1234);
 * h.valueAtPercentile(99); // 1234 (±0.1%)
 */
export class Histogram {
  /** Counts per (bucket, sub-bucket); Float64 so counts stay exact past 2^32. */
  readonly counts = new Float64Array((BUCKETS + 1) * SUB_BUCKET_HALF);
  /** Values recorded. */
  total = 0;
  /** Values above {@link HISTOGRAM_MAX_VALUE}, recorded as that maximum. */
  clamped = 0;
  min = Infinity;
  max = 0;
  #sum = 0;

  /** Records one value (rounded to an integer, negatives as 0). */
  record(value: number): void {
    let v = value > 0 ? Math.round(value) : 0;
    if (v > HISTOGRAM_MAX_VALUE) {
      v = HISTOGRAM_MAX_VALUE;
      this.clamped++;
    }
    const bucket = LEADING_ZERO_BASE - Math.clz32(v | SUB_BUCKET_MASK);
    this.counts[(bucket << SUB_BUCKET_HALF_BITS) + (v >>> bucket)]!++;
    this.total++;
    this.#sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Forgets every value (the arrays are kept). */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.clamped = 0;
    this.min = Infinity;
    this.max = 0;
    this.#sum = 0;
  }

  /** Mean of the recorded values (0 when empty). */
  get mean(): number {
    return this.total === 0 ? 0 : this.#sum / this.total;
  }

  /**
   * The value at or below which `percentile`% of the values fall: the
   * highest value equivalent to the bucket that holds that rank (as
   * HdrHistogram reports it), capped at the largest value recorded. 0 when empty.
   */
  valueAtPercentile(percentile: number): number {
    if (this.total === 0) return 0;
    // The epsilon keeps binary rounding (99.9 / 100 * 1000 = 999.0000000000001) from skipping a rank.
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, percentile)) * this.total) / 100 - 1e-9));
    const counts = this.counts;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, highestEquivalent(i)));
    }
    return this.max;
  }

  /** Adds every value of `other` to this histogram. */
  add(other: Histogram): void {
    const a = this.counts;
    const b = other.counts;
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    this.total += other.total;
    this.clamped += other.clamped;
    this.#sum += other.#sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}

/** The largest value that lands in counts index `i`. */
function highestEquivalent(i: number): number {
  let bucket = (i >> SUB_BUCKET_HALF_BITS) - 1;
  let sub = (i & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket + 2 ** bucket - 1;
}
