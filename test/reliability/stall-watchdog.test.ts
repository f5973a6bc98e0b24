// A frozen server is caught by silence, not by the whole request timeout (issue 10, real-server leftovers
// item 4). Before, a SIGSTOPped llama-server held a run for about attempts x requestTimeoutMs plus one
// /health timeout (70 s at 10 s; 40 minutes at the shipped 600 s). Now: no response headers within
// firstByteTimeoutMs (or no byte for stallTimeoutMs), no byte on any other stream, and no answer from
// /health within stallProbeTimeoutMs: the attempt ends as a timeout that is not retried and the run
// stops. A long legitimate wait (a slow prefill) is not cut: /health answers, so the wait goes on.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { findFreePort } from '../../src/runners/managed-process.js';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { readJournal, tempDir, writeSampleSuite, writeServerProfile } from './helpers.js';

const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const children: ChildProcess[] = [];
const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  }
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

/** The stand-in llama-server as a real process (so it can be SIGSTOPped), once it says it is listening. */
async function startFake(dir: string): Promise<{ child: ChildProcess; baseUrl: string }> {
  const model = join(dir, 'model.gguf');
  writeFileSync(model, 'GGUF');
  const port = await findFreePort();
  const child = spawn(process.execPath, [FAKE, '-m', model, '--port', String(port), '--fake-load-ms', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let log = '';
  child.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    child.stderr!.on('data', (d: string) => {
      log += d;
      if (log.includes('starting the main loop')) resolve();
    });
  });
  return { child, baseUrl: `http://127.0.0.1:${port}` };
}

describe('stall watchdog', () => {
  it('a SIGSTOPped llama-server stops the run on silence and a deaf /health: failed, not retried, no request timeout waited', async () => {
    const dir = tempDir('medeval-stall-');
    const { child, baseUrl } = await startFake(dir);
    const suite = writeSampleSuite(dir, { limit: 8 });
    // requestTimeoutMs 300 s and 3 retries: before, the run would have been held for 20 minutes.
    const runner = await loadRunnerProfile(writeServerProfile(dir, baseUrl, {
      truncationCheck: false, requestTimeoutMs: 300_000, retries: 3, sideRequestTimeoutMs: 300_000,
      firstByteTimeoutMs: 1000, stallTimeoutMs: 1000, stallProbeTimeoutMs: 1000,
    }));
    const t: { frozenAt?: number } = {};
    const run = await runSuite({
      suite, runner, out: join(dir, 'run'), cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'item' && e.done === 2) {
          child.kill('SIGSTOP');
          t.frozenAt = performance.now();
        }
      },
    });
    const stoppedAfter = performance.now() - t.frozenAt!;
    expect(run.manifest.status).toBe('failed');
    expect(run.manifest.stopReason).toMatch(/the server stopped answering: a request timed out \(the server stopped answering: no response headers for \d+ ms \(limit 1000 ms\) and .*\/health no answer within 1000 ms\)/);
    const journal = readJournal(run.dir);
    expect(journal.slice(0, 2).every((r) => !r.error)).toBe(true);
    const last = journal[2]!;
    expect(last.error).toMatchObject({ kind: 'timeout', retries: 0 });
    console.log(`[stall] SIGSTOPped fake llama-server to run stopped: ${Math.round(stoppedAfter)} ms (firstByte 1000, stall 1000, probe 1000; requestTimeoutMs 300000, retries 3)`);
  }, 600_000);

  it('a long wait for the first token (a slow prefill) is not cut: /health answers, the stream goes on', async () => {
    const server = new LlamaServerDouble();
    doubles.push(server);
    let firstChunk!: () => void;
    const held = new Promise<void>((r) => (firstChunk = r));
    // The first token is held until the watchdog has asked /health twice: the silence outlasted the limit twice.
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer', waitFor: held }, { delayMs: 0, content: ': B' }], finishReason: 'stop' });
    await server.start();
    let streaming = false;
    let healthWhileSilent = 0;
    server.events.on('stream-start', () => (streaming = true));
    server.events.on('arrival', (path: string) => {
      if (!streaming || path !== '/health') return;
      if (++healthWhileSilent === 2) firstChunk();
    });
    const session = new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 0, requestTimeoutMs: 300_000,
      stall: { firstByteTimeoutMs: 200, stallTimeoutMs: 200, probeTimeoutMs: 5000, healthPath: '/health' },
    });
    const out = await session.generate({ messages: [{ role: 'user', content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } }, {});
    expect(out.generation.rawText).toBe('Answer: B');
    expect(out.generation.retries).toBeUndefined();
    expect(healthWhileSilent).toBe(2);
    expect(session.recentlyUnresponsive()).toBeNull();
  });
});

