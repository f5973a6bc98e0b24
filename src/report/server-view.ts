// The server's side of a run beside the client's: what the engine said per request (llama.cpp's
// `timings`, vLLM's cached prompt tokens) and what its /metrics counters moved by over the run. The two
// clocks differ on purpose: client figures include the network, HTTP and queueing; the engine's do not.
// The "before" /metrics is read after the warm-up (Runner.afterWarmup), so differences cover measured
// requests; a tokens/s figure says whether it is a per-request speed or a throughput over wall time.
import type { ItemResult, RunManifest, ServerReport } from '../core/types.js';
import { ServerTally, type EngineKey } from '../metrics/server-tally.js';
import { SERVER_FIGURE_LABELS } from '../metrics/table.js';
import { SERVER_METRIC_NAMES as SERVER_METRICS } from '../runners/server-metric-names.js';

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

/** Labels that say what a tokens/s figure is: a per-request speed or the server's throughput (metrics/table.ts). */
export const PROMPT_SPEED = SERVER_FIGURE_LABELS.promptSpeed;
export const GENERATION_SPEED = SERVER_FIGURE_LABELS.generationSpeed;
export const PROMPT_THROUGHPUT = SERVER_FIGURE_LABELS.promptThroughput;
export const GENERATION_THROUGHPUT = SERVER_FIGURE_LABELS.generationThroughput;

/** Means of the engine's own per-request figures over measured requests (the tally's running sums). */
function engineFigures(tally: ServerTally): ServerFigure[] {
  const requests = tally.engineRequests;
  if (!requests) return [];
  const mean = (k: EngineKey) => tally.engineMean(k);
  const sum = (k: EngineKey) => tally.engineSum(k);
  const out: ServerFigure[] = [];
  const src = `engine timings per request (${requests} requests)`;
  const promptMs = mean('prompt_ms');
  const predictedMs = mean('predicted_ms');
  if (promptMs !== null) out.push({ label: 'prompt processing, mean', value: promptMs, unit: 'ms', source: `llama.cpp ${src}` });
  if (predictedMs !== null) out.push({ label: 'generation, mean', value: predictedMs, unit: 'ms', source: `llama.cpp ${src}` });
  const pn = sum('prompt_n'), pms = sum('prompt_ms');
  const gn = sum('predicted_n'), gms = sum('predicted_ms');
  // Each request's own tokens over its own engine time: a per-request speed, not the server's throughput
  // (under concurrency the requests' times overlap; the throughput is tokens over the run's wall time).
  if (pms > 0) out.push({ label: PROMPT_SPEED, value: pn / (pms / 1000), unit: 'tokens/s', source: `llama.cpp ${src}: Σ prompt_n / Σ prompt_ms` });
  if (gms > 0) out.push({ label: GENERATION_SPEED, value: gn / (gms / 1000), unit: 'tokens/s', source: `llama.cpp ${src}: Σ predicted_n / Σ predicted_ms` });
  const cacheN = mean('cache_n');
  if (cacheN !== null) out.push({ label: 'prompt tokens reused from the cache, mean', value: cacheN, unit: 'tokens', source: `llama.cpp ${src}` });
  const cached = mean('cached_tokens');
  if (cached !== null) out.push({ label: 'cached prompt tokens, mean', value: cached, unit: 'tokens', source: `usage.prompt_tokens_details (${requests} requests)` });
  return out;
}

/**
 * Figures from the /metrics differences, by the names each server kind declares (its runner definition's
 * serverMetrics): per-request speeds, throughputs over the run's wall time, counters, histogram means.
 */
