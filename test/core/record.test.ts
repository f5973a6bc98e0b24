// The run record is defined once (src/core/record.ts) and validated both ways by the one run-folder
// module: every folder the project ships reads with nothing dropped, the writer refuses what the schema
// does not know, the version rule holds, and a resume validates the manifest like a report does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { readSchemas } from '../../src/core/record.js';
import { parseManifest, parseResults, readRunFolder, RunFolder } from '../../src/core/run-folder.js';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { itemResult, manifest } from '../fixtures/runs/synthetic.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

const CLI = [...['--import', 'tsx'], join(REPO, 'src/cli/bin.ts')];
const medeval = (args: string[]) =>
  spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });

/** Every run folder the repository holds: the test fixtures and the example reports' runs. */
function shippedRunFolders(): string[] {
  const folders = readdirSync(join(REPO, 'test/fixtures/runs')).map((d) => join(REPO, 'test/fixtures/runs', d));
  for (const report of readdirSync(join(REPO, 'reports'))) {
    const runs = join(REPO, 'reports', report, 'runs');
    if (existsSync(runs)) folders.push(...readdirSync(runs).map((d) => join(runs, d)));
  }
  return folders.filter((d) => existsSync(join(d, 'manifest.json')) && !d.endsWith('damaged'));
}

function writeFolder(dir: string, m: unknown, lines: unknown[]): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  writeFileSync(join(dir, 'results.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  return dir;
}

describe('the record schema', () => {
  const folders = shippedRunFolders();

  it('covers every field of every run folder the project ships (nothing is dropped on reading)', () => {
    expect(folders.length).toBeGreaterThanOrEqual(9);
    for (const dir of folders) {
      const rawManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(readSchemas.manifest.parse(rawManifest), dir).toEqual(rawManifest);
      const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
      let checked = 0;
      for (const line of lines) {
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          continue; // the torn fixture's last line
        }
        expect(readSchemas.itemResult.parse(raw), `${dir}: ${line.slice(0, 60)}`).toEqual(raw);
        checked++;
      }
      expect(checked, dir).toBeGreaterThan(0);
      expect(() => readRunFolder(dir)).not.toThrow();
    }
  });

  it('reads a record a newer medeval wrote with an extra field, dropping the field', () => {
    const { results } = parseResults(JSON.stringify({ ...itemResult({ itemId: 'a', gold: 'A', letter: 'A' }), addedLater: 1 }) + '\n', 'r.jsonl');
    expect(results[0]!.correct).toBe(true);
    expect('addedLater' in results[0]!).toBe(false);
  });
});

describe('the record version (field schema)', () => {
  it('reads a folder without versions as version 1 and says so', () => {
    const { schema: _m, ...m } = manifest('old');
    const { schema: _r, ...r } = itemResult({ itemId: 'a', gold: 'A', letter: 'A' });
    const run = readRunFolder(writeFolder(join(tempDir(), 'old'), { ...m, suite: { ...m.suite, items: 1 } }, [r]));
    expect(run.manifest.schema).toBe(1);
    expect(run.results[0]!.schema).toBe(1);
    expect(run.warnings.join('\n')).toMatch(/manifest\.json: no record version \(field schema\): read as version 1/);
    expect(run.warnings.join('\n')).toMatch(/results\.jsonl: 1 record\(s\) without a record version \(field schema\): read as version 1/);
  });

  it('refuses a newer version with file:line and the field', () => {
    const r = { ...itemResult({ itemId: 'a', gold: 'A', letter: 'A' }), schema: 2 };
    const ok = itemResult({ itemId: 'b', gold: 'A', letter: 'A' });
    expect(() => parseResults([ok, r].map((x) => JSON.stringify(x)).join('\n') + '\n', 'r.jsonl'))
      .toThrow(/r\.jsonl:2 field "schema": written by a newer medeval \(record version 2; this medeval reads version 1\)/);
    expect(() => parseManifest({ ...manifest('x'), schema: 2 }, 'm.json')).toThrow(/m\.json field "schema": written by a newer medeval/);
  });
});

