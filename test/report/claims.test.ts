import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { decideVerdict, loadClaims, PAPER_CLAIMS, parseClaims } from '../../src/report/claims.js';
import type { Interval } from '../../src/report/model.js';
import { readRunFolder } from '../../src/report/run-folder.js';
import { itemResult, loadedRun, manifest, memoryReport } from '../fixtures/runs/synthetic.js';

const iv = (estimate: number, lower: number, upper: number): Interval => ({ estimate, lower, upper, confidence: 0.95, method: 'test' });
const FIXTURES = join(import.meta.dirname, '../fixtures/runs');
const ROOT = join(import.meta.dirname, '../..');

describe('verdict rule', () => {
  it('at-least boundaries', () => {
    expect(decideVerdict(iv(0.93, 0.912, 0.95), 0.921, 0.01, 'at-least').verdict).toBe('supported');
    expect(decideVerdict(iv(0.93, 0.905, 0.95), 0.921, 0.01, 'at-least').verdict).toBe('inconclusive');
    expect(decideVerdict(iv(0.85, 0.80, 0.90), 0.921, 0.01, 'at-least').verdict).toBe('not supported');
    // exactly on the threshold counts as supported, whatever the floating-point rounding of c - t
    expect(decideVerdict(iv(0.911, 0.911, 0.911), 0.921, 0.01, 'at-least').verdict).toBe('supported');
    expect(decideVerdict(iv(0.3, 0.3, 0.3), 0.7, 0.4, 'at-least').verdict).toBe('supported');
    // an upper bound exactly on the threshold is not "wholly below" it
    expect(decideVerdict(iv(0.29, 0.2, 0.3), 0.7, 0.4, 'at-least').verdict).toBe('inconclusive');
  });
  it('at-most and equal', () => {
    expect(decideVerdict(iv(0.1, 0.05, 0.12), 0.1, 0.02, 'at-most').verdict).toBe('supported');
    expect(decideVerdict(iv(0.2, 0.15, 0.25), 0.1, 0.02, 'at-most').verdict).toBe('not supported');
    expect(decideVerdict(iv(0.1, 0.09, 0.13), 0.1, 0.02, 'at-most').verdict).toBe('inconclusive');
    expect(decideVerdict(iv(0.647, 0.64, 0.66), 0.647, 0.02, 'equal').verdict).toBe('supported');
    expect(decideVerdict(iv(0.70, 0.69, 0.71), 0.647, 0.02, 'equal').verdict).toBe('not supported');
    expect(decideVerdict(iv(0.66, 0.64, 0.68), 0.647, 0.02, 'equal').verdict).toBe('inconclusive');
  });
  it('gives a one-line reason with the figures', () => {
    const { reason } = decideVerdict(iv(0.684, 0.46, 0.846), 0.921, 0.02, 'at-least');
    expect(reason).toBe('measured 68.4% [46%, 84.6%]: the whole interval is below 90.1%');
    expect(decideVerdict(iv(NaN, NaN, NaN), 0.5, 0, 'at-least').verdict).toBe('not measurable');
  });
});

describe('claims on runs', () => {
  const claims = parseClaims(PAPER_CLAIMS.map((c) => (c.metric === 'accuracy' ? { ...c, suites: undefined } : c)));

  it('checks the three paper claims on the fixture pair, with definitions beside every verdict', () => {
    const model = buildReport({ runs: [readRunFolder(join(FIXTURES, 'baseline-f16')), readRunFolder(join(FIXTURES, 'compressed-q4'))], claims, resamples: 500 });
    const [acc, mem, lat] = model.claims;
    expect(acc).toMatchObject({ id: 'accuracy', verdict: 'not supported', claimed: expect.closeTo(0.921, 12), tolerance: expect.closeTo(0.02, 12) });
    expect(acc!.measured!.estimate).toBeCloseTo(13 / 19, 12);
    expect(acc!.supporting.find((s) => s.label.startsWith('retention'))!.value).toBeCloseTo(13 / 15, 12);
    expect(mem).toMatchObject({ id: 'memory', verdict: 'supported' });
    expect(mem!.measured!.estimate).toBeCloseTo(1 - 4_683_073_536 / 15_231_233_024, 12);
    expect(mem!.supporting.find((s) => s.label === 'processPeak reduction')!.value).toBeCloseTo(0.625, 12);
    expect(lat).toMatchObject({ id: 'latency', verdict: 'supported' });
    expect(lat!.measured!.estimate).toBeCloseTo(1 - 880 / 1105, 12);
    for (const c of model.claims) {
      expect(c.definition.length).toBeGreaterThan(40);
      expect(c.rule).toMatch(/supported if/);
      expect(c.reason.length).toBeGreaterThan(10);
    }
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
