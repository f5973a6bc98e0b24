// A suite with `scoring: likelihood` end to end on the in-process llama.cpp runner: the journal holds
// each question's letter log-probabilities, the answer is the most likely letter, and the report
// compares the two models' letter distributions (KL divergence, top-1 agreement).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { runSuite } from '../../src/run/run.js';
import { loadSuite } from '../../src/run/suite.js';
import { letterDistribution } from '../../src/metrics/letter-distribution.js';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS, parseClaims } from '../../src/report/claims.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { tempDir, tinyModel, writeRunnerProfile, writeSuite } from '../helpers/tiny-run.js';
import { TINY_ONNX_DIR, tinyOnnxModel } from '../onnx/helpers.js';

const LIMIT = 8;

function likelihoodSuite(dir: string, extra: string[] = []): string {
  const file = writeSuite(dir, { constrain: false });
  writeFileSync(file, `${readFileSync(file, 'utf8')}\nscoring: likelihood\n${extra.join('\n')}\n`);
  return file;
}

describe('scoring: likelihood', () => {
  let f32: string;
  let q4: string;
  beforeAll(async () => {
    [f32, q4] = [await tinyModel('F32'), await tinyModel('Q4_0')];
  });

  it('answers with the most likely letter, keeps the log-probabilities, and the report compares the distributions', async () => {
    const dir = tempDir();
    const suite = likelihoodSuite(dir);
    const runs = [];
    for (const [label, model] of [['base', f32], ['same', f32], ['q4', q4]] as const) {
      const profile = await loadRunnerProfile(writeRunnerProfile(dir, model, label));
      runs.push(await runSuite({ suite, runner: profile, out: join(dir, label), limit: LIMIT, seed: 1, cacheDir: false }));
    }
    const [base] = runs;
    expect(base!.manifest.suite.scoring).toBe('likelihood');
    expect(readFileSync(join(dir, 'base', 'summary.md'), 'utf8')).toContain('Scoring: **likelihood**');
    expect(base!.results).toHaveLength(LIMIT);
    for (const r of base!.results) {
      const letters = Object.keys(r.letterLogprobs!);
      expect(letters.length).toBeGreaterThanOrEqual(4);
      const best = letters.reduce((a, b) => (r.letterLogprobs![b]! > r.letterLogprobs![a]! ? b : a));
      expect(r.extracted).toMatchObject({ letter: best, status: 'answered', method: 'likelihood' });
      expect(r.correct).toBe(best === r.gold);
      expect(r.outputTokens).toBe(0);
      expect(r.timings!.e2eMs).toBeGreaterThan(0);
      expect(r.timings!.ttftMs).toBe(r.timings!.e2eMs);
    }

    const folders = ['base', 'same', 'q4'].map((l) => readRunFolder(join(dir, l)));
    // The same model twice: identical distributions, KL exactly 0, full agreement.
    const same = buildReport({ runs: [folders[0]!, folders[1]!], resamples: 200 }).comparisons[0]!.letterDistribution!;
    expect(same).toMatchObject({ items: LIMIT, klMax: 0, top1Agreement: 1 });
    expect(same.klMean.estimate).toBe(0);
    // F32 vs Q4_0: recompute the mean KL by hand from the journals.
    const model = buildReport({ runs: [folders[0]!, folders[2]!], resamples: 200 });
    const d = model.comparisons[0]!.letterDistribution!;
    const byId = new Map(runs[2]!.results.map((r) => [r.itemId, r]));
    const kls = base!.results.map((b) => {
      const c = byId.get(b.itemId)!;
      const letters = Object.keys(b.letterLogprobs!).sort();
      const p = letterDistribution(b.letterLogprobs!, letters);
      const q = letterDistribution(c.letterLogprobs!, letters);
      return p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]!), 0);
    });
    expect(d.items).toBe(LIMIT);
    expect(d.klMean.estimate).toBeCloseTo(kls.reduce((a, b) => a + b, 0) / LIMIT, 12);
    expect(d.klMean.estimate).toBeGreaterThan(0);
    expect(d.klMean.lower).toBeLessThanOrEqual(d.klMean.estimate);
    expect(d.klMean.upper).toBeGreaterThanOrEqual(d.klMean.estimate);
    expect(d.top1Agreement).toBeGreaterThanOrEqual(0);
    expect(d.baselineLetterMass).toBeGreaterThan(0);
    expect(renderMarkdown(model)).toContain('Answer-letter distributions (likelihood scoring');
    expect(model.notes.some((n) => n.text.includes('"base": scored by likelihood: nothing was generated'))).toBe(true);
    // Prompt evaluation is not inference latency: the paper's latency claim cannot be checked on these runs.
    const claims = buildReport({ runs: [folders[0]!, folders[2]!], resamples: 50, claims: parseClaims(PAPER_CLAIMS) }).claims;
    // (a smoke test, so no verdict at all; the rule alone says not measurable)
    expect(claims.find((c) => c.id === 'latency')).toMatchObject({ verdict: 'smoke test: no evidence', ruleOutcome: 'not measurable', reason: expect.stringContaining('scored by likelihood') });
    expect(renderHtml(model)).toContain('KL divergence (baseline ‖ compressed), nats');
  });

  it('runs on the onnxruntime runner too: fp32 against q4 of the tiny ONNX model', async () => {
    await tinyOnnxModel();
    const dir = tempDir();
    const suite = likelihoodSuite(dir);
    const folders = [];
    for (const variant of ['fp32', 'q4']) {
      const file = join(dir, `onnx-${variant}.yaml`);
      writeFileSync(file, `kind: onnx\nlabel: onnx-${variant}\nmodelDir: ${TINY_ONNX_DIR}\nvariant: ${variant}\nthreads: 1\n`);
      const run = await runSuite({ suite, runner: await loadRunnerProfile(file), out: join(dir, variant), limit: LIMIT, seed: 1, cacheDir: false });
      expect(run.results.every((r) => r.extracted.method === 'likelihood' && Object.keys(r.letterLogprobs!).length >= 4)).toBe(true);
      folders.push(readRunFolder(join(dir, variant)));
    }
    const d = buildReport({ runs: folders, resamples: 200 }).comparisons[0]!.letterDistribution!;
    expect(d.items).toBe(LIMIT);
    expect(d.klMean.estimate).toBeGreaterThan(0);
    expect(Number.isFinite(d.klMax)).toBe(true);
  });

  it('refuses, before loading a model, what likelihood scoring cannot do', async () => {
    const dir = tempDir();
    const local = await loadRunnerProfile(writeRunnerProfile(dir, f32));
    const cases: Array<[string, Parameters<typeof runSuite>[0], RegExp]> = [
      ['samples', { suite: likelihoodSuite(tempDir(), ['samples: 3']), runner: local, out: join(dir, 'b') }, /deterministic: 3 samples per question/],
      ['constraint', { suite: likelihoodSuite(tempDir(), ['answerConstraint: letter']), runner: local, out: join(dir, 'c') }, /answerConstraint has nothing to constrain/],
    ];
    for (const [name, opts, message] of cases) {
      const e = await runSuite({ ...opts, cacheDir: false }).then(() => null, (x: unknown) => x);
      expect(e, name).toBeInstanceOf(InputError);
      expect((e as Error).message, name).toMatch(message);
    }
  });

  it('the suite field is validated with file:line', async () => {
    const dir = tempDir();
    const file = writeSuite(dir, { constrain: false });
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nscoring: loglikelihood\n`);
    const e = await loadSuite(file).then(() => null, (x: Error) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e!.message).toMatch(new RegExp(`${file}:\\d+`));
    expect(e!.message).toContain('scoring');
  });
});