describe('the writer', () => {
  it('writes and reads back every field the run loop writes, unchanged', () => {
    const base = itemResult({ itemId: 'a', gold: 'A', letter: 'A' });
    const records = [
      { ...base, subject: 'anatomy', cached: true, budget: { maxTokens: 100, requested: 512, promptTokens: 412, contextSize: 512 },
        timings: { ...base.timings!, queueMs: 3, engine: { prompt_ms: 1.5 } } },
      { ...base, itemId: 'b', retries: 2, rescored: { previous: { letter: 'B', status: 'answered' as const, method: 'boxed', correct: false } } },
      ...['prompt-too-long', 'context-shift', 'prompt-truncated', 'timeout'].map((kind, i) => ({
        ...itemResult({ itemId: `e${i}`, gold: 'A', letter: null }), error: { kind, message: `${kind} happened`, retries: i },
      })),
      { ...base, itemId: 'l', letterLogprobs: { A: -0.1, B: -2.3 } },
    ];
    const m = {
      ...manifest('full'),
      suite: { ...manifest('full').suite, items: records.length, smokeTest: false, answerConstraint: 'letter' as const, scoring: 'likelihood' as const,
        skipped: { total: 1, records: [{ place: 'd.jsonl:3', reason: 'question: missing' }] } },
      stopReason: 'error rate 0.5 above --max-error-rate 0.05',
      server: {
        metrics: { before: { 'llamacpp:tokens': 1 }, after: { 'llamacpp:tokens': 5 }, delta: { 'llamacpp:tokens': 4 } }, metricsNote: 'last session only',
        truncation: { flagged: 1, logLines: 2 },
        managed: { pid: 42, ended: 'aborted-on-sigterm' as const, code: null, signal: 'SIGABRT', description: 'aborted on SIGTERM', diesWithParent: true },
      },
      rescoredFrom: { dir: 'runs/a', configHash: 'c', medevalVersion: '0.1.0', createdAt: 't', at: 't2', records: 6, errorsKept: 4, changed: 1, rightToWrong: 0, wrongToRight: 1 },
    };
    const fig = (bytes: number) => ({ bytes, source: 'test' });
    m.memory = { weights: fig(1), processRss: fig(2), processPeak: fig(3), context: fig(4), residentWeights: { bytes: 10, source: 'llama.cpp model buffer' }, gpuProcessPeak: { bytes: null, source: 'nvidia-smi', note: 'no GPU' } };
    const folder = new RunFolder(join(tempDir(), 'full'));
    folder.create();
    folder.writeManifest(m);
    for (const r of records) folder.append(r);
    const run = readRunFolder(folder.dir);
    expect(run.manifest).toEqual(m);
    expect(run.results).toEqual(records);
    expect(folder.readManifest()).toEqual(m);
  });

  it('refuses a journal record or manifest its schema does not know, and writes nothing', () => {
    const folder = new RunFolder(join(tempDir(), 'run'));
    folder.create();
    const good = itemResult({ itemId: 'a', gold: 'A', letter: 'A' });
    expect(() => folder.append({ ...good, notInTheSchema: true } as typeof good)).toThrow(/refused to write a journal record .*notInTheSchema/);
    expect(() => folder.append({ ...good, finishReason: 'exploded' } as unknown as typeof good)).toThrow(/finishReason/);
    expect(() => folder.writeManifest({ ...manifest('x'), samples: 0 })).toThrow(/refused to write a manifest .*samples/);
    expect(existsSync(folder.path('results.jsonl'))).toBe(false);
    expect(existsSync(folder.path('manifest.json'))).toBe(false);
    folder.append(good);
    folder.writeJournal([good, itemResult({ itemId: 'b', gold: 'B', letter: 'B' })]);
    expect(folder.readJournal().results.map((x) => x.itemId)).toEqual(['a', 'b']);
    expect(() => folder.writeJournal([good, { ...good, extra: 1 } as typeof good])).toThrow(/extra/);
    expect(folder.readJournal().results).toHaveLength(2);
  });
});

describe('bad records through the command line', () => {
  it('report, gate and rescore exit 2 naming file:line and the field', () => {
    const dir = tempDir();
    const good = writeFolder(join(dir, 'good'), { ...manifest('good'), suite: { ...manifest('good').suite, items: 1 } },
      [itemResult({ itemId: 'a', gold: 'A', letter: 'A' })]);
    const bad = writeFolder(join(dir, 'bad'), { ...manifest('bad'), suite: { ...manifest('bad').suite, items: 2 } },
      [itemResult({ itemId: 'a', gold: 'A', letter: 'A' }), { ...itemResult({ itemId: 'b', gold: 'B', letter: 'B' }), sample: -1 }]);
    for (const args of [['report', good, bad, '--out', join(dir, 'report')], ['gate', '--baseline', good, '--current', bad, '--max-drop', '2'],
      ['rescore', bad, '--out', join(dir, 'rescored')]]) {
      const r = medeval(args);
      expect(r.status, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/bad[/\\]results\.jsonl:2 field "sample"/);
    }
  });
});

describe('resume', () => {
  it('validates the manifest it builds on, as a report would', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({ default: true, text: 'Answer: A' }) + '\n');
    writeFileSync(join(dir, 'p.yaml'), 'kind: scripted\nlabel: scripted-a\nscript: ./script.jsonl\n');
    const runner = await loadRunnerProfile(join(dir, 'p.yaml'));
    const out = join(dir, 'run');
    const suite = join(REPO, 'suites/usmle-sample.yaml');
    await runSuite({ suite, runner, out, cacheDir: false, limit: 2 });
    const file = join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...m, load: { ...m.load, profile: 'burst' } }));
    const error = await runSuite({ suite, runner, out, cacheDir: false, limit: 4, resume: true }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/manifest\.json field "load\.profile"/);
  });
});
