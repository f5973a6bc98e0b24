// Per-run latency figures from stored per-request timings (warm-up requests are never journalled).
// Percentiles use linear interpolation between order statistics, numpy's default, as vLLM reports them.
import type { ItemResult } from '../core/types.js';
import { summarize, type Summary } from '../stats/descriptive.js';

/** mean, std, min, max, p50/p90/p95/p99 (null when there is no sample). */
export type Distribution = Summary | null;

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
    ttftMs: summarize(pick((r) => r.timings!.ttftMs)),
    ttfoMs: summarize(pick((r) => r.timings!.ttfoMs)),
    e2eMs: summarize(pick((r) => r.timings!.e2eMs)),
    tpotMs: summarize(pick((r) => r.timings!.tpotMs)),
    itlMs: summarize(timed.flatMap((r) => r.timings!.itlMs)),
    outputTokens,
    busyMs,
    outputTokensPerSecond: busyMs > 0 ? outputTokens / (busyMs / 1000) : null,
    requestsPerSecond: durationMs && durationMs > 0 ? timed.length / (durationMs / 1000) : null,
    definitions: LATENCY_DEFINITIONS,
  };
}
