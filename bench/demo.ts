// The demo (`npm start` once the models exist and the build is done) against its engine-time floor
// (issue 16 target 5: within 1.2x). The demo runs as a whole process tree (`node bin/medeval.js demo`: the
// parent and its two compare workers), its CPU time read from the shell's `times` (children waited for).
// The floor is the engine time of the same tokens: each model loaded once and each journaled item's prompt
// length and output tokens replayed through node-llama-cpp's own evaluate() (bench/lib/llama-floor.ts) with
// the demo's sampling and answer grammar, same threads and context. What the demo spends beyond that is not
// engine time: process and worker start-up, per-item work, warm-up requests (2 per model, kept: they make
// the latency figures honest), the report. The phases are timed from the demo's own progress lines.
// Each node process of the tree (the parent, each compare worker, each binding test node-llama-cpp forks)
// reports its own CPU at exit through a --require preload, so the time beyond the floor is shown per process.
// Ratio = demo / floor, on CPU time (the verdict: 1 llama.cpp thread is CPU-bound, so other load on the
// machine does not change it much) and on the wall clock (moves with the load).
// Run: npm run bench -- demo
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { ensureTinyModels } from '../src/models/make-models.js';
import { bundledLlamaCppRelease, cpuMsSince, LlamaFloor } from './lib/llama-floor.js';
import { describeLoad } from './lib/machine.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TARGET = 1.2;
/** suites/demo.yaml's sampling and the runner's grammar for answerConstraint: letter (the sample set has A-E). */
const SAMPLING = { temperature: 0.6, topP: 0.95, seed: 1 };
const GBNF = `root ::= ${JSON.stringify('Answer: ')} (${['A', 'B', 'C', 'D', 'E'].map((l) => JSON.stringify(l)).join(' | ')})`;
/** runners/demo-*.yaml */
const RUNNER = { threads: 1, contextSize: 2048 };

interface DemoProcess {
  wallS: number;
  cpuS: number;
  code: number | null;
  /** Seconds from the start at which each progress line arrived. */
  lines: Array<{ atS: number; text: string }>;
}

/** Newest modification time under a folder (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** `npm start` builds first; the benchmark builds only when dist/ is missing or older than src/, outside the clock. */
function ensureBuilt(): string {
  let built = 0;
  try {
    built = statSync(join('dist', 'cli', 'entry.js')).mtimeMs;
  } catch { /* not built */ }
  if (built && built >= newest('src')) return 'dist/ up to date';
  const r = spawnSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed: the demo cannot run');
  return 'built dist/ first (not timed)';
}

/** A medeval command as a whole process tree; CPU from bash's `times` (this shell's children, their children included). */
async function runTimed(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<DemoProcess> {
  const t0 = performance.now();
  const child = spawn('bash', ['-c', `"${process.execPath}" bin/medeval.js "$@" >/dev/null; rc=$?; times >&2; exit $rc`, 'medeval', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env });
  const lines: DemoProcess['lines'] = [];
  const rl = createInterface({ input: child.stderr! });
  rl.on('line', (text) => lines.push({ atS: (performance.now() - t0) / 1000, text }));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const wallS = (performance.now() - t0) / 1000;
  // `times`: the shell's own user/system, then its children's ("0m52.925s 0m1.538s").
  const timesLine = lines.at(-1)?.text ?? '';
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(timesLine);
  if (!m) throw new Error(`no CPU times from the shell (last line: ${JSON.stringify(timesLine)})`);
  const cpuS = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  if (code !== 0) throw new Error(`medeval ${args[0]} exited ${code}:\n${lines.slice(-12, -2).map((l) => l.text).join('\n')}`);
  return { wallS, cpuS, code, lines: lines.slice(0, -2) };
}

/** One node process of the demo's tree, as its --require preload saw it at exit. */
interface ProcessCpu {
  pid: number; ppid: number; cpuS: number; wallS: number; script: string; bindingTest: boolean; label: string | null;
  /** A compare worker's own CPU (s, all its threads) when it sent each step's first message (the last, for warm-up and item). */
  marks?: Record<string, number>;
}

/** A compare worker's steps, from the messages it sends the parent (compare-protocol.ts, run.ts's events), in order. */
const WORKER_STEPS = [
  { mark: 'preload', what: 'node start (before any module)' },
  { mark: 'ready', what: 'its modules imported, the start message read' },
  { mark: 'validated', what: 'suite, prompts and dataset read and checked' },
  { mark: 'loaded', what: 'runner made: node-llama-cpp imported, its binding (and the test child\'s wait), model, context' },
  { mark: 'planned', what: 'every prompt counted (planning)' },
  { mark: 'warmup', what: 'the 2 warm-up requests' },
  { mark: 'item', what: 'the measured items (against the floor\'s replay of them)' },
  { mark: 'exit', what: 'run summary, close, exit' },
] as const;

/**
 * A preload that appends this process's CPU (user + system, all its threads) to `log` when it exits, with
 * its script and, for a compare worker, the label of the model it held. Children inherit it via NODE_OPTIONS.
 */
function cpuAtExitPreload(dir: string, log: string): string {
  const file = join(dir, 'cpu-at-exit.cjs');
  writeFileSync(file, `const fs = require('fs');
const t0 = Date.now();
let label = null;
// A compare worker learns its model from the parent's first message (compare-protocol.ts "start"), seen
// as it is emitted: a listener of its own would start reading the IPC channel before the worker listens.
const cpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let marks = null;
if (/compare-worker/.test(process.argv[1] || '')) {
  const emit = process.emit;
  process.emit = function (event, m, ...rest) {
    if (event === 'message' && label === null && m && m.type === 'start') label = (m.runner && m.runner.profile && m.runner.profile.label) || m.runnerFile || null;
    return emit.call(this, event, m, ...rest);
  };
  // Its steps, timed on its own CPU clock as it reports them: the first message of each kind, the last of
  // warm-ups and items (the step ends there).
  marks = { preload: cpuS() };
  const send = process.send;
  process.send = function (m, ...rest) {
    const step = m && (m.type === 'event' ? m.event && m.event.type : m.type);
    if (step && (!(step in marks) || step === 'warmup' || step === 'item')) marks[step] = cpuS();
    return send.call(this, m, ...rest);
  };
}
process.on('exit', () => {
  if (marks) marks.exit = cpuS();
  fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ pid: process.pid, ppid: process.ppid, cpuS: cpuS(),
    wallS: (Date.now() - t0) / 1000, script: process.argv[1] || '', bindingTest: process.env.TEST_BINDING_CP === 'true', label, ...(marks ? { marks } : {}) }) + '\\n');
});
`);
  return file;
}

function readProcesses(log: string): ProcessCpu[] {
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProcessCpu) : [];
}

