// medeval's own memory over a 100,000-request run (issue 16 target 3, issue 13 point 6): the compiled CLI
// (`medeval run`, a whole process) against an instant vLLM-shaped loopback server in another process
// (bench/lib/instant-vllm-server.mjs, the server runner over HTTP), and the same run on the scripted runner
// (no network: the floor of the run loop itself). While the run goes, this process reads the child's RSS
// (/proc/<pid>/status VmRSS) and counts the journal's lines as they are written, and keeps the RSS at every
// 10,000 records: the memory curve. Peak = the child's VmHWM. Target: under 250 MB from start to end.
// The dataset is MedQA-shaped with short (MedMCQA-length, ~30 words) vignettes: it is validated whole before
// any model loads, in one streamed pass that keeps the items' ids only (the items are read again when their
// turn comes), and the RSS before the first request (loaded and planned) is shown apart.
// MEDEVAL_BENCH_REQUESTS=N changes the number of requests (default 100,000).
// Run: npm run bench -- run-memory
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeMedqaShaped } from '../test/helpers/medqa-shaped.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'medeval.js');
const SERVER = join(import.meta.dirname, 'lib', 'instant-vllm-server.mjs');
const REQUESTS = Number(process.env.MEDEVAL_BENCH_REQUESTS ?? 100_000);
const STEP = Math.max(1, Math.round(REQUESTS / 10));
const TARGET_MB = 250;
const CONCURRENCY = 8;

// The child's own heap, sampled every 100 ms (what V8 holds between collections: heapUsed is live objects plus
// the garbage not yet collected), and its peak RSS and CPU, written as it exits.
const PRELOAD = `import { writeFileSync } from 'node:fs';
const heap = { usedMb: 0, totalMb: 0 };
setInterval(() => { const m = process.memoryUsage(); heap.usedMb = Math.max(heap.usedMb, m.heapUsed / 1048576); heap.totalMb = Math.max(heap.totalMb, m.heapTotal / 1048576); }, 100).unref();
process.on('exit', () => { try { const c = process.cpuUsage(); writeFileSync(process.env.MEDEVAL_BENCH_EXIT_FILE, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, cpuUs: c.user + c.system, heap })); } catch {} });
`;

interface Curve {
  runner: string;
  /** [records written, RSS MB] at the first record (loaded and planned) and every STEP records. */
  points: Array<[number, number]>;
  /** Highest RSS seen (MB) before the first record (start-up: dataset, planning), during the run, after the last record (the summary). */
  phases: { startup: number; run: number; summary: number };
  peakMb: number;
  /** The highest heapUsed and heapTotal (MB) the child saw in itself. */
  heap: { usedMb: number; totalMb: number };
  wallS: number;
  cpuS: number;
  status: number | null;
}

