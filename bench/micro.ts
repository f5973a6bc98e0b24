// Micro-benchmarks on tinybench: the small per-call costs a run and a report pay thousands of times
// (answer extraction, the statistics, formatting, SSE parsing of a streamed reply). Each case runs in a
// Bench of its own, so the CPU time measured around it (process.cpuUsage, user + sys) belongs to it alone;
// CPU per call is that over the calls the case counted, warm-up included. Wall figures are tinybench's.
// Run: npm run bench -- micro   (bench/run.ts prints the table, writes reports/bench/micro.json)
import { Bench } from 'tinybench';
import { SseEventReader } from '../src/runners/sse.js';
import { extractAnswer } from '../src/scoring/extract.js';
import { bootstrapMean } from '../src/stats/bootstrap.js';
import { summarize } from '../src/stats/descriptive.js';
import { mcnemar } from '../src/stats/mcnemar.js';
import { pairedAccuracyDifference } from '../src/stats/paired.js';
import { wilsonInterval } from '../src/stats/proportion.js';
import { seededRandom } from '../src/stats/prng.js';
import { formatBytes } from '../src/metrics/units.js';
import { pctInterval } from '../src/report/format.js';
import { describeLoad } from './lib/machine.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const OPTIONS = { A: 'Metformin', B: 'Insulin glargine', C: 'Glipizide', D: 'Sitagliptin', E: 'Pioglitazone' };
const REASONED_REPLY = `<think>${'The patient has type 2 diabetes with an HbA1c of 8.1% and no contraindication. '.repeat(20)}</think>\n\nMetformin is first line.\n\nAnswer: A`;
const LETTERLESS_REPLY = 'It depends on the renal function and the patient preferences; several options are reasonable here.';

/** A streamed chat completion as llama-server sends it: 64 token chunks, then the usage chunk and [DONE], cut into 1 KiB reads. */
function streamedReply(): Uint8Array[] {
  const events: string[] = [];
  for (let i = 0; i < 64; i++) {
    events.push(`data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" tok${i}"}}],"created":1733000000,"id":"chatcmpl-x","model":"m","object":"chat.completion.chunk"}\n\n`);
  }
  events.push('data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"usage":{"completion_tokens":64,"prompt_tokens":300,"total_tokens":364}}\n\n', 'data: [DONE]\n\n');
  const bytes = new TextEncoder().encode(events.join(''));
  const reads: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += 1024) reads.push(bytes.subarray(at, at + 1024));
  return reads;
}

interface Case {
  name: string;
  what: string;
  fn: () => unknown;
}

function cases(): Case[] {
  const rand = seededRandom(7);
  const latencies = Array.from({ length: 1000 }, () => 200 + rand() * 300);
  const baseline = Array.from({ length: 1000 }, () => (rand() < 0.8 ? 1 : 0));
  const compressed = baseline.map((x) => (rand() < 0.05 ? 1 - x : x));
  const reads = streamedReply();
  let sink = 0;
  return [
    { name: 'extract-reasoned', what: 'extractAnswer: <think> block of ~1.6 KB, then "Answer: A"', fn: () => extractAnswer(REASONED_REPLY, OPTIONS) },
    { name: 'extract-unparseable', what: 'extractAnswer: a reply with no letter (every rule tried)', fn: () => extractAnswer(LETTERLESS_REPLY, OPTIONS) },
    { name: 'sse-stream', what: 'SseEventReader: one 64-token streamed reply (~11 KB in 1 KiB reads)', fn: () => {
      const r = new SseEventReader();
      for (const b of reads) sink += r.push(b).length;
    } },
    { name: 'wilson', what: 'wilsonInterval(11, 60)', fn: () => wilsonInterval(11, 60) },
    { name: 'mcnemar', what: 'mcnemar exact test, 30 vs 20 flips', fn: () => mcnemar(30, 20) },
    { name: 'summarize-1k', what: 'summarize: mean, std, percentiles, curve of 1,000 latencies', fn: () => summarize(latencies) },
    { name: 'bootstrap-1k', what: 'bootstrapMean: 1,000 latencies, 2,000 resamples', fn: () => bootstrapMean(latencies, { seed: 1, resamples: 2000 }) },
    { name: 'paired-diff-1k', what: 'pairedAccuracyDifference: 1,000 questions, 2,000 resamples', fn: () => pairedAccuracyDifference(baseline, compressed, { seed: 1, resamples: 2000 }) },
    { name: 'format', what: 'formatBytes + pctInterval of a Wilson interval (one table cell each)', fn: () => formatBytes(14.66 * 2 ** 20) + pctInterval({ ...wilsonInterval(11, 60), confidence: 0.95, method: 'wilson' }) },
  ];
}

async function measure(c: Case): Promise<{ meanUs: number; p50Us: number; p99Us: number; rmePct: number; samples: number; cpuPerCallUs: number; calls: number }> {
  let calls = 0;
  const bench = new Bench({ name: c.name, time: 300, warmupTime: 100 });
  bench.add(c.name, () => {
    calls++;
    c.fn();
  });
  const cpu0 = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(cpu0);
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`${c.name}: ${r.state === 'errored' ? r.error.message : r.state}`);
  return {
    meanUs: r.latency.mean * 1000,
    p50Us: r.latency.p50 * 1000,
    p99Us: r.latency.p99 * 1000,
    rmePct: r.latency.rme,
    samples: r.latency.samplesCount,
    cpuPerCallUs: (cpu.user + cpu.system) / calls,
    calls,
  };
}

export const microBench: Benchmark = {
  name: 'micro',
  description: 'tinybench micro-benchmarks: answer extraction, statistics, formatting, SSE parsing (per-call cost)',
  async run(): Promise<BenchResult> {
    const load = describeLoad();
    const rows: Array<Array<string | number>> = [];
    const figures: Record<string, unknown> = {};
    const all = cases();
    for (const c of all) {
      const m = await measure(c);
      figures[c.name] = { what: c.what, ...m };
      const us = (x: number) => (x < 10 ? round(x, 2) : round(x, 1));
      rows.push([c.name, us(m.meanUs), us(m.p50Us), us(m.p99Us), `±${round(m.rmePct, 1)}%`, us(m.cpuPerCallUs), m.samples]);
    }
    return {
      tables: [{ head: ['case', 'mean us', 'p50 us', 'p99 us', 'rme', 'CPU us/call', 'samples'], rows }],
      notes: [
        `wall times from tinybench (performance.now per call); CPU per call from process.cpuUsage over the case's whole run; ${load} at the end`,
        'on a shared machine the wall figures move with the load; CPU per call moves less, but carries tinybench\'s own per-call bookkeeping (under 1 us) and the warm-up\'s compilation',
        ...all.map((c) => `${c.name}: ${c.what}`),
      ],
      data: { cases: figures },
    };
  },
};