/** An item's engine work: its prompt, its output tokens, and whether it stopped on its own (one more sampling step, the end token). */
interface Journaled { promptTokens: number; outputTokens: number; stopped: boolean; e2eMs: number }

function readJournal(dir: string): Journaled[] {
  return readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as { promptTokens: number; outputTokens: number; finishReason: string; timings: { e2eMs: number }; error?: unknown };
    if (r.error) throw new Error(`${dir}: an item ended in error; the demo did not do its work`);
    return { promptTokens: r.promptTokens, outputTokens: r.outputTokens, stopped: r.finishReason === 'stop', e2eMs: r.timings.e2eMs };
  });
}

/** The same tokens through the floor: model load, then every item's prompt length and output tokens. */
async function floorFor(file: string, items: Journaled[]) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const floor = await LlamaFloor.open(file, RUNNER);
  const loadCpuS = cpuMsSince(cpu0) / 1000;
  const loadWallS = (performance.now() - t0) / 1000;
  try {
    // Off the clock: the tokens to replay come through the chat template (resolving it is not engine time).
    const base = await floor.templated('A patient presents with fever, cough and shortness of breath for three days. Which diagnosis is most likely?');
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    let outputTokens = 0;
    for (const it of items) outputTokens += (await floor.generate(LlamaFloor.ofLength(base, it.promptTokens), it.outputTokens + (it.stopped ? 1 : 0), SAMPLING, GBNF)).outputTokens;
    return { cpuS: loadCpuS + cpuMsSince(cpu1) / 1000, wallS: loadWallS + (performance.now() - t1) / 1000, loadCpuS, outputTokens };
  } finally {
    await floor.close();
  }
}

/** Seconds between the first lines matching `from` and `to` (null when either is missing). */
function span(lines: DemoProcess['lines'], from: RegExp | 'start', to: RegExp | 'end', end: number): number | null {
  const a = from === 'start' ? 0 : lines.find((l) => from.test(l.text))?.atS;
  const b = to === 'end' ? end : lines.find((l) => to.test(l.text))?.atS;
  return a === undefined || b === undefined ? null : round(b - a, 1);
}

