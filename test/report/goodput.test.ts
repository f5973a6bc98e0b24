// Goodput as vLLM bench serve --goodput defines it: requests meeting every objective, per second.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadExperiment } from '../../src/run/experiment.js';
import { describeSlo, meetsSlo, parseSlo } from '../../src/metrics/goodput.js';
import { buildReport } from '../../src/report/build.js';
import { renderSummaryCsv } from '../../src/report/csv.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';
import { itemResult, loadedRun, manifest } from '../fixtures/runs/synthetic.js';

const errorOf = (f: () => unknown): InputError => {
  try {
    f();
  } catch (e) {
    return e as InputError;
  }
  throw new Error('expected an error');
};

describe('parseSlo', () => {
  it("reads vLLM's KEY:MS pairs, separated by commas or spaces", () => {
    expect(parseSlo('ttft:2000,tpot:50')).toEqual({ ttftMs: 2000, tpotMs: 50 });
    expect(parseSlo('e2el:9000 ttfo:1500.5')).toEqual({ e2eMs: 9000, ttfoMs: 1500.5 });
    expect(describeSlo(parseSlo('tpot:50,ttft:2000'))).toBe('TTFT <= 2000 ms, TPOT <= 50 ms');
  });

  it('refuses unknown keys, bad numbers, repeats and nothing, naming the option and the fix', () => {
    for (const [text, msg] of [
      ['ttft:2000,itl:5', /"itl:5" is not KEY:MS with a known key/],
      ['ttft:-1', /ttft must be a positive number of milliseconds, got "-1"/],
      ['ttft:fast', /got "fast"/],
      ['ttft:1,ttft:2', /ttft is given twice/],
      [' , ', /--goodput is empty/],
    ] as const) {
      const e = errorOf(() => parseSlo(text));
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toMatch(msg);
      expect(e.message).toContain('--goodput');
      expect(e.hint).toContain('ttft:2000,tpot:50');
    }
  });
});

describe('meetsSlo', () => {
  const t = { ttftMs: 100, ttfoMs: 400, tpotMs: 20, e2eMs: 1000 };
  it('counts a figure equal to its ceiling as met, one above as missed, for every objective', () => {
    expect(meetsSlo(t, { ttftMs: 100, ttfoMs: 400, tpotMs: 20, e2eMs: 1000 })).toBe(true);
    expect(meetsSlo(t, { ttftMs: 99.9 })).toBe(false);
    expect(meetsSlo(t, { ttfoMs: 399 })).toBe(false);
    expect(meetsSlo(t, { tpotMs: 19 })).toBe(false);
    expect(meetsSlo(t, { e2eMs: 999 })).toBe(false);
  });

  it('a one-token answer has TPOT 0 (as vLLM); a request with no first token meets no TTFT or TTFO objective', () => {
    expect(meetsSlo({ ...t, tpotMs: null }, { tpotMs: 1 })).toBe(true);
    expect(meetsSlo({ ...t, ttftMs: null }, { ttftMs: 1e9 })).toBe(false);
    expect(meetsSlo({ ...t, ttfoMs: null }, { ttfoMs: 1e9 })).toBe(false);
    expect(meetsSlo({ ...t, ttfoMs: null }, { ttftMs: 1e9 })).toBe(true);
  });
});

