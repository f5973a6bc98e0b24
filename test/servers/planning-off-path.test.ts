// The prompt counts sit off the measured path (issue 10 item 6). The llama-server double here serves HTTP
// like the real one: a pool of 6 threads (max(np + 2, cores - 1) at -np 4), each held by an open
// connection for as long as it stays open, idle keep-alive included, and 4 slots; a per-request /tokenize
// on the measured path waits behind them and leaves the engine idle. Now every prompt is counted in the
// planning step, before the measured clock, on connections closed after each answer, and a wait inside a
// task before its request is sent counts as queueMs.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import type { Generation, GenerateRequest, Runner } from '../../src/core/types.js';
import { loadRunnerProfile, type RunnerProfile } from '../../src/runners/registry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { answerScript, readJournal, tempDir, writeSampleSuite, writeServerProfile } from '../reliability/helpers.js';

const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

describe('prompt counting off the measured path', () => {
  it('concurrency 4 on 4 slots and 6 HTTP threads: no side request and no wait for a thread while measuring', async () => {
    const server = new LlamaServerDouble();
    doubles.push(server);
    server.httpThreads = 6;
    server.slots = 4;
    server.enforceSlots = true;
    server.realTimings = true;
    server.nCtxSlot = 4096;
    // Each answer streams for a while (the engine is busy): 10 ms of prompt, then 12 chunks 10 ms apart.
    server.script = (body) => {
      const s = answerScript(body);
      return { ...s, chunks: [{ delayMs: 10, content: 'Answer' }, ...Array.from({ length: 10 }, () => ({ delayMs: 10, content: '.' })), ...s.chunks.slice(-1).map((c) => ({ ...c, delayMs: 10 }))] };
    };
    await server.start();
    const dir = tempDir('medeval-plan-');
    const suite = writeSampleSuite(dir, { limit: 16, load: ['  profile: concurrency', '  concurrency: 4', '  warmup: 1'] });
    const runner = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { cachePrompt: false, retries: 0 }));
    const out = join(dir, 'run');
    const { manifest } = await runSuite({ suite, runner, out, cacheDir: false });
    const journal = readJournal(out);
    // What this double can say about engine utilisation: Σ(prompt_ms + predicted_ms) / (wall × slots).
    const engineMs = journal.reduce((a, r) => a + (r.timings!.engine!.prompt_ms ?? 0) + (r.timings!.engine!.predicted_ms ?? 0), 0);
    const busy = engineMs / (manifest.durationMs! * 4);
    console.log(`engine busy against the double (4 slots, 6 threads, concurrency 4): ${busy.toFixed(3)} over ${Math.round(manifest.durationMs!)} ms`);
    expect(journal).toHaveLength(16);
    expect(journal.every((r) => !r.error)).toBe(true);

    const chats = server.arrivals.filter((a) => a.path === '/v1/chat/completions').map((a) => a.at);
    const measuredStart = chats[1]!; // chats[0] is the warm-up
    const side = server.arrivals.filter((a) => a.path === '/tokenize' || a.path === '/apply-template');
    // Every prompt was counted (16 planned + the warm-up's own), all before the first measured request.
    expect(side.length).toBeGreaterThanOrEqual(2 * 16);
    expect(side.every((a) => a.at < measuredStart)).toBe(true);
    expect(server.threadWaits.filter((t) => t >= measuredStart)).toEqual([]);
    for (const r of journal) {
      expect(r.budget!.promptTokens).toBe(r.promptTokens);
      expect(r.budget!.maxTokens).toBe(64);
    }
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(1.0001);
  }, 300_000);

  it('a wait inside the task before the request is sent is counted in queueMs', async () => {
    const waited: number[] = [];
    const generation = (): Generation => ({
      rawText: 'Answer: A', reasoning: null, promptTokens: 10, outputTokens: 3, tokenSource: 'engine', finishReason: 'stop',
      timings: { startedAtEpochMs: Date.now(), ttftMs: 1, ttfoMs: 1, e2eMs: 2, itlMs: [1], tpotMs: 0.5 },
    });
    const fake: Runner = {
      kind: 'fake',
      describe: async () => ({ runner: 'fake', label: 'fake', parameters: null, fileBytes: null, contextSize: 4096 }),
      memory: async () => ({ weights: { bytes: null, source: 'none' }, processRss: { bytes: null, source: 'none' }, processPeak: { bytes: null, source: 'none' } }),
      countPromptTokens: async () => 10,
      generate: async (req: GenerateRequest) => {
        // Something before the request goes out (a connection, a side request): 20 ms measured here.
        const t = performance.now();
        await new Promise((r) => setTimeout(r, 20));
        req.onStart?.(performance.now());
        waited.push(performance.now() - t);
        return generation();
      },
      close: async () => {},
    };
    const dir = tempDir('medeval-queue-');
    const profile = { kind: 'llama-server', label: 'fake', mode: 'attached', baseUrl: 'http://127.0.0.1:9' } as unknown as RunnerProfile;
    await runSuite({ suite: writeSampleSuite(dir, { limit: 3 }), runner: { profile, file: null }, out: join(dir, 'run'), cacheDir: false, runnerInstance: fake });
    const journal = readJournal(join(dir, 'run'));
    expect(journal).toHaveLength(3);
    journal.forEach((r, i) => {
      expect(r.timings!.queueMs!).toBeGreaterThanOrEqual(waited[i]! - 0.5);
      expect(r.budget).toEqual({ maxTokens: 64, requested: 64, promptTokens: 10, contextSize: 4096 });
    });
  });
});
