// The run's summary from its running totals (src/run/summary-tally.ts) against the summary read back from
// its journal (summary.ts buildRunSummary on parseResultsFile, as every run wrote it before): summary.json,
// summary.md and the console table must be the same bytes, over real small runs against the protocol
// doubles: the bundled fixtures, timeouts, 5xx errors, prompts the server refuses, cached results, --limit,
// an interrupted run, vLLM retries. Each run must have taken the tally's path (not the read-back fallback),
// and a resumed run must fall back.
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResultsFile, readRunFolder, RESULTS } from '../../src/core/run-folder.js';
import { sideBySide, sideBySideRuns } from '../../src/cli/console-summary.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { buildReport } from '../../src/report/build.js';
import { runSuite, type RunOptions, type RunOutcome } from '../../src/run/run.js';
import { buildRunSummary, summaryMarkdown } from '../../src/run/summary.js';
import { createVllmRunner, type VllmProfile } from '../../src/runners/vllm.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { SeededFaultSchedule } from '../doubles/fault-schedule.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { doubleTokens } from '../doubles/scripted-sse.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';
import { REPO } from '../helpers/tiny-run.js';
import { answerScript, tempDir, writeSampleSuite, writeServerProfile } from '../reliability/helpers.js';

/** The three texts from the read-back path, and from what the run wrote with its tally. */
function expectSameAsReadBack(out: RunOutcome): void {
  expect(out.talliedRun, 'the run built its summary from its totals').toBeDefined();
  const dir = out.dir;
  const results = parseResultsFile(join(dir, RESULTS), { omitTexts: true }).results;
  const readBack = buildRunSummary(dir, out.manifest, results);
  expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(JSON.stringify(readBack, null, 2) + '\n');
  expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toBe(summaryMarkdown(readBack));
  // The console table as `medeval run` printed it before: the folder read back whole.
  const table = sideBySide(buildReport({ runs: [readRunFolder(dir)], includeItems: false }));
  expect(sideBySideRuns([out.talliedRun!])).toBe(table);
}

let llama: LlamaServerDouble;
beforeAll(async () => {
  llama = await new LlamaServerDouble().start();
  llama.script = answerScript;
});
afterAll(async () => llama?.stop());

async function llamaRun(opts: Partial<RunOptions> & { fields?: Record<string, string | number>; load?: string[]; temperature0?: boolean } = {}): Promise<RunOutcome> {
  const dir = tempDir('medeval-tally-');
  const suite = writeSampleSuite(dir, { load: opts.load ?? ['  profile: concurrency', '  concurrency: 4', '  warmup: 1'] });
  if (opts.temperature0) writeFileSync(suite, readFileSync(suite, 'utf8').replace('temperature: 0.6', 'temperature: 0'));
  const runner = await loadRunnerProfile(writeServerProfile(dir, llama.baseUrl, { requestTimeoutMs: 5000, retries: 0, ...opts.fields }));
  return runSuite({ suite, runner, out: join(dir, 'run'), cacheDir: false, ...opts });
}

describe('the summary from the run\'s totals is the read-back\'s, byte for byte', () => {
  it('on the bundled fixtures (engine timings, unparseable replies, every slice)', async () => {
    const out = await llamaRun();
    expect(out.manifest.status).toBe('finished');
    expect(out.counts.records).toBe(60);
    expectSameAsReadBack(out);
  });

  it('with timeouts and 5xx errors (incomplete: errors are not scored)', async () => {
    llama.failures.push({ hang: true }, { status: 500, body: '{"error":{"message":"boom"}}' }, { status: 503 });
    const out = await llamaRun({ fields: { requestTimeoutMs: 400 }, load: ['  profile: sequential', '  warmup: 0'], limit: 10 });
    expect(out.manifest.status).toBe('incomplete');
    expect(out.counts.errors).toBe(3);
    const summary = JSON.parse(readFileSync(join(out.dir, 'summary.json'), 'utf8'));
    expect(Object.keys(summary.run.reliability.errorKinds).sort()).toEqual(['http-5xx', 'timeout']);
    expectSameAsReadBack(out);
  });

  it('with cached results, and under --limit', async () => {
    const cacheDir = join(tempDir('medeval-tally-cache-'), 'cache');
    const first = await llamaRun({ cacheDir, limit: 8, temperature0: true });
    const second = await llamaRun({ cacheDir, limit: 8, temperature0: true });
    expect(second.talliedRun!.latency.cachedExcluded).toBe(8);
    expect(second.talliedRun!.warnings.join(' ')).toMatch(/--limit/);
    expectSameAsReadBack(first);
    expectSameAsReadBack(second);
  });

  it('on an interrupted run', async () => {
    const stop = new AbortController();
    const out = await llamaRun({
      signal: stop.signal,
      load: ['  profile: sequential', '  warmup: 0'],
      onEvent: (e) => {
        if (e.type === 'item' && e.done === 5) stop.abort();
      },
    });
    expect(out.manifest.status).toBe('interrupted');
    expect(out.counts.records).toBeLessThan(60);
    expectSameAsReadBack(out);
  });

  it('falls back to the read-back on a resumed run', async () => {
    const dir = tempDir('medeval-tally-resume-');
    const suite = writeSampleSuite(dir, { load: ['  profile: sequential', '  warmup: 0'] });
    const runner = await loadRunnerProfile(writeServerProfile(dir, llama.baseUrl, { retries: 0 }));
    const out = join(dir, 'run');
    const stop = new AbortController();
    await runSuite({ suite, runner, out, cacheDir: false, limit: 6, signal: stop.signal, onEvent: (e) => e.type === 'item' && e.done === 3 && stop.abort() });
    const resumed = await runSuite({ suite, runner, out, cacheDir: false, limit: 6, resume: true });
    expect(resumed.manifest.status).toBe('finished');
    expect(resumed.talliedRun).toBeUndefined();
  });
});

