// Managed mode for real: the runner spawns test/doubles/fake-llama-server.mjs (a stand-in executable that
// behaves like llama-server on the command line), waits for /health 503 -> 200, reads its start-up log,
// measures its process from /proc, and stops it with SIGTERM (it then "aborts", like the real build).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, llamaServerProfileSchema } from '../../src/runners/llama-server.js';
import { findFreePort, ManagedProcess, ServerStartError } from '../../src/runners/managed-process.js';

const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'medeval-managed-'));
const MODEL = join(dir, 'tiny.gguf');
writeFileSync(MODEL, Buffer.alloc(4096, 1));
const noGpu = { nvidiaSmi: new NvidiaSmi(null) };
const profile = (extra: Record<string, unknown> = {}) =>
  llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'managed', mode: 'managed', binary: FAKE, model: MODEL, args: ['-c', '2048', '-np', '4'], startupTimeoutMs: 120_000, ...extra });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('managed llama-server (stand-in executable)', () => {
  afterAll(() => undefined);

  it('starts on a free port, waits for health, reads the log and /proc, stops without calling the abort a crash', async () => {
    const runner = await createLlamaServerRunner(profile(), noGpu);
    const pid = runner.serverPid!;
    expect(alive(pid)).toBe(true);
    expect(runner.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const g = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } });
    expect(g.rawText).toBe('Answer: A');

    const d = await runner.describe();
    expect(d.contextSize).toBe(512);
    expect(d.extra?.startupMemory).toMatchObject({ modelBuffersBytes: { CPU_Mapped: 1.12 * 1024 * 1024 }, kvBytes: 1.25 * 1024 * 1024 });
    const m = await runner.memory();
    expect(m.processRss.bytes).toBeGreaterThan(10 * 1024 * 1024); // a node process, read from /proc
    expect(m.processPeak.bytes).toBeGreaterThanOrEqual(m.processRss.bytes!);
    expect(m.processPeak.source).toMatch(/VmHWM/);
    expect(m.context).toMatchObject({ bytes: 1.25 * 1024 * 1024, note: '512 tokens per slot x 4 slot(s)' });
    // The weights file and, from the log, the buffers the engine holds them in: two parts, each with its source.
    expect(m.weights.source).not.toMatch(/buffer/);
    expect(m.residentWeights).toMatchObject({ bytes: 1.12 * 1024 * 1024, source: 'llama-server start-up log, model buffer size: CPU_Mapped 1.12 MiB' });
    expect(m.gpuProcessPeak).toMatchObject({ bytes: null, note: 'not available: no nvidia-smi on PATH' });

    await runner.close();
    expect(alive(pid)).toBe(false);
    expect(runner.stopped).toMatch(/not a crash/);
  });

  it('two managed servers get different ports', async () => {
    const [a, b] = await Promise.all([createLlamaServerRunner(profile(), noGpu), createLlamaServerRunner(profile(), noGpu)]);
    expect(a.baseUrl).not.toBe(b.baseUrl);
    await Promise.all([a.close(), b.close()]);
  });

  it('a server that dies at start gives its exit and log tail', async () => {
    const err = await createLlamaServerRunner(profile({ args: ['--fake-exit-at-start', 'unknown argument: --bogus'] }), noGpu).catch((e) => e);
    expect(err).toBeInstanceOf(ServerStartError);
    expect(err.message).toMatch(/exited unexpectedly \(exit code 1\) while starting/);
    expect(err.message).toContain('error: unknown argument: --bogus');
  });

  it('a model the server cannot open: the real error lines are in the message', async () => {
    const p = profile();
    const proc = ManagedProcess.start({
      binary: FAKE, args: ['-m', join(dir, 'missing.gguf'), '--port', String(await findFreePort())],
      healthUrl: 'http://127.0.0.1:9/health', startupTimeoutMs: p.startupTimeoutMs, name: 'llama-server',
    });
    await expect(proc).rejects.toThrow(/failed to open .*missing\.gguf/);
  });

  it('a missing binary or model is an input error', async () => {
    await expect(createLlamaServerRunner(profile({ binary: join(dir, 'no-such-llama-server') }), noGpu)).rejects.toBeInstanceOf(InputError);
    await expect(createLlamaServerRunner(profile({ model: join(dir, 'nope.gguf') }), noGpu)).rejects.toThrow(/model file not found/);
  });

  // The start-up clock below is the test's own: it stands still until the stand-in has printed its loading
  // log and answered a poll with 503, then jumps past the deadline. A real-time budget (400 ms) once ran out
  // before node had even started the stand-in on a loaded machine (last: ECONNREFUSED).
  it('a server that never becomes healthy times out with its last answer and the log tail', async () => {
    const port = await findFreePort();
    let loadingLogged = false;
    let answered503 = false;
    const err = await ManagedProcess.start({
      binary: FAKE, args: ['-m', MODEL, '--port', String(port), '--fake-load-ms', 'never'],
      healthUrl: `http://127.0.0.1:${port}/health`, startupTimeoutMs: 20_000, name: 'llama-server',
      onLogLine: (l) => void (l.startsWith('main: model loaded') && (loadingLogged = true)),
      onHealthPoll: (s) => void (s === 'HTTP 503' && (answered503 = true)),
      now: () => (loadingLogged && answered503 ? 20_000 : 0),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(ServerStartError);
    expect(err.message).toMatch(/not healthy .* within 20000 ms \(last: HTTP 503\)/);
    expect(err.message).toContain('main: model loaded');
  });

  it('a process that never opens its port: the timeout says it is running, not gone', async () => {
    const port = await findFreePort();
    const polls: string[] = [];
    const err = await ManagedProcess.start({
      binary: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'],
      healthUrl: `http://127.0.0.1:${port}/health`, startupTimeoutMs: 20_000, name: 'llama-server',
      onHealthPoll: (s) => void polls.push(s),
      now: () => (polls.length >= 2 ? 20_000 : 0),
    }).catch((e) => e);
    expect(polls).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(err).toBeInstanceOf(ServerStartError);
    expect(err.message).toMatch(/within 20000 ms \(last: ECONNREFUSED\); the process is running but has not opened its port yet/);
  });
});
