// The chance level of a run: the accuracy a uniform guess among the options shown would expect, the mean
// of 1/options over the scored answers (MedQA's 4- and 5-option sets mixed give a value between 20% and
// 25%). Reports draw it as a line under every accuracy; null when some scored record's option count is
// unknown (no optionCount and no option lines in its prompt), since a guess at it would mislead.
import { optionsFromPrompt } from '../core/prompt-options.js';
import type { ItemResult } from '../core/types.js';

function optionCount(r: Pick<ItemResult, 'optionCount' | 'prompt'>): number | null {
  if (r.optionCount !== undefined) return r.optionCount;
  const shown = r.prompt ? optionsFromPrompt(r.prompt) : null;
  return shown ? Object.keys(shown).length : null;
}

export function chanceAccuracy(results: ReadonlyArray<Pick<ItemResult, 'optionCount' | 'prompt' | 'correct'>>): number | null {
  let sum = 0;
  let n = 0;
  for (const r of results) {
    if (r.correct === null) continue;
    const k = optionCount(r);
    if (!k) return null;
    sum += 1 / k;
    n++;
  }
  return n ? sum / n : null;
}
