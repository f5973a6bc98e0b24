// Percentile bootstrap with a seeded PRNG: the same seed, data and resample count always give the
// same interval, so a report rebuilt from the same run folders is byte-identical.
import { percentileSorted } from './descriptive.js';
import { randomIndex, seededRandom, type Random } from './prng.js';

export interface BootstrapOptions {
  seed: number;
  /** Resamples; 2000 by default (enough for 95% percentile intervals to 2-3 digits). */
  resamples?: number;
  confidence?: number;
}

export interface BootstrapInterval {
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  method: 'bootstrap-percentile';
  resamples: number;
}

export const DEFAULT_RESAMPLES = 2000;

/** Percentile interval from bootstrap replicates (non-finite replicates, e.g. 0/0, are dropped). */
export function percentileInterval(estimate: number, replicates: number[], confidence: number): BootstrapInterval {
  const finite = replicates.filter((r) => Number.isFinite(r));
  const sorted = Array.from(Float64Array.from(finite).sort());
  const alpha = (1 - confidence) / 2;
  return {
    estimate,
    lower: sorted.length ? percentileSorted(sorted, alpha * 100) : NaN,
    upper: sorted.length ? percentileSorted(sorted, (1 - alpha) * 100) : NaN,
    confidence,
    method: 'bootstrap-percentile',
    resamples: replicates.length,
  };
}

/**
 * Bootstrap over `n` units: `statistic(indices)` gets the indices of one resample (with repetition)
 * and the full-sample estimate is `statistic(0..n-1)`. One generic driver for every statistic below.
 */
export function bootstrapIndices(
  n: number,
  statistic: (indices: Uint32Array) => number,
  opts: BootstrapOptions,
  random: Random = seededRandom(opts.seed),
): BootstrapInterval {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? 0.95;
  const identity = new Uint32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const estimate = statistic(identity);
  if (n === 0) return percentileInterval(estimate, [], confidence);
  const indices = new Uint32Array(n);
  const replicates: number[] = new Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = randomIndex(random, n);
    replicates[r] = statistic(indices);
  }
  return percentileInterval(estimate, replicates, confidence);
}

/** Bootstrap interval of the mean of `values`. */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  return bootstrapIndices(values.length, (idx) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += values[idx[i]!]!;
    return s / idx.length;
  }, opts);
}
