// The server's side of a run beside the client's: what the engine said per request (llama.cpp's
// `timings`, vLLM's cached prompt tokens) and what its /metrics counters moved by over the run. The two
// clocks differ on purpose: client figures include the network, HTTP and queueing; the engine's do not.
// The "before" /metrics is read after the warm-up (Runner.afterWarmup), so differences cover measured
// requests; a tokens/s figure says whether it is a per-request speed or a throughput over wall time.
import type { ItemResult, RunManifest, ServerReport } from '../core/types.js';

export interface ServerFigure {
  label: string;
  value: number;
  unit: 'ms' | 'tokens/s' | 'tokens' | 'count' | 'ratio';
  /** Where it comes from: "llama.cpp timings (per request)", "/metrics vllm:e2e_request_latency_seconds". */
  source: string;
}

export interface ServerView {
  /** Figures from the engine's per-request timings and /metrics differences, each with its source. */
  figures: ServerFigure[];
  truncation: ServerReport['truncation'] | null;
  /** Why /metrics figures are missing or limited, when they are. */
  note: string | null;
  /** The raw before/after/delta, for readers of report.json. */
  metrics: ServerReport['metrics'];
}

/** Labels that say what a tokens/s figure is: a per-request speed or the server's throughput. */
export const PROMPT_SPEED = 'prompt speed per request (tokens/s of its own prompt time)';
export const GENERATION_SPEED = 'generation speed per request (tokens/s of its own decode time)';
export const PROMPT_THROUGHPUT = 'prompt throughput (tokens/s of the run\'s wall time)';
export const GENERATION_THROUGHPUT = 'generation throughput (tokens/s of the run\'s wall time)';

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Means of the engine's own per-request figures over measured requests. */
function engineFigures(results: readonly ItemResult[]): ServerFigure[] {
  const engines = results.filter((r) => !r.error && r.cached !== true && r.timings?.engine).map((r) => r.timings!.engine!);
  if (!engines.length) return [];
  const col = (k: string) => engines.map((e) => e[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const out: ServerFigure[] = [];
  const src = `engine timings per request (${engines.length} requests)`;
  const promptMs = mean(col('prompt_ms'));
  const predictedMs = mean(col('predicted_ms'));
  if (promptMs !== null) out.push({ label: 'prompt processing, mean', value: promptMs, unit: 'ms', source: `llama.cpp ${src}` });
  if (predictedMs !== null) out.push({ label: 'generation, mean', value: predictedMs, unit: 'ms', source: `llama.cpp ${src}` });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const pn = sum(col('prompt_n')), pms = sum(col('prompt_ms'));
  const gn = sum(col('predicted_n')), gms = sum(col('predicted_ms'));
  // Each request's own tokens over its own engine time: a per-request speed, not the server's throughput
  // (under concurrency the requests' times overlap; the throughput is tokens over the run's wall time).
  if (pms > 0) out.push({ label: PROMPT_SPEED, value: pn / (pms / 1000), unit: 'tokens/s', source: `llama.cpp ${src}: Σ prompt_n / Σ prompt_ms` });
  if (gms > 0) out.push({ label: GENERATION_SPEED, value: gn / (gms / 1000), unit: 'tokens/s', source: `llama.cpp ${src}: Σ predicted_n / Σ predicted_ms` });
  const cacheN = mean(col('cache_n'));
  if (cacheN !== null) out.push({ label: 'prompt tokens reused from the cache, mean', value: cacheN, unit: 'tokens', source: `llama.cpp ${src}` });
  const cached = mean(col('cached_tokens'));
  if (cached !== null) out.push({ label: 'cached prompt tokens, mean', value: cached, unit: 'tokens', source: `usage.prompt_tokens_details (${engines.length} requests)` });
  return out;
}

/** vLLM histograms over the run as means in ms (current name first, deprecated after). */
const VLLM_HISTOGRAM_LABELS: Array<[string[], string]> = [
  [['vllm:time_to_first_token_seconds'], 'TTFT, mean'],
  [['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'], 'ITL, mean'],
  [['vllm:request_time_per_output_token_seconds'], 'TPOT per request, mean'],
  [['vllm:e2e_request_latency_seconds'], 'end-to-end latency, mean'],
  [['vllm:request_queue_time_seconds'], 'time waiting in the queue, mean'],
  [['vllm:request_prefill_time_seconds'], 'prefill, mean'],
  [['vllm:request_decode_time_seconds'], 'decode, mean'],
];

function metricFigures(delta: Record<string, number>, durationMs: number | null): ServerFigure[] {
  const out: ServerFigure[] = [];
  const d = (name: string) => (typeof delta[name] === 'number' && Number.isFinite(delta[name]) ? delta[name]! : null);
  // llama.cpp's *_seconds_total add up each request's own time, so tokens over them is a per-request
  // speed (its /metrics gauges of "average throughput" are the same per-request figure), not throughput.
  const rate = (tokens: string, seconds: string, label: string) => {
    const t = d(tokens), s = d(seconds);
    if (t !== null && s !== null && s > 0) out.push({ label, value: t / s, unit: 'tokens/s', source: `/metrics ${tokens} / ${seconds} (each request's own time, summed)` });
  };
  rate('llamacpp:prompt_tokens_total', 'llamacpp:prompt_seconds_total', PROMPT_SPEED);
  rate('llamacpp:tokens_predicted_total', 'llamacpp:tokens_predicted_seconds_total', GENERATION_SPEED);
  // Throughput: what the counters moved by over the measured part of the run, per second of its wall time.
  const throughput = (tokens: string, label: string) => {
    const t = d(tokens);
    if (t !== null && durationMs !== null && durationMs > 0) {
      out.push({ label, value: t / (durationMs / 1000), unit: 'tokens/s', source: `/metrics ${tokens}, after - before, / the run's measured duration (${(durationMs / 1000).toFixed(1)} s)` });
    }
  };
  throughput('llamacpp:prompt_tokens_total', PROMPT_THROUGHPUT);
  throughput('llamacpp:tokens_predicted_total', GENERATION_THROUGHPUT);
  throughput('vllm:prompt_tokens_total', PROMPT_THROUGHPUT);
  throughput('vllm:generation_tokens_total', GENERATION_THROUGHPUT);
  for (const [name, label] of [['llamacpp:prompt_tokens_total', 'prompt tokens'], ['llamacpp:tokens_predicted_total', 'generated tokens'],
    ['vllm:prompt_tokens_total', 'prompt tokens'], ['vllm:generation_tokens_total', 'generated tokens'],
    ['vllm:request_success_total', 'requests finished'], ['vllm:num_preemptions_total', 'preemptions']] as const) {
    const v = d(name);
    if (v !== null) out.push({ label, value: v, unit: name.includes('tokens') ? 'tokens' : 'count', source: `/metrics ${name}, after - before` });
  }
  // vLLM histograms: sum and count moved by the run
  for (const [names, label] of VLLM_HISTOGRAM_LABELS) {
    for (const name of names) {
      const s = d(`${name}_sum`), c = d(`${name}_count`);
      if (s !== null && c !== null && c > 0) {
        out.push({ label, value: (s / c) * 1000, unit: 'ms', source: `/metrics ${name} (sum / count over the run)` });
        break;
      }
    }
  }
  const hits = Object.keys(delta).find((k) => /prefix_cache_hits/.test(k));
  const queries = Object.keys(delta).find((k) => /prefix_cache_queries/.test(k));
  if (hits && queries && delta[queries]! > 0) {
    out.push({ label: 'prefix cache hit rate', value: delta[hits]! / delta[queries]!, unit: 'ratio', source: `/metrics ${hits} / ${queries}` });
  }
  return out;
}

/** The server view of a run; null for runs that had no server (in-process runners) and no engine timings. */
export function buildServerView(manifest: RunManifest, results: readonly ItemResult[]): ServerView | null {
  const engine = engineFigures(results);
  const server = manifest.server;
  if (!server && !engine.length) return null;
  const fromMetrics = server?.metrics ? metricFigures(server.metrics.delta, manifest.durationMs ?? null) : [];
  return {
    figures: [...engine, ...fromMetrics],
    truncation: server?.truncation ?? null,
    note: server?.metricsNote ?? null,
    metrics: server?.metrics ?? null,
  };
}
