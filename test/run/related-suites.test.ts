// The related sets go through the same pipeline as MedQA: a suite names the format and its options
// (MedMCQA cop base, PubMedQA ground truth, MMLU subjects), and the run scores every item.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, tempDir, tinyModel, writeRunnerProfile } from '../helpers/tiny-run.js';

const FIX = join(REPO, 'test/fixtures/datasets');
let model: string;
beforeAll(async () => {
  model = await tinyModel('F32');
});

function suite(dir: string, dataset: string[]): string {
  const file = join(dir, 'suite.yaml');
  writeFileSync(file, ['name: related', 'smokeTest: true', 'dataset:', ...dataset.map((l) => `  ${l}`),
    `prompts: ${join(REPO, 'suites/prompts')}`, 'answerConstraint: letter',
    'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 16', 'load:', '  warmup: 0'].join('\n'));
  return file;
}

describe('related datasets through medeval run', () => {
  it('PubMedQA with the test ground truth: only those PMIDs, three options, context in the prompt', async () => {
    const dir = tempDir();
    const truth = JSON.parse(readFileSync(join(FIX, 'pubmedqa/test_ground_truth.json'), 'utf8')) as Record<string, string>;
    const { results } = await runSuite({
      suite: suite(dir, ['format: pubmedqa', `path: ${join(FIX, 'pubmedqa/ori_pqal.json')}`, `groundTruth: ${join(FIX, 'pubmedqa/test_ground_truth.json')}`]),
      runner: await loadRunnerProfile(writeRunnerProfile(dir, model)), out: join(dir, 'run'), cacheDir: false,
    });
    expect(results.map((r) => r.itemId).sort()).toEqual(Object.keys(truth).map((p) => `pubmedqa-${p}`).sort());
    for (const r of results) {
      expect(r.prompt).toContain('Context:');
      expect(['A', 'B', 'C']).toContain(r.extracted.letter);
      expect(r.gold).toBe({ yes: 'A', no: 'B', maybe: 'C' }[truth[r.itemId.replace('pubmedqa-', '')]!]);
    }
  });

  it('MedMCQA and MMLU: four options, every item scored', async () => {
    for (const dataset of [
      ['format: medmcqa', `path: ${join(FIX, 'medmcqa/validation.jsonl')}`],
      ['format: mmlu', `path: ${join(FIX, 'mmlu')}`, 'subjects: [anatomy]'],
    ]) {
      const dir = tempDir();
      const { results } = await runSuite({
        suite: suite(dir, dataset), runner: await loadRunnerProfile(writeRunnerProfile(dir, model)), out: join(dir, 'run'), cacheDir: false,
      });
      expect(results.length).toBeGreaterThan(0);
      for (const r of results) {
        expect(['A', 'B', 'C', 'D']).toContain(r.extracted.letter);
        expect(r.correct).toBe(r.extracted.letter === r.gold);
      }
    }
  });
});
