// The scripted runner (answers and timings from a script, no model): the run loop, resume, likelihood
// scoring and compare with reports, each in well under a second of runner time.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runComparison } from '../../src/run/compare.js';
import { InputError } from '../../src/core/errors.js';
import { runSuite } from '../../src/run/run.js';
import type { ItemResult } from '../../src/core/types.js';
import { publishReport } from '../../src/report/publish.js';
import { createRunner, loadRunnerProfile } from '../../src/runners/registry.js';
import { REPO, SAMPLE, tempDir } from '../helpers/tiny-run.js';

const BUNDLED_SUITE = join(REPO, 'suites/usmle-sample.yaml');
const lines = (dir: string): ItemResult[] =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const byId = (rs: ItemResult[]) => new Map(rs.map((r) => [r.itemId, r]));

/** Every answer path: answered (default, with reasoning), unparseable, truncated by the budget, error. */
function writeScript(dir: string, name = 'script.jsonl'): string {
  const file = join(dir, name);
  writeFileSync(file, [
    { default: true, text: '<think>reasoning here</think>\nAnswer: A', timings: { ttftMs: 50, itlMs: 10 } },
    { id: 'usmle-sample-003', text: 'I am not sure which one.' },
    { id: 'usmle-sample-004', text: 'Let me think about this step by step', outputTokens: 5000, timings: { ttftMs: 5, tokensPerSecond: 100 } },
    { id: 'usmle-sample-005', error: { kind: 'http-5xx', message: 'HTTP 503: scripted failure' } },
    { prompt: 'lisinopril', text: 'Answer: B', promptTokens: 77 },
  ].map((e) => JSON.stringify(e)).join('\n') + '\n');
  return file;
}

function writeProfile(dir: string, label: string, body = `script: ./script.jsonl\n`): string {
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, `kind: scripted\nlabel: ${label}\n${body}`);
  return file;
}

