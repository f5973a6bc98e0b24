import { describe, expect, it } from 'vitest';
import { binomialHalfCdf, chiSquare1Survival } from '../../src/stats/binomial.js';
import { mcnemar } from '../../src/stats/mcnemar.js';

describe('McNemar exact test', () => {
  it('matches hand-computed exact p for small counts', () => {
    // n=7: P(X<=1) = (1+7)/128, two-sided 16/128
    expect(mcnemar(1, 6).exactP).toBeCloseTo(0.125, 12);
    expect(mcnemar(6, 1).exactP).toBeCloseTo(0.125, 12);
    // n=5: P(X<=0) = 1/32, two-sided 1/16
    expect(mcnemar(0, 5).exactP).toBeCloseTo(0.0625, 12);
    // n=10: P(X<=2) = 56/1024, two-sided 112/1024
    expect(mcnemar(2, 8).exactP).toBeCloseTo(0.109375, 12);
    // equal counts: 2*P(X<=3 | n=6) = 84/64 -> capped at 1
    expect(mcnemar(3, 3).exactP).toBe(1);
  });

  it('gives the mid-p variant: exact p minus P(X = min(b,c))', () => {
    expect(mcnemar(1, 6).midP).toBeCloseTo(0.125 - 7 / 128, 12);
    expect(mcnemar(0, 5).midP).toBeCloseTo(0.03125, 12);
    expect(mcnemar(3, 3).midP).toBeCloseTo(1, 12);
  });

  it('gives the continuity-corrected chi-square and its p', () => {
    const r = mcnemar(1, 6);
    expect(r.chiSquare).toBeCloseTo(16 / 7, 12);
    expect(r.chiSquareP!).toBeCloseTo(0.13057001811573618, 6);
    expect(chiSquare1Survival(3.841458820694124)).toBeCloseTo(0.05, 6);
  });

  it('stays exact for large counts (log-space binomial)', () => {
    const r = mcnemar(400, 500); // exact values computed with Python fractions
    expect(r.exactP).toBeCloseTo(0.0009564441369189461, 9);
    expect(r.midP).toBeCloseTo(0.0008541955361977179, 9);
    expect(r.chiSquareP!).toBeCloseTo(0.000966848284767553, 6);
    expect(binomialHalfCdf(5000, 10000)).toBeGreaterThan(0.5);
  });

  it('handles no discordant pairs and rejects bad counts', () => {
    expect(mcnemar(0, 0)).toEqual({ b: 0, c: 0, exactP: 1, midP: 1, chiSquare: null, chiSquareP: null });
    expect(() => mcnemar(-1, 2)).toThrow(/non-negative integer/);
    expect(() => mcnemar(1.5, 2)).toThrow(/non-negative integer/);
  });
});
