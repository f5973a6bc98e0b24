// Paired comparison of two models on the same questions: flips, agreement, and bootstrap intervals
// for the accuracy difference and the retention ratio. Inputs are aligned arrays (index i = the same
// question in both runs) of per-question scores in [0, 1]: 0/1 with one sample, pass@1 with several.
import { DEFAULT_RESAMPLES, percentileInterval, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
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

/** The paired accuracy intervals of one resampling of the questions. */
export interface PairedAccuracy {
  /** compressed - baseline accuracy. */
  difference: BootstrapInterval;
  /** compressed accuracy / baseline accuracy (NaN estimate when the baseline scored nothing). */
  retention: BootstrapInterval;
}

/**
 * The accuracy difference and the retention ratio from one stream of resampled questions (pairs kept
 * together): both statistics of each replicate come from the same draws, so the work is one pass, not two.
 * The difference's replicates are those of bootstrapMean over the per-question differences (same draws,
 * same terms, same order): its figures are the same to the last bit.
 */
export function pairedAccuracy(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): PairedAccuracy {
  assertAligned(baseline, compressed);
  const n = baseline.length;
  const confidence = opts.confidence ?? 0.95;
  // One row per question: [compressed - baseline, baseline, compressed], so a draw reads one place.
  const rows = new Float64Array(3 * n);
  let sd = 0, sb = 0, sc = 0;
  for (let i = 0; i < n; i++) {
    const b = baseline[i]!, c = compressed[i]!;
    rows[3 * i] = c - b;
    rows[3 * i + 1] = b;
    rows[3 * i + 2] = c;
    sd += c - b;
    sb += b;
    sc += c;
  }
  const differenceEstimate = sd / n;
  const retentionEstimate = sb === 0 ? NaN : sc / sb;
  if (n === 0) {
    return { difference: percentileInterval(differenceEstimate, [], confidence), retention: percentileInterval(retentionEstimate, [], confidence) };
  }
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const differences = new Float64Array(resamples);
  const retentions = new Float64Array(resamples);
  let a = seedState(opts.seed);
  for (let r = 0; r < resamples; r++) {
    let d = 0;
    sb = 0;
    sc = 0;
    for (let k = 0; k < n; k++) {
      a = nextState(a);
      const i = 3 * Math.floor(stateOutput(a) * n);
      d += rows[i]!;
      sb += rows[i + 1]!;
      sc += rows[i + 2]!;
    }
    differences[r] = d / n;
    retentions[r] = sb === 0 ? NaN : sc / sb;
  }
  return {
    difference: percentileInterval(differenceEstimate, differences, confidence),
    retention: percentileInterval(retentionEstimate, retentions, confidence),
  };
}

/** compressed - baseline accuracy, resampling questions (pairs kept together). */
export function pairedAccuracyDifference(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  return pairedAccuracy(baseline, compressed, opts).difference;
}

/** Retention ratio compressed accuracy / baseline accuracy, resampling questions (pairs kept together). */
export function pairedRetention(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): BootstrapInterval {
  return pairedAccuracy(baseline, compressed, opts).retention;
}

function assertAligned(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError(`paired arrays differ in length: ${a.length} vs ${b.length}`);
}
