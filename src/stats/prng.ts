// A small seeded PRNG so every bootstrap interval in a report is reproducible from the report's seed.
// mulberry32: 32-bit state, passes the usual smoke tests, and is plenty for resampling indices.

export type Random = () => number;

/** mulberry32 started from `state` as given: uniform floats in [0, 1), identical on every platform. */
export function mulberry32(state: number): Random {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns a function giving uniform floats in [0, 1), fully determined by `seed` (mixed, so seed 0 is fine). */
export function seededRandom(seed: number): Random {
  return mulberry32(Math.trunc(seed) ^ 0x9e3779b9);
}

/** Uniform integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.floor(random() * n);
}
