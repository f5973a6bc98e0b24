// The typed, one-loop bootstraps must give exactly the replicates of the generic driver (the same
// draws of seededRandom, the same terms, the same summation order): reports stay byte-identical. The
// accuracy difference and retention share one stream of draws, and so do the paired latency figures
// (summed per pair from the draws' counts, so equal to rounding rather than to the bit).
import { describe, expect, it } from 'vitest';
import { bootstrapIndices, bootstrapMean, percentileInterval } from '../../src/stats/bootstrap.js';
import { pairedAccuracy, pairedAccuracyDifference, pairedRetention } from '../../src/stats/paired.js';
import { randomIndex, seededRandom } from '../../src/stats/prng.js';
import { latencyReductionPaired, latencyReductionsPaired, latencyReductionUnpaired, weightedMean, type WeightedSamples } from '../../src/stats/reduction.js';

const opts = { seed: 20250101, resamples: 300, confidence: 0.95 };
const values = (n: number, k: number) => Array.from({ length: n }, (_, i) => ((i * 7919 + k) % 997) / 7.3 + (i % 3 === 0 ? 0.1 : 0));
// Many distinct score pairs (pass@1 over 96 samples), so questions are drawn one by one (stats/paired.ts).
const scores = (n: number, k: number) => Array.from({ length: n }, (_, i) => ((i * 31 + k) % 5 < 3 ? 1 : ((i * 13 + k) % 97) / 96));

/** The replicate loops as they were before they were fused: an index array, then weightedMean. */
function referencePaired(b: WeightedSamples, c: WeightedSamples) {
  const random = seededRandom(opts.seed);
  const n = b.values.length;
  const idx = new Uint32Array(n);
  const reps: number[] = [];
  for (let r = 0; r < opts.resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = randomIndex(random, n);
    reps.push(1 - weightedMean(c, idx) / weightedMean(b, idx));
  }
  return percentileInterval(1 - weightedMean(c) / weightedMean(b), reps, opts.confidence);
}

function referenceUnpaired(b: WeightedSamples, c: WeightedSamples) {
  const random = seededRandom(opts.seed);
  const ib = new Uint32Array(b.values.length), ic = new Uint32Array(c.values.length);
  const reps: number[] = [];
  for (let r = 0; r < opts.resamples; r++) {
    for (let i = 0; i < ib.length; i++) ib[i] = randomIndex(random, ib.length);
    for (let i = 0; i < ic.length; i++) ic[i] = randomIndex(random, ic.length);
    reps.push(1 - weightedMean(c, ic) / weightedMean(b, ib));
  }
  return percentileInterval(1 - weightedMean(c) / weightedMean(b), reps, opts.confidence);
}

function expectSameInterval(got: { estimate: number; lower: number; upper: number }, want: { estimate: number; lower: number; upper: number }): void {
  for (const k of ['estimate', 'lower', 'upper'] as const) expect(Math.abs(got[k] - want[k])).toBeLessThanOrEqual(1e-12 * Math.abs(want[k]));
}

describe('fused bootstraps give the generic driver\'s figures to the last bit', () => {
  it('mean', () => {
    const v = values(501, 1);
    const generic = bootstrapIndices(v.length, (idx) => {
      let s = 0;
      for (let i = 0; i < idx.length; i++) s += v[idx[i]!]!;
      return s / idx.length;
    }, opts);
    expect(bootstrapMean(v, opts)).toStrictEqual(generic);
  });

  it('paired accuracy difference and retention', () => {
    const b = scores(401, 0), c = scores(401, 2);
    const diff = bootstrapIndices(b.length, (idx) => {
      let d = 0;
      for (let i = 0; i < idx.length; i++) d += c[idx[i]!]! - b[idx[i]!]!;
      return d / idx.length;
    }, opts, seededRandom(opts.seed));
    const ret = bootstrapIndices(b.length, (idx) => {
      let sb = 0, sc = 0;
      for (let i = 0; i < idx.length; i++) {
        sb += b[idx[i]!]!;
        sc += c[idx[i]!]!;
      }
      return sb === 0 ? NaN : sc / sb;
    }, opts, seededRandom(opts.seed));
    expect(pairedAccuracyDifference(b, c, opts)).toStrictEqual(diff);
    expect(pairedRetention(b, c, opts)).toStrictEqual(ret);
    expect(pairedAccuracy(b, c, opts)).toStrictEqual({ difference: diff, retention: ret });
  });

  it('latency reductions, weighted (ITL) and not, paired and unpaired', () => {
    const b = { values: values(333, 3) }, c = { values: values(333, 5).map((x) => x * 0.9) };
    const bw = { ...b, weights: b.values.map((_, i) => 1 + (i % 11)) }, cw = { ...c, weights: c.values.map((_, i) => 2 + (i % 5)) };
    // Paired: the same draws, each replicate summed as count x term in pair order (not in draw order), so
    // equal to rounding.
    expectSameInterval(latencyReductionPaired(b, c, opts), referencePaired(b, c));
    expectSameInterval(latencyReductionPaired(bw, cw, opts), referencePaired(bw, cw));
    const c2 = { values: values(250, 9) }, cw2 = { ...c2, weights: c2.values.map((_, i) => 1 + (i % 4)) };
    expect(latencyReductionUnpaired(b, c2, opts)).toStrictEqual(referenceUnpaired(b, c2));
    expect(latencyReductionUnpaired(bw, cw2, opts)).toStrictEqual(referenceUnpaired(bw, cw2));
  });

  it('several paired latency figures from one stream: each the figure computed alone on that seed', () => {
    const b = { values: values(333, 3) }, c = { values: values(333, 5).map((x) => x * 0.9) };
    const bw = { ...b, weights: b.values.map((_, i) => 1 + (i % 11)) }, cw = { ...c, weights: c.values.map((_, i) => 2 + (i % 5)) };
    const joint = latencyReductionsPaired([{ baseline: b, compressed: c }, { baseline: bw, compressed: cw }], opts);
    expect(joint).toStrictEqual([latencyReductionPaired(b, c, opts), latencyReductionPaired(bw, cw, opts)]);
    expectSameInterval(joint[1]!, referencePaired(bw, cw));
  });

  it('a pair without the figure (weight 0) adds nothing to its means, whatever value it holds', () => {
    const b = values(200, 1), c = values(200, 2);
    const absent = (i: number) => i % 4 === 0;
    const withGaps = (xs: number[]) => ({ values: xs.map((x, i) => (absent(i) ? NaN : x)), weights: xs.map((_, i) => (absent(i) ? 0 : 1)) });
    const [r] = latencyReductionsPaired([{ baseline: withGaps(b), compressed: withGaps(c) }], opts);
    const present = (xs: number[]) => ({ values: xs.filter((_, i) => !absent(i)) });
    expect(r!.estimate).toBe(1 - weightedMean(present(c)) / weightedMean(present(b)));
    expect(Number.isFinite(r!.lower) && Number.isFinite(r!.upper)).toBe(true);
    expect(r!.lower).toBeLessThan(r!.estimate);
    expect(r!.upper).toBeGreaterThan(r!.estimate);
  });
});