function metricFigures(delta: Record<string, number>, durationMs: number | null): ServerFigure[] {
  const out: ServerFigure[] = [];
  const d = (name: string) => (typeof delta[name] === 'number' && Number.isFinite(delta[name]) ? delta[name]! : null);
  for (const m of SERVER_METRICS) {
    for (const { tokens, seconds, figure } of m.speeds ?? []) {
      const t = d(tokens), s = d(seconds);
      if (t !== null && s !== null && s > 0) out.push({ label: SERVER_FIGURE_LABELS[figure], value: t / s, unit: 'tokens/s', source: `/metrics ${tokens} / ${seconds} (each request's own time, summed)` });
    }
  }
  // Throughput: what the counters moved by over the measured part of the run, per second of its wall time.
  for (const m of SERVER_METRICS) {
    for (const { tokens, figure } of m.throughputs ?? []) {
      const t = d(tokens);
      if (t !== null && durationMs !== null && durationMs > 0) {
        out.push({ label: SERVER_FIGURE_LABELS[figure], value: t / (durationMs / 1000), unit: 'tokens/s', source: `/metrics ${tokens}, after - before, / the run's measured duration (${(durationMs / 1000).toFixed(1)} s)` });
      }
    }
  }
  for (const m of SERVER_METRICS) {
    for (const { name, label } of m.counts ?? []) {
      const v = d(name);
      if (v !== null) out.push({ label, value: v, unit: name.includes('tokens') ? 'tokens' : 'count', source: `/metrics ${name}, after - before` });
    }
  }
  // Histograms: sum and count moved by the run
  for (const m of SERVER_METRICS) {
    for (const { names, label } of m.histograms ?? []) {
      for (const name of names) {
        const s = d(`${name}_sum`), c = d(`${name}_count`);
        if (s !== null && c !== null && c > 0) {
          out.push({ label, value: (s / c) * 1000, unit: 'ms', source: `/metrics ${name} (sum / count over the run)` });
          break;
        }
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

/**
 * How full the run kept the server (metrics/occupancy.ts): the client's share of the places its load
 * profile allowed, and the engine's own busy share of the slots in use. Only for a fixed number in flight
 * (sequential, concurrency): an arrival-rate profile has no fixed number to be full against.
 */
function occupancyFigures(manifest: RunManifest, tally: ServerTally): ServerFigure[] {
  const load = manifest.load;
  const inFlight = load.profile === 'sequential' ? 1 : load.profile === 'concurrency' ? load.concurrency ?? null : null;
  if (inFlight === null) return [];
  const slots = manifest.model?.extra?.slots;
  const o = tally.occupancy.result(inFlight, typeof slots === 'number' ? slots : null);
  if (!o) return [];
  const span = `${o.requests} requests over their own span of ${(o.wallMs / 1000).toFixed(1)} s`;
  const throttled = load.throttle ? '; the capacity throttle cut the window during this run' : '';
  const out: ServerFigure[] = [{ label: SERVER_FIGURE_LABELS.held, value: o.held, unit: 'ratio', source: `client: Σ E2EL / (wall × ${o.inFlight} in flight), ${span}${throttled}` }];
  if (o.engineBusy !== null) {
    out.push({ label: SERVER_FIGURE_LABELS.engineBusy, value: o.engineBusy, unit: 'ratio',
      source: `llama.cpp timings: Σ (prompt_ms + predicted_ms) / (wall × ${o.slotsInUse} slots in use), ${span}; the rest is time inside the server outside its slots' timings (HTTP, tokenising, waiting for a batch) plus the client's gaps${
        o.engineBusy < 0.95 && o.held >= 0.99 && o.serverSlots !== null && o.inFlight <= o.serverSlots
          ? `; the client held every place: to keep the engine busier, run more in flight than the server's ${o.serverSlots} slots (the wait for a slot then shows in TTFT)` : ''}` });
  }
  return out;
}

/** The server view of a run; null for runs that had no server (in-process runners) and no engine timings. */
export function buildServerView(manifest: RunManifest, results: readonly ItemResult[]): ServerView | null {
  return serverViewOf(manifest, ServerTally.of(results));
}

/** The server view from a run's running totals (ServerTally). */
export function serverViewOf(manifest: RunManifest, tally: ServerTally): ServerView | null {
  const engine = engineFigures(tally);
  const server = manifest.server;
  if (!server && !engine.length) return null;
  const fromMetrics = server?.metrics ? metricFigures(server.metrics.delta, manifest.durationMs ?? null) : [];
  return {
    figures: [...engine, ...occupancyFigures(manifest, tally), ...fromMetrics],
    truncation: server?.truncation ?? null,
    note: server?.metricsNote ?? null,
    metrics: server?.metrics ?? null,
  };
}
