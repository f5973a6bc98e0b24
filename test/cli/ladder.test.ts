// A ladder of models: `medeval compare --baseline A --compressed B C D` with the scripted runner (no
// model, answers and figures from a script), then `medeval report --baseline DIR` over the same folders.
// Each compressed model is paired with the baseline on the same items; the leaderboard's rows, its
// Holm-adjusted p-values and its Pareto frontier, the Pareto charts (PNG, SVG, PDF) and the terminal table.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReportModel } from '../../src/report/model.js';
import { holmAdjust } from '../../src/stats/holm.js';
import { REPO, SAMPLE, tempDir } from '../helpers/tiny-run.js';
import { writeSampleSuite } from '../reliability/helpers.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
const GiB = 2 ** 30;

function medeval(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const gold = readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(0, 20).map((l, i) => ({ id: `usmle-sample-${String(i + 1).padStart(3, '0')}`, gold: (JSON.parse(l) as { answer_idx: string }).answer_idx }));
const wrong = (letter: string) => (letter === 'A' ? 'B' : 'A');

/** A scripted model right on the first `right` of the 20 items, with its memory and its speed. */
function profile(dir: string, label: string, right: number, weightsGiB: number, peakGiB: number, ttftMs: number): string {
  const script = join(dir, `${label}.jsonl`);
  writeFileSync(script, gold.map((g, i) => JSON.stringify({ id: g.id, text: `Answer: ${i < right ? g.gold : wrong(g.gold)}`, timings: { ttftMs, itlMs: ttftMs / 10 } })).join('\n') + '\n');
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, `kind: scripted\nlabel: ${label}\nscript: ./${label}.jsonl\nmemory: { weightsBytes: ${weightsGiB * GiB}, peakBytes: ${peakGiB * GiB} }\n`);
  return file;
}

describe('a ladder of four models', () => {
  it('compare pairs each compressed model with the baseline; the leaderboard, frontier and Pareto charts follow; report --baseline reorders', async () => {
    const dir = tempDir('medeval-ladder-');
    const suite = writeSampleSuite(dir);
    // F16 and Q8 equally right, Q8 at half the weights: F16 is dominated on weights. Q4 and Q2 cheaper and worse.
    const base = profile(dir, 'f16', 18, 16, 18, 100);
    const ladder = [profile(dir, 'q8', 18, 8, 10, 60), profile(dir, 'q4', 14, 4, 6, 40), profile(dir, 'q2', 8, 3, 5, 35)];
    const out = join(dir, 'cmp');
    const run = await medeval(['compare', '--suite', suite, '--baseline', base, '--compressed', ...ladder, '--out', out, '--limit', '20', '--no-cache', '--seed', '7']);
    expect(run.code, run.stderr).toBe(0);
    // Back-to-back: one worker per model, started for its own turn.
    expect(run.stderr.match(/worker pid \d+/g)).toHaveLength(4);
    for (const label of ['q8', 'q4', 'q2']) expect(run.stderr).toContain(`compare: compressed [${label}] worker pid`);

    const model = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportModel;
    expect(model.runs.map((r) => r.id)).toEqual(['f16', 'q8', 'q4', 'q2']);
    expect(model.comparisons.map((c) => [c.baseline, c.compressed, c.itemsInCommon])).toEqual([['f16', 'q8', 20], ['f16', 'q4', 20], ['f16', 'q2', 20]]);
    const board = model.leaderboard!;
    expect(board.rows.map((r) => [r.run, r.role, r.baseline, r.accuracy!.estimate])).toEqual([
      ['f16', 'baseline', null, 0.9], ['q8', 'compressed', 'f16', 0.9], ['q4', 'compressed', 'f16', 0.7], ['q2', 'compressed', 'f16', 0.4],
    ]);
    expect(board.rows.map((r) => r.accuracyDifference?.estimate ?? null).map((d) => (d === null ? null : Math.round(d * 100)))).toEqual([null, 0, -20, -50]);
    expect(board.rows.map((r) => r.frontier.weights)).toEqual([false, true, true, true]);
    expect(board.rows.map((r) => r.frontier.e2eMs)).toEqual([false, true, true, true]);
    expect(board.rows.slice(1).map((r) => r.mcnemarPHolm)).toEqual(holmAdjust(board.rows.slice(1).map((r) => r.mcnemarP)));
    expect(board.rows[3]!.mcnemarP).toBeLessThan(0.05);
    expect(board.rows.map((r) => r.memory.weights)).toEqual([16 * GiB, 8 * GiB, 4 * GiB, 3 * GiB]);
    // Scripted runs are smoke tests: every pair's verdicts say no evidence.
    for (const r of board.rows.slice(1)) {
      expect(r.verdicts.length).toBeGreaterThan(0);
      for (const v of r.verdicts) expect(v.verdict).toBe('smoke test: no evidence');
    }
    expect(model.runs.every((r) => Math.abs(r.chanceAccuracy! - 0.2) < 1e-9)).toBe(true);

    for (const id of ['accuracy-vs-weights', 'accuracy-vs-peak-memory', 'accuracy-vs-e2el']) {
      for (const ext of ['png', 'svg', 'pdf']) expect(existsSync(join(out, 'charts', `${id}.${ext}`)), `${id}.${ext}`).toBe(true);
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Leaderboard');
    expect(md).toMatch(/\| q2 \| vs f16 \| 40\.0% \[[\d.]+%, [\d.]+%\] \|[^\n]*\| -50\.0 pp \[/);
    expect(md).toContain('Holm');
    expect(run.stdout).toMatch(/q2 +40\.0% \(/);
    expect(run.stdout).toContain('McNemar p (Holm)');

    // report: --baseline names the baseline wherever it stands; without it the first folder is.
    const runs = join(out, 'runs');
    const again = join(dir, 'again');
    const rep = await medeval(['report', join(runs, 'compressed-q2'), join(runs, 'compressed-q4'), '--baseline', join(runs, 'baseline-f16'), '--out', again, '--no-html', '--chart-titles', 'off']);
    expect(rep.code, rep.stderr).toBe(0);
    const reordered = JSON.parse(readFileSync(join(again, 'report.json'), 'utf8')) as ReportModel;
    expect(reordered.comparisons.map((c) => [c.baseline, c.compressed])).toEqual([['f16', 'q2'], ['f16', 'q4']]);
    const help = await medeval(['report', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('the baseline (the first, or --baseline), then one or more compressed models, each paired with the baseline');
  }, 600_000);
});
