// Relative reductions, compressed vs baseline: 1 - compressed/baseline (positive = compressed is
// smaller/faster). Latency intervals come from per-request samples by bootstrap: paired (resample
// request pairs) when both runs answered the same requests, otherwise each run resampled on its own.
import { percentileInterval, DEFAULT_RESAMPLES, type BootstrapInterval, type BootstrapOptions } from './bootstrap.js';
import { nextState, seedState, stateOutput } from './prng.js';

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

// The loops below draw each index and add its terms in one pass. The draws, the terms and their order are
// those of weightedMean over an index array, so every replicate is the same number to the last bit.

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

/** Same statistic, resampling aligned request pairs (index i = the same item and sample in both runs). */
export function latencyReductionPaired(baseline: WeightedSamples, compressed: WeightedSamples, opts: BootstrapOptions): BootstrapInterval {
  if (baseline.values.length !== compressed.values.length) {
    throw new RangeError(`paired latency samples differ in length: ${baseline.values.length} vs ${compressed.values.length}`);
  }
  const estimate = 1 - weightedMean(compressed) / weightedMean(baseline);
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const n = baseline.values.length;
  if (n === 0) return percentileInterval(NaN, [], opts.confidence ?? 0.95);
  const b = typed(baseline), c = typed(compressed);
  const replicates = new Float64Array(resamples);
  let a = seedState(opts.seed);
  for (let r = 0; r < resamples; r++) {
    let bn = 0, bd = 0, cn = 0, cd = 0;
    for (let k = 0; k < n; k++) {
      a = nextState(a);
      const i = Math.floor(stateOutput(a) * n);
      const wb = b.w ? b.w[i]! : 1;
      const wc = c.w ? c.w[i]! : 1;
      bn += b.v[i]! * wb;
      bd += wb;
      cn += c.v[i]! * wc;
      cd += wc;
    }
    replicates[r] = 1 - (cd === 0 ? NaN : cn / cd) / (bd === 0 ? NaN : bn / bd);
  }
  return percentileInterval(estimate, replicates, opts.confidence ?? 0.95);
}
