// medeval compare with long-lived workers: each model in one process for the whole comparison (loaded
// and warmed up once however many turns), the run settings handed to both workers as one object, and
// live figures that are the run's (every turn so far, resumed records included), never one turn's.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { compareProgress } from '../../src/cli/compare-progress.js';
import { runComparison } from '../../src/run/compare.js';
import type { ItemResult } from '../../src/core/types.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO, SAMPLE, tempDir, writeSuite } from '../helpers/tiny-run.js';
import { answerScript, readJournal, writeSampleSuite } from '../reliability/helpers.js';

const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

async function double(): Promise<LlamaServerDouble> {
  const d = await new LlamaServerDouble().start();
  d.script = answerScript;
  doubles.push(d);
  return d;
}

function attachedProfile(dir: string, label: string, baseUrl: string): string {
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, `kind: llama-server\nlabel: ${label}\nmode: attached\nbaseUrl: ${baseUrl}\nretries: 0\n`);
  return file;
}

function scriptedProfile(dir: string, label: string, entries: object[]): string {
  writeFileSync(join(dir, `${label}.jsonl`), entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const file = join(dir, `${label}.yaml`);
  writeFileSync(file, `kind: scripted\nlabel: ${label}\nscript: ./${label}.jsonl\n`);
  return file;
}

const ids = (dir: string) => readJournal(dir).map((r) => r.itemId);

describe('compare with long-lived workers', () => {
  it('alternating turns: each model is loaded once and warmed up once for the whole comparison', async () => {
    const dir = tempDir('medeval-workers-');
    const [base, comp] = [await double(), await double()];
    const suite = writeSampleSuite(dir, { load: ['  profile: sequential', '  warmup: 1'] });
    const logs: string[] = [];
    const runs = await runComparison({
      suite, baseline: attachedProfile(dir, 'base', base.baseUrl), compressed: attachedProfile(dir, 'comp', comp.baseUrl),
      out: join(dir, 'cmp'), order: 'alternating', chunk: 3, limit: 7, cacheDir: false, log: (l) => logs.push(l),
    });
    // Three turns each (items 1..3, 1..6, 1..7) ...
    expect(logs.filter((l) => /^compare: baseline \(/.test(l)).map((l) => l.match(/items 1\.\.(\d+)/)![1])).toEqual(['3', '6', '7']);
    for (const d of [base, comp]) {
      // ... but one connection of a runner to its server (a runner created per turn reads /props and /v1/models each time) ...
      expect(d.requests.filter((r) => r.path === '/v1/models')).toHaveLength(1);
      expect(d.requests.filter((r) => r.path === '/props')).toHaveLength(1);
      // ... and one warm-up request: 7 items + 1.
      expect(d.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(8);
    }
    expect(logs.filter((l) => l.endsWith('model loaded once'))).toHaveLength(6);
    expect(ids(runs.baselineDir)).toEqual(ids(runs.compressedDir));
    expect(new Set(ids(runs.baselineDir)).size).toBe(7);
    for (const d of [runs.baselineDir, runs.compressedDir]) {
      expect(JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).status).toBe('finished');
    }
    expect(runs.outcomes.baseline).toMatchObject({ status: 'finished', records: 7, errors: 0, loads: 1 });
    // Two different worker processes, neither of them this one.
    const pids = logs.map((l) => l.match(/worker pid (\d+)/)?.[1]).filter(Boolean).map(Number);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(process.pid);
  });

  it('a managed server is started once per worker, and its end is recorded when the comparison closes it', async () => {
    const dir = tempDir('medeval-workers-');
    writeFileSync(join(dir, 'tiny.gguf'), Buffer.alloc(4096, 1));
    // The stand-in llama-server, through a wrapper that notes each start in a file.
    const starts = join(dir, 'starts.log');
    const fake = join(REPO, 'test/doubles/fake-llama-server.mjs');
    const wrapper = join(dir, 'llama-server');
    writeFileSync(wrapper, `#!/bin/sh\necho "$$" >> '${starts}'\nexec '${process.execPath}' '${fake}' "$@"\n`, { mode: 0o755 });
    const managed = (label: string) => {
      const file = join(dir, `${label}.yaml`);
      writeFileSync(file, `kind: llama-server\nlabel: ${label}\nmode: managed\nbinary: ${wrapper}\nmodel: ./tiny.gguf\nargs: ['-c', '2048', '-np', '1']\nstartupTimeoutMs: 120000\n`);
      return file;
    };
    const runs = await runComparison({
      suite: writeSampleSuite(dir), baseline: managed('mb'), compressed: managed('mc'), out: join(dir, 'cmp'),
      order: 'alternating', chunk: 2, limit: 6, cacheDir: false,
    });
    // Three turns a side, two servers in all.
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(2);
    for (const d of [runs.baselineDir, runs.compressedDir]) {
      expect(readJournal(d)).toHaveLength(6);
      const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
      expect(m.status).toBe('finished');
      expect(m.server.managed).toBeDefined();
    }
  });

  it('a resumed compare shows the run\'s accuracy (resumed records counted), not the turn\'s', async () => {
    const dir = tempDir('medeval-workers-');
    // Items 1-4 answered right, 5-8 wrong: the run stands at 50% at the end, while the last turn alone is at 0%.
    const script = [
      { id: 'usmle-sample-001', text: 'Answer: A' }, { id: 'usmle-sample-002', text: 'Answer: A' },
      { id: 'usmle-sample-003', text: 'Answer: D' }, { id: 'usmle-sample-004', text: 'Answer: D' },
      { default: true, text: 'Answer: B' },
    ];
    const baseline = scriptedProfile(dir, 'sa', script);
    const compressed = scriptedProfile(dir, 'sb', script);
    const suite = writeSuite(dir);
    const out = join(dir, 'cmp');
    await runComparison({ suite, baseline, compressed, out, order: 'alternating', chunk: 2, limit: 4, cacheDir: false });

    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (c: Buffer) => (text += c.toString('utf8')));
    const logs: string[] = [];
    const runs = await runComparison({
      suite, baseline, compressed, out, order: 'alternating', chunk: 2, limit: 8, cacheDir: false, log: (l) => logs.push(l), onEvent: compareProgress(stream),
    });
    const journal = readJournal(runs.baselineDir);
    expect(journal.filter((r: ItemResult) => r.correct).length).toBe(4);
    expect(journal).toHaveLength(8);
    // The resumed turns' figures count the 4 records of the first compare.
    expect(logs).toContain('compare: baseline [sa] 6/8 records, accuracy so far 66.7%, errors 0, model loaded once');
    expect(logs).toContain('compare: baseline [sa] 8/8 records, accuracy so far 50.0%, errors 0, model loaded once');
    const progress = text.split('\n').filter((l) => l.startsWith('[sa] 8/8 items'));
    expect(progress).toHaveLength(1);
    expect(progress[0]).toContain('accuracy so far 50.0%');
    // The dataset line once per model, with what was resumed.
    expect(text.split('\n').filter((l) => l.startsWith('[sa] dataset'))).toEqual([expect.stringContaining('4 already done (resuming); 0 to run')]);
  });

  it('every run setting reaches the workers: the response cache folder, and the error-rate stop', async () => {
    const dir = tempDir('medeval-workers-');
    const suite = writeSuite(dir); // greedy: cacheable
    const good = scriptedProfile(dir, 'good', [{ default: true, text: 'Answer: A' }]);
    const cacheDir = join(dir, 'my-cache');
    await runComparison({ suite, baseline: good, compressed: scriptedProfile(dir, 'good2', [{ default: true, text: 'Answer: B' }]), out: join(dir, 'c1'), limit: 3, cacheDir });
    expect(existsSync(cacheDir)).toBe(true);
    const cached = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith('.json'));
    expect(cached).toHaveLength(6); // 3 items x 2 models, written by the workers

    const failing = scriptedProfile(dir, 'bad', [{ default: true, error: { kind: 'http-5xx', message: 'HTTP 503: scripted failure' } }]);
    // No warm-up (a failed warm-up ends a run before any item).
    const noWarmup = writeSuite(tempDir('medeval-workers-'), { load: '  warmup: 0' });
    const stopped = runComparison({ suite: noWarmup, baseline: failing, compressed: good, out: join(dir, 'c2'), limit: 20, cacheDir: false, maxErrorRate: 0.2 });
    await expect(stopped).rejects.toThrow(/the baseline run .* failed: error rate .* above --max-error-rate 20\.0%/);
    const manifest = JSON.parse(readFileSync(join(dir, 'c2', 'runs', 'baseline-bad', 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(readJournal(join(dir, 'c2', 'runs', 'baseline-bad')).length).toBeLessThan(20);
    // The compressed model never ran: the comparison stopped at the baseline's failure.
    expect(existsSync(join(dir, 'c2', 'runs', 'compressed-good', 'manifest.json'))).toBe(false);
  });

  it('refuses bad settings before any worker starts', async () => {
    const dir = tempDir('medeval-workers-');
    const p = scriptedProfile(dir, 'x', [{ default: true, text: 'Answer: A' }]);
    await expect(runComparison({ suite: join(REPO, 'suites/usmle-sample.yaml'), baseline: p, compressed: p, out: join(dir, 'c'), maxErrorRate: 3 }))
      .rejects.toThrow(/maxErrorRate/);
    expect(existsSync(join(dir, 'c'))).toBe(false);
    void SAMPLE;
  });
});
