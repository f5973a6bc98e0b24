import { describe, expect, it } from 'vitest';
import { bootstrapMean } from '../../src/stats/bootstrap.js';
import { countFlips, pairedAccuracyDifference, pairedRetention } from '../../src/stats/paired.js';
import { seededRandom } from '../../src/stats/prng.js';
import { latencyReductionPaired, latencyReductionUnpaired, relativeReduction, weightedMean } from '../../src/stats/reduction.js';
import { majorityLetter, majorityVoteCorrect, passAt1 } from '../../src/stats/samples.js';

const data = Array.from({ length: 200 }, (_, i) => (i * 37) % 11);

describe('seeded bootstrap', () => {
  it('the PRNG is reproducible and seed-dependent', () => {
    const a = seededRandom(7), b = seededRandom(7), c = seededRandom(8);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('gives the same interval for the same seed and a different one for another seed', () => {
    const one = bootstrapMean(data, { seed: 42, resamples: 500 });
    const two = bootstrapMean(data, { seed: 42, resamples: 500 });
    const other = bootstrapMean(data, { seed: 43, resamples: 500 });
    expect(two).toEqual(one);
    expect(other.lower === one.lower && other.upper === one.upper).toBe(false);
    expect(one.estimate).toBeCloseTo(data.reduce((s, v) => s + v, 0) / data.length, 12);
    expect(one.lower).toBeLessThan(one.estimate);
    expect(one.upper).toBeGreaterThan(one.estimate);
    // the normal-theory half-width is 1.96 * sd / sqrt(n); the bootstrap should be close to it
    const sd = Math.sqrt(data.reduce((s, v) => s + (v - one.estimate) ** 2, 0) / data.length);
    expect(one.upper - one.lower).toBeGreaterThan(0.8 * 2 * 1.96 * sd / Math.sqrt(200));
    expect(one.upper - one.lower).toBeLessThan(1.2 * 2 * 1.96 * sd / Math.sqrt(200));
  });

  it('a constant sample has a zero-width interval', () => {
    expect(bootstrapMean([3, 3, 3, 3], { seed: 1, resamples: 100 })).toMatchObject({ estimate: 3, lower: 3, upper: 3 });
  });
});

describe('paired accuracy', () => {
  const base = [true, true, true, false, false, true];
  const comp = [true, false, true, true, false, false];
  it('counts flips and agreement', () => {
    expect(countFlips(base, comp)).toEqual({ bothRight: 2, bothWrong: 1, rightToWrong: 2, wrongToRight: 1, agreementRate: 0.5 });
    expect(() => countFlips([true], [])).toThrow(/length/);
  });

  it('difference and retention estimates equal the hand-computed values', () => {
    const b = base.map(Number), c = comp.map(Number);
    const diff = pairedAccuracyDifference(b, c, { seed: 3, resamples: 300 });
    expect(diff.estimate).toBeCloseTo(3 / 6 - 4 / 6, 12);
    expect(diff.lower).toBeLessThanOrEqual(diff.estimate);
    expect(diff.upper).toBeGreaterThanOrEqual(diff.estimate);
    const ret = pairedRetention(b, c, { seed: 3, resamples: 300 });
    expect(ret.estimate).toBeCloseTo(3 / 4, 12);
  });

  it('identical runs have a zero difference with zero width', () => {
    const b = [1, 0, 1, 1, 0];
    expect(pairedAccuracyDifference(b, b, { seed: 1, resamples: 200 })).toMatchObject({ estimate: 0, lower: 0, upper: 0 });
    expect(pairedRetention(b, b, { seed: 1, resamples: 200 })).toMatchObject({ estimate: 1, lower: 1, upper: 1 });
  });
});

describe('latency and memory reductions', () => {
  it('relative reduction is 1 - compressed/baseline', () => {
    expect(relativeReduction(15.23e9, 5.57e9)).toBeCloseTo(0.6343, 4);
    expect(relativeReduction(0, 1)).toBeNull();
    expect(relativeReduction(NaN, 1)).toBeNull();
  });

  it('paired resampling of a constant ratio gives a zero-width interval; unpaired does not', () => {
    const baseline = { values: Array.from({ length: 50 }, (_, i) => 100 + i * 3) };
    const compressed = { values: baseline.values.map((v) => v * 0.8) };
    const paired = latencyReductionPaired(baseline, compressed, { seed: 5, resamples: 400 });
    expect(paired.estimate).toBeCloseTo(0.2, 12);
    expect(paired.lower).toBeCloseTo(0.2, 12);
    expect(paired.upper).toBeCloseTo(0.2, 12);
    const unpaired = latencyReductionUnpaired(baseline, compressed, { seed: 5, resamples: 400 });
    expect(unpaired.estimate).toBeCloseTo(0.2, 12);
    expect(unpaired.upper - unpaired.lower).toBeGreaterThan(0.02);
    expect(unpaired.lower).toBeLessThan(0.2);
    expect(unpaired.upper).toBeGreaterThan(0.2);
  });

  it('weighted samples pool ITL gaps over requests', () => {
    // request 1: 3 gaps of mean 10; request 2: 1 gap of 30 -> pooled mean (30 + 30) / 4 = 15
    expect(weightedMean({ values: [10, 30], weights: [3, 1] })).toBe(15);
  });
});

describe('several samples per question', () => {
  it('pass@1 is the mean over samples', () => {
    expect(passAt1([true, false, true, true])).toBe(0.75);
    expect(passAt1([])).toBeNaN();
  });
  it('majority vote picks the most frequent letter; ties go to the one that got there first', () => {
    expect(majorityLetter(['B', 'A', 'B', null])).toBe('B');
    expect(majorityLetter(['A', 'B', 'B', 'A'])).toBe('B');
    expect(majorityLetter([null, null])).toBeNull();
    expect(majorityVoteCorrect(['C', 'C', 'D'], 'C')).toBe(true);
    expect(majorityVoteCorrect(['C', 'D', 'D'], 'C')).toBe(false);
  });
});