function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Counts newlines appended to a file since the last call (the journal grows; it is never read twice). */
class LineCounter {
  private offset = 0;
  lines = 0;
  private readonly buf = Buffer.alloc(1 << 20);
  constructor(private readonly file: string) {}
  poll(): number {
    if (!existsSync(this.file)) return this.lines;
    const fd = openSync(this.file, 'r');
    try {
      for (;;) {
        const n = readSync(fd, this.buf, 0, this.buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        for (let i = 0; i < n; i++) if (this.buf[i] === 10) this.lines++;
      }
    } finally {
      closeSync(fd);
    }
    return this.lines;
  }
}

async function startServer(): Promise<{ base: string; stop: () => void }> {
  const child = spawn(process.execPath, [SERVER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [port] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(() => {
    throw new Error('the instant server exited before listening');
  })])) as [number];
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function measureRun(dir: string, runner: string, profile: string, suite: string): Promise<Curve> {
  const out = join(dir, `run-${runner}`);
  const exitFile = join(dir, `exit-${runner}.json`);
  const preload = join(dir, 'exit.mjs');
  writeFileSync(preload, PRELOAD);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', preload, CLI, 'run', '--suite', suite, '--runner', profile, '--out', out, '--no-cache'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MEDEVAL_BENCH_EXIT_FILE: exitFile, CI: '1' } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = once(child, 'exit');
  const journal = new LineCounter(join(out, 'results.jsonl'));
  const points: Array<[number, number]> = [];
  let next = 1;
  let live = true;
  const phases = { startup: 0, run: 0, summary: 0 };
  void exited.then(() => (live = false));
  // Sampling the child from outside: 50 ms between looks (a benchmark, not a test: it measures, it does not synchronise).
  while (live) {
    const rss = procStatusKb(child.pid!, 'VmRSS');
    const lines = journal.poll();
    if (rss !== null) {
      const mb = round(rss / 1024, 1);
      const phase = lines === 0 ? 'startup' : lines < REQUESTS ? 'run' : 'summary';
      phases[phase] = Math.max(phases[phase], mb);
      if (lines >= next) {
        points.push([lines, mb]);
        next = (Math.floor(lines / STEP) + 1) * STEP;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const [code] = (await exited) as [number | null];
  const wallS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`medeval run (${runner}) exited ${code}: ${stderr}`);
  const exit = JSON.parse(readFileSync(exitFile, 'utf8')) as { maxRssKb: number; cpuUs: number; heap: { usedMb: number; totalMb: number } };
  const lines = journal.poll();
  if (lines !== REQUESTS) throw new Error(`medeval run (${runner}) wrote ${lines} records, not ${REQUESTS}`);
  rmSync(out, { recursive: true, force: true });
  return { runner, points, phases, peakMb: round(exit.maxRssKb / 1024, 1), heap: { usedMb: round(exit.heap.usedMb, 1), totalMb: round(exit.heap.totalMb, 1) }, wallS: round(wallS, 1), cpuS: round(exit.cpuUs / 1e6, 1), status: code };
}

async function run(): Promise<BenchResult> {
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'medeval-bench-memory-'));
  const server = await startServer();
  try {
    const data = writeMedqaShaped(dir, REQUESTS, { words: 30 });
    const suite = join(dir, 'suite.yaml');
    writeFileSync(suite, ['name: bench-memory', 'smokeTest: true', 'dataset:', '  format: medqa', `  path: ${data}`,
      `prompts: ${join(REPO, 'suites/prompts')}`, 'sampling:', '  temperature: 0', '  topP: 1', '  maxTokens: 8',
      'load:', '  profile: concurrency', `  concurrency: ${CONCURRENCY}`, '  warmup: 1', ''].join('\n'));
    const vllm = join(dir, 'vllm.yaml');
    writeFileSync(vllm, ['kind: vllm', 'label: instant-vllm', 'mode: attached', `baseUrl: ${server.base}`, 'api: chat', ''].join('\n'));
    writeFileSync(join(dir, 'script.jsonl'), JSON.stringify({ default: true, text: 'The answer is B.' }) + '\n');
    const scripted = join(dir, 'scripted.yaml');
    writeFileSync(scripted, ['kind: scripted', 'label: scripted-floor', 'script: ./script.jsonl', ''].join('\n'));
    const curves = [await measureRun(dir, 'server (vllm, HTTP)', vllm, suite), await measureRun(dir, 'scripted (no network)', scripted, suite)];
    const marks = Array.from({ length: 11 }, (_, k) => k * STEP);
    const at = (c: Curve, n: number) => {
      const p = c.points.find(([lines]) => lines >= n);
      return p ? p[1] : '';
    };
    const growth = (c: Curve) => {
      const first = c.points.find(([l]) => l >= 1)?.[1] ?? NaN;
      const last = c.points.findLast(([l]) => l <= REQUESTS)?.[1] ?? NaN;
      return round(last - first, 1);
    };
    const targets = curves.map((c) => ({ name: `peak RSS MB over ${REQUESTS} requests, ${c.runner}`, value: c.peakMb, target: `< ${TARGET_MB}`, met: c.peakMb < TARGET_MB }));
    return {
      notes: [
        `${REQUESTS} requests at concurrency ${CONCURRENCY} (1 warm-up), MedQA-shaped items of ~30 words (dataset ${round(readFileSync(data).length / 1e6, 1)} MB on disk), response cache off; the compiled CLI in its own process.`,
        'RSS read from /proc/<pid>/status every 50 ms; "records" = journal lines written when it was read; peak = the process\'s maximum RSS (getrusage) as it exits.',
        '"first" is the RSS at the first record (dataset validated, prompts planned); then every 10%. Highest RSS seen per phase: start-up (before the first record: loading the dataset, planning), run, summary (after the last record: the summary, from the totals the run kept; read back from the journal only where they cannot be exact).',
        'heap used / total: the highest heapUsed and heapTotal the process saw in itself (sampled every 100 ms): live objects plus the garbage V8 lets build up between full collections.',
        'Growth = RSS at the last record minus RSS at the first: what the run kept per request (0 = flat). The dataset is validated in one streamed pass that keeps ids only; its items are read again when their turn comes.',
      ],
      tables: [{
        title: 'RSS (MB) by records written',
        head: ['runner', 'first', ...marks.slice(1).map((m) => `${m / 1000}k`), 'growth MB', 'max start-up', 'max run', 'max summary', 'peak MB', 'heap used / total MB', 'wall s', 'CPU s'],
        rows: curves.map((c) => [c.runner, c.points[0]?.[1] ?? '', ...marks.slice(1).map((m) => at(c, m)), growth(c), c.phases.startup, c.phases.run, c.phases.summary, c.peakMb, `${c.heap.usedMb} / ${c.heap.totalMb}`, c.wallS, c.cpuS]),
      }],
      targets,
      data: { requests: REQUESTS, concurrency: CONCURRENCY, curves },
    };
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const runMemory: Benchmark = {
  name: 'run-memory',
  description: `medeval run's RSS over ${REQUESTS.toLocaleString('en-US')} requests (instant loopback vLLM-shaped server; scripted runner as the no-network floor)`,
  run,
};
