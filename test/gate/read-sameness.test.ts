// The gate reads each record's scoring fields only (gateReadOptions: scoresOnly, timings only for a
// latency check). Old vs new on the same folders: every gate result (verdict, figures, reasons, warnings,
// rendered Markdown and JUnit) must be what reading every field gives, on paired, unpaired, subset,
// several-sample, failed-request, cached, likelihood and latency-gated runs, and on journals a real run
// leaves behind (older records without a version, unknown fields of a newer medeval, a resumed run's
// repeated records, a torn last line, a tampered "correct" flag, CRLF line ends).
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import type { ItemResult } from '../../src/core/types.js';
import { evaluateGate, gateReadOptions, type GateOptions } from '../../src/gate/gate.js';
import { renderGateJUnit } from '../../src/gate/junit.js';
import { renderGateMarkdown } from '../../src/gate/markdown.js';
import { syntheticPair } from '../fixtures/runs/synthetic.js';
import { firstRight, tempRoot, withFlips, writeRun } from './runs.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/runs');

type Options = Omit<GateOptions, 'baseline' | 'current'>;

/** The gate on two folders read the old way (every field, and the CLI's former omitPrompts) and the new way. */
function expectSame(baseDir: string, currDir: string, opts: Options): void {
  const run = (read: Parameters<typeof readRunFolder>[1]) => {
    const result = evaluateGate({ ...opts, baseline: readRunFolder(baseDir, read), current: readRunFolder(currDir, read) });
    return { result, markdown: renderGateMarkdown(result), junit: renderGateJUnit(result) };
  };
  const full = run({});
  const before = run({ omitPrompts: true });
  const now = run(gateReadOptions(opts));
  expect(before).toStrictEqual(full);
  expect(now).toStrictEqual(full);
}

