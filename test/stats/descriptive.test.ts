import { describe, expect, it } from 'vitest';
import { mean, percentile, std, summarize } from '../../src/stats/descriptive.js';

describe('descriptive statistics (numpy definitions)', () => {
  it('percentiles use linear interpolation like numpy.percentile', () => {
    // numpy.percentile([1,2,3,4], [50, 90, 99]) -> [2.5, 3.7, 3.97]
    expect(percentile([4, 1, 3, 2], 50)).toBeCloseTo(2.5, 12);
    expect(percentile([4, 1, 3, 2], 90)).toBeCloseTo(3.7, 12);
    expect(percentile([4, 1, 3, 2], 99)).toBeCloseTo(3.97, 12);
    // position (5-1)*0.4 = 1.6 -> 20 + 0.6*(35-20) = 29
    expect(percentile([15, 20, 35, 40, 50], 40)).toBeCloseTo(29, 12);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts numerically, not as strings', () => {
    expect(percentile([10, 9, 100], 0)).toBe(9);
    expect(percentile([10, 9, 100], 100)).toBe(100);
  });

  it('std is the population std (ddof=0)', () => {
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2, 12);
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
  });

  it('summarize gives mean/std/min/max/percentiles and a curve, null when empty', () => {
    const s = summarize([3, 1, 2, 5, 4])!;
    expect(s).toMatchObject({ n: 5, mean: 3, min: 1, max: 5, p50: 3 });
    expect(s.p90).toBeCloseTo(4.6, 12);
    expect(s.p99).toBeCloseTo(4.96, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(2), 12);
    expect(s.curve[0]).toEqual([0, 1]);
    expect(s.curve[s.curve.length - 1]).toEqual([100, 5]);
    expect(summarize([])).toBeNull();
    expect(summarize([NaN])).toBeNull();
  });
});
