// Exact binomial and multinomial draws from the seeded PRNG. A bootstrap of a statistic that depends on
// the data only through how often each of a few distinct values occurs (0/1 correctness, pass@1 over a
// few samples) needs only those counts per resample, and the counts of n draws with replacement are
// Multinomial(n, frequencies): drawing them directly costs a few steps per value instead of n draws.
import type { Random } from './prng.js';

const TABLE_SIZE = 256;
const LN_FACTORIAL_TABLE = (() => {
  const t = new Float64Array(TABLE_SIZE);
  for (let k = 2; k < TABLE_SIZE; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();

/** ln(k!) for a whole k >= 0: a table below 256, Stirling's series above (error far below 1e-15 there). */
export function lnFactorial(k: number): number {
  if (k < TABLE_SIZE) return LN_FACTORIAL_TABLE[k]!;
  const k2 = k * k;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k * k2) + 1 / (1260 * k * k2 * k2);
}

/**
 * One draw of Binomial(n, p): inversion by chop-down search from the mode outwards (Kemp 1986), so it
 * takes about one step per unit of the standard deviation, whatever n is. Uses one random number.
 */
export function binomialDraw(n: number, p: number, random: Random): number {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const q = 1 - p;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const pMode = Math.exp(lnFactorial(n) - lnFactorial(mode) - lnFactorial(n - mode) + mode * Math.log(p) + (n - mode) * Math.log(q));
  let u = random();
  if (u < pMode) return mode;
  u -= pMode;
  const odds = p / q;
  let lo = mode, hi = mode, pLo = pMode, pHi = pMode;
  while (lo > 0 || hi < n) {
    if (hi < n) {
      pHi *= ((n - hi) / (hi + 1)) * odds;
      hi++;
      if (u < pHi) return hi;
      u -= pHi;
    }
    if (lo > 0) {
      pLo *= lo / ((n - lo + 1) * odds);
      lo--;
      if (u < pLo) return lo;
      u -= pLo;
    }
    // Both tails below the smallest double: what is left of u is rounding.
    if (pHi === 0 && pLo === 0) break;
  }
  return mode;
}

/**
 * One draw of Multinomial(n, counts / total) into `out` (conditional binomials, category by category):
 * how often each category comes up in n draws with replacement from a sample with these counts.
 */
export function multinomialDraw(n: number, counts: ArrayLike<number>, random: Random, out: Float64Array): void {
  let left = n;
  let mass = 0;
  for (let c = 0; c < counts.length; c++) mass += counts[c]!;
  for (let c = 0; c < counts.length - 1; c++) {
    const x = left === 0 ? 0 : binomialDraw(left, counts[c]! / mass, random);
    out[c] = x;
    left -= x;
    mass -= counts[c]!;
  }
  if (counts.length) out[counts.length - 1] = left;
}
