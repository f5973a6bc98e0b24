// Percentile bootstrap with a seeded PRNG: the same seed, data and resample count always give the
// same interval, so a report rebuilt from the same run folders is byte-identical.
import { percentileSorted } from './descriptive.js';
import { nextState, randomIndex, seededRandom, seedState, stateOutput, type Random } from './prng.js';

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
export function percentileInterval(estimate: number, replicates: ArrayLike<number>, confidence: number): BootstrapInterval {
  const sorted = new Float64Array(replicates.length);
  let m = 0;
  for (let i = 0; i < replicates.length; i++) if (Number.isFinite(replicates[i]!)) sorted[m++] = replicates[i]!;
  sorted.subarray(0, m).sort();
  const alpha = (1 - confidence) / 2;
  return {
    estimate,
    lower: m ? percentileSorted(sorted.subarray(0, m), alpha * 100) : NaN,
    upper: m ? percentileSorted(sorted.subarray(0, m), (1 - alpha) * 100) : NaN,
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
  const replicates = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = randomIndex(random, n);
    replicates[r] = statistic(indices);
  }
  return percentileInterval(estimate, replicates, confidence);
}

/**
 * Bootstrap interval of the mean of `values`. The same figures as bootstrapIndices with a mean statistic
 * (same draws, same summation order), with the draw and the sum in one loop over a typed copy.
 */
export function bootstrapMean(values: ArrayLike<number>, opts: BootstrapOptions): BootstrapInterval {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? 0.95;
  const n = values.length;
  const v = Float64Array.from(values);
  let total = 0;
  for (let i = 0; i < n; i++) total += v[i]!;
  const estimate = total / n;
  if (n === 0) return percentileInterval(estimate, [], confidence);
  const replicates = new Float64Array(resamples);
  let a = seedState(opts.seed);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      a = nextState(a);
      s += v[Math.floor(stateOutput(a) * n)]!;
    }
    replicates[r] = s / n;
  }
  return percentileInterval(estimate, replicates, confidence);
}
