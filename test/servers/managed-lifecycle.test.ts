// A managed server's life with real processes (test/doubles/fake-llama-server.mjs, a stand-in executable):
// medeval checks that the server answering is the one it started (a unique --alias read back), the server
// dies with a SIGKILLed medeval (setpriv --pdeathsig), the manifest says how it ended, and a frozen
// (SIGSTOPped) server stops a run within a few request timeouts with status failed and the --resume hint.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, llamaServerProfileSchema } from '../../src/runners/llama-server.js';
import { findExecutable, findFreePort, listenersOnPort } from '../../src/runners/managed-process.js';
import { REPO } from '../helpers/tiny-run.js';
import { readJournal, writeSampleSuite } from '../reliability/helpers.js';
import { alive, waitGone } from '../helpers/process-gone.js';

const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'medeval-lifecycle-'));
const MODEL = join(dir, 'tiny.gguf');
const OTHER_MODEL = join(dir, 'other.gguf');
writeFileSync(MODEL, Buffer.alloc(4096, 1));
writeFileSync(OTHER_MODEL, Buffer.alloc(4096, 2));
const noGpu = { nvidiaSmi: new NvidiaSmi(null) };
const profile = (extra: Record<string, unknown> = {}) =>
  llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'managed', mode: 'managed', binary: FAKE, model: MODEL, args: ['-c', '2048', '-np', '4'], startupTimeoutMs: 60_000, ...extra });

/** Alive and not a zombie (a killed child of a dead parent waits for init to reap it). */

/** Resolves with the first line of `stream` matching `re`. */
function lineMatching(stream: NodeJS.ReadableStream, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: stream });
    rl.on('line', (l) => {
      const m = re.exec(l);
      if (m) {
        resolve(m); // first: close() below fires 'close' at once
        rl.close();
      }
    });
    rl.on('close', () => reject(new Error(`stream ended before a line matching ${re}`)));
  });
}

