// A real llama-server (512-token slot) refused medeval's warm-up: it was sized in characters to the median
// fitting prompt, but its filler tokenised into more tokens (545) than the measured text. The warm-up is
// now shortened until the engine's count fits the context with the warm-up's budget.
import { describe, expect, it } from 'vitest';
import { fittedWarmupPrompt, warmupPrompt } from '../../src/run/warmup.js';

describe('fittedWarmupPrompt', () => {
  // A tokenizer that splits the warm-up filler finer than the measured prompts: one token per 1.8 characters.
  const tokens = (p: string) => Math.ceil(p.length / 1.8);
  const measured = ['Q. ' + 'x'.repeat(900), 'Q. ' + 'y'.repeat(1000), 'Q. ' + 'z'.repeat(1100)];
  const context = 512;
  const fits = async (p: string) => context - tokens(p) - 1 >= 16;

  it('the character-sized warm-up does not fit this context', () => {
    expect(tokens(warmupPrompt(measured))).toBeGreaterThan(context);
  });

  it('is cut until the count fits, keeping its lead and its reply line', async () => {
    const p = await fittedWarmupPrompt(measured, measured, fits);
    expect(await fits(p)).toBe(true);
    expect(p.length).toBeGreaterThan(300); // still about as long as the context allows
    expect(measured.some((m) => m.charAt(0) === p.charAt(0))).toBe(false);
    expect(p.endsWith('Reply with the letter A.')).toBe(true);
  });

  it('keeps the full length when it fits', async () => {
    const p = await fittedWarmupPrompt(measured, measured, async () => true);
    expect(p).toBe(warmupPrompt(measured));
  });
});
