// Several samples per question (sampled decoding): pass@1 is the mean correctness over samples
// (DeepSeek-R1's protocol, inspect_ai's "mean" reducer); majority vote picks the most frequent letter.

/** pass@1 of one question: the share of its samples that were correct. */
export function passAt1(correct: readonly boolean[]): number {
  if (correct.length === 0) return NaN;
  let k = 0;
  for (const c of correct) if (c) k++;
  return k / correct.length;
}

/**
 * The most frequent non-null letter over samples (in sample order); ties go to the letter that
 * reached the top count first, so the result does not depend on letter order. null: no letter at all.
 */
export function majorityLetter(letters: readonly (string | null)[]): string | null {
  const counts = new Map<string, number>();
  let best: string | null = null;
  let bestCount = 0;
  for (const l of letters) {
    if (l === null) continue;
    const n = (counts.get(l) ?? 0) + 1;
    counts.set(l, n);
    if (n > bestCount) {
      best = l;
      bestCount = n;
    }
  }
  return best;
}

/** Majority-vote correctness of one question. */
export function majorityVoteCorrect(letters: readonly (string | null)[], gold: string): boolean {
  return majorityLetter(letters) === gold;
}
