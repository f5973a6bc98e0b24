// Multiple choice by likelihood for in-process runners, as lm-evaluation-harness's `multiple_choice`
// does it: every answer letter is the continuation " " + letter of a context, context and continuation
// are tokenised together and split where the context's own tokens stop matching, and the letter's
// log-probability is the sum of its tokens' log-probabilities. The pieces here know no engine.
import { InputError } from '../core/errors.js';

/** Checks a request's `letters`: at least one, each a non-empty string, none twice. Returns them. */
export function checkLetters(letters: unknown): string[] {
  if (!Array.isArray(letters) || letters.length === 0) {
    throw new InputError('letters is empty: there is no answer letter to score', { field: 'letters' },
      'give the item at least one option letter');
  }
  const bad = letters.find((l) => typeof l !== 'string' || l.length === 0);
  if (bad !== undefined) {
    throw new InputError(`letters holds an empty or non-string letter (${JSON.stringify(bad)})`, { field: 'letters' },
      'option letters are non-empty strings such as "A"');
  }
  const seen = new Set<string>();
  for (const l of letters as string[]) {
    if (seen.has(l)) {
      throw new InputError(`letters holds "${l}" twice: each letter gets one log-probability`, { field: 'letters' },
        'list every option letter once');
    }
    seen.add(l);
  }
  return letters as string[];
}

/** Length of the common prefix of two token sequences. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Where one letter's tokens start in the joint tokenisation of context + continuation. */
export interface ContinuationSplit {
  /** Tokens of context + continuation, tokenised together. */
  whole: number[];
  /**
   * Context tokens evaluated: whole.slice(0, contextLength). Equals the context's own token count unless
   * a token merges across the boundary, in which case it is the longest common prefix (shorter).
   */
  contextLength: number;
}

/** Splits `whole` (context + continuation tokenised together) against `ctx` (the context alone). */
export function splitContinuation(ctx: readonly number[], whole: number[], what: string): ContinuationSplit {
  const contextLength = commonPrefixLength(ctx, whole);
  if (contextLength === 0) {
    // No token before the continuation, so nothing predicts its first token (no BOS, no template).
    throw new Error(`cannot score ${what}: the context and the continuation share no leading token, so no position predicts the continuation`);
  }
  if (contextLength >= whole.length) {
    throw new Error(`cannot score ${what}: the continuation adds no token after the context`);
  }
  return { whole, contextLength };
}

/**
 * log softmax(logits)[id] in float64: the largest logit subtracted before exponentiating (log-sum-exp),
 * over the whole vocabulary. -Infinity logits count as probability 0.
 */
export function logSoftmaxAt(logits: ArrayLike<number>, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= logits.length) {
    throw new Error(`token id ${id} is outside the model's ${logits.length} logits`);
  }
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity || Number.isNaN(max)) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[id] - max - Math.log(sum);
}
