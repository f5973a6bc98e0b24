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
  const sums = resampledSums(terms, n, resamples, opts.seed);
  const width = terms.length;
  for (let r = 0; r < resamples; r++) {
    let t = r * width;
    for (let m = 0; m < columns.length; m++) {
      const bn = sums[t++]!, cn = sums[t++]!;
      const [bd, cd] = columns[m]!.bw ? [sums[t++]!, sums[t++]!] : [n, n];
      replicates[m]![r] = 1 - (cd === 0 ? NaN : cn / cd) / (bd === 0 ? NaN : bn / bd);
    }
  }
  return estimates.map((e, m) => percentileInterval(e, replicates[m]!, confidence));
}

/** Replicates whose draws are counted before their sums are taken (a block: 32 x 2 bytes per pair). */
const BLOCK = 32;
/** Pairs summed at a time: a tile of every column and of the block's counts stays in a core's cache. */
const TILE = 2048;

/**
 * For each replicate (the draws of seededRandom(seed), n per replicate, as the other bootstraps), the sum
 * of each term column weighted by how often each pair was drawn: sums[r * terms.length + s] =
 * sum over i, in pair order, of count_r(i) x terms[s][i]. Each sum is one running total over the pairs
 * in order (the terms and their order of the plain loop, so the same number to the last bit); the work is
 * tiled so that a block of replicates reads a tile of the columns while it is in the cache, four
 * replicates at a time (the columns are read once per four, and eight running totals are in flight).
 */
export function resampledSums(terms: readonly Float64Array[], n: number, resamples: number, seed: number, narrowLimit = 0xffff): Float64Array {
  // Counts in 16 bits (half the cache of 32): a count passes 65,535 (narrowLimit) only if n does and one
  // pair is drawn that often; should that ever happen, the sums are taken again with 32-bit counts.
  const cells = Math.min(BLOCK, resamples) * n;
  return sumsWithCounts(terms, n, resamples, seed, new Uint16Array(cells), n > narrowLimit ? narrowLimit : Infinity) ??
    sumsWithCounts(terms, n, resamples, seed, new Uint32Array(cells), Infinity)!;
}

/** resampledSums with these counts; null when a count would pass `most`. */
function sumsWithCounts(terms: readonly Float64Array[], n: number, resamples: number, seed: number, counts: Uint16Array | Uint32Array, most: number): Float64Array | null {
  const width = terms.length;
  const sums = new Float64Array(resamples * width);
  let a = seedState(seed);
  for (let first = 0; first < resamples; first += BLOCK) {
    const block = Math.min(BLOCK, resamples - first);
    counts.fill(0);
    for (let r = 0; r < block; r++) {
      const base = r * n;
      if (most === Infinity) {
        for (let k = 0; k < n; k++) {
          a = nextState(a);
          counts[base + Math.floor(stateOutput(a) * n)]!++;
        }
      } else {
        for (let k = 0; k < n; k++) {
          a = nextState(a);
          const j = base + Math.floor(stateOutput(a) * n);
          if (counts[j] === most) return null;
          counts[j]!++;
        }
      }
    }
    for (let start = 0; start < n; start += TILE) {
      const end = Math.min(n, start + TILE);
      let r = 0;
      for (; r + 4 <= block; r += 4) {
        for (let s = 0; s < width; s += 2) sumFour(counts, r * n, n, terms[s]!, terms[s + 1]!, start, end, sums, (first + r) * width + s, width);
      }
      for (; r < block; r++) {
        for (let s = 0; s < width; s += 2) sumOne(counts, r * n, terms[s]!, terms[s + 1]!, start, end, sums, (first + r) * width + s);
      }
    }
  }
  return sums;
}

/** Four replicates' running totals of x and y over pairs start..end (counts at o, o + n, o + 2n, o + 3n). */
function sumFour(counts: Uint16Array | Uint32Array, o: number, n: number, x: Float64Array, y: Float64Array, start: number, end: number, sums: Float64Array, at: number, width: number): void {
  const o1 = o + n, o2 = o1 + n, o3 = o2 + n;
  let x0 = sums[at]!, y0 = sums[at + 1]!;
  let x1 = sums[at + width]!, y1 = sums[at + width + 1]!;
  let x2 = sums[at + 2 * width]!, y2 = sums[at + 2 * width + 1]!;
  let x3 = sums[at + 3 * width]!, y3 = sums[at + 3 * width + 1]!;
  for (let i = start; i < end; i++) {
    const xi = x[i]!, yi = y[i]!;
    const c0 = counts[o + i]!, c1 = counts[o1 + i]!, c2 = counts[o2 + i]!, c3 = counts[o3 + i]!;
    x0 += c0 * xi;
    y0 += c0 * yi;
    x1 += c1 * xi;
    y1 += c1 * yi;
    x2 += c2 * xi;
    y2 += c2 * yi;
    x3 += c3 * xi;
    y3 += c3 * yi;
  }
  sums[at] = x0;
  sums[at + 1] = y0;
  sums[at + width] = x1;
  sums[at + width + 1] = y1;
  sums[at + 2 * width] = x2;
  sums[at + 2 * width + 1] = y2;
  sums[at + 3 * width] = x3;
  sums[at + 3 * width + 1] = y3;
}

/** One replicate's running totals of x and y over pairs start..end. */
function sumOne(counts: Uint16Array | Uint32Array, o: number, x: Float64Array, y: Float64Array, start: number, end: number, sums: Float64Array, at: number): void {
  let sx = sums[at]!, sy = sums[at + 1]!;
  for (let i = start; i < end; i++) {
    const c = counts[o + i]!;
    sx += c * x[i]!;
    sy += c * y[i]!;
  }
  sums[at] = sx;
  sums[at + 1] = sy;
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
