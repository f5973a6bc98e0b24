// The in-process llama.cpp runner (LlamaEmbeddedRunner) on the demo models, F32 and Q4_0, at 1 and 2
// threads: prompt processing and generation speed in tokens/s, like llama-bench's pp and tg, but measured
// through the runner's own generate() (chat template, sampling, streaming callbacks included):
//   pp = prompt tokens / TTFT            (TTFT also holds sampling the first token)
//   tg = (output tokens - 1) / (E2EL - TTFT)
// Median of REPS runs after one warm-up. The demo models are tiny random models (14.7M parameters): the
// speeds say how the runner and llama.cpp behave on this machine, not how a 7B model would.
// Run: npm run bench -- embedded-llama
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GenerateRequest } from '../src/core/types.js';
import { ensureTinyModels } from '../src/models/make-models.js';
import { LlamaEmbeddedRunner, llamaEmbeddedProfileSchema } from '../src/runners/llama-embedded.js';
import { describeLoad } from './lib/machine.js';
import { median, round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const REPS = 3;
const GEN_TOKENS = 64;
const THREADS = [1, 2];
/** Repetitions stop early past this budget per configuration (2 threads under load can crawl), keeping `npm run bench` short. */
const BUDGET_MS = 15_000;

/** A clinical-vignette-like prompt of about 500 tokens (the tiny vocabulary splits words into pieces). */
const PROMPT = Array.from({ length: 20 }, (_, i) =>
  `Patient ${i + 1} presents with fever, cough and shortness of breath for three days.`).join(' ') +
  ' Which of the following is the most likely diagnosis? A) pneumonia B) asthma C) heart failure D) pulmonary embolism';

const REQUEST: GenerateRequest = {
  messages: [{ role: 'user', content: PROMPT }],
  // Greedy with a fixed seed: every repetition does the same work.
  sampling: { temperature: 0, topP: 1, maxTokens: GEN_TOKENS, seed: 1 },
};

interface Row {
  model: string;
  threads: number;
  fileMb: number;
  loadMs: number;
  promptTokens: number | null;
  outputTokens: number;
  ppTokensPerSecond: number;
  tgTokensPerSecond: number;
  ppRuns: number[];
  tgRuns: number[];
  loadAverageBefore: number[];
}

async function run(): Promise<BenchResult> {
  const models = await ensureTinyModels({ dir: join('models', 'demo'), preset: 'demo', formats: ['F32', 'Q4_0'], seed: 42 });
  const rows: Row[] = [];
  const loadAtStart = describeLoad();
  for (const m of models) {
    for (const threads of THREADS) {
      const loadAverageBefore = loadavg().map((x) => round(x, 2));
      const t0 = performance.now();
      const runner = await LlamaEmbeddedRunner.create(llamaEmbeddedProfileSchema.parse({
        kind: 'llama-cpp-embedded', label: `demo-${m.format}`, model: m.file, threads, contextSize: 2048,
      }));
      const loadMs = performance.now() - t0;
      try {
        await runner.generate(REQUEST); // warm-up: first-call allocations, page cache
        const pp: number[] = [];
        const tg: number[] = [];
        let promptTokens: number | null = null;
        let outputTokens = 0;
        const started = performance.now();
        for (let r = 0; r < REPS && (r === 0 || performance.now() - started < BUDGET_MS); r++) {
          const g = await runner.generate(REQUEST);
          const t = g.timings;
          if (t.ttftMs === null || g.promptTokens === null) throw new Error(`${m.format}: no token or no prompt count from the runner`);
          promptTokens = g.promptTokens;
          outputTokens = g.outputTokens ?? 0;
          pp.push((g.promptTokens * 1000) / t.ttftMs);
          if (outputTokens > 1 && t.e2eMs > t.ttftMs) tg.push(((outputTokens - 1) * 1000) / (t.e2eMs - t.ttftMs));
        }
        rows.push({
          model: `demo ${m.format}`, threads, fileMb: round(m.bytes / 1e6, 1), loadMs: round(loadMs, 0), promptTokens, outputTokens,
          ppTokensPerSecond: round(median(pp), 0), tgTokensPerSecond: tg.length ? round(median(tg), 0) : Number.NaN,
          ppRuns: pp.map((x) => round(x, 0)), tgRuns: tg.map((x) => round(x, 0)), loadAverageBefore,
        });
      } finally {
        await runner.close();
      }
    }
  }
  const loadAtEnd = describeLoad();
  return {
    tables: [{
      title: `pp${rows[0]?.promptTokens ?? '?'} / tg${GEN_TOKENS}, median of ${REPS} after a warm-up (fewer when one configuration passes ${BUDGET_MS / 1000} s)`,
      head: ['model', 'file MB', 'threads', 'load ms', 'pp tok/s', 'tg tok/s', 'pp runs', 'tg runs', 'load avg before'],
      rows: rows.map((r) => [r.model, r.fileMb, r.threads, r.loadMs, r.ppTokensPerSecond, r.tgTokensPerSecond, r.ppRuns.join(' '), r.tgRuns.join(' '), r.loadAverageBefore[0]!]),
    }],
    notes: [
      `${loadAtStart} at start; ${loadAtEnd} at end.`,
      'The machine has 2 cores shared with other work: with 2 threads llama.cpp needs both, so any other load stalls its threads and the 2-thread figures (tg above all) drop and scatter; compare runs, not single figures.',
      'Demo models are tiny random models: the figures measure runner + llama.cpp overhead on this CPU, not a 7B model.',
    ],
    data: { reps: REPS, genTokens: GEN_TOKENS, prompt: 'about 500 tokens of vignette text (templated by the model\'s chat wrapper)', loadAtStart, loadAtEnd, rows },
  };
}

export const embeddedLlama: Benchmark = {
  name: 'embedded-llama',
  description: 'in-process llama.cpp runner on the demo F32 and Q4_0 models, threads 1 and 2: prompt and generation tokens/s',
  run,
};