describe('goodput in reports', () => {
  // 10 requests, E2EL 100..1000 ms and TTFT 10..100 ms, run lasting 5 s (manifest durationMs).
  const results = Array.from({ length: 10 }, (_, i) =>
    itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 100 * (i + 1), ttftMs: 10 * (i + 1), startedAtEpochMs: 1_700_000_000_000 + i * 500 }));
  const failed = itemResult({ itemId: 'q10', gold: 'A', letter: null });
  const cached = itemResult({ itemId: 'q11', gold: 'A', letter: 'A', e2eMs: 1, ttftMs: 1, cached: true });
  const run = loadedRun(manifest('fast', { durationMs: 5000 }), [...results, failed, cached]);

  it('counts measured requests meeting every objective, with a Wilson interval and per second of the run', () => {
    const model = buildReport({ runs: [run], resamples: 50, goodput: { e2eMs: 500, ttftMs: 40 } });
    const g = model.runs[0]!.latency.goodput!;
    // E2EL <= 500 keeps q0..q4; TTFT <= 40 keeps q0..q3. The failed and the cached request are not measured.
    expect(g).toMatchObject({ completed: 10, good: 4, objectives: 'TTFT <= 40 ms, E2EL <= 500 ms' });
    expect(g.perS).toBeCloseTo(4 / 5, 12);
    expect(g.share!.estimate).toBeCloseTo(0.4, 12);
    expect(g.share!.lower).toBeCloseTo(0.1682, 3);
    expect(g.share!.upper).toBeCloseTo(0.6873, 3);
    expect(model.settings.goodputSlo).toEqual({ e2eMs: 500, ttftMs: 40 });
  });

  it('appears in Markdown, HTML and summary.csv only when objectives were given', () => {
    const withSlo = buildReport({ runs: [run], resamples: 50, goodput: { e2eMs: 500 } });
    expect(renderMarkdown(withSlo)).toContain('| fast | 5/10 | 50.0% [23.7%, 76.3%] | 1.000 |');
    expect(renderHtml(withSlo)).toContain('Goodput: completed requests meeting every objective (E2EL &lt;= 500 ms)');
    const csv = renderSummaryCsv(withSlo).split('\r\n').map((l) => l.split(','));
    const col = (name: string) => csv[1]![csv[0]!.indexOf(name)];
    expect([col('goodput_good'), col('goodput_share'), col('goodput_per_s')]).toEqual(['5', '0.5', '1']);

    const without = buildReport({ runs: [run], resamples: 50 });
    expect(without.runs[0]!.latency.goodput).toBeUndefined();
    expect(renderMarkdown(without)).not.toContain('Goodput');
    expect(renderHtml(without)).not.toContain('Goodput');
  });
});

describe('medeval report --goodput', () => {
  const medeval = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  const runs = ['baseline-f16', 'compressed-q4'].map((d) => join(REPO, 'test/fixtures/runs', d));

  it('prints goodput per run on the terminal and writes it into the reports', () => {
    const out = tempDir();
    const r = medeval(['report', ...runs, '--out', out, '--goodput', 'ttft:150,e2el:1500', '--no-charts', '--no-html']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/goodput req\/s \(TTFT <= 150 ms, E2EL <= 1500 ms\)\s+\S+ \(\d+\/\d+ good\)\s+\S+ \(\d+\/\d+ good\)/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('Goodput (as vLLM `bench serve --goodput`)');
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.runs.map((x: { latency: { goodput: { completed: number } } }) => x.latency.goodput.completed)).toEqual(
      json.runs.map((x: { latency: { completed: number } }) => x.latency.completed));
  });

  it('exits 2 on a bad objective, saying what to write, before reading any run', () => {
    const r = medeval(['report', ...runs, '--out', tempDir(), '--goodput', 'ttft=150']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--goodput: "ttft=150" is not KEY:MS with a known key');
    expect(r.stderr).toContain('hint: write e.g. --goodput ttft:2000,tpot:50');
  });
});

describe('goodput in an experiment file', () => {
  const experiment = (goodput: string) => {
    const dir = tempDir();
    const paper = readFileSync(join(REPO, 'suites/paper.yaml'), 'utf8').replace(/^suite: .*$/m, `suite: ${join(REPO, 'suites/medqa-usmle.yaml')}`);
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, paper.replace('claims:', `${goodput}\nclaims:`));
    return file;
  };

  it('reads the objectives, and names file:line and field for a wrong one', async () => {
    expect((await loadExperiment(experiment('goodput:\n  ttftMs: 2000\n  tpotMs: 50'))).goodput).toEqual({ ttftMs: 2000, tpotMs: 50 });
    expect((await loadExperiment(join(REPO, 'suites/paper.yaml'))).goodput).toBeUndefined();
    const file = experiment('goodput:\n  ttft: 2000');
    const e = await loadExperiment(file).then(() => null, (x: Error) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toMatch(new RegExp(`${file}:\\d+`));
    expect(e!.message).toContain('goodput');
  });
});
