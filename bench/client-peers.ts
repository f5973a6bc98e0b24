// medeval's whole client against vLLM's own benchmark client (issue 16 target 1), whole processes, same run:
// `medeval run` (the compiled CLI: module loading, suite and dataset loading, planning, warm-up, the journal)
// and a Python aiohttp client of the same shape as `vllm bench serve`'s request function
// (bench/peers/vllm-shaped-client.py, Debian's python3-aiohttp), each doing N and 2N streamed chat requests
// at concurrency 1 and 64 against the instant vLLM-shaped loopback server (bench/lib/instant-vllm-server.mjs,
// its own process). Runs interleaved: medeval N, peer N, medeval 2N, peer 2N.
// Figures: steady-state requests/s (medeval: records / the manifest's measured duration, warm-up excluded;
// the peer: requests / its timed loop); marginal CPU per request ((CPU at 2N - CPU at N) / N, whole process,
// user + system, the server's not counted); start-up apart: process start to the first measured request
// (medeval) and to its loop (the peer), and the CPU the process spent before its steady state (CPU at N minus
// N x the marginal cost). Target: medeval's requests/s >= the peer's at both concurrencies; start-up < 0.5 s.
// promptfoo (the TypeScript peer harness, never a dependency of the project) is measured too where it is
// installed (MEDEVAL_BENCH_PROMPTFOO, or /tmp/pf/node_modules/.bin/promptfoo): `promptfoo eval` with its
// http provider sending the same streamed chat body with the same prompts (medeval's rendered ones) to the
// same server, M and 2M requests (it is much slower, so M = min(N, 200)); its req/s is its own evaluation's
// (requests over the eval duration it reports), its CPU per request marginal as above.
// Run: npm run bench -- client-peers   (MEDEVAL_BENCH_CLIENT_N changes N, default 1000)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeMedqaShaped } from '../test/helpers/medqa-shaped.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'medeval.js');
const SERVER = join(import.meta.dirname, 'lib', 'instant-vllm-server.mjs');
const PEER = join(import.meta.dirname, 'peers', 'vllm-shaped-client.py');
const N = Number(process.env.MEDEVAL_BENCH_CLIENT_N ?? 1000);

// The process's CPU at exit, and at the start of each of its first HTTP requests (node's diagnostics channel,
// so nothing in medeval is touched): the CPU spent before the first measured request is start-up.
const PRELOAD = `import { writeFileSync } from 'node:fs';
import dc from 'node:diagnostics_channel';
const starts = [];
const onStart = () => { if (starts.length < 20000) { const c = process.cpuUsage(); starts.push([Date.now(), c.user + c.system]); } };
dc.subscribe('http.client.request.start', onStart);
process.on('exit', () => { try { const c = process.cpuUsage(); writeFileSync(process.env.MEDEVAL_BENCH_EXIT_FILE, JSON.stringify({ cpuUs: c.user + c.system, maxRssKb: process.resourceUsage().maxRSS, starts })); } catch {} });
`;

interface Side { rps: number; cpuS: number; startupS: number; wallS: number; startupCpuS?: number; prompts?: string[] }

/** promptfoo's CLI (an env var or the lead's install), or null: then it is not measured. */
function promptfooBin(): string | null {
  for (const p of [process.env.MEDEVAL_BENCH_PROMPTFOO, '/tmp/pf/node_modules/.bin/promptfoo']) if (p && existsSync(p)) return realpathSync(p);
  return null;
}
const PF_N = Math.min(N, 200);

