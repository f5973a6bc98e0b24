// Exact binomial and multinomial draws (stats/multinomial.ts) and the bootstrap of the paired accuracy
// figures that uses them when the scores take few distinct values (stats/paired.ts).
import { describe, expect, it } from 'vitest';
import { bootstrapIndices } from '../../src/stats/bootstrap.js';
import { binomialDraw, lnFactorial, multinomialDraw } from '../../src/stats/multinomial.js';
import { pairedAccuracy } from '../../src/stats/paired.js';
import { seededRandom } from '../../src/stats/prng.js';

function binomialPmf(n: number, p: number, k: number): number {
  return Math.exp(lnFactorial(n) - lnFactorial(k) - lnFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
}

describe('lnFactorial', () => {
  it('matches the sum of logs on both sides of the table', () => {
    let sum = 0;
    for (let k = 1; k <= 2000; k++) {
      sum += Math.log(k);
      expect(Math.abs(lnFactorial(k) - sum) / Math.max(1, sum)).toBeLessThan(1e-13);
    }
    expect(lnFactorial(0)).toBe(0);
  });
});

describe('binomialDraw', () => {
  it('has the binomial distribution (small n: every outcome\'s frequency against its probability)', () => {
    const random = seededRandom(7);
    const n = 12, p = 0.3, draws = 60_000;
    const seen = new Array(n + 1).fill(0);
    for (let i = 0; i < draws; i++) seen[binomialDraw(n, p, random)]++;
    let chi2 = 0;
    for (let k = 0; k <= n; k++) {
      const expected = draws * binomialPmf(n, p, k);
      chi2 += (seen[k] - expected) ** 2 / expected;
    }
    // 12 degrees of freedom: the 0.999 quantile is 32.9.
    expect(chi2).toBeLessThan(32.9);
  });

  it('has the binomial mean and variance at large n (100,000 trials, p = 0.07)', () => {
    const random = seededRandom(11);
    const n = 100_000, p = 0.07, draws = 20_000;
    let s = 0, ss = 0;
    for (let i = 0; i < draws; i++) {
      const x = binomialDraw(n, p, random);
      s += x;
      ss += x * x;
    }
    const mean = s / draws, variance = ss / draws - mean * mean;
    const sd = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(mean - n * p)).toBeLessThan(5 * sd / Math.sqrt(draws));
    expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.95);
    expect(variance / (n * p * (1 - p))).toBeLessThan(1.05);
  });

  it('handles the edges', () => {
    const random = seededRandom(1);
    expect(binomialDraw(0, 0.5, random)).toBe(0);
    expect(binomialDraw(10, 0, random)).toBe(0);
    expect(binomialDraw(10, 1, random)).toBe(10);
  });
});

describe('multinomialDraw', () => {
  it('draws counts that add up to n, each with its share as mean, reproducibly under a seed', () => {
    const counts = [50, 30, 15, 5];
    const out = new Float64Array(4);
    const sums = [0, 0, 0, 0];
    const random = seededRandom(3);
    for (let i = 0; i < 5000; i++) {
      multinomialDraw(1000, counts, random, out);
      expect(out.reduce((a, b) => a + b, 0)).toBe(1000);
      out.forEach((x, k) => (sums[k] += x));
    }
    counts.forEach((c, k) => expect(Math.abs(sums[k]! / 5000 - c * 10)).toBeLessThan(1));
    const a = new Float64Array(4), b = new Float64Array(4);
    multinomialDraw(1000, counts, seededRandom(9), a);
    multinomialDraw(1000, counts, seededRandom(9), b);
    expect(a).toStrictEqual(b);
  });
});

describe('paired accuracy from score counts', () => {
  // 0/1 correctness of 400 questions: 4 distinct pairs, so counts are drawn (not 400 questions a replicate).
  const n = 400;
  const b = Array.from({ length: n }, (_, i) => (i % 10 < 8 ? 1 : 0));
  const c = Array.from({ length: n }, (_, i) => (i % 10 < 7 || i % 20 === 9 ? 1 : 0));
  const opts = { seed: 5, resamples: 4000, confidence: 0.95 };

  it('gives the intervals of drawing questions one by one, within the resampling noise', () => {
    const got = pairedAccuracy(b, c, opts);
    const diff = bootstrapIndices(n, (idx) => {
      let d = 0;
      for (let i = 0; i < idx.length; i++) d += c[idx[i]!]! - b[idx[i]!]!;
      return d / idx.length;
    }, opts);
    const ret = bootstrapIndices(n, (idx) => {
      let sb = 0, sc = 0;
      for (let i = 0; i < idx.length; i++) {
        sb += b[idx[i]!]!;
        sc += c[idx[i]!]!;
      }
      return sc / sb;
    }, opts);
    expect(got.difference.estimate).toBe(diff.estimate);
    expect(got.retention.estimate).toBeCloseTo(ret.estimate, 12);
    for (const [x, y] of [[got.difference, diff], [got.retention, ret]] as const) {
      const width = y.upper - y.lower;
      expect(Math.abs(x.lower - y.lower)).toBeLessThan(0.1 * width);
      expect(Math.abs(x.upper - y.upper)).toBeLessThan(0.1 * width);
    }
    // Not the draw-by-draw stream (that would equal `diff` to the last bit): its own seeded draws, reproducible.
    expect(got.difference).not.toStrictEqual(diff);
    expect(pairedAccuracy(b, c, opts)).toStrictEqual(got);
    expect(pairedAccuracy(b, c, { ...opts, seed: 6 })).not.toStrictEqual(got);
  });

  it('at 100,000 questions: the interval width of the normal approximation', () => {
    const big = 100_000;
    const bb = Array.from({ length: big }, (_, i) => (i % 10 < 8 ? 1 : 0));
    const cc = Array.from({ length: big }, (_, i) => (i % 10 < 7 || i % 20 === 9 ? 1 : 0));
    const r = pairedAccuracy(bb, cc, { seed: 1, resamples: 2000 });
    // The interval of a difference of -0.05 over 100,000 questions: about +-0.0017 (normal approximation).
    const se = Math.sqrt((0.1 + 0.05 - 0.05 ** 2) / big);
    expect(r.difference.estimate).toBeCloseTo(-0.05, 12);
    expect(r.difference.upper - r.difference.lower).toBeGreaterThan(0.8 * 2 * 1.96 * se);
    expect(r.difference.upper - r.difference.lower).toBeLessThan(1.2 * 2 * 1.96 * se);
  });
});
