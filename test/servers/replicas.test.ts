// Replicas with real processes on loopback: three llama-server stand-ins (test/doubles/fake-llama-server.mjs)
// listed as `baseUrls` of one attached profile. One is killed with a request in flight (it holds that
// request, says so on stderr, and the test kills it then): the run finishes on the other two with every
// item answered once, the failed-over request answered elsewhere, the dead replica out of rotation in the
// manifest and on the terminal, and the report's per-replica figures beside the totals.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import type { ItemResult } from '../../src/core/types.js';
import { buildReport } from '../../src/report/build.js';
import { runSuite } from '../../src/run/run.js';
import { replicaProfiles } from '../../src/run/replicas.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { findFreePort } from '../../src/runners/managed-process.js';
import { tempDir, writeSuite } from '../helpers/tiny-run.js';

const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));

export interface FakeServer {
  url: string;
  child: ChildProcess;
  /** Every stderr line so far. */
  lines: string[];
  /** Resolves at the first stderr line matching `re` (already seen, or to come). */
  waitFor(re: RegExp): Promise<string>;
  exited: Promise<void>;
}

/** Starts a fake llama-server on a free loopback port; resolves once it says it is serving. */
export async function startFake(dir: string, extra: string[] = []): Promise<FakeServer> {
  const port = await findFreePort('127.0.0.1');
  const model = join(dir, 'model.gguf');
  writeFileSync(model, 'GGUF');
  const child = spawn(process.execPath, [FAKE, '-m', model, '--host', '127.0.0.1', '--port', String(port), '--fake-load-ms', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; done: (l: string) => void }> = [];
  let buf = '';
  child.stderr!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(line);
      }
    }
  });
  const exited = new Promise<void>((done) => child.on('close', () => done()));
  const waitFor = (re: RegExp) => new Promise<string>((done, fail) => {
    const seen = lines.find((l) => re.test(l));
    if (seen) return done(seen);
    waiters.push({ re, done });
    exited.then(() => fail(new Error(`the fake server exited before a line matching ${re}:\n${lines.join('\n')}`)));
  });
  await waitFor(/starting the main loop/);
  return { url: `http://127.0.0.1:${port}`, child, lines, waitFor, exited };
}

const servers: FakeServer[] = [];
afterAll(() => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

const chatAnswers = (s: FakeServer) => s.lines.filter((l) => /request: POST \/v1\/chat\/completions .* 200$/.test(l)).length;

describe('replicas', () => {
  it('splits a profile into its replicas: one per base URL, or N managed copies', () => {
    const attached = replicaProfiles({ mode: 'attached', baseUrls: ['http://a:1', 'http://b:2'], label: 'x' });
    expect(attached).toEqual([{ mode: 'attached', baseUrl: 'http://a:1', label: 'x' }, { mode: 'attached', baseUrl: 'http://b:2', label: 'x' }]);
    expect(replicaProfiles({ mode: 'managed', replicas: 3, label: 'x' })).toHaveLength(3);
    expect(replicaProfiles({ mode: 'managed', replicas: 1 })).toBeNull();
    expect(replicaProfiles({ mode: 'attached', baseUrl: 'http://a:1' })).toBeNull();
  });

  it('runs on three replicas, one killed mid-run: the run finishes on the other two, nothing lost or duplicated', async () => {
    const dir = tempDir('medeval-replicas-');
    const a = await startFake(dir);
    // Its 3rd chat request (the warm-up replay is its 1st) is held unanswered: the kill comes with it in flight.
    const b = await startFake(dir, ['--fake-hold-chat', '3']);
    const c = await startFake(dir);
    servers.push(a, b, c);
    const killed = b.waitFor(/fake: holding chat request 3/).then(() => {
      b.child.kill('SIGKILL');
      return b.exited;
    });
    const profile = join(dir, 'replicas.yaml');
    writeFileSync(profile, [
      'kind: llama-server', 'label: three-replicas', 'mode: attached', 'baseUrls:', `  - ${a.url}`, `  - ${b.url}`, `  - ${c.url}`,
      'retries: 1', 'truncationCheck: false', '',
    ].join('\n'));
    const suite = writeSuite(dir, { constrain: false, load: '  profile: concurrency\n  concurrency: 3\n  warmup: 1' });
    const notices: string[] = [];
    const out = join(dir, 'run');
    const { manifest, results } = await runSuite({
      suite, runner: await loadRunnerProfile(profile), out, cacheDir: false,
      onEvent: (e) => { if (e.type === 'notice') notices.push(e.text); },
    });
    await killed;

    expect(manifest.status).toBe('finished');
    expect(results).toHaveLength(60);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(60);
    expect(results.filter((r) => r.error)).toEqual([]);
    const byReplica = (url: string) => results.filter((r) => r.replica === url);
    // B answered what it did before the held request, then nothing; A and C took the rest.
    expect(byReplica(b.url).length).toBe(chatAnswers(b) - 1);
    expect(byReplica(a.url).length + byReplica(b.url).length + byReplica(c.url).length).toBe(60);
    expect(byReplica(a.url).length).toBeGreaterThan(10);
    expect(byReplica(c.url).length).toBeGreaterThan(10);
    // The servers' own logs: every item answered exactly once (60), plus one warm-up per live replica.
    expect(chatAnswers(a) + chatAnswers(b) + chatAnswers(c)).toBe(60 + 3);
    // The held request went to another replica: one record says it was retried elsewhere.
    const failedOver = results.filter((r) => (r.retries ?? 0) > 0);
    expect(failedOver).toHaveLength(1);
    expect([a.url, c.url]).toContain(failedOver[0]!.replica);

    const down = notices.find((n) => n.includes('taken out of rotation'));
    expect(down).toContain(b.url);
    expect(down).toContain('the run goes on with 2 replica(s)');
    const reps = manifest.server!.replicas!;
    expect(reps.map((r) => r.replica)).toEqual([a.url, b.url, c.url]);
    expect(reps[1]!.outOfRotation!.reason).toMatch(/stopped answering|could not connect|not answering/);
    expect(reps[0]!.outOfRotation).toBeUndefined();
    expect(reps[0]!.metrics).not.toBeNull();
    expect(reps[1]!.metrics).toBeNull();
    expect(manifest.model.extra!.replicas).toEqual([a.url, b.url, c.url]);

    // The report: per-replica throughput and latency beside the totals.
    const run = buildReport({ runs: [readRunFolder(out)], generatedAt: null }).runs[0]!;
    expect(run.replicas!.map((r) => r.replica)).toEqual([a.url, b.url, c.url]);
    const total = run.replicas!.reduce((n, r) => n + r.completed, 0);
    expect(total).toBe(run.latency.completed);
    for (const r of run.replicas!) {
      expect(r.requestsPerS).toBeCloseTo(r.completed / (run.latency.durationMs! / 1000), 6);
      expect(r.e2eMs!.n).toBe(r.completed);
    }
    expect(run.replicas![1]!.outOfRotation).toBeDefined();
  });
});

export type { ItemResult };