/** A Python 3 that has aiohttp (Debian's python3-aiohttp lives under /usr/bin/python3), or null. */
function pythonWithAiohttp(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import aiohttp'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

async function startServer(): Promise<{ base: string; stop: () => void }> {
  const child = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [port] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => {
    throw new Error('the instant server exited before listening');
  })])) as [number];
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function medevalRun(dir: string, suite: string, profile: string, tag: string): Side {
  const out = join(dir, `run-${tag}`);
  const exitFile = join(dir, `exit-${tag}.json`);
  const preload = join(dir, 'exit.mjs');
  writeFileSync(preload, PRELOAD);
  const spawnedAt = Date.now();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', preload, CLI, 'run', '--suite', suite, '--runner', profile, '--out', out, '--no-cache'],
    { encoding: 'utf8', env: { ...process.env, MEDEVAL_BENCH_EXIT_FILE: exitFile, CI: '1' } });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`medeval run exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { durationMs: number; status: string };
  if (manifest.status !== 'finished') throw new Error(`medeval run ended ${manifest.status}`);
  const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
  const first = JSON.parse(lines[0]!) as { timings: { startedAtEpochMs: number } };
  // The prompts medeval sent, for promptfoo to send the same.
  const prompts = lines.slice(0, 2 * PF_N).map((l) => (JSON.parse(l) as { prompt: string }).prompt);
  const exit = JSON.parse(readFileSync(exitFile, 'utf8')) as { cpuUs: number; starts: Array<[number, number]> };
  rmSync(out, { recursive: true, force: true });
  // The first measured request is the first HTTP request begun at or after its record's start (the stream
  // timer starts just before the request is made; health polls, /tokenize and the warm-up come before it).
  const firstMeasured = exit.starts.find(([at]) => at >= first.timings.startedAtEpochMs);
  if (!firstMeasured) throw new Error('the preload saw no HTTP request at or after the first record started');
  return { rps: lines.length / (manifest.durationMs / 1000), cpuS: exit.cpuUs / 1e6, startupS: (first.timings.startedAtEpochMs - spawnedAt) / 1000, startupCpuS: firstMeasured[1] / 1e6, wallS, prompts };
}

/**
 * `promptfoo eval` over `prompts` at `concurrency`: its http provider posts the body medeval posts (model,
 * messages, max_tokens 8, temperature 0, top_p 1, stream with usage) and joins the streamed text.
 */
function promptfooRun(bin: string, dir: string, base: string, prompts: string[], concurrency: number, tag: string): Side {
  const sub = join(dir, `pf-${tag}`);
  execFileSync('mkdir', ['-p', sub]);
  // JSON is YAML: one test per prompt. promptfoo renders vars as templates, so a prompt must hold no `{{`.
  if (prompts.some((p) => p.includes('{{') || p.includes('{%'))) throw new Error('a prompt holds template syntax: promptfoo would render it');
  writeFileSync(join(sub, 'tests.yaml'), JSON.stringify(prompts.map((question) => ({ vars: { question } }))));
  // In this source \\\\n, in the YAML file \\n, in promptfoo's expression \n: split on newlines.
  const transform = "text.split('\\\\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content ?? '').join('')";
  writeFileSync(join(sub, 'config.yaml'), ['description: medeval client-peers', 'prompts:', "  - '{{question}}'", 'providers:', `  - id: ${base}/v1/chat/completions`,
    '    config:', '      method: POST', '      headers:', '        Content-Type: application/json', '      body:', '        model: bench/instant',
    '        messages:', '          - role: user', "            content: '{{prompt}}'", '        max_tokens: 8', '        temperature: 0', '        top_p: 1',
    '        stream: true', '        stream_options:', '          include_usage: true', `      transformResponse: "${transform}"`, 'tests: file://tests.yaml', ''].join('\n'));
  const exitFile = join(sub, 'exit.json');
  const preload = join(dir, 'exit.mjs');
  writeFileSync(preload, PRELOAD);
  const env = { ...process.env, MEDEVAL_BENCH_EXIT_FILE: exitFile, PROMPTFOO_CONFIG_DIR: join(sub, 'home'), PROMPTFOO_DISABLE_TELEMETRY: '1', PROMPTFOO_DISABLE_UPDATE: '1',
    PROMPTFOO_DISABLE_SHARING: '1', PROMPTFOO_DISABLE_ERROR_LOG: '1', PROMPTFOO_DISABLE_DEBUG_LOG: '1', CI: '1' };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', preload, bin, 'eval', '-c', join(sub, 'config.yaml'), '--no-cache', '--no-write', '--no-table', '--no-progress-bar',
    '-j', String(concurrency), '-o', join(sub, 'out.json')], { cwd: sub, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`promptfoo eval exited ${r.status}: ${(r.stdout ?? '').slice(-1500)} ${(r.stderr ?? '').slice(-1000)}`);
  const out = JSON.parse(readFileSync(join(sub, 'out.json'), 'utf8')) as { results: { stats: { successes: number; failures: number; errors: number; durationMs: number }; results: Array<{ response?: { output?: unknown } }> } };
  const stats = out.results.stats;
  if (stats.successes !== prompts.length || out.results.results.some((x) => x.response?.output !== 'The answer is B.')) {
    throw new Error(`promptfoo: ${stats.successes} of ${prompts.length} requests answered "The answer is B." (${stats.errors} errors)`);
  }
  const exit = JSON.parse(readFileSync(exitFile, 'utf8')) as { cpuUs: number };
  rmSync(sub, { recursive: true, force: true });
  return { rps: prompts.length / (stats.durationMs / 1000), cpuS: exit.cpuUs / 1e6, startupS: wallS - stats.durationMs / 1000, wallS };
}

function peerRun(py: string, base: string, n: number, concurrency: number): Side {
  const t0 = performance.now();
  const r = spawnSync(py, [PEER, '--url', `${base}/v1/chat/completions`, '--requests', String(n), '--concurrency', String(concurrency)], { encoding: 'utf8' });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`the peer client exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { requests: number; failed: number; loopWallS: number; processCpuS: number; startupWallS: number };
  if (o.failed > 0) throw new Error(`the peer client had ${o.failed} failed requests`);
  return { rps: o.requests / o.loopWallS, cpuS: o.processCpuS, startupS: o.startupWallS, wallS };
}

async function run(): Promise<BenchResult> {
  const py = pythonWithAiohttp();
  if (!py) throw new Error('no Python 3 with aiohttp (Debian: apt-get install python3-aiohttp): the peer cannot run');
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'medeval-bench-peers-'));
  const server = await startServer();
  const rows: Array<Record<string, number>> = [];
  const pfRows: Array<Record<string, number>> = [];
  const pf = promptfooBin();
  try {
    const profile = join(dir, 'vllm.yaml');
    writeFileSync(profile, ['kind: vllm', 'label: instant-vllm', 'mode: attached', `baseUrl: ${server.base}`, 'api: chat', ''].join('\n'));
    const versionT0 = performance.now();
    execFileSync(process.execPath, [CLI, '--version'], { stdio: 'ignore' });
    const versionS = (performance.now() - versionT0) / 1000;
    for (const c of [1, 64]) {
      const suites = [N, 2 * N].map((n) => {
        const sub = join(dir, `d${n}-c${c}`);
        rmSync(sub, { recursive: true, force: true });
        execFileSync('mkdir', ['-p', sub]);
        const data = writeMedqaShaped(sub, n, { words: 30 });
        const suite = join(sub, 'suite.yaml');
        writeFileSync(suite, ['name: bench-client', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`,
          `prompts: ${join(REPO, 'suites/prompts')}`, 'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8',
          'load:', '  profile: concurrency', `  concurrency: ${c}`, '  warmup: 1', ''].join('\n'));
        return suite;
      });
      const m1 = medevalRun(dir, suites[0]!, profile, `${N}-c${c}`);
      const p1 = peerRun(py, server.base, N, c);
      const m2 = medevalRun(dir, suites[1]!, profile, `${2 * N}-c${c}`);
      const p2 = peerRun(py, server.base, 2 * N, c);
      if (pf) {
        const prompts = m2.prompts!;
        const f1 = promptfooRun(pf, dir, server.base, prompts.slice(0, PF_N), c, `${PF_N}-c${c}`);
        const f2 = promptfooRun(pf, dir, server.base, prompts.slice(0, 2 * PF_N), c, `${2 * PF_N}-c${c}`);
        const medevalRps = (m1.rps + m2.rps) / 2;
        const pfRps = (f1.rps + f2.rps) / 2;
        pfRows.push({
          concurrency: c, requests: PF_N, promptfooRps: round(pfRps), medevalRps: round(medevalRps), rpsRatio: round(medevalRps / pfRps, 2),
          promptfooCpuUsPerRequest: round(((f2.cpuS - f1.cpuS) / PF_N) * 1e6, 0), promptfooStartupS: round(Math.min(f1.startupS, f2.startupS), 2),
          promptfooWallS: round(f2.wallS, 1), promptfooCpuS: round(f2.cpuS, 2),
        });
      }
      const marg = (a: Side, b: Side) => ((b.cpuS - a.cpuS) / N) * 1e6;
      const mMarg = marg(m1, m2);
      const pMarg = marg(p1, p2);
      rows.push({
        concurrency: c,
        medevalRps: round((m1.rps + m2.rps) / 2), peerRps: round((p1.rps + p2.rps) / 2),
        rpsRatio: round((m1.rps + m2.rps) / (p1.rps + p2.rps), 3),
        medevalCpuUsPerRequest: round(mMarg, 0), peerCpuUsPerRequest: round(pMarg, 0),
        medevalStartupS: round(Math.min(m1.startupS, m2.startupS), 2), peerStartupS: round(Math.min(p1.startupS, p2.startupS), 2),
        medevalStartupCpuS: round(Math.min(m1.startupCpuS!, m2.startupCpuS!), 2), peerStartupCpuS: round(p1.cpuS - (N * pMarg) / 1e6, 2),
        medevalFixedCpuS: round(m1.cpuS - (N * mMarg) / 1e6, 2),
        medevalWallS: round(m2.wallS, 1), peerWallS: round(p2.wallS, 1), medevalCpuS: round(m2.cpuS, 2), peerCpuS: round(p2.cpuS, 2),
        versionS: round(versionS, 2),
      });
    }
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const targets = rows.flatMap((r) => [
    { name: `requests/s vs vLLM-shaped client, concurrency ${r.concurrency}`, value: r.rpsRatio!, target: '>= 1', met: r.rpsRatio! >= 1 },
    // On CPU time: the wall time of a start-up on a shared 2-core machine is mostly the other programs' (both shown).
    { name: `start-up CPU s (process start to first measured request), concurrency ${r.concurrency}`, value: r.medevalStartupCpuS!, target: '< 0.5', met: r.medevalStartupCpuS! < 0.5 },
  ]);
  return {
    notes: [
      `medeval run (compiled CLI) vs a Python aiohttp client of vLLM's benchmark shape, ${N} and ${2 * N} streamed requests each, instant loopback server in its own process; runs interleaved.`,
      'req/s: steady state (medeval: records over the manifest\'s measured duration; the peer: its timed loop). CPU us/req: (CPU at 2N - CPU at N) / N, whole process, user + system.',
      'Start-up: process start to the first measured request (medeval: module loading, suite and dataset loading, planning, warm-up) or to the timed loop (the peer: interpreter and aiohttp import), wall and CPU. medeval\'s start-up CPU is its process CPU when its first measured request begins (node\'s http.client.request.start diagnostics channel, in a preload; the lower of the N and 2N runs), and is the target\'s figure; the peer\'s is CPU at N - N x its marginal cost. fixed CPU = medeval\'s CPU at N - N x its marginal cost (start-up plus the end of the run: summary, exit).',
      'On a loaded shared machine wall-time rates move with the other programs; the CPU columns barely do.',
      pf ? `promptfoo (${pf}): \`promptfoo eval\` with its http provider, the same streamed body and medeval's own prompts, ${PF_N} and ${2 * PF_N} requests; req/s over its reported eval duration; ratio = medeval / promptfoo.`
        : 'promptfoo is not installed here (MEDEVAL_BENCH_PROMPTFOO or /tmp/pf/node_modules/.bin/promptfoo): not measured.',
    ],
    tables: [{
      title: 'Whole client: medeval run vs the vLLM-shaped aiohttp client',
      head: ['conc', 'medeval req/s', 'peer req/s', 'ratio (>=1)', 'CPU us/req medeval', 'CPU us/req peer', 'start-up s medeval', 'start-up s peer', 'start-up CPU s medeval (< 0.5)', 'start-up CPU s peer', 'fixed CPU s medeval', `wall s (${2 * N}) medeval`, 'peer', 'medeval --version s'],
      rows: rows.map((r) => [r.concurrency!, r.medevalRps!, r.peerRps!, r.rpsRatio!, r.medevalCpuUsPerRequest!, r.peerCpuUsPerRequest!, r.medevalStartupS!, r.peerStartupS!,
        r.medevalStartupCpuS!, r.peerStartupCpuS!, r.medevalFixedCpuS!, r.medevalWallS!, r.peerWallS!, r.versionS!]),
    }, ...(pfRows.length ? [{
      title: 'The TypeScript peer: promptfoo eval (http provider, same streamed requests, same server)',
      head: ['conc', 'requests', 'promptfoo req/s', 'medeval req/s', 'medeval / promptfoo', 'CPU us/req promptfoo', 'start-up s promptfoo', `wall s (${2 * PF_N}) promptfoo`, 'CPU s promptfoo'],
      rows: pfRows.map((r) => [r.concurrency!, `${r.requests} / ${2 * r.requests!}`, r.promptfooRps!, r.medevalRps!, r.rpsRatio!, r.promptfooCpuUsPerRequest!, r.promptfooStartupS!, r.promptfooWallS!, r.promptfooCpuS!]),
    }] : [])],
    targets,
    data: { requests: N, python: py, rows, promptfoo: pf ? { bin: pf, requests: PF_N, rows: pfRows } : null },
  };
}

export const clientPeers: Benchmark = {
  name: 'client-peers',
  description: 'medeval run vs a vLLM-benchmark-shaped aiohttp client (whole processes, concurrency 1 and 64, instant loopback server): steady req/s, CPU per request, start-up apart',
  run,
};