async function run(): Promise<BenchResult> {
  const models = await ensureTinyModels({ dir: join('models', 'demo'), preset: 'demo', formats: ['F32', 'Q4_0'], seed: 42 });
  const build = ensureBuilt();
  const release = await bundledLlamaCppRelease();
  const loadAtStart = describeLoad();
  const out = mkdtempSync(join(tmpdir(), 'medeval-bench-demo-'));
  try {
    const cpuLog = join(out, 'cpu-at-exit.jsonl');
    const preload = cpuAtExitPreload(out, cpuLog);
    const demo = await runTimed(['demo', '-o', join(out, 'demo')], { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() });
    const processes = readProcesses(cpuLog);
    const sides = [
      { role: 'baseline', label: 'demo-f32', file: models.find((m) => m.format === 'F32')!.file },
      { role: 'compressed', label: 'demo-q4_0', file: models.find((m) => m.format === 'Q4_0')!.file },
    ];
    const perModel: Array<{ role: string; label: string; file: string; items: number; promptTokens: number; outputTokens: number; itemsE2eS: number; turnS: number | null; loadLine: string | null; floor: { cpuS: number; wallS: number; loadCpuS: number; outputTokens: number } }> = [];
    for (const s of sides) {
      const items = readJournal(join(out, 'demo', 'runs', `${s.role}-${s.label}`));
      const f = await floorFor(s.file, items);
      perModel.push({
        ...s, items: items.length,
        promptTokens: items.reduce((a, i) => a + i.promptTokens, 0), outputTokens: items.reduce((a, i) => a + i.outputTokens, 0),
        itemsE2eS: round(items.reduce((a, i) => a + i.e2eMs, 0) / 1000, 1),
        turnS: span(demo.lines, new RegExp(`^compare: ${s.role} \\(`), new RegExp(`^compare: ${s.role} \\[`), demo.wallS),
        loadLine: demo.lines.find((l) => new RegExp(`^\\[${s.label}\\] model .* loaded in`).test(l.text))?.text ?? null,
        floor: { cpuS: round(f.cpuS, 1), wallS: round(f.wallS, 1), loadCpuS: round(f.loadCpuS, 2), outputTokens: f.outputTokens },
      });
    }
    // The report step alone, measured apart (issue 16 target 4 is its own): the same reports from the same runs.
    const report = await runTimed(['report', ...sides.map((s) => join(out, 'demo', 'runs', `${s.role}-${s.label}`)), '-o', join(out, 'report-again'), '--seed', '1234']);
    const loadAtEnd = describeLoad();
    const floorCpuS = perModel.reduce((a, m) => a + m.floor.cpuS, 0);
    const floorWallS = perModel.reduce((a, m) => a + m.floor.wallS, 0);
    const cpuRatio = round(demo.cpuS / floorCpuS, 2);
    const wallRatio = round(demo.wallS / floorWallS, 2);
    const byPid = new Map(processes.map((p) => [p.pid, p]));
    const workerName = (p: ProcessCpu) => p.label ?? '?';
    const processRows = processes.map((p) => {
      const parent = byPid.get(p.ppid);
      const floorModel = !p.bindingTest && /compare-worker/.test(p.script) ? perModel.find((m) => m.label === p.label) : undefined;
      const what = p.bindingTest ? `  node-llama-cpp's binding test (forked by the ${parent ? workerName(parent) : '?'} worker)`
        : /compare-worker/.test(p.script) ? `compare worker ${workerName(p)}`
          : /medeval\.js$/.test(p.script) ? 'parent: medeval demo (start-up, dataset, progress, report)' : p.script;
      return [what, round(p.cpuS, 2), round(p.wallS, 1), floorModel ? floorModel.floor.cpuS : '', floorModel ? round(p.cpuS - floorModel.floor.cpuS, 2) : round(p.cpuS, 2)];
    });
    // Each worker's CPU by step (differences of its marks), the items beside the floor's replay of them.
    const workers = processes.filter((p) => !p.bindingTest && /compare-worker/.test(p.script) && p.marks);
    const stepRows = WORKER_STEPS.slice(1).map((step, i) => {
      const prev = WORKER_STEPS[i]!.mark;
      return [step.what, ...workers.map((w) => {
        const a = w.marks![prev];
        const b = w.marks![step.mark];
        return a === undefined || b === undefined ? '?' : round(b - a, 2);
      })];
    });
    const floorItems = workers.map((w) => {
      const m = perModel.find((x) => x.label === w.label);
      return m ? round(m.floor.cpuS - m.floor.loadCpuS, 2) : '?';
    });
    const steps = workers.map((w) => ({ label: w.label, marks: w.marks }));
    const phases = {
      startToFirstTurnS: span(demo.lines, 'start', /^compare: baseline \(/, demo.wallS),
      baselineTurnS: perModel[0]!.turnS,
      compressedTurnS: perModel[1]!.turnS,
      reportS: span(demo.lines, /^compare: compressed \[/, 'end', demo.wallS),
    };
    return {
      tables: [{
        title: `the demo (node bin/medeval.js demo: parent + 2 workers) vs the engine time of the same tokens; ${release}`,
        head: ['', 'CPU s', 'wall s', 'ratio CPU', 'ratio wall'],
        rows: [
          ['demo, whole process tree', round(demo.cpuS, 1), round(demo.wallS, 1), cpuRatio, wallRatio],
          ['floor: both models loaded + every item\'s tokens', round(floorCpuS, 1), round(floorWallS, 1), '', ''],
          ['`medeval report` on the same runs, measured apart (a process of its own)', round(report.cpuS, 1), round(report.wallS, 1), '', ''],
          ['demo less that report', round(demo.cpuS - report.cpuS, 1), round(demo.wallS - report.wallS, 1), round((demo.cpuS - report.cpuS) / floorCpuS, 2), round((demo.wallS - report.wallS) / floorWallS, 2)],
          ...perModel.map((m) => [`  floor ${m.label}: ${m.items} items, ${m.promptTokens} prompt + ${m.outputTokens} output tokens (load ${m.floor.loadCpuS} s CPU)`, m.floor.cpuS, m.floor.wallS, '', '']),
        ],
      }, {
        title: 'the demo\'s CPU by process (each node process\'s own user + system at exit), against the floor of the model it held',
        head: ['process', 'CPU s', 'wall s', 'floor CPU s', 'beyond the floor, CPU s'],
        rows: processRows,
      }, {
        title: 'each compare worker\'s CPU by step (s, all its threads; from the messages it sends the parent), the floor\'s replay of the same items beside',
        head: ['step', ...workers.map((w) => `worker ${w.label ?? '?'}`)],
        rows: [
          [WORKER_STEPS[0].what, ...workers.map((w) => round(w.marks!.preload ?? Number.NaN, 2))],
          ...stepRows,
          ['  floor: the same items replayed (model load apart)', ...floorItems],
        ],
      }, {
        title: 'where the demo\'s wall time went (from its progress lines)',
        head: ['phase', 'wall s'],
        rows: [
          ['start-up: processes, modules, dataset, workers', phases.startToFirstTurnS ?? '?'],
          ...perModel.map((m) => [`${m.role} turn (model load, warm-up, ${m.items} items whose E2EL sums to ${m.itemsE2eS} s)`, m.turnS ?? '?']),
          ['report (charts, HTML, PDF, LaTeX) and exit', phases.reportS ?? '?'],
        ],
      }],
      targets: [
        { name: 'demo CPU time / engine-time floor', value: cpuRatio, target: `<= ${TARGET}`, met: cpuRatio <= TARGET },
        { name: 'demo less its report, CPU time / engine-time floor', value: round((demo.cpuS - report.cpuS) / floorCpuS, 2), target: `<= ${TARGET}`, met: (demo.cpuS - report.cpuS) / floorCpuS <= TARGET },
      ],
      notes: [
        `${build}; the models existed (${models.map((m) => m.format).join(', ')}); \`npm start\` also runs the build, not counted here.`,
        'The floor (the clock around model load and the replay; the chat template that gives the tokens is off it) replays each journaled item as a prompt of the same length and the same number of output tokens under the demo\'s sampling and grammar; the demo\'s 2 warm-up requests per model are not in the floor (they are overhead the measurements need).',
        'Each worker forks one binding test (node-llama-cpp tests a prebuilt binary in a child process before loading it, on Linux always; getLlama has no option to skip it, and gpu: false already limits it to the CPU binary). Warm-ups stay at 2: in one run of 8 demo-shaped requests per model (load 15), the first cost about 15% more CPU than the steady ones and the second still about 10% more (first calls: the grammar, page faults on the weights, V8 compiling the JavaScript path), so with one warm-up the first measured item would carry part of that.',
        `${loadAtStart} at start; ${loadAtEnd} at end. On this shared 2-core machine the wall ratio moves with other work; the CPU ratio is the verdict.`,
        'The floor is replayed after the demo, so a load that changes between the two moves the CPU ratio too (CPU time per token grows with the other core\'s work): the same code gave 1.18 to 1.42 at loads 5 to 17; compare the workers\' items with the floor\'s replay of them (the step table) before reading a change of a few hundredths.',
      ],
      data: { release, build, processes, demo: { wallS: round(demo.wallS, 1), cpuS: round(demo.cpuS, 2) }, report: { wallS: round(report.wallS, 1), cpuS: round(report.cpuS, 2) }, floor: { cpuS: floorCpuS, wallS: floorWallS }, cpuRatio, wallRatio, phases, steps, perModel, loadAtStart, loadAtEnd, lines: demo.lines },
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export const demoBench: Benchmark = {
  name: 'demo',
  description: 'the demo (node bin/medeval.js demo, models made) against the engine-time floor of the same tokens: CPU and wall ratio (target <= 1.2)',
  run,
};