/** vLLM's own context check: prompt + max_tokens over max_model_len is refused with its 400. */
class CheckingVllm extends VllmDouble {
  protected override async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (method === 'POST' && path === '/tokenize') {
      const body = JSON.parse(raw) as { messages: Array<{ content: string }> };
      return this.json(res, 200, { count: doubleTokens(body.messages.map((m) => m.content).join('\n')).length + 8, max_model_len: this.maxModelLen, tokens: [] });
    }
    if (method === 'POST' && path === '/v1/chat/completions') {
      const body = JSON.parse(raw) as { messages: Array<{ content: string }>; max_tokens: number };
      const n = doubleTokens(body.messages.map((m) => m.content).join('\n')).length + 8;
      if (n + body.max_tokens > this.maxModelLen) {
        return this.json(res, 400, { object: 'error', type: 'BadRequestError', param: null, code: 400,
          message: `This model's maximum context length is ${this.maxModelLen} tokens. However, you requested ${n + body.max_tokens} tokens ` +
            `(${n} in the messages, ${body.max_tokens} in the completion). Please reduce the length of the messages or completion.` });
      }
    }
    return super.route(method, path, raw, receivedAt, req, res);
  }
}

describe('on vLLM', () => {
  let vllm: CheckingVllm;
  beforeAll(async () => {
    vllm = await new CheckingVllm().start();
    vllm.maxModelLen = 700;
    vllm.script = (body) => answerScript(body);
  });
  afterAll(async () => vllm?.stop());

  function suiteOf(dir: string, data: string): string {
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: tally-vllm', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
      'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 500', 'load:', '  profile: concurrency', '  concurrency: 3', '  warmup: 0', ''].join('\n'));
    return suite;
  }

  it('with prompts the server refuses (capped budgets, prompt-too-long)', async () => {
    const dir = tempDir('medeval-tally-vllm-');
    const data = writeMedqaShaped(dir, 12, { words: 30, longAt: [5], longWords: 3000 });
    const lines = readFileSync(data, 'utf8').trim().split('\n');
    lines[2] = readFileSync(writeMedqaShaped(join(dir), 12, { words: 200 }), 'utf8').trim().split('\n')[2]!;
    writeFileSync(data, lines.join('\n') + '\n');
    const profile = join(dir, 'vllm.yaml');
    writeFileSync(profile, `kind: vllm\nlabel: checking\nmode: attached\nbaseUrl: ${vllm.baseUrl}\napi: chat\nretries: 0\n`);
    const out = await runSuite({ suite: suiteOf(dir, data), runner: await loadRunnerProfile(profile), out: join(dir, 'run'), cacheDir: false });
    expect(out.talliedRun!.reliability.errorKinds).toEqual({ 'prompt-too-long': 1 });
    expectSameAsReadBack(out);
  });

  it('with retried requests (the retries counted, a request that ran out of retries an error)', async () => {
    const dir = tempDir('medeval-tally-retry-');
    const data = writeMedqaShaped(dir, 30, { words: 30 });
    const schedule = new SeededFaultSchedule({ seed: 3, rate: 0.4, kinds: ['http-500', 'http-429', 'reset-before-headers'], retryAfterSeconds: 1 });
    vllm.failureFor = schedule.failureFor;
    try {
      const profile = join(dir, 'vllm.yaml');
      writeFileSync(profile, `kind: vllm\nlabel: retrying\nmode: attached\nbaseUrl: ${vllm.baseUrl}\napi: chat\nretries: 1\n`);
      const loaded = await loadRunnerProfile(profile);
      // Backoff waits are skipped, not slept.
      const runner = await createVllmRunner(loaded.profile as VllmProfile, { nvidiaSmi: new NvidiaSmi(null), retrySleep: async () => {} });
      const out = await runSuite({ suite: suiteOf(dir, data), runner: loaded, runnerInstance: runner, out: join(dir, 'run'), cacheDir: false });
      const rel = out.talliedRun!.reliability;
      expect(rel.retriedRequests).toBeGreaterThan(0);
      expect(rel.errors).toBeGreaterThan(0);
      expectSameAsReadBack(out);
    } finally {
      vllm.failureFor = null;
    }
  });
});

describe('on the scripted runner', () => {
  it('over 333 requests (the RSS timeline and in-flight steps thinned, as the read-back thins them)', async () => {
    const dir = tempDir('medeval-tally-scripted-');
    const data = writeMedqaShaped(dir, 333, { words: 30 });
    writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({ default: true, text: 'The answer is B.' }) + '\n');
    const profile = join(dir, 'scripted.yaml');
    writeFileSync(profile, 'kind: scripted\nlabel: scripted\nscript: ./script.jsonl\n');
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: tally-scripted', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`, `prompts: ${join(REPO, 'suites/prompts')}`,
      'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8', 'load:', '  profile: concurrency', '  concurrency: 8', '  warmup: 1', ''].join('\n'));
    const out = await runSuite({ suite, runner: await loadRunnerProfile(profile), out: join(dir, 'run'), cacheDir: false });
    expect(out.counts.records).toBe(333);
    expect(out.talliedRun!.rssTimeline).toHaveLength(200);
    expectSameAsReadBack(out);
  });
});
