// The report reads journals compactly (readRunFolder { compact: true }: texts it never shows left out,
// repeated strings shared, inter-token gaps as Float64Array views). Sameness: every report file built from
// the compact records is byte for byte the file built from the records as read before (omitPrompts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import type { ItemResult } from '../../src/core/types.js';
import { collectGarbage } from '../../src/core/heap.js';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS } from '../../src/report/claims.js';
import { writeReports } from '../../src/report/write.js';
import { syntheticPair } from '../fixtures/runs/synthetic.js';

const root = mkdtempSync(join(tmpdir(), 'medeval-compact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pair with every kind of record the report reads differently: failures, cache hits, replicas, likelihood letters, resumes. */
function awkwardPair(): string[] {
  const runs = syntheticPair(300, { outputTokens: [1, 40] });
  let s = 7;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  return runs.map((run, k) => {
    const results: ItemResult[] = run.results.map((r, i) => {
      const x: ItemResult = structuredClone(r);
      // Gaps that differ (their sums depend on the order they are added in).
      if (x.timings) x.timings.itlMs = x.timings.itlMs.map(() => 20 + 80 * rand());
      if (i % 11 === 0) x.question = `Question ${i}: a ${40 + i}-year-old woman with chest pain, ${'which '.repeat(i % 5)}next step?`;
      if (i % 13 === 0) x.subject = i % 2 ? 'cardiology' : 'neurology';
      if (i % 17 === 0 && x.timings) x.timings.queueMs = 3 + (i % 7);
      if (i % 19 === 0 && x.timings) x.timings.engine = { prompt_ms: 10 + i, predicted_ms: 200 + i, prompt_n: 50, predicted_n: 20 };
      if (i % 23 === 0) x.cached = true;
      if (i % 29 === 0) x.retries = 2;
      if (i % 5 === 0) x.replica = `http://127.0.0.1:${8000 + (i % 3)}`;
      if (i % 31 === 0) {
        x.rawOutput = `<think>reasoning ${i}\n  with   spaces</think> The answer is ${x.extracted.letter}.`;
        x.reasoning = `reasoning ${i}`;
      }
      if (i % 37 === 0) {
        x.letterLogprobs = { A: -0.5 - k, B: -1.5, C: -2.5, D: -3.5 + k };
        if (i % 74 === 0) x.letterNoFigure = { E: -9 };
      }
      if (i % 41 === 0) {
        // A failed request: not scored, no timings.
        x.timings = null;
        x.correct = null;
        x.outputTokens = null;
        x.finishReason = 'error';
        x.extracted = { letter: null, status: 'unparseable', method: 'request-failed', answerText: '' };
        x.error = { kind: i % 2 ? 'timeout' : 'http-5xx', message: 'failed', retries: 1, retryReasons: ['timeout: slow'] };
      }
      // Records from before optionCount was stored: the prompt shows the options.
      if (i % 3 === 0) x.prompt = `Question ${i}\nA. one\nB. two\nC. three\nD. four\nAnswer:`;
      else x.optionCount = 5;
      return x;
    });
    // A resumed run re-ran two items: the later record replaces the earlier one.
    results.push({ ...structuredClone(results[4]!), rawOutput: 'Answer: B', extracted: { ...results[4]!.extracted, letter: 'B' }, correct: results[4]!.gold === 'B' });
    results.push(structuredClone(results[9]!));
    const dir = join(root, run.manifest.label);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...run.manifest, suite: { ...run.manifest.suite, items: 300 } }, null, 2));
    writeFileSync(join(dir, 'results.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return dir;
  });
}

describe('compact journal records (the report\'s reader)', () => {
  const dirs = awkwardPair();

  it('give every report file byte for byte as the records read whole', async () => {
    const out: Record<string, string> = {};
    for (const mode of ['whole', 'compact'] as const) {
      const runs = dirs.map((d) => readRunFolder(d, mode === 'compact' ? { compact: true } : { omitPrompts: true }));
      const model = buildReport({ runs, claims: PAPER_CLAIMS, seed: 3, resamples: 200, generatedAt: null });
      const dir = join(root, `out-${mode}`);
      const files = await writeReports(model, dir, { formats: ['json', 'md', 'csv', 'tex', 'html'] });
      for (const f of files) out[`${mode}:${f.slice(dir.length)}`] = readFileSync(f, 'utf8');
    }
    const names = Object.keys(out).filter((k) => k.startsWith('whole:'));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const k of names) expect(out[k.replace('whole:', 'compact:')], k).toBe(out[k]);
    // The awkward records reached the figures: flips with reasoning, likelihood letters, replicas.
    expect(out['whole:/report.json']).toContain('"replica"');
    expect(out['whole:/report.json']).toContain('"letterDistribution"');
  });

  it('hold the gaps as Float64Array views with the same numbers, and leave out the texts no report shows', () => {
    const whole = readRunFolder(dirs[0]!, { omitPrompts: true }).results;
    const compact = readRunFolder(dirs[0]!, { compact: true }).results;
    expect(compact.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) {
      const w = whole[i]!, c = compact[i]!;
      expect(c.itemId).toBe(w.itemId);
      expect(c.optionCount).toBe(w.optionCount);
      if (w.timings === null) expect(c.timings).toBeNull();
      else {
        expect(c.timings!.itlMs).toBeInstanceOf(Float64Array);
        expect([...c.timings!.itlMs]).toEqual(w.timings.itlMs);
        expect({ ...c.timings, itlMs: [] }).toEqual({ ...w.timings, itlMs: [] });
      }
      expect(c.typeReason).toBe('');
      expect(c.template).toBe('');
      expect(c.extracted.answerText).toBe('');
      expect(c.error?.retryReasons).toEqual(w.error?.retryReasons);
      expect({ ...c, timings: null, typeReason: '', template: '', extracted: null }).toEqual({ ...w, timings: null, typeReason: '', template: '', extracted: null });
    }
  });
});

describe('collectGarbage', () => {
  it('collects what nothing references any more', async () => {
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef(Array.from({ length: 1000 }, (_, i) => ({ i })));
    })();
    // A WeakRef's target lives to the end of the job that made it.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(ref!.deref()).toBeUndefined();
  });
});
