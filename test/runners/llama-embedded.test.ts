// The embedded runner resolves its chat wrapper once per model load and shares it between items (issue 16):
// the wrapper must carry nothing from one item to the next. What the engine itself evaluated (the sequence's
// token meter and its context tokens) shows it: an item after others evaluates exactly what it does first.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LlamaContextSequence } from 'node-llama-cpp';
import type { ChatMessage } from '../../src/core/types.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema, type LlamaEmbeddedRunner } from '../../src/runners/llama-embedded.js';
import { tinyModel } from '../helpers/tiny-run.js';

let model: string;
beforeAll(async () => {
  model = await tinyModel('Q4_0');
});

/** What the engine evaluated for one generation: input tokens it metered and the context it ended with. */
async function engineView(runner: LlamaEmbeddedRunner, messages: ChatMessage[]) {
  // The runner's one sequence (private): read, never driven, by the test.
  const sequence = (runner as unknown as { sequence: LlamaContextSequence }).sequence;
  const before = sequence.tokenMeter.getState();
  const g = await runner.generate({ messages, sampling: { temperature: 0, topP: 1, maxTokens: 4, seed: 1 } });
  return {
    promptTokens: g.promptTokens,
    inputTokens: sequence.tokenMeter.diff(before).usedInputTokens,
    promptContext: sequence.contextTokens.slice(0, g.promptTokens ?? 0),
  };
}

describe('embedded runner: one chat wrapper per model load', () => {
  it('names the wrapper "auto" resolved to', async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 1024,
    }));
    try {
      const d = await runner.describe();
      expect(d.extra).toMatchObject({ chatWrapper: 'auto' });
      expect(typeof d.extra!.chatWrapperResolved).toBe('string');
      expect(d.extra!.chatWrapperResolved).not.toBe('');
    } finally {
      await runner.close();
    }
  });

  it("items stay independent: an item after a long one and after one with a system prompt evaluates exactly the tokens it does first", async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 1024,
    }));
    try {
      const short: ChatMessage[] = [{ role: 'user', content: 'Which letter?' }];
      const first = await engineView(runner, short);
      expect(first.promptTokens).toBeGreaterThan(0);
      // The engine evaluates the prompt (its last token goes in with the first sampling step, metered apart).
      expect(first.inputTokens).toBeGreaterThanOrEqual(first.promptTokens! - 1);
      expect(first.inputTokens).toBeLessThanOrEqual(first.promptTokens!);
      const long = await engineView(runner, [{ role: 'user', content: 'A patient with fever and cough for three days. '.repeat(8) }]);
      expect(long.inputTokens).toBeGreaterThan(first.inputTokens + 40);
      const withSystem = await engineView(runner, [{ role: 'system', content: 'You are a careful examiner. '.repeat(4) }, ...short]);
      expect(withSystem.inputTokens).toBeGreaterThan(first.inputTokens + 10);
      // A history (or a system turn) carried over would be evaluated again here: it is not.
      const again = await engineView(runner, short);
      expect(again).toEqual(first);
    } finally {
      await runner.close();
    }
  }, 120_000);
});
