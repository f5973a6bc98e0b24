// The warm-up prompt. Warm-up requests pay for first-call costs (page faults, allocation, compilation) and
// are thrown away, but with a prompt cache (llama.cpp cache_prompt, vLLM prefix caching) a warm-up that
// reused a measured prompt would leave it cached and flatter that item's TTFT (6 ms against a median of
// 1,784 ms was seen). So the warm-up is a fixed neutral text about as long as a typical measured prompt
// that starts with a character no measured prompt starts with: beyond what a chat template adds, it shares
// no prefix with any of them.

import type { PromptShape } from './plan-budget.js';

const LEADS = ['~', '§', '#', '»', '^', '|', '='] as const;
const FILLER =
  ' Warm-up request, not part of the evaluation. The river runs past the old mill, the bells ring in a' +
  ' distant town, and a cart rolls slowly along the road beside the fields of barley and the orchard wall.';

/** The first characters and median length warmupPromptFor needs, from prompt texts. */
export function promptShapeOf(measured: readonly string[], sized: readonly string[] = measured): PromptShape {
  const lengths = sized.map((p) => p.length).sort((a, b) => a - b);
  return { firsts: new Set(measured.map((p) => p.charAt(0))), medianChars: lengths.length ? lengths[Math.floor(lengths.length / 2)]! : null };
}

/**
 * A neutral prompt that shares no first character with any of `measured`, about the median length of
 * `sized` (the measured prompts that fit the context; all of them by default).
 */
export function warmupPrompt(measured: readonly string[], sized: readonly string[] = measured, chars?: number): string {
  return warmupPromptFor(promptShapeOf(measured, sized), chars);
}

/** warmupPrompt from the prompts' shape alone (a run keeps no prompt texts: plan-budget.ts measures it). */
export function warmupPromptFor(shape: PromptShape, chars?: number): string {
  const lead = LEADS.find((c) => !shape.firsts.has(c)) ?? String.fromCodePoint(0x2042); // ⁂: no template starts so
  const target = chars ?? shape.medianChars ?? FILLER.length;
  let text = lead;
  while (text.length < target) text += FILLER;
  // Cut at a word boundary near the target, then ask for the one-letter reply every suite asks for.
  const cut = text.lastIndexOf(' ', Math.max(target, lead.length + 1));
  return `${cut > lead.length ? text.slice(0, cut) : text}. Reply with the letter A.`;
}

/**
 * warmupPrompt, shortened until `fits` (the engine's own count against its context) accepts it: it is sized
 * in characters, and a tokenizer can split its filler into more tokens than the measured text (a real
 * llama-server with a 512-token slot refused a 545-token warm-up while every planned item fitted).
 */
export async function fittedWarmupPrompt(measured: readonly string[], sized: readonly string[],
  fits: (prompt: string) => Promise<boolean>): Promise<string> {
  return fittedWarmupPromptFor(promptShapeOf(measured, sized), fits);
}

export async function fittedWarmupPromptFor(shape: PromptShape, fits: (prompt: string) => Promise<boolean>): Promise<string> {
  let text = warmupPromptFor(shape);
  if (await fits(text)) return text;
  for (let chars = Math.floor(text.length * 0.7); chars > 1; chars = Math.floor(chars * 0.7)) {
    text = warmupPromptFor(shape, chars);
    if (await fits(text)) return text;
  }
  return warmupPromptFor(shape, 1);
}
