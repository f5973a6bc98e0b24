// McNemar's test for two models scored on the same questions. Only the discordant pairs carry
// information: b = baseline right & compressed wrong, c = baseline wrong & compressed right.
// Under H0 (equal accuracy) b ~ Binomial(b + c, 1/2).
import { binomialHalfCdf, binomialHalfPmf, chiSquare1Survival } from './binomial.js';

export interface McNemar {
  b: number;
  c: number;
  /** Exact two-sided p: 2 * P(X <= min(b, c)), capped at 1. */
  exactP: number;
  /** Mid-p: the exact p minus P(X = min(b, c)); closer to nominal size, less conservative. */
  midP: number;
  /** (|b - c| - 1)^2 / (b + c), the continuity-corrected statistic; null when b + c = 0. */
  chiSquare: number | null;
  chiSquareP: number | null;
}

export function mcnemar(b: number, c: number): McNemar {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`McNemar needs non-negative integer counts, got b=${b}, c=${c}`);
  }
  const n = b + c;
  if (n === 0) return { b, c, exactP: 1, midP: 1, chiSquare: null, chiSquareP: null };
  const k = Math.min(b, c);
  const exactP = Math.min(1, 2 * binomialHalfCdf(k, n));
  const midP = Math.min(1, 2 * (binomialHalfCdf(k, n) - 0.5 * binomialHalfPmf(k, n)));
  const chiSquare = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, exactP, midP, chiSquare, chiSquareP: chiSquare1Survival(chiSquare) };
}
