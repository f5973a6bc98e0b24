// The answer options a stored prompt showed, read back from its "A. text" lines (prompts/templates.ts
// formatOptions writes them). rescore re-extracts answers with them; the run-folder reader counts them
// for records made before the record carried optionCount (the chance level).
import type { Letter } from './types.js';

/**
 * The options shown in a prompt: the last block of consecutive "A. text", "B. text", ... lines (two
 * or more, starting at A). null when the prompt shows none (the record cannot be re-extracted).
 */
export function optionsFromPrompt(prompt: string): Record<Letter, string> | null {
  let best: Record<Letter, string> | null = null;
  let block: Record<Letter, string> = {};
  let next = 0;
  const close = () => {
    if (next >= 2) best = block;
    block = {};
    next = 0;
  };
  for (const line of prompt.split('\n')) {
    const m = /^([A-Z])\. (.*)$/.exec(line);
    const expected = String.fromCharCode(65 + next);
    if (m && m[1] === expected) {
      block[expected] = m[2]!;
      next++;
      continue;
    }
    close();
    if (m && m[1] === 'A') {
      block.A = m[2]!;
      next = 1;
    }
  }
  close();
  return best;
}
