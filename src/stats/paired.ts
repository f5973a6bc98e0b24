// Paired comparison of two models on the same questions: flips, agreement, and bootstrap intervals
// for the accuracy difference and the retention ratio. Inputs are aligned arrays (index i = the same
// question in both runs) of per-question scores in [0, 1]: 0/1 with one sample, pass@1 with several.
import { DEFAULT_RESAMPLES, percentileInterval, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
import { multinomialDraw } from './multinomial.js';
import { nextState, seededRandom, seedState, stateOutput } from './prng.js';

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

/** Above this many distinct (baseline, compressed) score pairs the bootstrap draws questions one by one. */
export const MAX_SCORE_CATEGORIES = 64;

/**
 * The accuracy difference and the retention ratio from one resampling of the questions (pairs kept
 * together): both statistics of a replicate come from the same resample.
 *
 * Both depend on a resample only through how often each distinct (baseline, compressed) score pair occurs
 * in it: 4 pairs with one sample per question, (k + 1)^2 at most with k samples. When there are at most
 * MAX_SCORE_CATEGORIES, each replicate draws those counts from their exact distribution (multinomial:
 * stats/multinomial.ts) instead of n questions one by one; the same bootstrap distribution at a cost that
 * does not grow with n. Otherwise questions are drawn one by one, the difference then being bootstrapMean
 * over the per-question differences to the last bit.
 */
export function pairedAccuracy(baseline: readonly number[], compressed: readonly number[], opts: BootstrapOptions): PairedAccuracy {
  assertAligned(baseline, compressed);
  const n = baseline.length;
  const confidence = opts.confidence ?? 0.95;
  let sd = 0, sb = 0, sc = 0;
  for (let i = 0; i < n; i++) {
    sd += compressed[i]! - baseline[i]!;
    sb += baseline[i]!;
    sc += compressed[i]!;
  }
  const differenceEstimate = sd / n;
  const retentionEstimate = sb === 0 ? NaN : sc / sb;
  if (n === 0) {
    return { difference: percentileInterval(differenceEstimate, [], confidence), retention: percentileInterval(retentionEstimate, [], confidence) };
  }
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const differences = new Float64Array(resamples);
  const retentions = new Float64Array(resamples);
  const categories = scoreCategories(baseline, compressed);
  if (categories) resampleCategories(categories, n, opts.seed, differences, retentions);
  else resampleQuestions(baseline, compressed, opts.seed, differences, retentions);
  return {
    difference: percentileInterval(differenceEstimate, differences, confidence),
    retention: percentileInterval(retentionEstimate, retentions, confidence),
  };
}

interface ScoreCategories {
  baseline: Float64Array;
  compressed: Float64Array;
  counts: Float64Array;
}

/** The distinct (baseline, compressed) score pairs in first-seen order with their counts; null if too many. */
function scoreCategories(baseline: readonly number[], compressed: readonly number[]): ScoreCategories | null {
  const index = new Map<number, Map<number, number>>();
  const b: number[] = [], c: number[] = [], counts: number[] = [];
  for (let i = 0; i < baseline.length; i++) {
    let row = index.get(baseline[i]!);
    if (!row) index.set(baseline[i]!, (row = new Map()));
    const k = row.get(compressed[i]!);
    if (k !== undefined) {
      counts[k]!++;
      continue;
    }
    if (counts.length === MAX_SCORE_CATEGORIES) return null;
    row.set(compressed[i]!, counts.length);
    b.push(baseline[i]!);
    c.push(compressed[i]!);
    counts.push(1);
  }
  return { baseline: Float64Array.from(b), compressed: Float64Array.from(c), counts: Float64Array.from(counts) };
}

function resampleCategories(cat: ScoreCategories, n: number, seed: number, differences: Float64Array, retentions: Float64Array): void {
  const random = seededRandom(seed);
  const drawn = new Float64Array(cat.counts.length);
  for (let r = 0; r < differences.length; r++) {
    multinomialDraw(n, cat.counts, random, drawn);
    let sd = 0, sb = 0, sc = 0;
    for (let k = 0; k < drawn.length; k++) {
      sd += drawn[k]! * (cat.compressed[k]! - cat.baseline[k]!);
      sb += drawn[k]! * cat.baseline[k]!;
      sc += drawn[k]! * cat.compressed[k]!;
    }
    differences[r] = sd / n;
    retentions[r] = sb === 0 ? NaN : sc / sb;
  }
}

function resampleQuestions(baseline: readonly number[], compressed: readonly number[], seed: number, differences: Float64Array, retentions: Float64Array): void {
  const n = baseline.length;
  // One row per question: [compressed - baseline, baseline, compressed], so a draw reads one place.
  const rows = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    rows[3 * i] = compressed[i]! - baseline[i]!;
    rows[3 * i + 1] = baseline[i]!;
    rows[3 * i + 2] = compressed[i]!;
  }
  let a = seedState(seed);
  for (let r = 0; r < differences.length; r++) {
    let d = 0, sb = 0, sc = 0;
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
