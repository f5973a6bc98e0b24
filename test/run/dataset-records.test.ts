// What a run records about its dataset: records skipped by --skip-invalid (manifest, summary.json,
// summary.md, report notes), the per-subject accuracy slice, and the console's "N items valid" line
// under --limit. Real pipeline: the tiny GGUF model in process.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { progressReporter } from '../../src/cli/progress.js';
import { runSuite } from '../../src/run/run.js';
import type { RunSummary } from '../../src/run/summary.js';
import type { RunManifest } from '../../src/core/types.js';
import { buildReport } from '../../src/report/build.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, tempDir, tinyModel, writeRunnerProfile } from '../helpers/tiny-run.js';

let model: string;
beforeAll(async () => {
  model = await tinyModel('F32');
});

/** An MMLU test folder: anatomy 2 rows, college_medicine 1 good row then `bad` rows with answer "Z". */
function mmluFolder(dir: string, bad: number): string {
  const data = join(dir, 'test');
  mkdirSync(data);
  writeFileSync(join(data, 'anatomy_test.csv'), 'Which bone forms the point of the elbow?,Radius,Ulna,Humerus,Scapula,B\n' +
    'The sinoatrial node lies in the wall of the,left atrium,right atrium,septum,left ventricle,B\n');
  const rows = ['Which hormone lowers blood glucose?,Glucagon,Insulin,Cortisol,Adrenaline,B'];
  for (let i = 0; i < bad; i++) rows.push(`Broken question ${i}?,a,b,c,d,Z`);
  writeFileSync(join(data, 'college_medicine_test.csv'), rows.join('\n') + '\n');
  return data;
}

function suite(dir: string, data: string, limit?: number): string {
  const file = join(dir, 'suite.yaml');
  writeFileSync(file, ['name: mmlu-records', 'smokeTest: true', 'dataset:', '  format: mmlu', `  path: ${data}`,
    `prompts: ${join(REPO, 'suites/prompts')}`, 'answerConstraint: letter', ...(limit ? [`limit: ${limit}`] : []),
    'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 16', 'load:', '  warmup: 0'].join('\n'));
  return file;
}

describe('dataset records in the run folder', () => {
  it('--skip-invalid: the skipped records are in the manifest, summary.json, summary.md and the report notes; subjects get a slice', async () => {
    const dir = tempDir('medeval-records-');
    const data = mmluFolder(dir, 120);
    const out = join(dir, 'run');
    const lines: string[] = [];
    const progress = progressReporter('t', { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream);
    const { results } = await runSuite({
      suite: suite(dir, data), runner: await loadRunnerProfile(writeRunnerProfile(dir, model)), out, cacheDir: false,
      skipInvalid: true, onEvent: progress.onEvent,
    });
    expect(results.map((r) => r.subject)).toEqual(['anatomy', 'anatomy', 'college_medicine']);

    const cm = join(data, 'college_medicine_test.csv');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
    expect(manifest.suite.items).toBe(3);
    expect(manifest.suite.skipped?.total).toBe(120);
    expect(manifest.suite.skipped?.records).toHaveLength(100);
    expect(manifest.suite.skipped?.records[0]).toEqual({ place: `${cm}:2`, reason: 'field "answer" must be A, B, C or D, got "Z"' });
    expect(manifest.suite.skipped?.records[99]?.place).toBe(`${cm}:101`);

    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.run.suite.skipped).toEqual(manifest.suite.skipped);
    expect(summary.run.accuracy.bySubject?.map((c) => [c.key, c.items, c.scored])).toEqual([['anatomy', 2, 2], ['college_medicine', 1, 1]]);
    expect(summary.notes).toContainEqual(expect.stringContaining('120 invalid dataset record(s) were skipped (--skip-invalid)'));

    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('120 invalid record(s) skipped (--skip-invalid)');
    expect(md).toContain('## Accuracy by subject');
    expect(md).toMatch(/\| anatomy \| 2 \| 2 \|/);
    expect(md).toMatch(/\| college_medicine \| 1 \| 1 \|/);
    expect(md).toContain(`## Skipped records`);
    expect(md).toContain(`- ${cm}:2: field "answer" must be A, B, C or D, got "Z"`);
    expect(md).toContain('- ... and 20 more');

    // The report reads the field back (the manifest schema accepts it) and warns in every format.
    const report = buildReport({ runs: [readRunFolder(out)], generatedAt: null });
    expect(report.runs[0]!.suite.skipped?.total).toBe(120);
    expect(report.notes.filter((n) => n.kind === 'warning').map((n) => n.text)).toContainEqual(expect.stringContaining('120 invalid dataset record(s)'));

    expect(lines[0]).toBe('[t] dataset mmlu-records: 3 items valid, 120 skipped; 3 to run\n');
  });

  it('a run without skipped records has no such field', async () => {
    const dir = tempDir('medeval-records-');
    const out = join(dir, 'run');
    await runSuite({
      suite: suite(dir, mmluFolder(dir, 0)), runner: await loadRunnerProfile(writeRunnerProfile(dir, model)), out, cacheDir: false,
    });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as RunManifest;
    expect(manifest.suite).not.toHaveProperty('skipped');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).not.toContain('Skipped records');
  });

  it('under --limit the console gives the valid items in the file and the number taken', async () => {
    const dir = tempDir('medeval-records-');
    const lines: string[] = [];
    const progress = progressReporter('t', { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream);
    await runSuite({
      suite: suite(dir, mmluFolder(dir, 2), 1), runner: await loadRunnerProfile(writeRunnerProfile(dir, model)), out: join(dir, 'run'),
      cacheDir: false, skipInvalid: true, onEvent: progress.onEvent,
    });
    expect(lines[0]).toBe('[t] dataset mmlu-records: 3 items valid, the first 1 taken (--limit), 2 skipped; 1 to run\n');
  });
});
