// The server's side of a run reaches the run folder and the reports: llama.cpp's per-request timings
// and /metrics counters, vLLM's /metrics histograms, each figure beside its source.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { buildReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { buildServerView, GENERATION_SPEED, GENERATION_THROUGHPUT, PROMPT_SPEED } from '../../src/report/server-view.js';
import { manifest as fixtureManifest } from '../fixtures/runs/synthetic.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { answerScript, tempDir, writeSampleSuite, writeServerProfile } from '../reliability/helpers.js';
import { writeFileSync } from 'node:fs';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()));
});

describe('server view', () => {
  it('llama-server: the manifest keeps /metrics before, after and the difference; the report sets engine figures beside them', async () => {
    const server = await new LlamaServerDouble().start();
    stops.push(() => server.stop());
    server.script = answerScript;
    const dir = tempDir('medeval-server-view-');
    const suite = writeSampleSuite(dir, { limit: 6 });
    const profile = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { truncationCheck: false }));
    const run = await runSuite({ suite, runner: profile, out: join(dir, 'run'), seed: 1, cacheDir: false });

    const served = run.results.reduce((s, r) => s + r.promptTokens!, 0);
    const generated = run.results.reduce((s, r) => s + r.outputTokens!, 0);
    const m = run.manifest.server!.metrics!;
    expect(m.delta['llamacpp:prompt_tokens_total']).toBe(served);
    expect(m.delta['llamacpp:tokens_predicted_total']).toBe(generated);
    expect(m.after['llamacpp:prompt_tokens_total']! - m.before['llamacpp:prompt_tokens_total']!).toBe(served);
    expect(run.manifest.server!.truncation).toEqual({ flagged: 0, logLines: 0 });

    // From the stored folder, as `medeval report` reads it.
    const model = buildReport({ runs: [readRunFolder(join(dir, 'run'))], resamples: 50 });
    const view = model.runs[0]!.server!;
    const fig = (label: string, source: RegExp) => view.figures.find((f) => f.label === label && source.test(f.source));
    // The double's timings: prompt_ms 8.011 and predicted_ms 2.971 on every request.
    expect(fig('prompt processing, mean', /timings/)!.value).toBeCloseTo(8.011, 9);
    expect(fig(GENERATION_SPEED, /timings/)!.value).toBeCloseTo(generated / (6 * 2.971 / 1000), 6);
    // /metrics: the same tokens over the same seconds (rounded to 6 decimals in the text).
    expect(fig(PROMPT_SPEED, /\/metrics/)!.value).toBeCloseTo(served / (6 * 8.011 / 1000), 1);
    expect(fig(GENERATION_THROUGHPUT, /\/metrics/)!.value).toBeCloseTo(generated / (run.manifest.durationMs! / 1000), 6);
    expect(fig('prompt tokens', /\/metrics/)!.value).toBe(served);
    const md = renderMarkdown(model);
    expect(md).toContain('## Server view');
    expect(md).toMatch(/\| double \| prompt processing, mean \| 8\.0 ms \| llama\.cpp engine timings per request \(6 requests\) \|/);
    expect(renderHtml(model)).toContain('<a href="#server">Server view</a>');
  });

  it('vLLM: histogram means over the run from /metrics; a server without /metrics says so', async () => {
    const server = await new VllmDouble().start();
    stops.push(() => server.stop());
    server.script = answerScript;
    const dir = tempDir('medeval-server-view-');
    const suite = writeSampleSuite(dir, { limit: 4 });
    const file = join(dir, 'vllm.yaml');
    writeFileSync(file, `kind: vllm\nlabel: vdouble\nmode: attached\nbaseUrl: ${server.baseUrl}\nmodel: ${server.modelId}\n`);
    const run = await runSuite({ suite, runner: await loadRunnerProfile(file), out: join(dir, 'run'), seed: 1, cacheDir: false });
    const model = buildReport({ runs: [readRunFolder(join(dir, 'run'))], resamples: 50 });
    const figures = model.runs[0]!.server!.figures;
    // The double observes TTFT 10 ms and ITL 2 ms per request and token.
    expect(figures.find((f) => f.label === 'TTFT, mean')).toMatchObject({ value: expect.closeTo(10, 6), unit: 'ms', source: expect.stringContaining('vllm:time_to_first_token_seconds') });
    expect(figures.find((f) => f.label === 'ITL, mean')!.value).toBeCloseTo(2, 6);
    expect(figures.find((f) => f.label === 'requests finished')!.value).toBe(run.results.length);

    const llama = await new LlamaServerDouble().start();
    stops.push(() => llama.stop());
    llama.script = answerScript;
    llama.metricsEnabled = false;
    const dir2 = tempDir('medeval-server-view-');
    const run2 = await runSuite({ suite: writeSampleSuite(dir2, { limit: 2 }), runner: await loadRunnerProfile(writeServerProfile(dir2, llama.baseUrl, { truncationCheck: false })), out: join(dir2, 'run'), seed: 1, cacheDir: false });
    expect(run2.manifest.server).toMatchObject({ metrics: null, metricsNote: expect.stringContaining('--metrics') });
    expect(renderMarkdown(buildReport({ runs: [readRunFolder(join(dir2, 'run'))], resamples: 50 }))).toContain('start llama-server with --metrics');
  });
});

describe('tokens/s figures say what they are', () => {
  it('llama.cpp\'s seconds counters give a per-request speed; throughput is tokens over the run\'s wall time', () => {
    // As seen on a real llama-server at -np 4, concurrency 4: four requests decode at once, each at ~30
    // tokens/s of its own time, while the server puts out ~87.7 tokens per second of wall time.
    const m = fixtureManifest('np4', {
      durationMs: 6386,
      server: { metrics: { before: {}, after: {}, delta: { 'llamacpp:tokens_predicted_total': 560, 'llamacpp:tokens_predicted_seconds_total': 18.67 } } },
    });
    const view = buildServerView(m, [])!;
    const speed = view.figures.find((f) => f.label === GENERATION_SPEED)!;
    const throughput = view.figures.find((f) => f.label === GENERATION_THROUGHPUT)!;
    expect(speed.value).toBeCloseTo(30.0, 1);
    expect(speed.source).toMatch(/each request's own time/);
    expect(throughput.value).toBeCloseTo(87.7, 1);
    expect(throughput.source).toMatch(/measured duration \(6\.4 s\)/);
    expect(view.figures.some((f) => f.label === 'generation tokens/s')).toBe(false);
  });
});
