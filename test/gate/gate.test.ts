// The gate's decisions on real run folders: a 10-point regression on 200 questions fails, a 1-point
// wobble within a 2-point threshold passes, noise above the threshold warns, unpaired runs use
// Newcombe's interval, and the optional latency, memory and error-rate gates.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { evaluateGate, type GateOptions } from '../../src/gate/gate.js';
import { newcombeDifference, twoProportionP } from '../../src/gate/unpaired.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { firstRight, tempRoot, withFlips, writeRun, type RunSpec } from './runs.js';

function gate(base: RunSpec, curr: RunSpec, opts: Partial<GateOptions> = {}) {
  const root = tempRoot();
  return evaluateGate({
    baseline: readRunFolder(writeRun(root, base)),
    current: readRunFolder(writeRun(root, curr)),
    maxAccuracyDropPoints: 2,
    ...opts,
  });
}

/** Exact two-sided McNemar p from first principles (BigInt binomial coefficients). */
function exactMcNemarP(b: number, c: number): number {
  const n = b + c, k = Math.min(b, c);
  let coef = 1n, tail = 0n;
  for (let i = 0; i <= k; i++) {
    if (i > 0) coef = (coef * BigInt(n - i + 1)) / BigInt(i);
    tail += coef;
  }
  return Math.min(1, (2 * Number(tail)) / 2 ** n);
}

const BASE_200 = firstRight(200, 140); // 70%

describe('accuracy gate, paired', () => {
  it('fails a 10-point regression on 200 questions and says why', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 30, 10) });
    const acc = r.checks.find((c) => c.id === 'accuracy')!;
    expect(r.pairing).toBe('paired');
    expect(r.verdict).toBe('fail');
    expect(acc.status).toBe('fail');
    expect(acc.measured).toBeCloseTo(-10, 9);
    expect(acc.p).toBeCloseTo(exactMcNemarP(30, 10), 12);
    expect(acc.p!).toBeLessThan(0.05);
    expect(acc.interval!.upper).toBeLessThan(0);
    expect(acc.interval!.lower).toBeLessThan(-10);
    expect(r.counts).toMatchObject({ itemsInCommon: 200, rightToWrong: 30, wrongToRight: 10 });
    expect(r.summary).toMatch(/^FAIL: accuracy fell 10\.0 points \(70\.0% -> 60\.0% on 200 common questions\), more than the allowed 2\.0, and the drop is significant \(McNemar exact p = /);
  });

  it('passes a 1-point wobble with a 2-point threshold', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 5, 3) });
    const acc = r.checks[0]!;
    expect(r.verdict).toBe('pass');
    expect(acc.status).toBe('pass');
    expect(acc.measured).toBeCloseTo(-1, 9);
    expect(acc.p).toBeCloseTo(exactMcNemarP(5, 3), 12);
    expect(acc.reason).toContain('accuracy fell 1.0 points');
    expect(acc.reason).toContain('within the allowed 2.0');
  });

  it('passes identical runs with p = 1 and a zero change', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200 });
    expect(r.verdict).toBe('pass');
    expect(r.checks[0]).toMatchObject({ status: 'pass', measured: 0, p: 1, significant: false });
    expect(r.checks[0]!.interval).toMatchObject({ lower: 0, upper: 0 });
    expect(r.summary).toContain('accuracy unchanged');
  });

  it('warns, not fails, on a drop above the threshold that noise explains', () => {
    // 3 points down (10 right->wrong, 4 wrong->right): McNemar p = 0.18.
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 10, 4) });
    expect(r.verdict).toBe('pass');
    expect(r.checks[0]!.status).toBe('warn');
    expect(r.checks[0]!.p).toBeCloseTo(exactMcNemarP(10, 4), 12);
    expect(r.summary).toMatch(/^PASS with warnings: accuracy fell 3\.0 points .* not significant/);
  });

  it('--fail-on-warn turns that warning into a failure', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 10, 4) }, { failOnWarn: true });
    expect(r.checks[0]!.status).toBe('warn');
    expect(r.verdict).toBe('fail');
    expect(r.summary).toMatch(/^FAIL: accuracy fell 3\.0 points .*failed by --fail-on-warn\)$/);
    expect(r.rules.some((x) => x.startsWith('--fail-on-warn'))).toBe(true);
  });

  it('passes a significant drop that stays within the threshold', () => {
    const base = firstRight(2000, 1400);
    const r = gate({ label: 'base', outcomes: base }, { label: 'curr', outcomes: withFlips(base, 30, 0) }, { resamples: 500 });
    expect(r.checks[0]!.p!).toBeLessThan(1e-6);
    expect(r.checks[0]!.measured).toBeCloseTo(-1.5, 9);
    expect(r.checks[0]!.status).toBe('pass');
  });

  it('is reproducible for a seed', () => {
    const a = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 12, 6) }, { seed: 7 });
    const b = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: withFlips(BASE_200, 12, 6) }, { seed: 7 });
    expect(a.checks[0]!.interval).toEqual(b.checks[0]!.interval);
  });

  it('decides on the paired bootstrap interval with several samples per question', () => {
    const base = BASE_200.map((o) => [o, o]);
    const curr = withFlips(BASE_200, 30, 10).map((o, i) => [o, i % 2 ? o : BASE_200[i]!]); // half the flips per question
    const r = gate({ label: 'base', outcomes: BASE_200, sampleOutcomes: base }, { label: 'curr', outcomes: BASE_200, sampleOutcomes: curr });
    const acc = r.checks[0]!;
    // pass@1 per question: 15 questions -1, 15 at -0.5, 5 at +1, 5 at +0.5 -> -15 / 200 = -7.5 points.
    expect(acc.measured).toBeCloseTo(-7.5, 9);
    expect(acc.test).toContain('bootstrap');
    expect(acc.interval!.upper).toBeLessThan(0);
    expect(acc.status).toBe('fail');
  });

  it('pairs on the common questions when the current run is a subset of the baseline', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200.slice(0, 150) });
    expect(r.pairing).toBe('paired');
    expect(r.counts).toMatchObject({ itemsInCommon: 150, onlyInBaseline: 50, onlyInCurrent: 0 });
    expect(r.warnings.some((w) => w.includes('50 question(s) only in the baseline'))).toBe(true);
  });
});

