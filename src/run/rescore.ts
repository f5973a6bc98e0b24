// `medeval rescore`: re-extract and re-score a stored run's raw outputs with the current extractor (as
// inspect_ai's `inspect score` does), into a NEW run folder that report, gate and compare read like any
// run. What changed is recorded: manifest.rescoredFrom (the source and the counts) and, on each record
// whose extraction differs, `rescored.previous` (the old extraction and verdict).
// The options come from the stored prompt (the "A. text" lines the model was shown, as
// prompts/templates.ts formatOptions wrote them), so a rescore needs nothing but the run folder.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { readRunFolder, RunFolder } from '../core/run-folder.js';
import { buildRunSummary, summaryMarkdown } from './summary.js';
import type { ItemResult, RescoredFrom, RunManifest } from '../core/types.js';
import { MEDEVAL_VERSION } from '../core/version.js';
import { extractAnswer } from '../scoring/extract.js';
import { optionsFromPrompt } from '../prompts/templates.js';

export interface RescoreOutcome {
  outDir: string;
  manifest: RunManifest;
  /** Warnings from reading the source run (torn last line, superseded records). */
  warnings: string[];
}

// Re-exported where it was first defined (tests and callers import it from here).
export { optionsFromPrompt };

const verdict = (r: Pick<ItemResult, 'correct'>) => (r.correct === true ? 'right' : r.correct === false ? 'wrong' : 'not scored');

/** Re-extract one record; records in error are never scored and pass through unchanged. */
function rescoreRecord(r: ItemResult, file: string): ItemResult {
  if (r.error) return r;
  const options = optionsFromPrompt(r.prompt);
  if (!options) {
    throw new InputError(`record ${r.itemId} (sample ${r.sample}): its prompt shows no "A. text" option lines, so its answer cannot be re-extracted`,
      { file, field: 'prompt' }, 'rescore works on runs whose prompts list the options (every medeval template does)');
  }
  const extracted = extractAnswer(r.rawOutput, options, { reasoning: r.reasoning, finishReason: r.finishReason });
  const correct = extracted.status === 'answered' && extracted.letter === r.gold;
  const { rescored: _old, ...rest } = r;
  const same = extracted.letter === r.extracted.letter && extracted.status === r.extracted.status && extracted.method === r.extracted.method && correct === r.correct;
  return {
    ...rest,
    extracted,
    correct,
    ...(same ? {} : { rescored: { previous: { letter: r.extracted.letter, status: r.extracted.status, method: r.extracted.method, correct: r.correct } } }),
  };
}

/** Rescore the run in `sourceDir` into `outDir` (a new or empty folder; the caller checked the path). */
export function rescoreRun(sourceDir: string, outDir: string, now: Date = new Date()): RescoreOutcome {
  const source = readRunFolder(sourceDir);
  const resultsFile = resolve(sourceDir, 'results.jsonl');
  if (source.manifest.suite.scoring === 'likelihood') {
    throw new InputError('this run was scored by likelihood (answer-letter log-probabilities): it has no generated text to re-extract',
      { file: resolve(sourceDir, 'manifest.json'), field: 'suite.scoring' }, 'rescore only runs that generated replies; a likelihood run is already scored exactly');
  }
  const out = new RunFolder(outDir);
  if (out.dir === resolve(sourceDir)) {
    throw new InputError('--out is the source run folder: rescore never overwrites a run', { field: '--out' }, 'name a new folder, e.g. --out runs/rescored');
  }
  if (out.exists() || existsSync(out.path('summary.json'))) {
    throw new InputError(`${outDir} already holds a run: rescore writes a new run folder`, { field: '--out' }, 'name a new or empty folder');
  }
  const results = source.results.map((r) => rescoreRecord(r, resultsFile));
  const changed = results.filter((r) => r.rescored);
  const count = (from: string, to: string) => changed.filter((r) => verdict(r.rescored!.previous) === from && verdict(r) === to).length;
  const rescoredFrom: RescoredFrom = {
    dir: sourceDir,
    configHash: source.manifest.configHash,
    medevalVersion: source.manifest.medevalVersion,
    createdAt: source.manifest.createdAt,
    at: now.toISOString(),
    records: results.length,
    errorsKept: results.filter((r) => r.error).length,
    changed: changed.length,
    rightToWrong: count('right', 'wrong'),
    wrongToRight: count('wrong', 'right'),
  };
  const manifest: RunManifest = { ...source.manifest, medevalVersion: MEDEVAL_VERSION, createdAt: now.toISOString(), rescoredFrom };
  out.create();
  out.writeJournal(results);
  out.writeManifest(manifest);
  const summary = buildRunSummary(out.dir, manifest, results);
  summary.notes.unshift(rescoreNote(rescoredFrom));
  out.writeAtomic('summary.json', JSON.stringify(summary, null, 2) + '\n');
  // The rescore paragraph goes right under the title, where a reader looks first.
  const md = summaryMarkdown(summary).replace(/\n\n/, `\n\n> ${rescoreNote(rescoredFrom)}\n\n`);
  out.writeAtomic('summary.md', md);
  return { outDir, manifest, warnings: source.warnings };
}

/** One sentence on what a rescore changed (summary.md, summary.json notes, the terminal). */
export function rescoreNote(r: RescoredFrom): string {
  return `Rescored from ${r.dir} (medeval ${r.medevalVersion}, config ${r.configHash.slice(0, 12)}) with medeval ${MEDEVAL_VERSION}'s extractor: ` +
    `${r.changed} of ${r.records} answer(s) extracted differently (right->wrong ${r.rightToWrong}, wrong->right ${r.wrongToRight}); ` +
    `${r.errorsKept} record(s) in error kept as errors, never scored. Records that changed carry rescored.previous.`;
}
