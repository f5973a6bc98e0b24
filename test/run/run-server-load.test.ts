// medeval run against a llama-server (its protocol double, a real HTTP server on loopback) under each
// load profile: every item answered once, reasoning split from the answer, client-slot waits recorded
// as queue time apart from latency.
import { writeFileSync } from "node:fs";
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { tempDir, writeSuite } from '../helpers/tiny-run.js';

let server: LlamaServerDouble;
beforeAll(async () => {
  server = await new LlamaServerDouble().start();
  // A reasoning model's shape: thoughts, then the answer; the letter comes from the prompt's length.
  server.script = (body) => {
    const prompt = JSON.stringify(body.messages ?? '');
    const letter = 'ABCDE'[prompt.length % 5]!;
    return { chunks: [
      { delayMs: 2, reasoning: 'The key finding' },
      { delayMs: 2, reasoning: ' points to one option.' },
      { delayMs: 3, content: `Answer: ${letter}` },
    ] };
  };
});
afterAll(async () => server?.stop());

async function run(profileYaml: string, load: string, limit = 12) {
  const dir = tempDir();
  const suiteFile = writeSuite(dir, { constrain: false, load });
  const profile = join(dir, 'server.yaml');
  writeFileSync(profile, profileYaml.replace('BASE', server.baseUrl));
  return runSuite({ suite: suiteFile, runner: await loadRunnerProfile(profile), out: join(dir, 'run'), limit, cacheDir: false });
}

const attached = 'kind: llama-server\nlabel: double\nmode: attached\nbaseUrl: BASE\nrequestTimeoutMs: 10000\n';

describe('runSuite on the llama-server double', () => {
  for (const load of [
    '  profile: sequential\n  warmup: 1',
    '  profile: concurrency\n  concurrency: 4\n  warmup: 1',
    '  profile: rate\n  ratePerSecond: 200\n  concurrency: 3\n  warmup: 0',
  ]) {
    it(`answers every item once under ${load.split('\n')[0]!.trim()}`, async () => {
      const before = server.records.length;
      const { results, manifest } = await run(attached, load);
      expect(manifest.status).toBe('finished');
      expect(new Set(results.map((r) => r.itemId)).size).toBe(12);
      for (const r of results) {
        expect(r.error).toBeUndefined();
        expect(r.reasoning).toBe('The key finding points to one option.');
        expect(r.extracted.status).toBe('answered');
        // TTFT at the first reasoning chunk, TTFO at the answer two chunks later (equal only if one read
        // brought them together, which a loaded machine may do): the measured gaps in between add up.
        expect(r.timings!.ttftMs!).toBeLessThanOrEqual(r.timings!.ttfoMs!);
        expect(r.timings!.itlMs).toHaveLength(2);
        expect(r.timings!.ttfoMs! - r.timings!.ttftMs!).toBeCloseTo(r.timings!.itlMs[0]! + r.timings!.itlMs[1]!, 9);
        expect(r.timings!.queueMs).toBeGreaterThanOrEqual(0);
        expect(r.tokenSource).toBe('server-usage');
      }
      // Warm-up requests reached the server but are not in the results.
      expect(server.records.length - before).toBe(12 + manifest.load.warmup);
    });
  }
});

describe('the warm-up on a server with a prompt cache', () => {
  it('warms up with a prompt that shares no prefix with any measured prompt, and /metrics differences leave the warm-up out', async () => {
    const before = server.records.length;
    const { results, manifest } = await run(attached, '  profile: sequential\n  warmup: 2', 6);
    expect(manifest.status).toBe('finished');
    const sent = server.records.slice(before).map((r) => (r.body.messages as Array<{ content: string }>)[0]!.content);
    const [warm1, warm2, ...measured] = sent;
    expect(measured).toHaveLength(6);
    expect(new Set(measured)).toEqual(new Set(results.map((r) => r.prompt)));
    // Not item 1's prompt (the old warm-up), and not even its first character: nothing for a prefix cache to reuse.
    expect(warm2).toBe(warm1);
    for (const p of measured) expect(warm1!.charAt(0)).not.toBe(p.charAt(0));
    // About as long as a measured prompt, so the warm-up still exercises a realistic prompt length.
    const median = measured.map((p) => p.length).sort((a, b) => a - b)[3]!;
    expect(warm1!.length).toBeGreaterThan(median * 0.8);
    expect(warm1!.length).toBeLessThan(median * 1.3);
    // The "before" scrape was taken after the warm-up: the counters moved by the measured requests alone.
    const delta = manifest.server!.metrics!.delta;
    expect(delta['llamacpp:tokens_predicted_total']).toBe(results.reduce((s, r) => s + r.outputTokens!, 0));
    expect(delta['llamacpp:prompt_tokens_total']).toBe(results.reduce((s, r) => s + r.promptTokens!, 0));
    expect(manifest.server!.metricsNote).toBeUndefined();
  });
});
