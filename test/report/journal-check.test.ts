// A journal that does not match its manifest: a real run folder (runSuite on the llama-server double)
// edited the ways the issue saw: a deleted line, a status forged to "finished" on an interrupted run,
// `correct` flags flipped, a foreign item id. Each must be a warning in report.md, report.html,
// report.json and on the console of a real `medeval report`, and `gate` must refuse to pass.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { evaluateGate } from '../../src/gate/gate.js';
import { checkJournal } from '../../src/core/journal-check.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO, tempDir, writeSuite } from '../helpers/tiny-run.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
let server: LlamaServerDouble;
let root: string;
let finished: string;
let interrupted: string;

beforeAll(async () => {
  server = await new LlamaServerDouble().start();
  // The letter follows the prompt's length: some answers right, some wrong.
  server.script = (body) => ({ chunks: [{ delayMs: 0, content: `Answer: ${'ABCD'[JSON.stringify(body.messages).length % 4]}` }], finishReason: 'stop' });
  root = tempDir('medeval-forged-');
  const suite = writeSuite(root, { constrain: false, load: '  profile: sequential\n  warmup: 0' });
  const profileFile = join(root, 'double.yaml');
  writeFileSync(profileFile, `kind: llama-server\nlabel: double\nmode: attached\nbaseUrl: ${server.baseUrl}\nrequestTimeoutMs: 600000\n`);
  const runner = await loadRunnerProfile(profileFile);
  finished = join(root, 'finished');
  await runSuite({ suite, runner, out: finished, cacheDir: false });
  // A run stopped by the user after 40 of its 60 records.
  interrupted = join(root, 'interrupted');
  const stop = new AbortController();
  await runSuite({ suite, runner, out: interrupted, cacheDir: false, signal: stop.signal, onEvent: (e) => { if (e.type === 'item' && e.done === 40) stop.abort(); } });
});
afterAll(async () => server?.stop());

type Record_ = { itemId: string; correct: boolean | null; extracted: { letter: string | null } };
const readLines = (dir: string) => readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record_);
const writeLines = (dir: string, rs: unknown[]) => writeFileSync(join(dir, 'results.jsonl'), rs.map((r) => JSON.stringify(r) + '\n').join(''));

function forge(name: string, from: string, edit: (dir: string) => void): string {
  const dir = join(root, name);
  cpSync(from, dir, { recursive: true });
  edit(dir);
  return dir;
}

/** `medeval report` on the folder: the warning must be in every format. */
function expectWarnedEverywhere(dir: string, text: RegExp): void {
  const out = join(dir, '..', `${dir.split('/').pop()}-report`);
  const r = spawnSync(process.execPath, [...CLI, 'report', dir, '--out', out, '--no-charts'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).toMatch(text);
  for (const f of ['report.md', 'report.html', 'report.json']) expect(readFileSync(join(out, f), 'utf8'), f).toMatch(text);
}

function gateOn(current: string, allowPartial = false) {
  return evaluateGate({ baseline: readRunFolder(finished), current: readRunFolder(current), maxAccuracyDropPoints: 100, allowPartial, minCoverage: 0 });
}

describe('the journal against its manifest', () => {
  it('an untouched run has no journal problem and gates against itself', () => {
    const run = readRunFolder(finished);
    expect(run.manifest.suite.itemIdsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.journalProblems).toEqual([]);
    expect(run.warnings.join('\n')).not.toMatch(/does not match its manifest/);
    const g = gateOn(finished);
    expect(g.checks.find((c) => c.id === 'journal')!.status).toBe('pass');
    expect(g.verdict).toBe('pass');
  });

  it('a deleted line (59 of 60, manifest "finished") is a warning in every format and fails the gate', () => {
    const dir = forge('deleted', finished, (d) => writeLines(d, readLines(d).filter((_, i) => i !== 17)));
    expectWarnedEverywhere(dir, /does not match its manifest: the manifest says .{1,6}finished.{1,6} but the journal holds 59 of the 60 records/);
    const g = gateOn(dir, true);
    expect(g.checks.find((c) => c.id === 'journal')!.status).toBe('fail');
    expect(g.verdict).toBe('fail');
  });

  it('a status forged to "finished" on a run stopped at 40 of 60 records fails the gate even with --allow-partial', () => {
    expect(JSON.parse(readFileSync(join(interrupted, 'manifest.json'), 'utf8')).status).toBe('interrupted');
    const kept = readLines(interrupted).length;
    const dir = forge('forged-status', interrupted, (d) => {
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...m, status: 'finished' }));
    });
    expectWarnedEverywhere(dir, new RegExp(`the journal holds ${kept} of the 60 records`));
    const g = gateOn(dir, true);
    expect(g.checks.find((c) => c.id === 'run-status')!.status).toBe('pass'); // the forged status itself looks fine
    expect(g.checks.find((c) => c.id === 'journal')!.status).toBe('fail');
    expect(g.verdict).toBe('fail');
  });

  it('five flipped "correct" flags are recomputed from gold and answer, and said', () => {
    const honest = readRunFolder(finished);
    const right = honest.results.filter((r) => r.correct).length;
    const dir = forge('flipped', finished, (d) => {
      let n = 0;
      writeLines(d, readLines(d).map((r) => (r.correct === false && n < 5 ? (n++, { ...r, correct: true }) : r)));
    });
    const forged = readRunFolder(dir);
    expect(forged.results.filter((r) => r.correct).length).toBe(right); // scored as the answers say, not as the flags say
    expectWarnedEverywhere(dir, /5 record\(s\) carry a .{1,6}correct.{1,6} flag that disagrees with their gold letter and extracted answer/);
    const report = JSON.parse(readFileSync(join(root, 'flipped-report', 'report.json'), 'utf8'));
    expect(report.runs[0].accuracy.overall.correct).toBe(right);
    expect(gateOn(dir, true).verdict).toBe('fail');
  });

  it('a foreign item id is found by the question-id digest', () => {
    const dir = forge('foreign', finished, (d) => writeLines(d, readLines(d).map((r, i) => (i === 3 ? { ...r, itemId: 'medqa-from-elsewhere' } : r))));
    expectWarnedEverywhere(dir, /question ids are not the ones the run was started on/);
    expect(gateOn(dir, true).verdict).toBe('fail');
  });

  it('checkJournal flags records with samples or datasets the run never had', () => {
    const run = readRunFolder(finished);
    const extra = { ...run.results[0]!, sample: 3 };
    const other = { ...run.results[1]!, dataset: 'another-set' };
    const { problems } = checkJournal(run.manifest, [extra, other, ...run.results.slice(2)]);
    expect(problems.join('\n')).toMatch(/sample number the run never asked for/);
    expect(problems.join('\n')).toMatch(/name another dataset than the run's/);
  });
});
