// Descriptive statistics over plain number arrays, defined the way numpy (and so vLLM bench serve)
// defines them: percentiles with linear interpolation (numpy's default method), std with ddof=0.

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Population standard deviation (numpy's default, ddof=0), as vLLM reports it. */
export function std(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - m) * (values[i]! - m);
  return Math.sqrt(ss / values.length);
}

/**
 * Percentile p (0..100) of values already sorted ascending, numpy "linear" method:
 * position (n-1)*p/100, interpolated between the two neighbours.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[n - 1]!;
  const pos = ((n - 1) * p) / 100;
  const lo = Math.floor(pos);
  const frac = pos - lo;
  const a = sorted[lo]!;
  if (frac === 0 || lo + 1 >= n) return a;
  return a + (sorted[lo + 1]! - a) * frac;
}

export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(sortAscending(values), p);
}

export function sortAscending(values: readonly number[]): number[] {
  // Float64Array sorts numerically (Array#sort would compare strings).
  return Array.from(Float64Array.from(values).sort());
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  curve: Array<[number, number]>;
}

/** Percentiles drawn on CDF charts. */
export const CURVE_PERCENTILES = [0, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 99, 100];

/** mean, std, min, max, p50/p90/p95/p99 and the quantile curve; null for an empty sample. */
export function summarize(values: ArrayLike<number>): Summary | null {
  // One typed copy, sorted in place (no intermediate arrays).
  const buf = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) buf[i] = values[i]!;
  return summarizeInPlace(buf);
}

/**
 * summarize() on a buffer the caller gives up: its finite values are moved to the front and sorted there,
 * so a large sample (every ITL gap of a run) is summarised without a second copy.
 */
export function summarizeInPlace(buf: Float64Array): Summary | null {
  let n = 0;
  for (let i = 0; i < buf.length; i++) if (Number.isFinite(buf[i]!)) buf[n++] = buf[i]!;
  if (n === 0) return null;
  const sorted = buf.subarray(0, n).sort();
  return {
    n: sorted.length,
    mean: mean(sorted),
    std: std(sorted),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
    curve: CURVE_PERCENTILES.map((p) => [p, percentileSorted(sorted, p)]),
  };
}
