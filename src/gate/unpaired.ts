// Difference of two independent proportions, for runs that did not answer the same questions (no
// pairing possible). Newcombe's hybrid score interval (method 10 in Newcombe 1998, Statistics in
// Medicine 17:873-890) is built from the two Wilson intervals, so it inherits their good coverage near
// 0% and 100%, where the Wald interval of a difference misbehaves.
import { erfc } from '../stats/binomial.js';
import { wilsonInterval, type ProportionInterval } from '../stats/proportion.js';

/**
 * Interval of p2 - p1 with p1 = s1/n1 (baseline) and p2 = s2/n2 (current). Successes may be fractional
 * (pass@1 summed over questions). Both n must be positive.
 */
export function newcombeDifference(s1: number, n1: number, s2: number, n2: number, confidence = 0.95): ProportionInterval {
  if (n1 <= 0 || n2 <= 0) throw new RangeError(`newcombeDifference needs two non-empty samples, got n1=${n1}, n2=${n2}`);
  const a = wilsonInterval(s1, n1, confidence);
  const b = wilsonInterval(s2, n2, confidence);
  const p1 = a.estimate, p2 = b.estimate;
  const d = p2 - p1;
  return {
    estimate: d,
    lower: d - Math.sqrt((p2 - b.lower) ** 2 + (a.upper - p1) ** 2),
    upper: d + Math.sqrt((b.upper - p2) ** 2 + (p1 - a.lower) ** 2),
  };
}

/** Two-sided p of the pooled two-proportion z test (H0: p1 = p2); 1 when the pooled rate is 0 or 1. */
export function twoProportionP(s1: number, n1: number, s2: number, n2: number): number {
  const pooled = (s1 + s2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return 1;
  const z = (s2 / n2 - s1 / n1) / se;
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}
