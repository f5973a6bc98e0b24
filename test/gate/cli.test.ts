// `medeval gate` from the command line: exit 0 on a pass, 1 on a regression (with the reason on
// stdout, the job summary appended, JUnit and JSON written), 2 on a bad run folder or option.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerGate } from '../../src/cli/commands/gate.js';
import { exitCodeFor } from '../../src/cli/exit.js';
import { buildProgram } from '../../src/cli/main.js';
import { firstRight, tempRoot, withFlips, writeRun } from './runs.js';

const REPO = resolve(import.meta.dirname, '../..');

/** The real program when main.ts registers `gate`, else a fresh one with the command registered. */
function program(): Command {
  const p = buildProgram();
  if (!p.commands.some((c) => c.name() === 'gate')) registerGate(p);
  return p;
}

/** Runs `medeval gate ...` in process with main.ts's exit-code mapping; captures stdout and stderr. */
async function gateCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  let code: number;
  try {
    await program().parseAsync(['node', 'medeval', 'gate', ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    code = e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : exitCodeFor(e);
    stderr += (e as Error).message;
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
  return { code, stdout, stderr };
}

function runs() {
  const root = tempRoot();
  const base = firstRight(200, 140);
  return {
    root,
    baseline: writeRun(root, { label: 'base', outcomes: base }),
    wobble: writeRun(root, { label: 'wobble', outcomes: withFlips(base, 5, 3) }),
    regressed: writeRun(root, { label: 'regressed', outcomes: withFlips(base, 30, 10) }),
  };
}

afterEach(() => {
  delete process.env.GITHUB_STEP_SUMMARY;
});

describe('medeval gate (in process)', () => {
  it('exits 0 on a 1-point wobble with --max-drop 2', async () => {
    const r = runs();
    const res = await gateCli(['--baseline', r.baseline, '--current', r.wobble, '--max-drop', '2']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('## medeval gate: ✅ PASS');
    expect(res.stderr).toContain('medeval gate: PASS: accuracy fell 1.0 points');
  });

  it('exits 1 on a 10-point regression, appends the job summary, writes JUnit and JSON', async () => {
    const r = runs();
    const summary = join(r.root, 'summary.md');
    writeFileSync(summary, 'earlier\n');
    process.env.GITHUB_STEP_SUMMARY = summary;
    const junit = join(r.root, 'out', 'gate.xml');
    const json = join(r.root, 'out', 'gate.json');
    const res = await gateCli(['--baseline', r.baseline, '--current', r.regressed, '--max-drop', '2', '--junit', junit, '--json', json, '--seed', '3']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('## medeval gate: ❌ FAIL');
    expect(readFileSync(summary, 'utf8')).toBe('earlier\n' + res.stdout);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testcase classname="medeval.gate" name="accuracy \(paired\)" time="0">\n\s*<failure message="accuracy fell 10.0 points/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result).toMatchObject({ verdict: 'fail', settings: { seed: 3, maxAccuracyDropPoints: 2 } });
  });

  it('exits 2 on a folder that is not a run, a missing option, or a bad threshold', async () => {
    const r = runs();
    const notRun = await gateCli(['--baseline', r.root, '--current', r.wobble, '--max-drop', '2']);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toContain(join(r.root, 'manifest.json'));
    expect((await gateCli(['--baseline', r.baseline, '--current', r.wobble])).code).toBe(2);
    const negative = await gateCli(['--baseline', r.baseline, '--current', r.wobble, '--max-drop', '-3']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--max-drop');
  });
});

// Real processes (slow: two spawns), once main.ts registers the command.
const wired = buildProgram().commands.some((c) => c.name() === 'gate');
describe.runIf(wired)('medeval gate (spawned)', () => {
  const medeval = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'gate', ...args], {
      cwd: REPO, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: '' },
    });

  it('exits 1 on a regression and 2 on a missing run folder', () => {
    const r = runs();
    const junit = join(r.root, 'gate.xml');
    const fail = medeval(['--baseline', r.baseline, '--current', r.regressed, '--max-drop', '2', '--junit', junit]);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain('❌ FAIL');
    expect(existsSync(junit)).toBe(true);
    const bad = medeval(['--baseline', join(r.root, 'nope'), '--current', r.regressed, '--max-drop', '2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('not a run folder');
  });
});

describe('medeval gate on a partial current run (issue 10 item 8)', () => {
  const setup = () => {
    const root = tempRoot();
    const base = firstRight(60, 30);
    const baseline = writeRun(root, { label: 'base', outcomes: base });
    const suite = (items: number, datasetItems = 60) => ({ name: 'fixture', file: null, dataset: 'fixture', datasetFiles: ['fixture.jsonl'], datasetHash: 'abc123', items, datasetItems });
    // Killed with kill -9 at 10 of 60 questions: the manifest still says "running".
    const killed = writeRun(root, { label: 'killed', outcomes: base.slice(0, 10) }, { status: 'running', suite: suite(60) });
    // A `--limit 6` run: finished, on 6 of the 60 questions.
    const limited = writeRun(root, { label: 'limited', outcomes: base.slice(0, 6) }, { suite: suite(6) });
    return { baseline, killed, limited };
  };

  it('fails a run killed at 10 of 60 questions, and a --limit 6 run, saying why; --allow-partial lets them pass with a warning', async () => {
    const r = setup();
    const killed = await gateCli(['--baseline', r.baseline, '--current', r.killed, '--max-drop', '2']);
    expect(killed.code).toBe(1);
    expect(killed.stderr).toContain('the current run\'s status is "running", not "finished"');
    expect(killed.stderr).toContain('the current run scored 10 of 60 baseline questions (16.7%), fewer than the required 100.0%');
    expect(killed.stdout).toContain('run finished (current run) | ❌ fail');
    const limited = await gateCli(['--baseline', r.baseline, '--current', r.limited, '--max-drop', '2']);
    expect(limited.code).toBe(1);
    expect(limited.stderr).toContain('the current run scored 6 of 60 baseline questions (10.0%)');
    expect(limited.stdout).toContain('the run covers 6 of the 60 valid questions in its dataset (--limit)');
    const lenient = await gateCli(['--baseline', r.baseline, '--current', r.limited, '--max-drop', '2', '--allow-partial']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('PASS (with warnings)');
    expect((await gateCli(['--baseline', r.baseline, '--current', r.killed, '--max-drop', '2', '--allow-partial'])).code).toBe(0);
  });

  it('--min-coverage sets how much of the baseline is enough; a bad share is bad input', async () => {
    const r = setup();
    expect((await gateCli(['--baseline', r.baseline, '--current', r.limited, '--max-drop', '2', '--min-coverage', '0.1'])).code).toBe(0);
    expect((await gateCli(['--baseline', r.baseline, '--current', r.limited, '--max-drop', '2', '--min-coverage', '0.11'])).code).toBe(1);
    // The killed run stays failed on its status whatever the coverage asked.
    expect((await gateCli(['--baseline', r.baseline, '--current', r.killed, '--max-drop', '2', '--min-coverage', '0'])).code).toBe(1);
    const bad = await gateCli(['--baseline', r.baseline, '--current', r.limited, '--max-drop', '2', '--min-coverage', '1.5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--min-coverage');
  });
});
