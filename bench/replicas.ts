// Throughput over 1, 2 and 3 replicas (run/replicas.ts): each replica a llama-server stand-in process
// (test/doubles/fake-llama-server.mjs) with one slot and a fixed service time per request, so one replica
// serves at most 1000 / SERVICE_MS requests/s and N replicas at most N times that. The same suite (the
// bundled 60-question sample) at concurrency 3 for every N: with routing to the fewest outstanding
// requests, throughput should scale close to linearly. Target: N replicas >= 0.85 x N x one replica's rate.
// Run: npm run bench -- replicas
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runSuite } from '../src/run/run.js';
import { loadRunnerProfile } from '../src/runners/registry.js';
import { findFreePort } from '../src/runners/managed-process.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const REPO = resolve(import.meta.dirname, '..');
const FAKE = join(REPO, 'test/doubles/fake-llama-server.mjs');
const SERVICE_MS = 100;
// Two requests per replica at the most replicas: every server always has the next request queued, so the figure is the servers' (client latency hidden).
const CONCURRENCY = 6;

async function startFake(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await findFreePort('127.0.0.1');
  const model = join(dir, 'model.gguf');
  writeFileSync(model, 'GGUF');
  const child = spawn(process.execPath, [FAKE, '-m', model, '--host', '127.0.0.1', '--port', String(port), '--fake-load-ms', '0', '--fake-service-ms', String(SERVICE_MS)],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((done, fail) => {
    let buf = '';
    child.stderr!.on('data', (d) => {
      buf += d;
      if (buf.includes('starting the main loop')) done();
    });
    child.on('close', () => fail(new Error(`fake server exited: ${buf}`)));
  });
  child.stderr!.resume();
  return { url: `http://127.0.0.1:${port}`, child };
}

async function runWith(n: number): Promise<{ replicas: number; requestsPerS: number; durationS: number; perReplica: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'medeval-bench-replicas-'));
  const servers = await Promise.all(Array.from({ length: n }, () => startFake(dir)));
  try {
    const profile = join(dir, 'profile.yaml');
    writeFileSync(profile, ['kind: llama-server', `label: replicas-${n}`, 'mode: attached', 'baseUrls:', ...servers.map((s) => `  - ${s.url}`), 'truncationCheck: false', ''].join('\n'));
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: bench-replicas', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${join(REPO, 'datasets/sample/usmle-sample.jsonl')}`,
      `prompts: ${join(REPO, 'suites/prompts')}`, 'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8',
      'load:', '  profile: concurrency', `  concurrency: ${CONCURRENCY}`, '  warmup: 1', ''].join('\n'));
    const { manifest, results } = await runSuite({ suite, runner: await loadRunnerProfile(profile), out: join(dir, 'run'), cacheDir: false });
    if (manifest.status !== 'finished') throw new Error(`run with ${n} replica(s) ended ${manifest.status}`);
    const perReplica: Record<string, number> = {};
    for (const r of results) perReplica[r.replica ?? '?'] = (perReplica[r.replica ?? '?'] ?? 0) + 1;
    const durationS = manifest.durationMs! / 1000;
    return { replicas: n, requestsPerS: results.length / durationS, durationS, perReplica };
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
  }
}

export const replicasBench: Benchmark = {
  name: 'replicas',
  description: `throughput over 1, 2, 3 llama-server stand-in replicas (one slot, ${SERVICE_MS} ms per request), concurrency ${CONCURRENCY}`,
  async run(): Promise<BenchResult> {
    const rows = [];
    for (const n of [1, 2, 3]) rows.push(await runWith(n));
    const one = rows[0]!.requestsPerS;
    const targets = rows.slice(1).map((r) => ({
      name: `${r.replicas} replicas vs ${r.replicas} x one`,
      value: round(r.requestsPerS / (r.replicas * one), 3),
      target: '>= 0.85',
      met: r.requestsPerS / (r.replicas * one) >= 0.85,
    }));
    return {
      notes: [
        `Each replica is its own process serving one request at a time in ${SERVICE_MS} ms (its ceiling ${1000 / SERVICE_MS} requests/s); 60 requests at concurrency ${CONCURRENCY}, warm-up excluded.`,
        'Scaling = requests/s with N replicas / (N x requests/s with one). Requests go to the replica with the fewest outstanding.',
      ],
      tables: [{
        title: 'Throughput by replicas',
        head: ['replicas', 'requests/s', 'duration s', 'scaling vs one', 'requests per replica'],
        rows: rows.map((r) => [r.replicas, round(r.requestsPerS, 2), round(r.durationS, 2), round(r.requestsPerS / (r.replicas * one), 3), Object.values(r.perReplica).join(' / ')]),
      }],
      targets,
      data: { serviceMs: SERVICE_MS, concurrency: CONCURRENCY, runs: rows },
    };
  },
};