describe('accuracy gate, unpaired', () => {
  it('Newcombe hybrid score interval matches Newcombe (1998), example (a): 56/70 vs 48/80', () => {
    // Newcombe reports 0.0524 to 0.3339 for p1 - p2; ours is p2 - p1 with p2 = 56/70.
    const d = newcombeDifference(48, 80, 56, 70, 0.95);
    expect(d.estimate).toBeCloseTo(0.2, 12);
    expect(d.lower).toBeCloseTo(0.0524, 4);
    expect(d.upper).toBeCloseTo(0.3339, 4);
    expect(twoProportionP(48, 80, 56, 70)).toBeLessThan(0.01);
  });

  it('uses the unpaired interval for runs on different questions', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `other-${i}`);
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: firstRight(200, 110), ids });
    const acc = r.checks[0]!;
    expect(r.pairing).toBe('unpaired');
    expect(acc.name).toBe('accuracy (unpaired)');
    const expected = newcombeDifference(140, 200, 110, 200, 0.95);
    expect(acc.measured).toBeCloseTo(-15, 9);
    expect(acc.interval!.lower).toBeCloseTo(expected.lower * 100, 9);
    expect(acc.interval!.upper).toBeCloseTo(expected.upper * 100, 9);
    expect(acc.interval!.method).toContain('Newcombe');
    expect(acc.status).toBe('fail');
    expect(r.counts.itemsInCommon).toBe(0);
    expect(r.warnings.some((w) => w.includes('not on the same questions'))).toBe(true);
  });

  it('can be forced unpaired, and refuses a forced pairing with nothing in common', () => {
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200 }, { pairing: 'unpaired' });
    expect(r.pairing).toBe('unpaired');
    expect(r.checks[0]!.measured).toBe(0);
    const ids = Array.from({ length: 200 }, (_, i) => `x${i}`);
    expect(() => gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200, ids }, { pairing: 'paired' })).toThrow(InputError);
  });
});

