// Per-run latency figures from stored per-request timings (warm-up requests are never journalled).
// Percentiles use linear interpolation between order statistics, numpy's default, as vLLM reports them.
import type { ItemResult } from '../core/types.js';

export interface Distribution {
  n: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

/** numpy.percentile(values, q) with the default 'linear' method; values need not be sorted. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function distribution(values: readonly number[]): Distribution {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { n, mean: null, std: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  // Population std (numpy's default ddof=0), as vLLM's bench prints it.
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { n, mean, std, min: v[0]!, max: v[n - 1]!, p50: percentile(v, 50), p90: percentile(v, 90), p95: percentile(v, 95), p99: percentile(v, 99) };
}

export interface LatencySummary {
  /** Requests with timings (errors excluded). */
  requests: number;
  ttftMs: Distribution;
  ttfoMs: Distribution;
  e2eMs: Distribution;
  tpotMs: Distribution;
  /** Gaps between chunks, pooled over all requests. */
  itlMs: Distribution;
  outputTokens: number;
  /** Sum of per-request E2EL: with sequential load, the time spent generating. */
  busyMs: number;
  /** Output tokens per second of generation time (sum of tokens / sum of E2EL). */
  outputTokensPerSecond: number | null;
  /** Requests per second over the measured run (completed / duration), when the duration is known. */
  requestsPerSecond: number | null;
  definitions: string;
}

export const LATENCY_DEFINITIONS =
  'TTFT: first chunk with any text, reasoning included; TTFO: first answer text after reasoning; ' +
  'E2EL: start to last token; TPOT: (E2EL-TTFT)/(output tokens-1); ITL: gaps between chunks, pooled; ' +
  'client monotonic clock; warm-up excluded; percentiles interpolated linearly (numpy default).';

export function summarizeLatency(results: readonly ItemResult[], durationMs?: number): LatencySummary {
  const timed = results.filter((r) => r.timings && !r.error);
  const pick = (f: (r: ItemResult) => number | null | undefined) =>
    timed.map(f).filter((x): x is number => typeof x === 'number');
  const outputTokens = timed.reduce((a, r) => a + (r.outputTokens ?? 0), 0);
  const busyMs = timed.reduce((a, r) => a + r.timings!.e2eMs, 0);
  return {
    requests: timed.length,
    ttftMs: distribution(pick((r) => r.timings!.ttftMs)),
    ttfoMs: distribution(pick((r) => r.timings!.ttfoMs)),
    e2eMs: distribution(pick((r) => r.timings!.e2eMs)),
    tpotMs: distribution(pick((r) => r.timings!.tpotMs)),
    itlMs: distribution(timed.flatMap((r) => r.timings!.itlMs)),
    outputTokens,
    busyMs,
    outputTokensPerSecond: busyMs > 0 ? outputTokens / (busyMs / 1000) : null,
    requestsPerSecond: durationMs && durationMs > 0 ? timed.length / (durationMs / 1000) : null,
    definitions: LATENCY_DEFINITIONS,
  };
}
