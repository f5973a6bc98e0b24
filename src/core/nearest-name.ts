// "Did you mean ...?" for a misspelt key, value or flag: the closest known name, only when it is close
// enough to be the likely intent (a far "closest" name misleads more than no suggestion).
import { distance } from 'fastest-levenshtein';

/** Case, '-', '_' and spaces do not count: `max_tokens` and `max-tokens` are near `maxTokens`. */
function folded(s: string): string {
  return s.toLowerCase().replace(/[-_\s]/g, '');
}

/** The known name nearest to `word`, or undefined when none is within a third of its length (at least 1, at most 3 edits). */
export function nearestName(word: string, known: readonly string[]): string | undefined {
  const w = folded(word);
  const limit = Math.min(3, Math.max(1, Math.floor(w.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    if (k === word) continue;
    const f = folded(k);
    const d = distance(w, f);
    // An edit count as long as a word rewrites it whole: that is no spelling of it.
    if (d < bestDistance && d < Math.min(w.length, f.length)) [best, bestDistance] = [k, d];
  }
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "x"?)`, or '' when nothing is near. */
export function didYouMean(word: string, known: readonly string[]): string {
  const n = nearestName(word, known);
  return n === undefined ? '' : ` (did you mean "${n}"?)`;
}