describe('error rate, latency and memory gates', () => {
  it('fails when too many current requests failed, with the reason', () => {
    const curr = BASE_200.map((o, i) => (i % 10 === 5 ? 'error' : o)) as RunSpec['outcomes'];
    const r = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: curr });
    const err = r.checks.find((c) => c.id === 'error-rate')!;
    expect(err.status).toBe('fail');
    expect(err.measured).toBeCloseTo(10, 9);
    expect(err.reason).toContain('20 of 200 requests failed (10.0%), more than the allowed 5.0%');
    expect(r.checks[0]!.status).toBe('pass'); // accuracy itself is unchanged on the scored questions
    expect(r.verdict).toBe('fail');
    // The failed questions are not covered either: a lenient error rate alone does not pass the gate.
    expect(gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: curr }, { maxErrorRate: 0.2 }).checks.find((c) => c.id === 'coverage'))
      .toMatchObject({ status: 'fail', measured: 90, detail: '180 of 200 baseline questions' });
    const lenient = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: curr }, { maxErrorRate: 0.2, allowPartial: true });
    expect(lenient.verdict).toBe('pass');
  });

  it('latency gate: fails a significant 30% slowdown over a 10% limit, passes it under a 50% limit', () => {
    const jitter = (i: number) => 1000 + ((i * 37) % 101);
    const base: RunSpec = { label: 'base', outcomes: BASE_200, e2eMs: jitter };
    const slow: RunSpec = { label: 'curr', outcomes: BASE_200, e2eMs: (i) => 1.3 * jitter(i) + ((i * 53) % 41) };
    const r = gate(base, slow, { maxLatencyIncreasePercent: 10 });
    const lat = r.checks.find((c) => c.id === 'latency')!;
    expect(lat.status).toBe('fail');
    expect(lat.measured!).toBeGreaterThan(30);
    expect(lat.measured!).toBeLessThan(33);
    expect(lat.interval!.lower).toBeGreaterThan(0);
    expect(lat.interval!.lower).toBeLessThanOrEqual(lat.measured!);
    expect(lat.interval!.upper).toBeGreaterThanOrEqual(lat.measured!);
    expect(lat.baselineValue!).toBeCloseTo(BASE_200.reduce((s, _, i) => s + jitter(i), 0) / 200, 9);
    expect(r.verdict).toBe('fail');
    expect(gate(base, slow, { maxLatencyIncreasePercent: 50 }).checks.find((c) => c.id === 'latency')!.status).toBe('pass');
    expect(gate(base, slow).checks.some((c) => c.id === 'latency')).toBe(false); // off unless asked
  });

  it('memory gate: fails a 20% weights increase over a 10% limit; an unmeasurable part fails', () => {
    const r = gate({ label: 'base', outcomes: BASE_200, weightsBytes: 5e9 }, { label: 'curr', outcomes: BASE_200, weightsBytes: 6e9 }, { maxMemoryIncreasePercent: 10 });
    const mem = r.checks.find((c) => c.id === 'memory')!;
    expect(mem.status).toBe('fail');
    expect(mem.measured).toBeCloseTo(20, 9);
    const gpu = gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200 }, { maxMemoryIncreasePercent: 10, memoryPart: 'gpuProcessPeak' });
    expect(gpu.checks.find((c) => c.id === 'memory')).toMatchObject({ status: 'fail', measured: null });
    expect(gpu.verdict).toBe('fail');
  });

  it('rejects a negative threshold and a baseline with nothing scored as bad input', () => {
    expect(() => gate({ label: 'base', outcomes: BASE_200 }, { label: 'curr', outcomes: BASE_200 }, { maxAccuracyDropPoints: -1 })).toThrow(/--max-drop/);
    const dead = BASE_200.map(() => 'error' as const);
    expect(() => gate({ label: 'base', outcomes: dead }, { label: 'curr', outcomes: BASE_200 })).toThrow(/baseline run has no scored answers/);
  });
});
