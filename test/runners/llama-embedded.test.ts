// The embedded runner resolves its chat wrapper once per model load and shares it between items (issue 16):
// the wrapper must carry nothing from one item to the next. What the engine itself evaluated (the sequence's
// token meter and its context tokens) shows it: an item after others evaluates exactly what it does first.
import { beforeAll, describe, expect, it } from 'vitest';
import { LlamaText, type LlamaContextSequence } from 'node-llama-cpp';
import type { ChatMessage, GenerateRequest } from '../../src/core/types.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema, readGgufSummary, type LlamaEmbeddedRunner } from '../../src/runners/llama-embedded.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, tempDir, tinyModel } from '../helpers/tiny-run.js';

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

// The runner reads its model summary from the header loadModel parsed (one parse per load, issue 16): the
// same figures as reading the file on its own, and a file that is no GGUF is still refused as an input error.
describe('embedded runner: the GGUF header parsed once per load', () => {
  it('describes the model exactly as readGgufSummary reads the file', async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({ kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 512 }));
    try {
      const d = await runner.describe();
      const s = await readGgufSummary(model);
      expect(s.parameters).toBeGreaterThan(0);
      expect({ architecture: d.architecture, parameters: d.parameters, fileBytes: d.fileBytes, tensorTypes: d.tensorTypes, quantization: d.quantization, name: d.extra!.modelName })
        .toEqual({ architecture: s.architecture, parameters: s.parameters, fileBytes: s.fileBytes, tensorTypes: s.tensorTypes, quantization: s.quantization, name: s.name ?? null });
    } finally {
      await runner.close();
    }
  });

  it('refuses a file that is not a GGUF as an input error naming the file', async () => {
    const bad = join(tempDir('medeval-gguf-'), 'not-a-model.gguf');
    writeFileSync(bad, 'not a model, only text '.repeat(20));
    const made = createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({ kind: 'llama-cpp-embedded', label: 'bad', model: bad }));
    await expect(made).rejects.toBeInstanceOf(InputError);
    await expect(made).rejects.toThrow(/not a readable GGUF file: .*not-a-model\.gguf/);
  });
});

// The demo's runner profiles name DeepSeek-R1's wrapper instead of "auto" (issue 16: "auto" checks the GGUF's
// template against every known wrapper, about 0.25 s of CPU per load). make-model writes DeepSeek-R1's
// template, so "auto" resolves to that same wrapper with the same settings: every reply is the same.
describe('the demo profiles: the wrapper "auto" resolves to, named', () => {
  it('the demo profiles say deepseek, and on a made model it is the wrapper auto resolves to, with the same replies', async () => {
    for (const f of ['demo-f32.yaml', 'demo-q4_0.yaml']) {
      expect((await loadRunnerProfile(join(REPO, 'runners', f))).profile).toMatchObject({ chatWrapper: 'deepseek' });
    }
    const make = (chatWrapper: 'auto' | 'deepseek') => createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: `tiny-${chatWrapper}`, model, threads: 1, contextSize: 1024, chatWrapper,
    }));
    const auto = await make('auto');
    const named = await make('deepseek');
    try {
      const wrapperOf = (r: LlamaEmbeddedRunner) => JSON.stringify((r as unknown as { chatWrapper: unknown }).chatWrapper,
        (_k, v: unknown) => (v instanceof LlamaText ? v.toJSON() : v));
      expect((await named.describe()).extra!.chatWrapperResolved).toBe((await auto.describe()).extra!.chatWrapperResolved);
      expect(wrapperOf(named)).toBe(wrapperOf(auto));
      const question: ChatMessage[] = [{ role: 'user', content: 'A patient with fever and cough for three days. Which letter? A) flu B) cold' }];
      const requests: GenerateRequest[] = [
        // The demo's shape: its sampling and the "Answer: <letter>" grammar.
        { messages: question, sampling: { temperature: 0.6, topP: 0.95, seed: 1, maxTokens: 24 }, constrain: { letters: ['A', 'B', 'C', 'D', 'E'], prefix: 'Answer: ' } },
        { messages: question, sampling: { temperature: 0, topP: 1, seed: 1, maxTokens: 32 } },
        { messages: [{ role: 'system', content: 'You are a careful examiner.' }, ...question], sampling: { temperature: 0.8, topP: 0.9, seed: 3, maxTokens: 32, stop: ['\n\n'] } },
      ];
      for (const req of requests) {
        expect(await named.countPromptTokens(req.messages)).toBe(await auto.countPromptTokens(req.messages));
        const [a, b] = [await auto.generate(req), await named.generate(req)];
        expect(b.outputTokens).toBeGreaterThan(0);
        expect({ rawText: b.rawText, reasoning: b.reasoning, promptTokens: b.promptTokens, outputTokens: b.outputTokens, finishReason: b.finishReason })
          .toEqual({ rawText: a.rawText, reasoning: a.reasoning, promptTokens: a.promptTokens, outputTokens: a.outputTokens, finishReason: a.finishReason });
      }
    } finally {
      await auto.close();
      await named.close();
    }
  }, 120_000);
});

// node-llama-cpp gives a chat session a default thought budget (half the context below 8,192 tokens) and, once
// it is spent, closes the <think> segment itself: the model then goes on after a </think> it never wrote. The
// runner turns the budget off, so a long reasoning is the model's own up to maxTokens (llama-server's default).
describe('embedded runner: no thought budget of its own', () => {
  it('a thought longer than half the context is not closed for the model', async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 256, chatWrapper: 'deepseek',
    }));
    try {
      // The grammar makes the random model write one long thought: 180 words, past the 128-token default budget.
      const thought = ' patient'.repeat(180);
      const g = await runner.generate({
        messages: [{ role: 'user', content: 'Which letter?' }],
        sampling: { temperature: 0, topP: 1, maxTokens: 220, seed: 1 },
        constrain: { letters: ['A'], prefix: '<think>' + thought + '</think>Answer: ' },
      });
      expect(g.outputTokens).toBeGreaterThan(128);
      expect(g.finishReason).toBe('length');
      expect(g.reasoning).not.toBeNull();
      expect(g.rawText.startsWith('<think>')).toBe(true);
      // Still inside the thought when maxTokens ran out: no </think> anywhere in what the model wrote.
      expect(g.rawText).not.toContain('</think>');
      // Word for word what the grammar made it write (the wrapper drops the space after <think>), cut at maxTokens.
      expect(g.rawText.length).toBeGreaterThan(200);
      expect(thought.trimStart().startsWith(g.rawText.slice('<think>'.length))).toBe(true);
    } finally {
      await runner.close();
    }
  }, 120_000);
});
