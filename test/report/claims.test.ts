import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { decideVerdict, loadClaims, PAPER_CLAIMS, parseClaims, toleranceText, VERDICT_DEFINITIONS, verdictRule } from '../../src/report/claims.js';
import { VERDICTS, type Interval } from '../../src/report/model.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { itemResult, loadedRun, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

const iv = (estimate: number, lower: number, upper: number): Interval => ({ estimate, lower, upper, confidence: 0.95, method: 'test' });
const FIXTURES = join(import.meta.dirname, '../fixtures/runs');
const ROOT = join(import.meta.dirname, '../..');

describe('verdict rule (two-sided: claim ± tolerance is a band)', () => {
  it('at-least: reproduced inside the band, exceeded above it, not reproduced below it, inconclusive across an edge', () => {
    expect(decideVerdict(iv(0.925, 0.912, 0.93), 0.921, 0.01, 'at-least').verdict).toBe('reproduced');
    expect(decideVerdict(iv(0.93, 0.905, 0.95), 0.921, 0.01, 'at-least').verdict).toBe('inconclusive');
    expect(decideVerdict(iv(0.85, 0.80, 0.90), 0.921, 0.01, 'at-least').verdict).toBe('not reproduced');
    // a 5x overshoot is not a reproduction (the old rule called it "supported")
    expect(decideVerdict(iv(0.858, 0.858, 0.858), 0.647, 0.02, 'at-least').verdict).toBe('exceeded');
    expect(decideVerdict(iv(0.624, 0.617, 0.632), 0.124, 0.02, 'at-least').verdict).toBe('exceeded');
    // an interval reaching past the upper edge is not "reproduced" either
    expect(decideVerdict(iv(0.93, 0.915, 0.95), 0.921, 0.01, 'at-least').verdict).toBe('inconclusive');
    // exactly on an edge counts as inside, whatever the floating-point rounding of c ± t
    expect(decideVerdict(iv(0.911, 0.911, 0.911), 0.921, 0.01, 'at-least').verdict).toBe('reproduced');
    expect(decideVerdict(iv(0.931, 0.931, 0.931), 0.921, 0.01, 'at-least').verdict).toBe('reproduced');
    expect(decideVerdict(iv(0.3, 0.3, 0.3), 0.7, 0.4, 'at-least').verdict).toBe('reproduced');
    // an upper bound exactly on the lower edge is not "wholly below" it
    expect(decideVerdict(iv(0.29, 0.2, 0.3), 0.7, 0.4, 'at-least').verdict).toBe('inconclusive');
  });
  it('at-most: below the band is exceeded (better), above it not reproduced; equal: either side is not reproduced', () => {
    expect(decideVerdict(iv(0.1, 0.09, 0.11), 0.1, 0.02, 'at-most').verdict).toBe('reproduced');
    expect(decideVerdict(iv(0.02, 0.01, 0.05), 0.1, 0.02, 'at-most').verdict).toBe('exceeded');
    expect(decideVerdict(iv(0.2, 0.15, 0.25), 0.1, 0.02, 'at-most').verdict).toBe('not reproduced');
    expect(decideVerdict(iv(0.1, 0.09, 0.13), 0.1, 0.02, 'at-most').verdict).toBe('inconclusive');
    expect(decideVerdict(iv(0.647, 0.64, 0.66), 0.647, 0.02, 'equal').verdict).toBe('reproduced');
    expect(decideVerdict(iv(0.70, 0.69, 0.71), 0.647, 0.02, 'equal').verdict).toBe('not reproduced');
    expect(decideVerdict(iv(0.60, 0.59, 0.61), 0.647, 0.02, 'equal').verdict).toBe('not reproduced');
    expect(decideVerdict(iv(0.66, 0.64, 0.68), 0.647, 0.02, 'equal').verdict).toBe('inconclusive');
  });
  it('gives a one-line reason with the figures, and states the tolerance as a two-sided band in points', () => {
    const { reason } = decideVerdict(iv(0.684, 0.46, 0.846), 0.921, 0.02, 'at-least');
    expect(reason).toBe('measured 68.4% [46%, 84.6%] lies wholly below 90.1%..94.1%');
    expect(decideVerdict(iv(0.858, 0.858, 0.858), 0.647, 0.02, 'at-least').reason).toMatch(/^measured 85\.8% \(exact\) lies wholly above 62\.7%\.\.66\.7% \(1\.33x the claim\)/);
    expect(decideVerdict(iv(NaN, NaN, NaN), 0.5, 0, 'at-least').verdict).toBe('not measurable');
    expect(toleranceText(0.02)).toBe('± 2.0 points');
    expect(verdictRule('at-least', 0.647, 0.02)).toBe('reproduced if the 95% interval lies within 62.7%..66.7% (claim 64.7% ± 2.0 points); exceeded if it lies wholly above 66.7%; not reproduced if it lies wholly below 62.7%; inconclusive otherwise');
    // every verdict word has its definition
    expect(VERDICT_DEFINITIONS.map(([v]) => v).sort()).toEqual([...VERDICTS].sort());
  });
});

