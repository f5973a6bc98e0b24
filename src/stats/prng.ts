// A small seeded PRNG so every bootstrap interval in a report is reproducible from the report's seed.
// mulberry32: 32-bit state, passes the usual smoke tests, and is plenty for resampling indices.

export type Random = () => number;

/** mulberry32 started from `state` as given: uniform floats in [0, 1), identical on every platform. */
export function mulberry32(state: number): Random {
  let a = state >>> 0;
  return () => {
    a = nextState(a);
    return stateOutput(a);
  };
}

// The two halves of one mulberry32 step, for hot loops that keep the state in a local variable (a
// closure call per draw costs more than the draw): `a = nextState(a); x = stateOutput(a)` is random().

/** mulberry32's state after one step. */
export function nextState(a: number): number {
  return (a + 0x6d2b79f5) >>> 0;
}

/** The float in [0, 1) that mulberry32 returns for a state. */
export function stateOutput(a: number): number {
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The state seededRandom(seed) starts from. */
export function seedState(seed: number): number {
  return (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/** Returns a function giving uniform floats in [0, 1), fully determined by `seed` (mixed, so seed 0 is fine). */
export function seededRandom(seed: number): Random {
  return mulberry32(seedState(seed));
}

/** Uniform integer in [0, n). */
export function randomIndex(random: Random, n: number): number {
  return Math.floor(random() * n);
}
