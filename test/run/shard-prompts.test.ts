// A shard run renders each item's prompt as the unsharded run does: the question type found in the run's
// first pass is kept per item of the whole dataset and looked up through the shard's positions, so a
// wrong mapping would give an item another item's type (and template) here.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import type { ItemResult } from '../../src/core/types.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, SAMPLE, tempDir } from '../helpers/tiny-run.js';

const journal = (dir: string): ItemResult[] => readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ItemResult);

describe('shard runs', () => {
  it('give every item the prompt, type, reason and template of the unsharded run', async () => {
    const dir = tempDir();
    // The sample, with a stated type on every third item (kept as "dataset") and the rest classified.
    const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n').map((l, i) => {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (i % 3 === 0) o.question_type = ['ethics', 'pharmacology', 'management'][i % 9 / 3]!;
      return JSON.stringify(o);
    });
    const data = join(dir, 'test.jsonl');
    writeFileSync(data, lines.join('\n') + '\n');
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: shard-prompts', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
      'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8', 'load:', '  warmup: 0', ''].join('\n'));
    writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({ default: true, text: 'Answer: A' }) + '\n');
    const profile = join(dir, 'scripted.yaml');
    writeFileSync(profile, 'kind: scripted\nlabel: shard-prompts\nscript: ./script.jsonl\n');
    const runner = await loadRunnerProfile(profile);

    await runSuite({ suite, runner, out: join(dir, 'all'), cacheDir: false });
    const all = new Map(journal(join(dir, 'all')).map((r) => [r.itemId, r]));
    expect(all.size).toBe(lines.length);
    expect(new Set([...all.values()].map((r) => r.typeReason)).has('dataset')).toBe(true);
    expect(new Set([...all.values()].map((r) => r.questionType)).size).toBeGreaterThan(3);
    let seen = 0;
    for (const index of [0, 1, 2]) {
      const out = join(dir, `shard-${index}`);
      await runSuite({ suite, runner, out, cacheDir: false, shard: { index, count: 3, source: `--shard ${index}/3` } });
      for (const r of journal(out)) {
        const u = all.get(r.itemId)!;
        expect({ prompt: r.prompt, questionType: r.questionType, typeReason: r.typeReason, template: r.template })
          .toEqual({ prompt: u.prompt, questionType: u.questionType, typeReason: u.typeReason, template: u.template });
        seen++;
      }
    }
    expect(seen).toBe(all.size);
  });
});