describe('claims on runs', () => {
  const claims = parseClaims(PAPER_CLAIMS.map((c) => (c.metric === 'accuracy' ? { ...c, suites: undefined } : c)));

  it('checks the three paper claims on the fixture pair, with definitions beside every verdict', () => {
    const model = buildReport({ runs: [readRunFolder(join(FIXTURES, 'baseline-f16')), readRunFolder(join(FIXTURES, 'compressed-q4'))], claims, resamples: 500 });
    const [acc, mem, lat] = model.claims;
    expect(acc).toMatchObject({ id: 'accuracy', verdict: 'not reproduced', claimed: expect.closeTo(0.921, 12), tolerance: expect.closeTo(0.02, 12) });
    expect(acc!.measured!.estimate).toBeCloseTo(13 / 19, 12);
    expect(acc!.supporting.find((s) => s.label.startsWith('retention'))!.value).toBeCloseTo(13 / 15, 12);
    // 69.3% less weight for a claimed 64.7% ± 2: more than claimed, so not a reproduction of the figure
    expect(mem).toMatchObject({ id: 'memory', verdict: 'exceeded', basis: 'weights: weights file (tensor bytes on disk)' });
    expect(mem!.measured!.estimate).toBeCloseTo(1 - 4_683_073_536 / 15_231_233_024, 12);
    const peak = mem!.parts!.find((p) => p.part === 'processPeak')!;
    expect(peak.measured!.estimate).toBeCloseTo(0.625, 12);
    expect(peak.verdict).toBe('not reproduced'); // 62.5% < 62.7%
    expect(lat!.verdict).toBe('exceeded');
    expect(lat).toMatchObject({ id: 'latency' });
    expect(lat!.measured!.estimate).toBeCloseTo(1 - 880 / 1105, 12);
    for (const c of model.claims) {
      expect(c.definition.length).toBeGreaterThan(40);
      expect(c.rule).toMatch(/^reproduced if .*; inconclusive otherwise$/);
      expect(c.reason.length).toBeGreaterThan(10);
    }
  });

  it('judges a memory claim on every measured part, each with its own verdict', () => {
    const r = [1, 2, 3].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A' }));
    // weights 64.7% less (reproduced), resident weights only 20% less, peak process memory 13.7% less
    const mem = (w: number, resident: number, peak: number) => ({ ...memoryReport(w, peak), residentWeights: { bytes: resident, source: 'model buffer size' } });
    const base = loadedRun(manifest('b', { memory: mem(1000, 1000, 10_000) }), r);
    const comp = loadedRun(manifest('c', { memory: mem(353, 800, 8630) }), r);
    const model = buildReport({ runs: [base, comp], claims: PAPER_CLAIMS, resamples: 100 });
    const m = model.claims.find((c) => c.id === 'memory')!;
    expect(m.verdict).toBe('reproduced');
    const byPart = Object.fromEntries(m.parts!.map((p) => [p.part, p.verdict]));
    expect(byPart).toEqual({
      weights: 'reproduced', residentWeights: 'not reproduced', context: 'not measurable', processPeak: 'not reproduced',
      processRss: 'not reproduced', gpuProcessPeak: 'not measurable',
    });
    expect(m.parts!.find((p) => p.part === 'processPeak')!.measured!.estimate).toBeCloseTo(0.137, 12);
  });

  it('a smoke test never gets a verdict: "smoke test: no evidence", with what the rule alone would say', () => {
    const r = [1, 2, 3].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A' }));
    const smoke = { name: 'demo', file: null, dataset: 'sample', datasetFiles: ['s.jsonl'], datasetHash: 'abc123', items: 3, smokeTest: true };
    const base = loadedRun(manifest('b', { suite: smoke, memory: memoryReport(1000, 10_000) }), r);
    const comp = loadedRun(manifest('c', { suite: smoke, memory: memoryReport(142, 8560) }), r);
    const model = buildReport({ runs: [base, comp], claims: PAPER_CLAIMS, resamples: 100 });
    for (const c of model.claims) {
      expect(c.verdict).toBe('smoke test: no evidence');
      expect(c.reason).toMatch(/^smoke test \(run "b": smoke-test suite "demo"; run "c": smoke-test suite "demo"\): no evidence about the claim/);
      for (const p of c.parts ?? []) expect(p.verdict).toBe('smoke test: no evidence');
    }
    const m = model.claims.find((c) => c.id === 'memory')!;
    expect(m.ruleOutcome).toBe('exceeded');
    expect(m.parts!.find((p) => p.part === 'processPeak')!.ruleOutcome).toBe('not reproduced');
    // A tiny random model on a real suite is a smoke test too.
    const tiny = loadedRun(manifest('t', { memory: memoryReport(142, 8560), model: { runner: 'llama-cpp-embedded', label: 't', parameters: 1, fileBytes: 142, extra: { tinyRandom: true } } }), r);
    const model2 = buildReport({ runs: [loadedRun(manifest('b', { memory: memoryReport(1000, 10_000) }), r), tiny], claims: PAPER_CLAIMS, resamples: 100 });
    expect(model2.claims.map((c) => c.verdict)).toEqual(['smoke test: no evidence', 'smoke test: no evidence', 'smoke test: no evidence']);
    expect(model2.claims[1]!.reason).toMatch(/run "t": tiny random model/);
  });

  it('not measurable: another suite, missing memory part, latency under load', () => {
    const r = [1, 2, 3].map((i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A' }));
    const base = loadedRun(manifest('b', { memory: memoryReport(null, 100) }), r);
    const comp = loadedRun(manifest('c', { memory: memoryReport(50, 40), load: { profile: 'concurrency', concurrency: 4, warmup: 1 } }), r);
    const model = buildReport({ runs: [base, comp], claims: PAPER_CLAIMS, resamples: 100 });
    const [acc, mem, lat] = model.claims;
    expect(acc).toMatchObject({ verdict: 'not measurable', measured: null });
    expect(acc!.reason).toMatch(/suite "fixture", the claim is about medqa-usmle-5/);
    expect(mem!.verdict).toBe('not measurable');
    expect(mem!.reason).toMatch(/weights memory is not available for the baseline/);
    expect(lat!.verdict).toBe('not measurable');
    expect(lat!.reason).toMatch(/concurrency 4.*not at batch size 1/);
  });

  it('loads the claims section of suites/paper.yaml, and reports bad claims with file:line', async () => {
    const loaded = await loadClaims(join(ROOT, 'suites/paper.yaml'));
    expect(loaded.map((c) => [c.id, c.metric, c.claimedPercent])).toEqual([['accuracy', 'accuracy', 92.1], ['memory', 'memory-reduction', 64.7], ['latency', 'latency-reduction', 12.4]]);
    expect(loaded).toEqual(PAPER_CLAIMS);
    const dir = mkdtempSync(join(tmpdir(), 'medeval-claims-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'claims:\n  - id: x\n    statement: s\n    metric: memory-reduction\n    part: vram\n    claimedPercent: 10\n');
    await expect(loadClaims(bad)).rejects.toThrow(/bad\.yaml:5 field "claims\.0\.part"/);
  });
});
