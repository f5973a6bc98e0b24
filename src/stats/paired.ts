// Paired comparison of two models on the same questions: flips, agreement, and bootstrap intervals
// for the accuracy difference and the retention ratio. Inputs are aligned arrays (index i = the same
// question in both runs) of per-question scores in [0, 1]: 0/1 with one sample, pass@1 with several.
import { bootstrapMean, DEFAULT_RESAMPLES, percentileInterval, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
import { nextState, seedState, stateOutput } from './prng.js';

export interface FlipCounts {
  bothRight: number;
  bothWrong: number;
  /** Baseline right, compressed wrong (McNemar's b). */
  rightToWrong: number;
  /** Baseline wrong, compressed right (McNemar's c). */
  wrongToRight: number;
  /** (bothRight + bothWrong) / n; null when n = 0. */
  agreementRate: number | null;
}

export function countFlips(baseline: readonly boolean[], compressed: readonly boolean[]): FlipCounts {
  assertAligned(baseline, compressed);
  let bothRight = 0, bothWrong = 0, rightToWrong = 0, wrongToRight = 0;
  for (let i = 0; i < baseline.length; i++) {
    const a = baseline[i], b = compressed[i];
    if (a && b) bothRight++;
    else if (!a && !b) bothWrong++;
    else if (a) rightToWrong++;
    else wrongToRight++;
  }
  const n = baseline.length;
  return { bothRight, bothWrong, rightToWrong, wrongToRight, agreementRate: n ? (bothRight + bothWrong) / n : null };
}

/** compressed - baseline accuracy, resampling questions (pairs kept together). */
export function pairedAccuracyDifference(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  assertAligned(baseline, compressed);
  // The mean of per-question differences: each term is compressed[i] - baseline[i] as before, summed in draw order.
  const diff = new Float64Array(baseline.length);
  for (let i = 0; i < diff.length; i++) diff[i] = compressed[i]! - baseline[i]!;
  return bootstrapMean(diff, opts);
}

/** Retention ratio compressed accuracy / baseline accuracy, resampling questions (pairs kept together). */
export function pairedRetention(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  assertAligned(baseline, compressed);
  const n = baseline.length;
  const b = Float64Array.from(baseline), c = Float64Array.from(compressed);
  let sb = 0, sc = 0;
  for (let i = 0; i < n; i++) {
    sb += b[i]!;
    sc += c[i]!;
  }
  const estimate = sb === 0 ? NaN : sc / sb;
  const confidence = opts.confidence ?? 0.95;
  if (n === 0) return percentileInterval(estimate, [], confidence);
  const replicates = new Float64Array(opts.resamples ?? DEFAULT_RESAMPLES);
  let a = seedState(opts.seed + 1);
  for (let r = 0; r < replicates.length; r++) {
    sb = 0;
    sc = 0;
    for (let k = 0; k < n; k++) {
      a = nextState(a);
      const i = Math.floor(stateOutput(a) * n);
      sb += b[i]!;
      sc += c[i]!;
    }
    replicates[r] = sb === 0 ? NaN : sc / sb;
  }
  return percentileInterval(estimate, replicates, confidence);
}

function assertAligned(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`paired arrays differ in length: ${a.length} vs ${b.length}`);
}
