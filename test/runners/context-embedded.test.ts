// The embedded llama.cpp runner never shifts or cuts its context (issue 10 items 3 and 4): a suite whose
// maxTokens (32768, as the shipped MedQA suite) is far past the runner's contextSize runs, each item capped
// to what fits and ending at the context limit; a prompt that alone fills the context is an error item; if
// the engine still runs out of room the item fails at once instead of compressing the history.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import type { ItemResult } from '../../src/core/types.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema } from '../../src/runners/llama-embedded.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';
import { REPO, tempDir, tinyModel } from '../helpers/tiny-run.js';

let model: string;
beforeAll(async () => {
  model = await tinyModel('Q4_0');
});

function medqaSuite(dir: string, data: string, maxTokens: number): string {
  const file = join(dir, 'medqa.yaml');
  writeFileSync(file, [
    'name: medqa-shaped', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
    'sampling:', '  temperature: 0.6', '  topP: 0.95', `  maxTokens: ${maxTokens}`, 'load:', '  profile: sequential', '  warmup: 1',
  ].join('\n'));
  return file;
}

describe('embedded runner: the context is never shifted', () => {
  it("maxTokens 32768 on a 2048-token context (the shipped MedQA suite with the demo runner's contextSize): every item runs, capped to what fits, none shifted", async () => {
    const dir = tempDir('medeval-ctx-');
    const data = writeMedqaShaped(dir, 4, { words: 150, longAt: [0], longWords: 1500 });
    const profile = join(dir, 'tiny.yaml');
    writeFileSync(profile, `kind: llama-cpp-embedded\nlabel: tiny-q4\nmodel: ${model}\nthreads: 1\ncontextSize: 2048\n`);
    const events: string[] = [];
    const { results } = await runSuite({
      suite: medqaSuite(dir, data, 32768), runner: await loadRunnerProfile(profile), out: join(dir, 'run'), cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'planned') events.push(`${e.summary.capped} capped, ${e.summary.tooLong} too long`);
      },
    });
    expect(events).toEqual(['3 capped, 1 too long']);
    const journal = readFileSync(join(dir, 'run', 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ItemResult);
    expect(journal).toHaveLength(4);
    expect(results).toHaveLength(4);
    for (const r of journal) {
      const b = r.budget!;
      expect(b).toMatchObject({ requested: 32768, contextSize: 2048 });
      expect(b.promptTokens).toBeGreaterThan(0);
      if (b.promptTokens! >= 2047) {
        // The 1,500-word question: refused, not scored, the message names the setting to change.
        expect(r.error).toMatchObject({ kind: 'prompt-too-long' });
        expect(r.error!.message).toMatch(/contextSize in the runner profile/);
        expect(r.correct).toBeNull();
        continue;
      }
      expect(r.error).toBeUndefined();
      expect(b.maxTokens).toBe(2048 - b.promptTokens! - 1);
      expect(r.promptTokens).toBe(b.promptTokens);
      expect(r.outputTokens!).toBeLessThanOrEqual(b.maxTokens);
      // A random model does not stop on its own: it runs into the limit, which counts as truncated (wrong).
      if (r.finishReason === 'length') {
        expect(r.extracted.status === 'truncated' || r.extracted.status === 'answered').toBe(true);
        expect(r.correct === false || r.extracted.status === 'answered').toBe(true);
      }
    }
  }, 240_000);

  it("adds no system turn of its own: a prompt without one is counted without node-llama-cpp's default system prompt", async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 512,
    }));
    try {
      const user = [{ role: 'user' as const, content: 'Which letter?' }];
      const bare = await runner.countPromptTokens(user);
      // node-llama-cpp's default system prompt ("You are a helpful, respectful and honest assistant...") is
      // ~160 tokens on this model; a bare question counted 174 with it, 13 without.
      expect(bare).toBeLessThan(40);
      const withSystem = await runner.countPromptTokens([{ role: 'system', content: 'You are a careful examiner. '.repeat(8) }, ...user]);
      expect(withSystem - bare).toBeGreaterThan(20);
      const g = await runner.generate({ messages: user, sampling: { temperature: 0, topP: 1, maxTokens: 4 } });
      expect(g.promptTokens).toBe(bare);
    } finally {
      await runner.close();
    }
  });

  it('if the engine still runs out of room, the item fails at once (context-shift) instead of compressing the history', async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({
      kind: 'llama-cpp-embedded', label: 'tiny', model, threads: 1, contextSize: 512,
    }));
    try {
      const messages = [{ role: 'user' as const, content: 'word '.repeat(60) }];
      const real = await runner.countPromptTokens(messages);
      // A planning step that got the count wrong (far too low): the budget would overrun the context.
      const err = await runner.generate({ messages, sampling: { temperature: 0.8, topP: 0.95, maxTokens: 32768, seed: 1 }, promptTokens: 5 })
        .catch((e: Error) => e);
      expect(err).toMatchObject({ kind: 'context-shift' });
      expect((err as Error).message).toMatch(/context of 512 tokens filled .*would have shifted it/);
      // The runner is still usable: the next item starts from an empty context and fits.
      const g = await runner.generate({ messages, sampling: { temperature: 0, topP: 1, maxTokens: 8 }, promptTokens: real });
      expect(g.promptTokens).toBe(real);
      expect(g.outputTokens).toBeLessThanOrEqual(8);
    } finally {
      await runner.close();
    }
  }, 120_000);
});
