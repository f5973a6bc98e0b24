import { readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { RunFolder } from '../../src/core/run-folder.js';
import { runSuite } from '../../src/run/run.js';
import type { ItemResult } from '../../src/core/types.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { tempDir, tinyModel, writeRunnerProfile, writeSuite } from '../helpers/tiny-run.js';

let model: string;
beforeAll(async () => {
  model = await tinyModel('F32');
});

const lines = (dir: string): ItemResult[] =>
  readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('runSuite with the in-process llama.cpp runner', () => {
  it('journals one scored record per item and writes a manifest and summaries', async () => {
    const dir = tempDir();
    const runner = await loadRunnerProfile(writeRunnerProfile(dir, model));
    const out = join(dir, 'run');
    const { manifest, results } = await runSuite({ suite: writeSuite(dir), runner, out, limit: 6, cacheDir: false });
    expect(manifest.status).toBe('finished');
    expect(manifest.model.quantization).toBe('F32');
    expect(manifest.model.parameters).toBeGreaterThan(0);
    // Two weights figures: the file, and the model buffers llama.cpp states at load (node-llama-cpp's log).
    const mem = manifest.memory!;
    expect(mem.weights.source).toMatch(/GGUF file size/);
    expect(mem.residentWeights!.source).toMatch(/^llama\.cpp load log \(node-llama-cpp\), model buffer size: CPU_Mapped \d+\.\d\d (KiB|MiB|GiB)/);
    expect(mem.residentWeights!.bytes!).toBeGreaterThan(mem.weights.bytes! * 0.5);
    const journal = lines(out);
    expect(journal.map((r) => r.itemId)).toEqual(results.map((r) => r.itemId));
    expect(new Set(journal.map((r) => r.itemId)).size).toBe(6);
    for (const r of journal) {
      // Constrained replies always parse, so every record is scored, and scored honestly.
      expect(r.extracted.status).toBe('answered');
      expect(r.correct).toBe(r.extracted.letter === r.gold);
      expect(r.timings!.ttftMs!).toBeGreaterThan(0);
      expect(r.timings!.ttftMs!).toBeLessThanOrEqual(r.timings!.e2eMs);
      expect(r.outputTokens).toBeGreaterThan(0);
      expect(r.template).toMatch(/\.md$/);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.run.accuracy.overall.scored).toBe(6);
    expect(summary.run.accuracy.overall.correct).toBe(journal.filter((r) => r.correct).length);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('| overall | 6 |');
  });

  it('resumes: keeps finished records, repairs a torn last line, runs only what is missing', async () => {
    const dir = tempDir();
    const runner = await loadRunnerProfile(writeRunnerProfile(dir, model));
    const suite = writeSuite(dir);
    const out = join(dir, 'run');
    await runSuite({ suite, runner, out, limit: 4, cacheDir: false });
    const full = lines(out);
    // Simulate a crash: keep two records and half of the third.
    const text = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n');
    writeFileSync(join(out, 'results.jsonl'), `${text[0]}\n${text[1]}\n${text[2]!.slice(0, 40)}`);
    const resumed = await runSuite({ suite, runner, out, limit: 4, resume: true, cacheDir: false });
    const after = lines(out);
    expect(after.map((r) => `${r.itemId}#${r.sample}`)).toEqual(full.map((r) => `${r.itemId}#${r.sample}`));
    // Greedy decoding with the same seed: the re-run items give the same answers.
    expect(after.map((r) => r.extracted.letter)).toEqual(full.map((r) => r.extracted.letter));
    expect(resumed.manifest.status).toBe('finished');
  });

  it('refuses to resume when the settings changed, and refuses to overwrite a run', async () => {
    const dir = tempDir();
    const runner = await loadRunnerProfile(writeRunnerProfile(dir, model));
    const out = join(dir, 'run');
    await runSuite({ suite: writeSuite(dir), runner, out, limit: 2, cacheDir: false });
    await expect(runSuite({ suite: writeSuite(dir), runner, out, limit: 2, cacheDir: false })).rejects.toThrow(/already holds a run/);
    await expect(runSuite({ suite: writeSuite(dir), runner, out, limit: 2, seed: 99, resume: true, cacheDir: false }))
      .rejects.toThrow(InputError);
    // The manifest is validated on resume with the schema `report` uses, naming the field.
    const file = join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...m, samples: 'two', status: 'done' }));
    const refused = await runSuite({ suite: writeSuite(dir), runner, out, limit: 2, resume: true, cacheDir: false }).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(InputError);
    expect(String(refused)).toMatch(/manifest\.json field "samples"/);
    expect(String(refused)).toMatch(/field "status"/);
  });

  it('serves greedy repeats of a run from the response cache and marks them cached', async () => {
    const dir = tempDir();
    const runner = await loadRunnerProfile(writeRunnerProfile(dir, model));
    const suite = writeSuite(dir);
    const cacheDir = join(dir, 'cache');
    const first = await runSuite({ suite, runner, out: join(dir, 'a'), limit: 3, cacheDir });
    const second = await runSuite({ suite, runner, out: join(dir, 'b'), limit: 3, cacheDir });
    expect(first.results.every((r) => !r.cached)).toBe(true);
    expect(second.results.every((r) => r.cached === true)).toBe(true);
    expect(second.results.map((r) => r.rawOutput)).toEqual(first.results.map((r) => r.rawOutput));
  });

  it('never serves sampled repeats (pass@1) from the cache', async () => {
    const dir = tempDir();
    const runner = await loadRunnerProfile(writeRunnerProfile(dir, model));
    const suite = writeSuite(dir).replace('suite.yaml', 'suite.yaml');
    writeFileSync(suite, readFileSync(suite, 'utf8').replace('temperature: 0', 'temperature: 0.8'));
    const cacheDir = join(dir, 'cache');
    await runSuite({ suite, runner, out: join(dir, 'a'), limit: 2, samples: 2, cacheDir });
    const again = await runSuite({ suite, runner, out: join(dir, 'b'), limit: 2, samples: 2, cacheDir });
    expect(again.results).toHaveLength(4);
    expect(again.results.some((r) => r.cached)).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('RunFolder journal', () => {
  const record = (itemId: string): string => JSON.stringify({
    schema: 1, itemId, sample: 0, dataset: 'd', questionType: 'other', typeReason: 'fallback', template: 'default.md',
    prompt: 'p', gold: 'A', rawOutput: 'Answer: A', reasoning: null,
    extracted: { letter: 'A', status: 'answered', method: 'answer-colon', answerText: 'Answer: A' },
    correct: true, promptTokens: 3, outputTokens: 3, tokenSource: 'engine', finishReason: 'stop',
    timings: { startedAtEpochMs: 1, ttftMs: 1, ttfoMs: 1, e2eMs: 2, itlMs: [1], tpotMs: 0.5 },
  });

  it('treats only an unterminated last line as torn; damage elsewhere is an error with file:line', () => {
    const dir = tempDir();
    const f = new RunFolder(dir);
    f.create();
    appendFileSync(f.path('results.jsonl'), `${record('a')}\nnot json\n${record('b')}\n`);
    expect(() => f.readJournal()).toThrow(/results\.jsonl:2/);
    writeFileSync(f.path('results.jsonl'), `${record('a')}\n${record('b').slice(0, 30)}`);
    const { results, tornLine } = f.readJournal({ repair: true });
    expect(results.map((r) => r.itemId)).toEqual(['a']);
    expect(tornLine).toBe(2);
    expect(readFileSync(f.path('results.jsonl'), 'utf8')).toBe(`${record('a')}\n`);
  });

  it('keeps the latest record when an item and sample were journalled twice (a retried error)', () => {
    const dir = tempDir();
    const f = new RunFolder(dir);
    f.create();
    const failed = JSON.parse(record('a'));
    Object.assign(failed, { correct: null, error: { kind: 'timeout', message: 'slow' } });
    writeFileSync(f.path('results.jsonl'), `${JSON.stringify(failed)}\n${record('b')}\n${record('a')}\n`);
    const { results } = f.readJournal();
    expect(results.map((r) => [r.itemId, r.correct])).toEqual([['b', true], ['a', true]]);
  });
});