const spawned: ChildProcess[] = [];
const pids: number[] = [];
afterEach(() => {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const p of pids.splice(0)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** A fake llama-server this test starts itself (an attached server, or a stale one holding a port). */
async function startFake(args: string[]): Promise<{ child: ChildProcess; port: number; baseUrl: string }> {
  const port = await findFreePort();
  const child = spawn(process.execPath, [FAKE, '--port', String(port), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.push(child);
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  await lineMatching(child.stderr!, /starting the main loop/).catch((e: Error) => {
    throw new Error(`${e.message}; exit ${child.exitCode} ${child.signalCode}; the server said:\n${log.slice(-300)}`);
  });
  return { child, port, baseUrl: `http://127.0.0.1:${port}` };
}

describe('managed llama-server identity', () => {
  it('gives the server a unique --alias and reads it back from /v1/models', async () => {
    const runner = await createLlamaServerRunner(profile(), noGpu);
    try {
      const models = (await (await fetch(`${runner.baseUrl}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data[0]!.id).toMatch(/^medeval-[0-9a-f]{12}$/);
      expect((await runner.describe()).extra?.serverModelId).toBe(models.data[0]!.id);
      expect(readFileSync(`/proc/${runner.serverPid}/cmdline`, 'utf8').split('\0')).toContain('--alias');
      expect(listenersOnPort(Number(new URL(runner.baseUrl).port), runner.serverPid!)).toEqual({ ours: 1, others: 0 });
    } finally {
      await runner.close();
    }
  });

  it('refuses when another server answers on its port, and stops the one it started', async () => {
    // A stale server (another model) already holds the port; the new one "binds" it too (SO_REUSEPORT).
    const stale = await startFake(['-m', OTHER_MODEL]);
    const err = await createLlamaServerRunner(profile({ args: ['--fake-shared-port'] }), { ...noGpu, port: stale.port }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/the server answering at http:\/\/127\.0\.0\.1:\d+ is not the llama-server medeval started \(pid \d+\)/);
    expect((err as Error).message).toContain(OTHER_MODEL);
    expect((err as Error).message).toMatch(/SO_REUSEPORT/);
    const ours = Number(/pid (\d+)/.exec((err as Error).message)![1]);
    expect(await waitGone(ours)).toBe(true);
    expect(stale.child.exitCode).toBeNull(); // the other server is not ours to stop
  });

  it('counts sockets of other processes on a port', async () => {
    const [a, b] = await Promise.all([startFake(['-m', OTHER_MODEL]), startFake(['-m', MODEL])]);
    expect(listenersOnPort(a.port, a.child.pid!)).toEqual({ ours: 1, others: 0 });
    expect(listenersOnPort(a.port, b.child.pid!)).toEqual({ ours: 0, others: 1 });
    expect(listenersOnPort(a.port, process.pid)).toEqual({ ours: 1, others: 0 }); // a's parent: its tree holds a
  });
});

describe('managed llama-server lifetime', () => {
  it.runIf(findExecutable('setpriv') !== null)('dies with a SIGKILLed medeval (setpriv --pdeathsig KILL)', async () => {
    const code = `
      import { createLlamaServerRunner, llamaServerProfileSchema } from ${JSON.stringify(join(REPO, 'src/runners/llama-server.ts'))};
      import { NvidiaSmi } from ${JSON.stringify(join(REPO, 'src/metrics/nvidia-smi.ts'))};
      const p = llamaServerProfileSchema.parse(${JSON.stringify({ kind: 'llama-server', label: 'm', mode: 'managed', binary: FAKE, model: MODEL, startupTimeoutMs: 60_000 })});
      const r = await createLlamaServerRunner(p, { nvidiaSmi: new NvidiaSmi(null) });
      console.log('SERVER ' + r.serverPid);
      setInterval(() => {}, 1 << 30);
    `;
    const medeval = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    spawned.push(medeval);
    const server = Number((await lineMatching(medeval.stdout!, /^SERVER (\d+)$/))[1]);
    pids.push(server);
    expect(alive(server)).toBe(true);
    medeval.kill('SIGKILL'); // no exit hook runs: only the kernel can take the server down
    await once(medeval, 'exit');
    expect(await waitGone(server), 'the managed server outlived the medeval that started it').toBe(true);
  });

  it('the manifest says how the managed server ended: the abort on SIGTERM is not a crash', async () => {
    const suite = writeSampleSuite(dir, { limit: 2 });
    const prof = profile();
    const out = join(dir, 'ended-abort');
    const run = await runSuite({ suite, runner: { profile: prof, file: null }, out, cacheDir: false });
    expect(run.manifest.status).toBe('finished');
    expect(run.manifest.server?.managed).toMatchObject({ ended: 'aborted-on-sigterm', code: 134, signal: null, diesWithParent: findExecutable('setpriv') !== null });
    expect(run.manifest.server?.managed?.description).toMatch(/not a crash/);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).server.managed.ended).toBe('aborted-on-sigterm');
  });

  it('a server that ignores SIGTERM is killed after the grace period, and the manifest says so', async () => {
    const suite = writeSampleSuite(dir, { limit: 1 });
    const run = await runSuite({ suite, runner: { profile: profile({ args: ['--fake-ignore-sigterm'], stopGraceMs: 300 }), file: null }, out: join(dir, 'ended-kill'), cacheDir: false });
    expect(run.manifest.server?.managed).toMatchObject({ ended: 'killed-after-grace', signal: 'SIGKILL' });
  });

  it('a managed server that dies during the run stops it at once, and the manifest says it died', async () => {
    const suite = writeSampleSuite(dir, { limit: 20 });
    const prof = profile({ retries: 0 });
    const runner = await createLlamaServerRunner(prof, noGpu);
    const pid = runner.serverPid!;
    const run = await runSuite({
      suite, runner: { profile: prof, file: null }, runnerInstance: runner, out: join(dir, 'ended-died'), cacheDir: false,
      onEvent: (e) => {
        if (e.type === 'item' && e.done === 2) process.kill(pid, 'SIGKILL');
      },
    });
    expect(run.manifest.status).toBe('failed');
    expect(run.manifest.stopReason).toMatch(/the server stopped answering/);
    const journal = readJournal(run.dir);
    expect(journal.filter((r) => r.error)).toHaveLength(1); // one request found it gone; the probe stopped the run
    expect(run.manifest.server?.managed).toMatchObject({ ended: 'died-during-run', signal: 'SIGKILL' });
  });
});

describe('a frozen server', () => {
  it('stops `medeval run` within a few request timeouts: status failed, the reason and the --resume hint', async () => {
    const server = await startFake(['-m', MODEL]);
    const suite = writeSampleSuite(dir, { limit: 20 });
    const runnerFile = join(dir, 'frozen.yaml');
    writeFileSync(runnerFile, ['kind: llama-server', 'label: frozen', 'mode: attached', `baseUrl: ${server.baseUrl}`,
      // Far above any answer or side request of a busy machine (two processes here): only the freeze reaches them.
      'requestTimeoutMs: 4000', 'sideRequestTimeoutMs: 2000', 'retries: 1', ''].join('\n'));
    const out = join(dir, 'frozen-run');
    const cli = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'run', '--suite', suite, '--runner', runnerFile, '--out', out, '--no-cache'],
      { cwd: REPO, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.push(cli);
    let stderr = '';
    cli.stderr!.on('data', (d) => (stderr += d));
    const exited = once(cli, 'close');

    // Freeze the server once it has answered 3 generation requests (its own request log says so).
    let answered = 0;
    let frozenAt = 0;
    await new Promise<void>((resolve) => {
      createInterface({ input: server.child.stderr! }).on('line', (l) => {
        if (/log_server_r: request: POST \/v1\/chat\/completions .* 200$/.test(l) && ++answered === 3) {
          server.child.kill('SIGSTOP');
          frozenAt = performance.now();
          resolve();
        }
      });
    });
    const [code] = await exited;
    const stoppedAfterMs = performance.now() - frozenAt;

    expect(code, stderr).toBe(1);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(manifest.stopReason).toMatch(/the server stopped answering: a request timed out .* then llama-server is not answering: .*\/health no answer within 2000 ms/);
    expect(stderr).toContain('run failed: the server stopped answering');
    expect(stderr).toMatch(/hint: resuming re-runs exactly .*: medeval run .*--resume/);
    const journal = readJournal(out);
    expect(journal.filter((r) => !r.error).length).toBeGreaterThanOrEqual(3);
    expect(journal.filter((r) => r.error).map((r) => r.error!.kind)).toEqual(['timeout']); // one item, then the probe
    expect(existsSync(join(out, 'summary.md'))).toBe(true);
    console.log(`[frozen-server] SIGSTOP to medeval exit: ${Math.round(stoppedAfterMs)} ms (requestTimeoutMs 4000, sideRequestTimeoutMs 2000, retries 1)`);
  });
});

describe('managed vLLM identity', () => {
  it('adds the unique name to --served-model-name, after the model or the names given', async () => {
    const { withServedName } = await import('../../src/runners/vllm.js');
    expect(withServedName(['--max-model-len', '4096'], 'org/m', 'medeval-1')).toEqual(['--max-model-len', '4096', '--served-model-name', 'org/m', 'medeval-1']);
    expect(withServedName(['--served-model-name', 'a', 'b', '--dtype', 'half'], 'org/m', 'medeval-1')).toEqual(['--served-model-name', 'a', 'b', 'medeval-1', '--dtype', 'half']);
    expect(withServedName(['--served-model-name=a'], 'org/m', 'medeval-1')).toEqual(['--served-model-name', 'a', 'medeval-1']);
  });
});
