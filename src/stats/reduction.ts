// Relative reductions, compressed vs baseline: 1 - compressed/baseline (positive = compressed is
// smaller/faster). Latency intervals come from per-request samples by bootstrap: paired (resample
// request pairs) when both runs answered the same requests, otherwise each run resampled on its own.
import { percentileInterval, DEFAULT_RESAMPLES, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
import { nextState, seedState, stateOutput } from './prng.js';
import { resampledSums } from './resampled-sums.js';

/**
 * Per-request latency samples. `weights` turns values into a pooled mean (ITL: value = a request's
 * mean gap, weight = its number of gaps), so resampling keeps each request's gaps together.
 */
export interface WeightedSamples {
  values: readonly number[];
  weights?: readonly number[];
}

export function relativeReduction(baseline: number, compressed: number): number | null {
  if (!Number.isFinite(baseline) || !Number.isFinite(compressed) || baseline <= 0) return null;
  return 1 - compressed / baseline;
}

export function weightedMean(s: WeightedSamples, idx?: Uint32Array): number {
  let num = 0, den = 0;
  const n = idx ? idx.length : s.values.length;
  for (let k = 0; k < n; k++) {
    const i = idx ? idx[k]! : k;
    const w = s.weights ? s.weights[i]! : 1;
    num += s.values[i]! * w;
    den += w;
  }
  return den === 0 ? NaN : num / den;
}

/** Values and weights as typed arrays (weights 1 when absent), for the resampling loops below. */
function typed(s: WeightedSamples): { v: Float64Array; w: Float64Array | null } {
  return { v: Float64Array.from(s.values), w: s.weights ? Float64Array.from(s.weights) : null };
}

// The unpaired loop draws each index and adds its terms in one pass. The draws, the terms and their order
// are those of weightedMean over an index array, so every replicate is the same number to the last bit.

/** 1 - mean(compressed)/mean(baseline), independent resampling within each run. */
export function latencyReductionUnpaired(baseline: WeightedSamples, compressed: WeightedSamples, opts: BootstrapOptions): BootstrapInterval {
  const estimate = 1 - weightedMean(compressed) / weightedMean(baseline);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const nb = baseline.values.length, nc = compressed.values.length;
  if (nb === 0 || nc === 0) return percentileInterval(NaN, [], opts.confidence ?? 0.95);
  const b = typed(baseline), c = typed(compressed);
  const replicates = new Float64Array(resamples);
  let a = seedState(opts.seed);
  for (let r = 0; r < resamples; r++) {
    let bn = 0, bd = 0, cn = 0, cd = 0;
    for (let k = 0; k < nb; k++) {
      a = nextState(a);
      const i = Math.floor(stateOutput(a) * nb);
      const w = b.w ? b.w[i]! : 1;
      bn += b.v[i]! * w;
      bd += w;
    }
    for (let k = 0; k < nc; k++) {
      a = nextState(a);
      const i = Math.floor(stateOutput(a) * nc);
      const w = c.w ? c.w[i]! : 1;
      cn += c.v[i]! * w;
      cd += w;
    }
    replicates[r] = 1 - (cd === 0 ? NaN : cn / cd) / (bd === 0 ? NaN : bn / bd);
  }
  return percentileInterval(estimate, replicates, opts.confidence ?? 0.95);
}

/** One latency figure over aligned request pairs: index i is the same item and sample in both runs. */
export interface PairedSeries {
  baseline: WeightedSamples;
  compressed: WeightedSamples;
}

/** Same statistic, resampling aligned request pairs (index i = the same item and sample in both runs). */
export function latencyReductionPaired(baseline: WeightedSamples, compressed: WeightedSamples, opts: BootstrapOptions): BootstrapInterval {
  return latencyReductionsPaired([{ baseline, compressed }], opts)[0]!;
}

/**
 * Several latency figures of the same request pairs from one stream of resampled pairs: a replicate draws
 * the pairs once (the draws of seededRandom(seed), as in the other bootstraps) and every figure is summed
 * from those draws, so k figures share one set of draws. A pair that lacks a figure has weight 0 in it
 * (both runs lack it: the figure is paired) and value 0, so it adds nothing to that figure's means.
 */
export function latencyReductionsPaired(series: readonly PairedSeries[], opts: BootstrapOptions): BootstrapInterval[] {
  const n = series[0]?.baseline.values.length ?? 0;
  for (const { baseline, compressed } of series) {
    if (baseline.values.length !== n || compressed.values.length !== n) {
      throw new RangeError(`paired latency samples differ in length: ${baseline.values.length} vs ${compressed.values.length} (expected ${n})`);
    }
  }
  const confidence = opts.confidence ?? 0.95;
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  // Per figure: value x weight per pair for each run, and the weights when they are not all 1 (else the
  // number of draws is the denominator).
  const columns = series.map(({ baseline: b, compressed: c }) => {
    const weighted = !allOnes(b.weights) || !allOnes(c.weights);
    const bvw = new Float64Array(n), cvw = new Float64Array(n);
    const bw = weighted ? new Float64Array(n) : null, cw = weighted ? new Float64Array(n) : null;
    for (let i = 0; i < n; i++) {
      const wb = b.weights ? b.weights[i]! : 1, wc = c.weights ? c.weights[i]! : 1;
      bvw[i] = wb === 0 ? 0 : b.values[i]! * wb;
      cvw[i] = wc === 0 ? 0 : c.values[i]! * wc;
      if (bw && cw) {
        bw[i] = wb;
        cw[i] = wc;
      }
    }
    return { bvw, cvw, bw, cw };
  });
  const estimates = columns.map((col) => {
    const [bn, cn] = plainSums(col.bvw, col.cvw);
    const [bd, cd] = col.bw && col.cw ? plainSums(col.bw, col.cw) : [n, n];
    return 1 - (cd === 0 ? NaN : cn / cd) / (bd === 0 ? NaN : bn / bd);
  });
  if (n === 0) return estimates.map((e) => percentileInterval(e, [], confidence));
  const replicates = series.map(() => new Float64Array(resamples));
  // Every figure's sums as columns of terms: value x weight per run, and the weights when they are not all 1.
  const terms: Float64Array[] = [];
  for (const col of columns) terms.push(col.bvw, col.cvw, ...(col.bw && col.cw ? [col.bw, col.cw] : []));
  // A column equal to an earlier one (TTFO is TTFT when nothing is reasoned) is summed once: the same
  // terms in the same order give the same sums.
  const { unique, at } = distinctColumns(terms);
  const sums = resampledSums(unique, n, resamples, opts.seed);
  const width = unique.length;
  for (let r = 0; r < resamples; r++) {
    const row = r * width;
    let t = 0;
    for (let m = 0; m < columns.length; m++) {
      const bn = sums[row + at[t++]!]!, cn = sums[row + at[t++]!]!;
      const [bd, cd] = columns[m]!.bw ? [sums[row + at[t++]!]!, sums[row + at[t++]!]!] : [n, n];
      replicates[m]![r] = 1 - (cd === 0 ? NaN : cn / cd) / (bd === 0 ? NaN : bn / bd);
    }
  }
  return estimates.map((e, m) => percentileInterval(e, replicates[m]!, confidence));
}

/**
 * The columns without repeats (a zero column added when their number is odd: the sums go two columns at
 * a time), and where each given column's sums are among them.
 */
function distinctColumns(terms: readonly Float64Array[]): { unique: Float64Array[]; at: number[] } {
  const unique: Float64Array[] = [];
  const at = terms.map((col) => {
    const k = unique.findIndex((u) => sameValues(u, col));
    if (k >= 0) return k;
    unique.push(col);
    return unique.length - 1;
  });
  if (unique.length % 2 === 1) unique.push(new Float64Array(terms[0]!.length));
  return { unique, at };
}

/** Equal element by element (Object.is: -0 and 0 differ, so a sum could differ). */
function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The sums of x and of y, in pair order. */
function plainSums(x: Float64Array, y: Float64Array): [number, number] {
  let sx = 0, sy = 0;
  for (let i = 0; i < x.length; i++) {
    sx += x[i]!;
    sy += y[i]!;
  }
  return [sx, sy];
}

function allOnes(weights: readonly number[] | undefined): boolean {
  if (!weights) return true;
  for (const w of weights) if (w !== 1) return false;
  return true;
}
