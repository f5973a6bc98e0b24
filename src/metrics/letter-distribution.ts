// Comparing two models' answer-letter distributions (likelihood scoring): the quantised model's
// fidelity to its baseline on each question, in the spirit of llama-perplexity's KL-divergence mode,
// but over the option letters only (each distribution renormalised over them), not the whole vocabulary.

/** Probabilities over `letters` from natural-log scores, renormalised (a stable softmax). */
export function letterDistribution(logprobs: Record<string, number>, letters: readonly string[]): number[] {
  const xs = letters.map((l) => logprobs[l] ?? -Infinity);
  const max = Math.max(...xs);
  if (!Number.isFinite(max)) return letters.map(() => 1 / letters.length);
  const e = xs.map((x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** KL(p || q) in nats; terms where p is 0 add nothing; q of 0 where p is not gives Infinity. */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi === 0) continue;
    const qi = q[i]!;
    if (qi === 0) return Infinity;
    kl += pi * Math.log(pi / qi);
  }
  return Math.max(0, kl);
}

/** Index of the largest value (the first one on a tie). */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/** Total probability the letters got before renormalising: how much the model took the answer format. */
export function letterMass(logprobs: Record<string, number>, letters: readonly string[]): number {
  return letters.reduce((s, l) => s + Math.exp(logprobs[l] ?? -Infinity), 0);
}
