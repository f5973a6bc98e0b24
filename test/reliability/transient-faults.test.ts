// Issue 10 item 7, end to end: a transient failure of the one warm-up request no longer aborts the run
// (it goes through the same retries as every item), and a long Retry-After is capped and announced on
// the terminal, with the server's words redacted of the key.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, type LlamaServerProfile } from '../../src/runners/llama-server.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { KV_CACHE_FULL, LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO } from '../helpers/tiny-run.js';
import { answerScript, readJournal, tempDir, writeSampleSuite, writeServerProfile } from './helpers.js';

const exec = promisify(execFile);
const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});
async function startDouble(): Promise<LlamaServerDouble> {
  const d = await new LlamaServerDouble().start();
  d.script = answerScript;
  doubles.push(d);
  return d;
}
const generations = (d: LlamaServerDouble) => d.requests.filter((r) => r.path === '/v1/chat/completions').length;

describe('transient failures are retried, the warm-up included', () => {
  it('a warm-up that first meets a broken stream and a full KV cache is retried, and the run goes on', async () => {
    const dir = tempDir('medeval-warmup-retry-');
    const suite = writeSampleSuite(dir, { limit: 6, load: ['  profile: sequential', '  warmup: 1'] });
    const server = await startDouble();
    // The first two generation requests are the warm-up's: a malformed SSE line, then "KV cache is full".
    server.failures.push({ malformedAfterChunks: 1 }, KV_CACHE_FULL);
    const loaded = await loadRunnerProfile(writeServerProfile(dir, server.baseUrl, { retries: 3 }));
    const waits: number[] = [];
    const runner = await createLlamaServerRunner(loaded.profile as LlamaServerProfile, {
      nvidiaSmi: new NvidiaSmi(null),
      retrySleep: async (ms) => void waits.push(ms),
    });
    const notices: string[] = [];
    const out = join(dir, 'run');
    const run = await runSuite({
      suite, runner: loaded, runnerInstance: runner, out, cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'notice') notices.push(e.text);
      },
    });
    expect(run.manifest.status).toBe('finished');
    const journal = readJournal(out);
    expect(journal).toHaveLength(6);
    expect(journal.every((r) => !r.error && r.retries === undefined)).toBe(true);
    expect(generations(server)).toBe(3 + 6);
    expect(waits).toHaveLength(2);
    expect(notices).toEqual([
      expect.stringMatching(/^waiting [\d.]+ s before retry 1\/3: a stream event is not JSON/),
      expect.stringMatching(/^waiting [\d.]+ s before retry 2\/3: the server reported an error in the stream \(code 500, server_error\): Input prompt is too big compared to KV size/),
    ]);
  });

  it('medeval run: a Retry-After of an hour is capped (maxRetryAfterMs) and the wait is said on stderr, without the key', async () => {
    const ENV = 'MEDEVAL_TRANSIENT_TEST_KEY';
    const KEY = `sk-test-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const server = await startDouble();
    server.requireApiKey = KEY;
    server.echoAuthorization = true; // its error messages quote the Authorization header
    server.failures.push(
      { status: 429, headers: { 'Retry-After': '3600' } },
      { status: 503, headers: { 'Retry-After': '3600' }, body: JSON.stringify({ error: { code: 503, message: 'Loading model', type: 'unavailable_error' } }) },
    );
    const dir = tempDir('medeval-retry-after-');
    const suite = writeSampleSuite(dir, { limit: 2 });
    const profile = writeServerProfile(dir, server.baseUrl, { retries: 3, maxRetryAfterMs: 200, apiKeyEnv: ENV });
    const result = await exec(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'run', '-s', suite, '-r', profile, '-o', join(dir, 'run'), '--no-cache'], {
      cwd: REPO, env: { ...process.env, [ENV]: KEY, NO_COLOR: '1' }, timeout: 540_000, // killed before the test's own timeout (vitest's, 600 s): a hang, not a slow machine
    }).then((r) => ({ code: 0, ...r }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[double\] waiting [\d.]+ s before retry 1\/3: HTTP 429 Retry-After 3600 s capped to [\d.]+ s/);
    expect(result.stderr).toMatch(/\[double\] waiting [\d.]+ s before retry 2\/3: HTTP 503: .*\[redacted\].* Retry-After 3600 s capped to [\d.]+ s/);
    expect(result.stderr).not.toContain(KEY);
    expect(readJournal(join(dir, 'run')).every((r) => !r.error)).toBe(true);
  });
});
