// `npm run bench [-- NAME...]`: runs the benchmarks one after another (or only those named), prints one
// table per benchmark and writes reports/bench/<name>.json and reports/bench/summary.json (the machine,
// its load average at start, node version, date, and each benchmark's duration and targets). Running only
// some benchmarks updates their entries in summary.json and keeps the others' (each entry has its date).
// Benchmarks measure; they are not tests: a missed target is printed as MISS and does not fail the run.
// A benchmark that throws is reported and the others still run; then the exit code is 1.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clientOverhead } from './client-overhead.js';
import { embeddedLlama } from './embedded-llama.js';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import type { Benchmark, BenchResult } from './lib/types.js';
import { onnxBench } from './onnx.js';
import { reportScale } from './report-scale.js';
import { replicasBench } from './replicas.js';
import { compareAlternating } from './compare-alternating.js';
import { demoBench } from './demo.js';
import { microBench } from './micro.js';
import { runMemory } from './run-memory.js';
import { viewPaging } from './view-paging.js';
import { clientPeers } from './client-peers.js';

const BENCHMARKS: Benchmark[] = [microBench, clientOverhead, clientPeers, reportScale, embeddedLlama, onnxBench, replicasBench, compareAlternating, runMemory, viewPaging, demoBench];
const OUT_DIR = join('reports', 'bench');

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

function usage(): string {
  return `usage: npm run bench [-- NAME...]\nbenchmarks:\n${BENCHMARKS.map((b) => `  ${b.name.padEnd(16)} ${b.description}`).join('\n')}`;
}

/** The benchmarks to run, in the registry's order; exits 2 on an unknown name. */
function selected(args: string[]): Benchmark[] {
  if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
    console.log(usage());
    process.exit(0);
  }
  const unknown = args.filter((a) => !BENCHMARKS.some((b) => b.name === a));
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.map((u) => `"${u}"`).join(', ')}\n${usage()}`);
    process.exit(2);
  }
  return args.length ? BENCHMARKS.filter((b) => args.includes(b.name)) : BENCHMARKS;
}

interface SummaryEntry {
  name: string;
  file: string | null;
  ok: boolean;
  durationS: number;
  targets?: BenchResult['targets'];
  error?: string;
  finishedAt?: string;
}

/** Entries of an earlier summary.json for benchmarks not run now (an unreadable file keeps nothing). */
function earlierEntries(file: string, runNow: Set<string>): SummaryEntry[] {
  if (!existsSync(file)) return [];
  try {
    const prev = JSON.parse(readFileSync(file, 'utf8')) as { benchmarks?: SummaryEntry[]; finishedAt?: string };
    return (prev.benchmarks ?? [])
      .filter((e) => !runNow.has(e.name) && BENCHMARKS.some((b) => b.name === e.name))
      .map((e) => ({ ...e, finishedAt: e.finishedAt ?? prev.finishedAt }));
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const chosen = selected(process.argv.slice(2));
  const machine: MachineInfo = machineInfo();
  mkdirSync(OUT_DIR, { recursive: true });
  console.log(`medeval benchmarks on ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}`);
  console.log(`load average at start ${machine.loadAverage.join(' / ')} (1/5/15 min), ${machine.date}\n`);
  const entries: SummaryEntry[] = [];
  const t0 = performance.now();
  for (const b of chosen) {
    console.log(`## ${b.name}: ${b.description}`);
    const start = performance.now();
    try {
      const res = await b.run();
      const durationS = round((performance.now() - start) / 1000, 1);
      for (const t of res.tables) console.log(formatTable(t) + '\n');
      for (const n of res.notes) console.log(`- ${n}`);
      if (res.targets?.length) {
        console.log('targets: ' + res.targets.map((t) => `${t.name} = ${t.value} (${t.target}) ${t.met ? 'PASS' : 'MISS'}`).join('; '));
      }
      const file = join(OUT_DIR, `${b.name}.json`);
      writeJson(file, {
        benchmark: b.name,
        description: b.description,
        machine: machineInfo(),
        loadAverageAtStart: machine.loadAverage,
        durationS,
        ...(res.targets ? { targets: res.targets } : {}),
        tables: res.tables,
        notes: res.notes,
        ...res.data,
        createdAt: new Date().toISOString(),
      });
      console.log(`(${durationS} s, wrote ${file})\n`);
      entries.push({ name: b.name, file, ok: true, durationS, ...(res.targets ? { targets: res.targets } : {}), finishedAt: new Date().toISOString() });
    } catch (e) {
      const durationS = round((performance.now() - start) / 1000, 1);
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.error(`${b.name} FAILED after ${durationS} s: ${error}\n`);
      entries.push({ name: b.name, file: null, ok: false, durationS, error: e instanceof Error ? e.message : String(e), finishedAt: new Date().toISOString() });
    }
  }
  const totalS = round((performance.now() - t0) / 1000, 1);
  const summaryFile = join(OUT_DIR, 'summary.json');
  const kept = earlierEntries(summaryFile, new Set(entries.map((e) => e.name)));
  const all = [...entries, ...kept].sort((a, b) => BENCHMARKS.findIndex((x) => x.name === a.name) - BENCHMARKS.findIndex((x) => x.name === b.name));
  writeJson(summaryFile, { machine, benchmarks: all, totalDurationS: totalS, finishedAt: new Date().toISOString() });
  const failed = entries.filter((e) => !e.ok);
  console.log(`${entries.length} benchmark(s) in ${totalS} s${failed.length ? `, ${failed.length} failed (${failed.map((f) => f.name).join(', ')})` : ''}; wrote ${summaryFile}`);
  if (failed.length) process.exitCode = 1;
}

await main();
