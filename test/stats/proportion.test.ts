import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { normalQuantile, twoSidedZ, wilsonInterval } from '../../src/stats/proportion.js';

// Expected values were computed independently with Python 3's statistics.NormalDist and the closed-form
// Wilson formula, printed to 12 decimals.
describe('twoSidedZ / normalQuantile', () => {
  it('gives the exact critical values, not the rounded 1.96', () => {
    expect(twoSidedZ(0.95)).toBeCloseTo(1.959963984540054, 12);
    expect(twoSidedZ(0.9)).toBeCloseTo(1.6448536269514722, 12);
    expect(twoSidedZ(0.99)).toBeCloseTo(2.5758293035489004, 12);
  });

  it('covers all three regions of AS 241 (centre, tail, far tail)', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.3)).toBeCloseTo(-0.5244005127080407, 12);
    expect(normalQuantile(1e-5)).toBeCloseTo(-4.264890793922825, 10);
    expect(normalQuantile(1e-20)).toBeCloseTo(-9.262340089798408, 8);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it('is antisymmetric: q(p) = -q(1-p)', () => {
    // p >= 1e-4 so that 1 - p is computed without losing the digits the check depends on.
    fc.assert(
      fc.property(fc.double({ min: 1e-4, max: 0.5, noNaN: true }), (p) => {
        expect(normalQuantile(p) + normalQuantile(1 - p)).toBeCloseTo(0, 9);
      }),
    );
  });

  it('rejects confidence levels outside (0, 1)', () => {
    expect(() => twoSidedZ(95)).toThrow(/between 0 and 1/);
    expect(() => twoSidedZ(0)).toThrow(RangeError);
  });
});

describe('wilsonInterval', () => {
  const cases: Array<[number, number, number, number, number]> = [
    // successes, n, estimate, lower, upper
    [0, 10, 0, 0, 0.277532799863],
    [10, 10, 1, 0.722467200137, 1],
    [5, 10, 0.5, 0.236593090513, 0.763406909487],
    [81, 100, 0.81, 0.722211546209, 0.874852484902],
    [1, 1273, 0.000785545954, 0.000138681611, 0.004436247234],
    [921, 1273, 0.723487824038, 0.698273139187, 0.747357754194],
    [1, 1, 1, 0.206549314377, 1],
  ];
  it.each(cases)('%i/%i', (s, n, estimate, lower, upper) => {
    const ci = wilsonInterval(s, n);
    expect(ci.estimate).toBeCloseTo(estimate, 9);
    expect(ci.lower).toBeCloseTo(lower, 9);
    expect(ci.upper).toBeCloseTo(upper, 9);
  });

  it('uses the z of the requested confidence', () => {
    const ci90 = wilsonInterval(81, 100, 0.9);
    expect(ci90.lower).toBeCloseTo(0.737640047672, 9);
    expect(ci90.upper).toBeCloseTo(0.866027465443, 9);
    const ci99 = wilsonInterval(81, 100, 0.99);
    expect(ci99.lower).toBeCloseTo(0.690972894602, 9);
    expect(ci99.upper).toBeCloseTo(0.890450279014, 9);
  });

  it('n = 0 gives NaN and the whole [0, 1]', () => {
    const ci = wilsonInterval(0, 0);
    expect(ci.estimate).toBeNaN();
    expect(ci.lower).toBe(0);
    expect(ci.upper).toBe(1);
  });

  it('always contains the estimate and stays inside [0, 1]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const s = Math.round(f * n);
        const ci = wilsonInterval(s, n);
        expect(ci.lower).toBeGreaterThanOrEqual(0);
        expect(ci.upper).toBeLessThanOrEqual(1);
        expect(ci.lower).toBeLessThanOrEqual(ci.estimate + 1e-12);
        expect(ci.upper).toBeGreaterThanOrEqual(ci.estimate - 1e-12);
      }),
    );
  });

  it('accepts fractional successes (pass@1 means) and rejects impossible counts', () => {
    expect(wilsonInterval(2.5, 5).estimate).toBe(0.5);
    expect(() => wilsonInterval(11, 10)).toThrow(/between 0 and n/);
    expect(() => wilsonInterval(-1, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 2.5)).toThrow(/non-negative integer/);
    expect(() => wilsonInterval(Number.NaN, 10)).toThrow(RangeError);
  });
});
