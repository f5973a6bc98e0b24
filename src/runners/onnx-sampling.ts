// Next-token choice for the ONNX runner, with the same SamplingParams every runner takes.
// temperature <= 0 (or topK 1) is greedy; otherwise the filters run in Hugging Face's order:
// temperature, top_k, top_p, min_p; then one draw from a seeded PRNG, so a seed reproduces a run.
import type { SamplingParams } from '../core/types.js';
import { mulberry32 } from '../stats/prng.js';

/** A seeded uniform [0, 1) generator (mulberry32): small, fast and identical on every platform. */
export const seededRng = mulberry32;

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

export function isGreedy(s: Pick<SamplingParams, 'temperature' | 'topK'>): boolean {
  return s.temperature <= 0 || s.topK === 1;
}

/**
 * Tokens whose scaled logit is this far below the best have probability < e^-30 relative to it; they are
 * dropped before sorting so a 150k vocabulary does not cost a full sort per token (mass lost < 1e-8).
 */
const NEGLIGIBLE_LOGIT_GAP = 30;

export type Sampling = Pick<SamplingParams, 'temperature' | 'topP' | 'topK' | 'minP'>;

export function sampleToken(logits: ArrayLike<number>, s: Sampling, rand: () => number): number {
  if (isGreedy(s)) return argmax(logits);
  const t = s.temperature;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const floor = max - NEGLIGIBLE_LOGIT_GAP * t;
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = s.topK && s.topK > 0 ? ids.slice(0, s.topK) : ids;
  let probs = softmax(kept.map((i) => logits[i] / t));
  if (s.topP > 0 && s.topP < 1) {
    // Smallest prefix whose mass reaches top_p (always at least one token).
    let cum = 0;
    let n = 0;
    while (n < probs.length) {
      cum += probs[n++];
      if (cum >= s.topP) break;
    }
    kept = kept.slice(0, n);
    probs = softmax(kept.map((i) => logits[i] / t));
  }
  if (s.minP && s.minP > 0) {
    const limit = probs[0] * s.minP;
    const n = Math.max(1, probs.filter((p) => p >= limit).length);
    kept = kept.slice(0, n);
    probs = softmax(kept.map((i) => logits[i] / t));
  }
  let r = rand();
  for (let i = 0; i < kept.length; i++) {
    r -= probs[i];
    if (r < 0) return kept[i];
  }
  return kept[kept.length - 1];
}

function softmax(xs: number[]): number[] {
  const m = xs.reduce((a, b) => (b > a ? b : a), -Infinity);
  const e = xs.map((x) => Math.exp(x - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}
