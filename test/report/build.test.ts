import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS, parseClaims } from '../../src/report/claims.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import type { ClaimCheck, ReportModel } from '../../src/report/model.js';
import { renderJson } from '../../src/report/json.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { wilsonInterval } from '../../src/stats/proportion.js';
import { itemResult, loadedRun, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/runs');
const runs = () => [readRunFolder(join(FIXTURES, 'baseline-f16')), readRunFolder(join(FIXTURES, 'compressed-q4'))];

describe('buildReport on the fixture pair (numbers designed in make-fixtures.ts)', () => {
  const model = buildReport({ runs: runs(), seed: 7, resamples: 500 });
  const [base, comp] = model.runs;
  const cmp = model.comparisons[0]!;

  it('per-run accuracy with Wilson intervals and counts', () => {
    expect(model.schemaVersion).toBe('medeval.report/2');
    expect(base!.accuracy.overall).toMatchObject({ items: 20, scored: 20, correct: 15, wrong: 3, unparseable: 1, truncated: 1, errors: 0 });
    expect(base!.accuracy.overall.accuracy).toMatchObject({ ...wilsonInterval(15, 20), method: 'wilson', confidence: 0.95 });
    expect(comp!.accuracy.overall).toMatchObject({ items: 20, scored: 19, correct: 13, wrong: 5, unparseable: 0, truncated: 1, errors: 1 });
    expect(comp!.accuracy.overall.accuracy!.estimate).toBeCloseTo(13 / 19, 12);
    expect(base!.accuracy.byStep.map((c) => [c.key, c.correct, c.scored])).toEqual([['step1', 10, 10], ['step2&3', 5, 10]]);
    expect(comp!.accuracy.byStep.map((c) => [c.key, c.correct, c.scored])).toEqual([['step1', 10, 10], ['step2&3', 3, 9]]);
    expect(comp!.accuracy.byQuestionType.find((c) => c.key === 'basic_science')).toMatchObject({ items: 5, scored: 4, correct: 4, errors: 1 });
    expect(base!.accuracy.majorityVote).toBeNull();
  });

  it('paired comparison: common items, flips with ids, McNemar, difference, retention', () => {
    expect(cmp).toMatchObject({ baseline: 'baseline-f16', compressed: 'compressed-q4', itemsInCommon: 19, excludedForErrors: 1, onlyInBaseline: 0, onlyInCompressed: 0, bothRight: 12, bothWrong: 3 });
    expect(cmp.rightToWrong.map((f) => f.itemId)).toEqual(['q13', 'q14', 'q15']);
    expect(cmp.wrongToRight).toEqual([{
      itemId: 'q16', step: 'step2&3', questionType: 'basic_science', gold: 'A', baselineLetter: null, compressedLetter: 'A',
      // an unparseable reply is a flip as much as a wrong letter: the report shows what each model said
      baselineOutput: { status: 'unparseable', excerpt: 'The answer is unclear.', reasoned: false },
      compressedOutput: { status: 'answered', excerpt: 'Answer: A', reasoned: false },
    }]);
    expect(cmp.agreementRate).toBeCloseTo(15 / 19, 12);
    expect(cmp.sameLetterRate).toBeCloseTo(13 / 19, 12);
    expect(cmp.mcnemar!.exactP).toBeCloseTo(0.625, 12); // 2 * P(X <= 1 | n = 4) = 2 * 5/16
    expect(cmp.baselineAccuracy).toBeCloseTo(15 / 19, 12);
    expect(cmp.compressedAccuracy).toBeCloseTo(13 / 19, 12);
    expect(cmp.accuracyDifference!.estimate).toBeCloseTo(-2 / 19, 12);
    expect(cmp.accuracyDifference!.lower).toBeLessThan(-2 / 19);
    expect(cmp.accuracyDifference!.upper).toBeGreaterThan(-2 / 19);
    expect(cmp.retention!.estimate).toBeCloseTo(13 / 15, 12);
  });

  it('latency: distributions per run and reductions (unpaired, since one compressed request failed)', () => {
    expect(base!.latency.e2eMs).toMatchObject({ n: 20, mean: 1105, min: 1010, max: 1200, p50: 1105 });
    expect(base!.latency.e2eMs!.p90).toBeCloseTo(1181, 9); // numpy: 1010 + 0.9*19*10
    expect(comp!.latency).toMatchObject({ requests: 20, completed: 19, failed: 1 });
    expect(base!.latency.itlMs!.n).toBe(200);
    expect(base!.latency.requestThroughputPerS).toBeCloseTo(20 / 22.1, 12);
    expect(base!.latency.batchSizeOne).toBe(true);
    const e2e = cmp.latency.find((l) => l.metric === 'e2eMs')!;
    expect(e2e.paired).toBe(false);
    expect(e2e.reduction.estimate).toBeCloseTo(1 - 880 / 1105, 12);
    expect(e2e.reduction.lower).toBeLessThan(e2e.reduction.estimate);
    const ttft = cmp.latency.find((l) => l.metric === 'ttftMs')!;
    expect(ttft.reduction).toMatchObject({ lower: expect.closeTo(0.1, 12), upper: expect.closeTo(0.1, 12) });
  });

  it('memory parts and reductions, with "not available" parts kept', () => {
    const weights = cmp.memory.find((m) => m.part === 'weights')!;
    expect(weights.reduction).toBeCloseTo(1 - 4_683_073_536 / 15_231_233_024, 12);
    expect(cmp.memory.find((m) => m.part === 'processPeak')!.reduction).toBeCloseTo(0.625, 12);
    const gpu = cmp.memory.find((m) => m.part === 'gpuProcessPeak')!;
    expect(gpu.reduction).toBeNull();
    expect(gpu.note).toMatch(/not available for baseline-f16 and compressed-q4/);
    expect(model.accuracyVsMemory.map((p) => [p.run, p.weightsBytes])).toEqual([['baseline-f16', 15_231_233_024], ['compressed-q4', 4_683_073_536]]);
  });

  it('notes carry definitions and the failed-request warning; item table has both runs side by side', () => {
    expect(model.notes.filter((n) => n.kind === 'definition').length).toBeGreaterThan(4);
    expect(model.notes.some((n) => n.kind === 'warning' && /1 request\(s\) failed/.test(n.text))).toBe(true);
    expect(model.items!.runs).toEqual(['baseline-f16', 'compressed-q4']);
    expect(model.items!.rows).toHaveLength(20);
    expect(model.items!.rows[19]!.cells[1]).toMatchObject({ status: 'error', correct: null });
  });

  it('is reproducible under a seed and changes with another seed', () => {
    const again = buildReport({ runs: runs(), seed: 7, resamples: 500 });
    expect(renderJson(again)).toBe(renderJson(model));
    const other = buildReport({ runs: runs(), seed: 8, resamples: 500 });
    // On 19 questions a difference's percentiles lie on a lattice of 1/19 and can coincide across seeds;
    // the retention ratio's rarely do.
    const intervals = (c: typeof cmp) => [c.accuracyDifference, c.retention];
    expect(intervals(other.comparisons[0]!)).not.toEqual(intervals(cmp));
  });
});

describe('buildReport edge cases', () => {
  it('pairs latency when both runs answered the same requests', () => {
    const b = loadedRun(manifest('b'), [1, 2, 3, 4].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 1000 * i })));
    const c = loadedRun(manifest('c'), [1, 2, 3, 4].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 900 * i })));
    const e2e = buildReport({ runs: [b, c], resamples: 200 }).comparisons[0]!.latency.find((l) => l.metric === 'e2eMs')!;
    expect(e2e.paired).toBe(true);
    expect(e2e.reduction).toMatchObject({ estimate: expect.closeTo(0.1, 12), lower: expect.closeTo(0.1, 12), upper: expect.closeTo(0.1, 12) });
  });

  it('several samples: pass@1 with a bootstrap interval, majority vote, majority-based flips', () => {
    // q1: A,A,B (gold A) -> 2/3, vote A;  q2: B,C,C (gold B) -> 1/3, vote C;  q3: C,C,C (gold C) -> 1
    const letters: Record<string, string[]> = { q1: ['A', 'A', 'B'], q2: ['B', 'C', 'C'], q3: ['C', 'C', 'C'] };
    const gold: Record<string, string> = { q1: 'A', q2: 'B', q3: 'C' };
    const results = Object.entries(letters).flatMap(([id, ls]) => ls.map((l, s) => itemResult({ itemId: id, sample: s, gold: gold[id]!, letter: l })));
    const multi = loadedRun(manifest('multi', { samples: 3 }), results);
    const base = loadedRun(manifest('base'), Object.keys(letters).map((id) => itemResult({ itemId: id, gold: gold[id]!, letter: gold[id]! })));
    const model = buildReport({ runs: [base, multi], resamples: 300 });
    const acc = model.runs[1]!.accuracy;
    expect(acc.overall.accuracy!.estimate).toBeCloseTo((2 / 3 + 1 / 3 + 1) / 3, 12);
    expect(acc.overall.accuracy!.method).toBe('bootstrap-percentile');
    expect(acc.majorityVote).toMatchObject({ scored: 3, correct: 2, wrong: 1 });
    const cmp = model.comparisons[0]!;
    expect(cmp.rightToWrong.map((f) => [f.itemId, f.compressedLetter])).toEqual([['q2', 'C']]);
    expect(cmp.compressedAccuracy).toBeCloseTo(2 / 3, 12);
  });

  it('flags smoke-test runs and unlike-for-like pairs', () => {
    const r = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' })];
    const smoke = loadedRun({ ...manifest('tiny', { seed: 2 }), suite: { ...manifest('tiny').suite, smokeTest: true } }, r);
    const model = buildReport({ runs: [loadedRun(manifest('big'), r), smoke] });
    const warnings = model.notes.filter((n) => n.kind === 'warning').map((n) => n.text).join('\n');
    expect(warnings).toMatch(/"tiny" is a smoke test/);
    expect(warnings).toMatch(/differ in seed/);
  });

  it('cached results are scored but left out of every latency figure, with a count and a note', () => {
    // q1..q4 measured in this run (e2e 1000..4000 ms); q5, q6 served from the cache with old, huge timings.
    const fresh = [1, 2, 3, 4].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: i === 4 ? 'B' : 'A', e2eMs: 1000 * i, outputTokens: 11 }));
    const cached = [5, 6].map((i) => ({ ...itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 90_000, ttftMs: 50_000, outputTokens: 101 }), cached: true }));
    const run = loadedRun(manifest('c', { durationMs: 10_000 }), [...fresh, ...cached]);
    const model = buildReport({ runs: [run], resamples: 100 });
    const { accuracy, latency } = model.runs[0]!;
    expect(accuracy.overall).toMatchObject({ scored: 6, correct: 5, wrong: 1 });
    expect(latency).toMatchObject({ requests: 6, completed: 4, failed: 0, cachedExcluded: 2 });
    expect(latency.e2eMs).toMatchObject({ n: 4, mean: 2500, max: 4000 });
    expect(latency.ttftMs!.max).toBe(100);
    expect(latency.itlMs!.n).toBe(40);
    expect(latency.outputTokens.total).toBe(44);
    expect(latency.requestThroughputPerS).toBeCloseTo(4 / 10, 12);
    expect(latency.outputTokenThroughputPerS).toBeCloseTo(44 / 10, 12);
    expect(model.items!.rows[4]!.cells[0]).toMatchObject({ cached: true });
    expect(model.items!.rows[0]!.cells[0]!.cached).toBeUndefined();
    expect(model.notes.some((n) => /"c": 2 result\(s\) were served from the response cache/.test(n.text))).toBe(true);
    // Reductions: the compressed run's cached requests are not latency samples, so pairing falls back to unpaired.
    const base = loadedRun(manifest('b'), [1, 2, 3, 4, 5, 6].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 2500 })));
    const e2e = buildReport({ runs: [base, run], resamples: 100 }).comparisons[0]!.latency.find((l) => l.metric === 'e2eMs')!;
    expect(e2e).toMatchObject({ paired: false, n: { baseline: 6, compressed: 4 }, compressedMs: 2500 });
    expect(e2e.reduction.estimate).toBeCloseTo(0, 12);
  });

  it('no cache note and cachedExcluded 0 when nothing came from the cache', () => {
    const model = buildReport({ runs: [loadedRun(manifest('a'), [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' })])] });
    expect(model.runs[0]!.latency.cachedExcluded).toBe(0);
    expect(model.notes.some((n) => /response cache/.test(n.text) && n.kind !== 'definition')).toBe(false);
  });

  it('says when replies were constrained to "Answer: <letter>" by a grammar', () => {
    const r = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' })];
    const constrained = loadedRun({ ...manifest('g'), suite: { ...manifest('g').suite, answerConstraint: 'letter' } }, r);
    const free = loadedRun({ ...manifest('f'), suite: { ...manifest('f').suite, answerConstraint: 'none' } }, r);
    const notes = buildReport({ runs: [constrained, free] }).notes.map((n) => n.text);
    expect(notes.filter((t) => /constrained to "Answer: <letter>" by a grammar/.test(t))).toEqual([
      expect.stringMatching(/^Run "g": .*choice among the option letters, not its ability to follow the answer format/),
    ]);
  });

  it('a run built in memory with repeated (item, sample) records keeps the last one everywhere, with a warning', () => {
    const first = itemResult({ itemId: 'q1', gold: 'A', letter: null }); // failed request
    const retry = itemResult({ itemId: 'q1', gold: 'A', letter: 'A', e2eMs: 2000 });
    const model = buildReport({ runs: [loadedRun(manifest('r'), [first, itemResult({ itemId: 'q2', gold: 'B', letter: 'C' }), retry])] });
    const run = model.runs[0]!;
    expect(run.accuracy.overall).toMatchObject({ items: 2, scored: 2, correct: 1, errors: 0 });
    expect(run.latency).toMatchObject({ requests: 2, failed: 0 });
    expect(model.items!.rows.map((row) => [row.itemId, row.cells[0]!.status])).toEqual([['q2', 'answered'], ['q1', 'answered']]);
    expect(run.warnings).toEqual([expect.stringMatching(/1 record\(s\) were superseded/)]);
  });

  it('several samples: majority-vote ties are counted', () => {
    const results = [['A', 'B'], ['A', 'A']].flatMap((ls, i) => ls.map((l, s) => itemResult({ itemId: `q${i}`, sample: s, gold: 'A', letter: l })));
    const acc = buildReport({ runs: [loadedRun(manifest('m', { samples: 2 }), results)], resamples: 100 }).runs[0]!.accuracy;
    expect(acc.majorityVote).toMatchObject({ scored: 2, correct: 2, ties: 1 });
  });

  it('falls back to the model file size for weights and marks missing memory', () => {
    const r = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' })];
    const model = buildReport({ runs: [loadedRun(manifest('a', { fileBytes: 1000 }), r), loadedRun(manifest('b', { memory: memoryReport(400, null) }), r)] });
    expect(model.runs[0]!.memory[0]).toMatchObject({ part: 'weights', bytes: 1000, source: 'manifest model.fileBytes' });
    expect(model.comparisons[0]!.memory[0]!.reduction).toBeCloseTo(0.6, 12);
    expect(model.runs[0]!.memory.find((m) => m.part === 'processPeak')).toMatchObject({ bytes: null });
  });

  it('resolves explicit pairs by label and rejects unknown ones', () => {
    const r = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' })];
    const three = [loadedRun(manifest('x'), r), loadedRun(manifest('y'), r), loadedRun(manifest('x'), r)];
    const model = buildReport({ runs: three, pairs: [{ baseline: 'y', compressed: 'x#2' }] });
    expect(model.runs.map((x) => x.id)).toEqual(['x', 'y', 'x#2']);
    expect(model.comparisons.map((c) => [c.baseline, c.compressed])).toEqual([['y', 'x#2']]);
    expect(() => buildReport({ runs: three, pairs: [{ baseline: 'y', compressed: 'zzz' }] })).toThrow(/"zzz"/);
  });
});

describe('claim units: set by the claims builder, used by the renderers instead of guessing from the value', () => {
  const claims = parseClaims(PAPER_CLAIMS.map((c) => (c.metric === 'accuracy' ? { ...c, suites: undefined } : c)));
  const model = buildReport({ runs: runs(), claims, resamples: 100 });

  it('every paper claim is a fraction', () => {
    expect(model.claims.map((c) => [c.id, c.unit])).toEqual([['accuracy', 'fraction'], ['memory', 'fraction'], ['latency', 'fraction']]);
  });

  // A claim in milliseconds whose values lie in [-1, 1] was shown as a percentage by the old guess.
  const msClaim: ClaimCheck = {
    ...model.claims[2]!, id: 'ttft', statement: 'TTFT at most 0.8 ms', unit: 'ms', claimed: 0.8, tolerance: 0.1,
    measured: { estimate: 0.75, lower: 0.5, upper: 0.9, confidence: 0.95, method: 'bootstrap-percentile' }, supporting: [],
  };
  const bytesClaim: ClaimCheck = { ...msClaim, id: 'peak', statement: 'peak memory', unit: 'bytes', claimed: 0.5, tolerance: 0, measured: null };
  const withClaims = (list: ClaimCheck[]): ReportModel => ({ ...model, claims: list });

  it('HTML formats claimed and measured figures by unit', () => {
    const html = renderHtml(withClaims([msClaim, bytesClaim]));
    const row = (id: string) => html.split('<tr>').find((r) => r.includes(id === 'ttft' ? 'TTFT at most' : 'peak memory'))!;
    expect(row('ttft')).toContain('0.80&nbsp;ms');
    expect(row('ttft')).toContain('0.75&nbsp;ms');
    expect(row('ttft')).not.toMatch(/80\.0%|75\.0%/);
    expect(row('peak')).toContain('0.5&nbsp;B');
    const fraction = renderHtml(model).split('<tr>').find((r) => r.includes('92.1% accuracy'))!;
    expect(fraction).toContain('92.1%');
  });

  it('Markdown formats claimed and measured figures by unit; a claim without a unit (older report) is a fraction', () => {
    const md = renderMarkdown(withClaims([msClaim, { ...model.claims[0]!, unit: undefined }]));
    const line = md.split('\n').find((l) => l.includes('TTFT at most'))!;
    expect(line).toContain('| at least 0.8 ms ± 0.1 ms | 0.8 ms [0.5 ms, 0.9 ms] |');
    expect(md.split('\n').find((l) => l.includes('92.1% accuracy on USMLE'))).toMatch(/\| at least 92\.1% ± 2\.0 points \| 68\.4% \[/);
  });
});