describe('scripted runner', () => {
  it('runs the bundled sample suite through every answer path, with the scripted figures', async () => {
    const dir = tempDir();
    writeScript(dir);
    const runner = await loadRunnerProfile(writeProfile(dir, 'scripted-a'));
    const out = join(dir, 'run');
    const { manifest } = await runSuite({ suite: BUNDLED_SUITE, runner, out, cacheDir: false });
    const rs = lines(out);
    expect(rs).toHaveLength(60);
    // One request failed, so the run did not do all it says.
    expect(manifest.status).toBe('incomplete');
    expect(manifest.runner.kind).toBe('scripted');
    expect(manifest.model.extra).toMatchObject({ scripted: true });
    expect(manifest.memory!.processPeak).toMatchObject({ bytes: null, source: 'scripted runner' });
    const m = byId(rs);
    const def = m.get('usmle-sample-002')!;
    expect(def.extracted).toMatchObject({ letter: 'A', status: 'answered' });
    expect(def.correct).toBe(true);
    expect(def.reasoning).toBe('reasoning here');
    // Chunks are words: "<think>reasoning" at 50, " here</think>" at 60, "\nAnswer:" at 70 (first answer text), " A" at 80.
    expect(def.timings).toMatchObject({ ttftMs: 50, ttfoMs: 70, e2eMs: 80, itlMs: [10, 10, 10], tpotMs: 10 });
    expect(def.outputTokens).toBe(4);
    expect(m.get('usmle-sample-003')!.extracted.status).toBe('unparseable');
    expect(m.get('usmle-sample-003')!.correct).toBe(false);
    // 5000 scripted tokens against the suite's 1024: cut where the budget ends.
    const cut = m.get('usmle-sample-004')!;
    expect(cut.finishReason).toBe('length');
    expect(cut.outputTokens).toBe(1024);
    expect(cut.budget!.maxTokens).toBe(1024);
    expect(cut.extracted.status).toBe('truncated');
    expect(cut.timings!.itlMs.every((g) => g === 10)).toBe(true);
    const err = m.get('usmle-sample-005')!;
    expect(err.error).toMatchObject({ kind: 'http-5xx', message: 'HTTP 503: scripted failure' });
    expect(err.correct).toBeNull();
    // Matched by the prompt regex (item 001 is the lisinopril question); its promptTokens are the script's.
    expect(m.get('usmle-sample-001')!.rawOutput).toBe('Answer: B');
    expect(m.get('usmle-sample-001')!.promptTokens).toBe(77);
    expect(m.get('usmle-sample-001')!.budget!.promptTokens).toBe(77);
  });

  it('resumes: keeps the records, repairs a torn line, re-runs the rest the same way', async () => {
    const dir = tempDir();
    writeScript(dir);
    const runner = await loadRunnerProfile(writeProfile(dir, 'scripted-a'));
    const out = join(dir, 'run');
    await runSuite({ suite: BUNDLED_SUITE, runner, out, limit: 8, cacheDir: false });
    const full = lines(out);
    const text = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n');
    writeFileSync(join(out, 'results.jsonl'), `${text.slice(0, 3).join('\n')}\n${text[3]!.slice(0, 30)}`);
    const events: string[] = [];
    const resumed = await runSuite({ suite: BUNDLED_SUITE, runner, out, limit: 8, resume: true, cacheDir: false,
      onEvent: (e) => { if (e.type === 'item') events.push(e.result.itemId); } });
    const after = lines(out);
    expect(after.map((r) => r.itemId).sort()).toEqual(full.map((r) => r.itemId).sort());
    expect(after.map((r) => r.rawOutput).sort()).toEqual(full.map((r) => r.rawOutput).sort());
    // Three records kept; the torn one, the rest and the error item (005) ran again.
    expect(events).toHaveLength(5);
    expect(events).toContain('usmle-sample-005');
    expect(resumed.manifest.status).toBe('incomplete');
  });

  it('scores by likelihood from scripted letter log-probabilities', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lp.script.yaml'), [
      '- default: true',
      '  logprobs: { A: -0.5, B: -2, C: -3, D: -4, E: -5 }',
      '- id: usmle-sample-002',
      '  logprobs: { A: -3, B: -0.1 }',
      '- id: usmle-sample-003',
      '  text: no log-probabilities here',
    ].join('\n'));
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: lp-test', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${SAMPLE}`,
      `prompts: ${join(REPO, 'suites/prompts')}`, 'scoring: likelihood', 'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8', 'load:', '  warmup: 1'].join('\n'));
    const runner = await loadRunnerProfile(writeProfile(dir, 'lp', 'script: ./lp.script.yaml\n'));
    const out = join(dir, 'run');
    const { manifest } = await runSuite({ suite, runner, out, limit: 4, cacheDir: false });
    expect(manifest.suite.scoring).toBe('likelihood');
    const m = byId(lines(out));
    expect(m.get('usmle-sample-001')!.extracted).toMatchObject({ letter: 'A', method: 'likelihood' });
    expect(m.get('usmle-sample-001')!.correct).toBe(true);
    expect(m.get('usmle-sample-002')!.extracted.letter).toBe('B');
    expect(m.get('usmle-sample-002')!.correct).toBe(false);
    expect(m.get('usmle-sample-002')!.letterLogprobs).toEqual({ A: -3, B: -0.1 });
    expect(m.get('usmle-sample-003')!.error!.kind).toBe('no-logprobs');
  });

  it('compares two scripted runners through runComparison; the claims say smoke test, no evidence', async () => {
    const dir = tempDir();
    writeScript(dir);
    writeFileSync(join(dir, 'worse.jsonl'), [
      { default: true, text: 'Answer: C', timings: { ttftMs: 20, itlMs: 5 } },
      { id: 'usmle-sample-002', text: 'Answer: A', timings: { ttftMs: 20, itlMs: 5 } },
    ].map((e) => JSON.stringify(e)).join('\n'));
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, readFileSync(BUNDLED_SUITE, 'utf8').replace('../datasets/sample/usmle-sample.jsonl', SAMPLE)
      .replace('prompts: prompts', `prompts: ${join(REPO, 'suites/prompts')}`).replace('smokeTest: true', 'smokeTest: false'));
    const out = join(dir, 'cmp');
    const runs = await runComparison({
      suite, baseline: writeProfile(dir, 'base', 'script: ./script.jsonl\nmemory: { weightsBytes: 4000, peakBytes: 9000 }\n'),
      compressed: writeProfile(dir, 'comp', 'script: ./worse.jsonl\nmemory: { weightsBytes: 1000, peakBytes: 5000 }\n'),
      out, limit: 6, seed: 3,
    });
    expect(runs.outcomes.baseline!.status).toBe('incomplete');
    expect(runs.outcomes.compressed!.status).toBe('finished');
    const { model } = await publishReport([runs.baselineDir, runs.compressedDir], out, { seed: 1 });
    const pair = model.comparisons[0]!;
    expect(pair.itemsInCommon).toBeGreaterThan(0);
    // The suite is not marked smoke test: the scripted runner alone makes every claim "no evidence".
    expect(model.claims.length).toBeGreaterThan(0);
    for (const c of model.claims) expect(c.verdict).toBe('smoke test: no evidence');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('scripted runner');
  });

  it('honours the abort signal with realTime delays, picks alternatives by seed, and refuses bad scripts', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'slow.script.yaml'), ['- default: true', '  text: ["Answer: A", "Answer: B"]', '  timings: { ttftMs: 600000 }'].join('\n'));
    const runner = await createRunner((await loadRunnerProfile(writeProfile(dir, 'slow', 'script: ./slow.script.yaml\nrealTime: true\n'))).profile);
    const ac = new AbortController();
    const sampling = { temperature: 0, topP: 1, maxTokens: 8 };
    const pending = runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling, signal: ac.signal, onStart: () => ac.abort(new Error('user')) });
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    writeFileSync(join(dir, 'alt.script.yaml'), ['- default: true', '  text: ["Answer: A", "Answer: B"]'].join('\n'));
    const alt = await createRunner((await loadRunnerProfile(writeProfile(dir, 'alt', 'script: ./alt.script.yaml\n'))).profile);
    const ask = async (seed: number) => (await alt.generate({ messages: [{ role: 'user', content: 'q' }], sampling: { ...sampling, seed } })).rawText;
    expect([await ask(0), await ask(1), await ask(2), await ask(1)]).toEqual(['Answer: A', 'Answer: B', 'Answer: A', 'Answer: B']);
    // Virtual clock: a scripted minute of TTFT is reported exactly as given (a real wait would never land
    // on whole milliseconds), and the test does not wait it.
    writeFileSync(join(dir, 'min.script.yaml'), ['- default: true', '  text: Answer A', '  timings: { ttftMs: 60000, itlMs: [7] }'].join('\n'));
    const virt = await createRunner((await loadRunnerProfile(writeProfile(dir, 'min', 'script: ./min.script.yaml\n'))).profile);
    const g = await virt.generate({ messages: [{ role: 'user', content: 'q' }], sampling });
    expect(g.timings).toMatchObject({ ttftMs: 60000, e2eMs: 60007, itlMs: [7] });

    writeFileSync(join(dir, 'bad.jsonl'), '{"default": true, "text": "x"}\n{"id": "a", "prompt": "b"}\n');
    const bad = (await loadRunnerProfile(writeProfile(dir, 'bad', 'script: ./bad.jsonl\n'))).profile;
    const e = await createRunner(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/bad\.jsonl:2: .*exactly one of id, prompt/);
  });
});