const rewrite = (dir: string, edit: (lines: string[]) => string[], end = '\n') => {
  const file = join(dir, 'results.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  writeFileSync(file, edit(lines).join('\n') + end);
};

describe('gate read: scoring fields only, the same result as reading every field', () => {
  const BASE = firstRight(200, 140);
  const cases: Array<[string, Options]> = [
    ['accuracy only', { maxAccuracyDropPoints: 2 }],
    ['latency gate (timings read)', { maxAccuracyDropPoints: 2, maxLatencyIncreasePercent: 10, latencyMetric: 'itlMs' }],
    ['latency gate on e2e, memory gate, strict', { maxAccuracyDropPoints: 2, maxLatencyIncreasePercent: 5, maxMemoryIncreasePercent: 1, failOnWarn: true, seed: 7 }],
  ];

  it.each(cases)('paired runs with flips and failed requests: %s', (_name, opts) => {
    const root = tempRoot();
    const curr = withFlips(BASE, 20, 3);
    curr[5] = 'error';
    const b = writeRun(root, { label: 'base', outcomes: BASE });
    const c = writeRun(root, { label: 'curr', outcomes: curr, e2eMs: (i) => 1300 + (i % 17), weightsBytes: 3e9 });
    expectSame(b, c, opts);
  });

  it.each(cases)('several samples per question, a subset, unpaired runs: %s', (_name, opts) => {
    const root = tempRoot();
    const samples = BASE.slice(0, 60).map((o, i) => [o, i % 3 ? o : 'wrong', i % 5 ? o : 'error'] as const);
    const b = writeRun(root, { label: 'multi-b', outcomes: [], sampleOutcomes: samples.map((s) => [...s]) });
    const c = writeRun(root, { label: 'multi-c', outcomes: [], sampleOutcomes: samples.map((s, i) => (i % 4 ? [...s] : ['wrong', 'wrong', 'right'])) });
    expectSame(b, c, opts);
    const sub = writeRun(root, { label: 'subset', outcomes: withFlips(BASE, 9, 1).slice(0, 120) });
    expectSame(writeRun(root, { label: 'full', outcomes: BASE }), sub, { ...opts, allowPartial: true });
    const other = writeRun(root, { label: 'other', outcomes: firstRight(150, 90), ids: Array.from({ length: 150 }, (_, i) => `q${i + 100}`) });
    expectSame(writeRun(root, { label: 'full2', outcomes: BASE }), other, opts);
  });

  it('demo-shaped records (long prompts and replies, token gaps, cached results), with and without a latency gate', () => {
    const root = tempRoot();
    const runs = syntheticPair(300, { outputTokens: [16, 64], promptChars: 900 });
    const dirs = runs.map((r, k) => {
      const dir = join(root, `demo-${k}`);
      mkdirSync(dir, { recursive: true });
      r.manifest.suite.items = 300;
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r.manifest));
      const records = r.results.map((x, i) => (i % 37 === 0 ? { ...x, cached: true } : x));
      writeFileSync(join(dir, 'results.jsonl'), records.map((x) => JSON.stringify(x) + '\n').join(''));
      return dir;
    });
    for (const [, opts] of cases) expectSame(dirs[0]!, dirs[1]!, opts);
  });

  it('likelihood-scored records (letter log-probabilities)', () => {
    const root = tempRoot();
    const b = writeRun(root, { label: 'lb', outcomes: BASE.slice(0, 80) });
    const c = writeRun(root, { label: 'lc', outcomes: withFlips(BASE, 6, 2).slice(0, 80) });
    for (const dir of [b, c]) {
      rewrite(dir, (lines) => lines.map((l, i) => {
        const r = JSON.parse(l) as ItemResult;
        r.letterLogprobs = { A: -0.5 - (i % 3), B: -1.5, C: -2 - (i % 2), D: -3 };
        if (i % 9 === 0) r.letterNoFigure = { D: -4 };
        return JSON.stringify(r);
      }));
    }
    for (const [, opts] of cases) expectSame(b, c, opts);
  });

  it('journals as runs leave them: no record version, unknown fields, a resume, a torn line, a tampered flag, CRLF', () => {
    const root = tempRoot();
    const b = writeRun(root, { label: 'jb', outcomes: BASE });
    const c = writeRun(root, { label: 'jc', outcomes: withFlips(BASE, 15, 4) }, { status: 'interrupted' });
    rewrite(b, (lines) => lines.map((l, i) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      if (i % 2) delete r.schema; // older records
      if (i % 3 === 0) r.fromANewerMedeval = { x: 1 }; // a field this medeval does not know
      return JSON.stringify(r);
    }), '\r\n');
    // A resumed run appends the re-run records; the last one counts.
    const again = readFileSync(join(c, 'results.jsonl'), 'utf8').split('\n').slice(0, 10)
      .map((l) => JSON.stringify({ ...(JSON.parse(l) as object), rawOutput: 'Answer: A' }));
    appendFileSync(join(c, 'results.jsonl'), again.join('\n') + '\n{"schema":1,"itemId":"q1');
    for (const [, opts] of cases) expectSame(b, c, { ...opts, allowPartial: true });
    // A "correct" flag that disagrees with the answer: the journal check fails both reads alike.
    const flip = (l: string) => (l.includes('"correct":true') ? l.replace('"correct":true', '"correct":false') : l.replace('"correct":false', '"correct":true'));
    rewrite(b, (lines) => lines.map((l, i) => (i === 3 ? flip(l) : l)));
    for (const [, opts] of cases) expectSame(b, c, opts);
  });

  it('the stored fixture runs', () => {
    for (const [, opts] of cases) {
      expectSame(join(FIXTURES, 'baseline-f16'), join(FIXTURES, 'compressed-q4'), opts);
      expectSame(join(FIXTURES, 'baseline-f16'), join(FIXTURES, 'torn'), { ...opts, allowPartial: true });
    }
  });

  it('keeps no text and, without a latency check, no timings', () => {
    const root = tempRoot();
    const dir = writeRun(root, { label: 'slim', outcomes: BASE.slice(0, 10) });
    const slim = readRunFolder(dir, gateReadOptions({})).results;
    expect(slim.every((r) => r.prompt === '' && r.rawOutput === '' && r.timings === null && r.question === undefined)).toBe(true);
    expect(readRunFolder(dir, gateReadOptions({ maxLatencyIncreasePercent: 5 })).results.map((r) => r.timings))
      .toStrictEqual(readRunFolder(dir).results.map((r) => r.timings));
  });
});
