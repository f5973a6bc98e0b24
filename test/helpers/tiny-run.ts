// Shared set-up for tests that run the real pipeline: a tiny GGUF model (made once, cached) and a suite
// and runner profile written into a temporary folder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureTinyModels } from '../../src/models/make-models.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const SAMPLE = join(REPO, 'datasets/sample/usmle-sample.jsonl');

export async function tinyModel(format: 'F32' | 'Q4_0' = 'F32'): Promise<string> {
  const [m] = await ensureTinyModels({ dir: join(REPO, '.cache/test-models'), preset: 'test', formats: [format], seed: 7 });
  return m!.file;
}

export function tempDir(prefix = 'medeval-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A suite over the bundled sample, greedy, by default constrained to "Answer: X" so a random model answers.
 * `load` replaces the load section (YAML lines under `load:`).
 */
export function writeSuite(dir: string, opts: { constrain?: boolean; load?: string } = {}): string {
  const file = join(dir, 'suite.yaml');
  writeFileSync(file, [
    'name: tiny-test',
    'smokeTest: true',
    'dataset:',
    '  format: medqa',
    `  path: ${SAMPLE}`,
    `prompts: ${join(REPO, 'suites/prompts')}`,
    opts.constrain === false ? '' : 'answerConstraint: letter',
    'sampling:',
    '  temperature: 0',
    '  topP: 1',
    '  maxTokens: 16',
    'load:',
    opts.load ?? '  warmup: 1',
  ].join('\n'));
  return file;
}

export function writeRunnerProfile(dir: string, model: string, label = 'tiny-f32'): string {
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, `kind: llama-cpp-embedded\nlabel: ${label}\nmodel: ${model}\nthreads: 1\ncontextSize: 2048\n`);
  return file;
}
