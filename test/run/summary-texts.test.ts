// The run's summary reads its journal back without the texts (run-folder.ts omitTexts): the same summary
// as from the whole records, and the texts gone from every record (fields removed, not left as keys).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResultsFile, readRunFolder } from '../../src/core/run-folder.js';
import { buildRunSummary } from '../../src/run/summary.js';
import { REPO } from '../helpers/tiny-run.js';

describe('the summary from a journal read without texts', () => {
  for (const name of ['baseline-f16', 'compressed-q4']) {
    it(`is the summary of the whole records (${name})`, () => {
      const dir = join(REPO, 'test/fixtures/runs', name);
      const run = readRunFolder(dir);
      const lean = parseResultsFile(join(dir, 'results.jsonl'), { omitTexts: true }).results;
      expect(lean).toHaveLength(run.results.length);
      expect(buildRunSummary(dir, run.manifest, lean)).toEqual(buildRunSummary(dir, run.manifest, run.results));
      for (const r of lean) {
        expect([r.prompt, r.rawOutput, r.typeReason, r.extracted.answerText]).toEqual(['', '', '', '']);
        expect('question' in r || 'questionText' in r || 'likelihoodPrompt' in r).toBe(false);
      }
      // The whole records are untouched by the lean read.
      expect(JSON.parse(readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n')[0]!).prompt).toBe(run.results[0]!.prompt);
    });
  }
});
