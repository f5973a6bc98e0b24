// The onnx runner (onnxruntime-node, our own token loop with a KV cache) on the tiny ONNX model, fp32
// (weights in model.onnx_data, as Optimum exports big models) vs q4 (MatMulNBits 4-bit): weights bytes,
// prompt processing and generation tokens/s, median of REPS after warm-ups. One intra-op thread, so the
// other core of this shared 2-core machine absorbs other work.
//   pp = prompt tokens / TTFT,   tg = (output tokens - 1) / (E2EL - TTFT)
// The tiny model (64 hidden, 2 layers) is random: the figures say what the runner's loop costs per token
// and whether 4-bit kernels pay off at this size, not what a 7B model would do.
// Run: npm run bench -- onnx
import { join } from 'node:path';
import type { GenerateRequest } from '../src/core/types.js';
import { ensureTinyOnnxModel } from '../src/models/onnx-tiny.js';
import { createOnnxRunner } from '../src/runners/onnx.js';
import { describeLoad } from './lib/machine.js';
import { median, round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const VARIANTS = ['fp32', 'q4'] as const;
const WARMUP = 2;
const REPS = 15;
const GEN_TOKENS = 128;
const THREADS = 1;

const REQUEST: GenerateRequest = {
  messages: [{ role: 'user', content: 'A patient presents with fever, cough and shortness of breath. '.repeat(6) + 'Which diagnosis is most likely?' }],
  sampling: { temperature: 0, topP: 1, maxTokens: GEN_TOKENS, seed: 1 },
};

async function run(): Promise<BenchResult> {
  const model = await ensureTinyOnnxModel({ dir: join('models', 'onnx-tiny'), seed: 42 });
  const loadAtStart = describeLoad();
  const runners = await Promise.all(VARIANTS.map((variant) =>
    createOnnxRunner({ kind: 'onnx', label: `tiny-${variant}`, modelDir: model.dir, variant, threads: THREADS })));
  const rows: Array<Record<string, number | string | number[] | null>> = [];
  try {
    for (const r of runners) for (let i = 0; i < WARMUP; i++) await r.generate(REQUEST);
    const pp: number[][] = VARIANTS.map(() => []);
    const tg: number[][] = VARIANTS.map(() => []);
    const counts = VARIANTS.map(() => ({ promptTokens: 0, outputTokens: 0 }));
    // Alternate the variants rep by rep, so a burst of load from elsewhere hits both alike.
    for (let rep = 0; rep < REPS; rep++) {
      for (const [k, runner] of runners.entries()) {
        const g = await runner.generate(REQUEST);
        const t = g.timings;
        if (t.ttftMs === null || g.promptTokens === null) throw new Error(`${VARIANTS[k]}: no token or no prompt count from the runner`);
        counts[k] = { promptTokens: g.promptTokens, outputTokens: g.outputTokens ?? 0 };
        pp[k]!.push((g.promptTokens * 1000) / t.ttftMs);
        const out = g.outputTokens ?? 0;
        if (out > 1 && t.e2eMs > t.ttftMs) tg[k]!.push(((out - 1) * 1000) / (t.e2eMs - t.ttftMs));
      }
    }
    for (const [k, runner] of runners.entries()) {
      const d = await runner.describe();
      rows.push({
        variant: VARIANTS[k]!, file: String(d.extra?.file ?? ''), weightsBytes: d.fileBytes ?? null, quantization: d.quantization ?? null,
        promptTokens: counts[k]!.promptTokens, outputTokens: counts[k]!.outputTokens,
        ppTokensPerSecond: round(median(pp[k]!), 0), tgTokensPerSecond: round(median(tg[k]!), 0),
        ppRuns: pp[k]!.map((x) => round(x, 0)), tgRuns: tg[k]!.map((x) => round(x, 0)),
      });
    }
  } finally {
    for (const r of runners) await r.close();
  }
  const base = rows[0]!;
  return {
    tables: [{
      title: `tiny ONNX model, pp${base.promptTokens} / tg${GEN_TOKENS}, ${THREADS} thread, median of ${REPS} (variants alternating) after ${WARMUP} warm-ups`,
      head: ['variant', 'file', 'weights bytes', 'vs fp32', 'pp tok/s', 'tg tok/s', 'tg vs fp32'],
      rows: rows.map((r) => [r.variant as string, r.file as string, r.weightsBytes as number,
        `${round(((r.weightsBytes as number) / (base.weightsBytes as number)) * 100, 1)}%`,
        r.ppTokensPerSecond as number, r.tgTokensPerSecond as number,
        `${((r.tgTokensPerSecond as number) / (base.tgTokensPerSecond as number)).toFixed(2)}x`]),
    }],
    notes: [
      `${loadAtStart} at start; ${describeLoad()} at end.`,
      'At this size a token costs the runner loop and onnxruntime call overhead, not weight bandwidth, so expect q4 and fp32 to generate at about the same speed; run-to-run scatter is in the JSON (ppRuns, tgRuns).',
      'Weights bytes are the .onnx file plus its external data file. q4 stores the linear layers (lm_head included) in 4 bits; the token and the learned 2048x64 position tables stay fp32 and are half of this tiny model, so q4 saves far less here than on a 7B model, where linear layers are nearly all the weights.',
    ],
    data: { threads: THREADS, warmup: WARMUP, reps: REPS, genTokens: GEN_TOKENS, loadAtStart, rows },
  };
}

export const onnxBench: Benchmark = {
  name: 'onnx',
  description: 'onnx runner on the tiny ONNX model, fp32 vs q4: weights bytes and tokens/s',
  run,
};
