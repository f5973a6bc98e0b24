// What the server view of a run (report/server-view.ts) reads of its records, as running totals taken one
// record at a time in journal order: a run keeps them as it goes (run/summary-tally.ts), a report adds up
// the journal's records. Each mean is its running sum over its count: the very additions a sum over the
// list makes, so both give the same figures to the bit.
import type { ItemResult } from '../core/types.js';
import { OccupancyTally } from './occupancy.js';

/** The engine's per-request figures the view averages or sums (llama.cpp timings, vLLM's usage details). */
export const ENGINE_KEYS = ['prompt_ms', 'predicted_ms', 'prompt_n', 'predicted_n', 'cache_n', 'cached_tokens'] as const;
export type EngineKey = (typeof ENGINE_KEYS)[number];

export class ServerTally {
  /** Measured requests (no error, not cached) that carried engine figures. */
  engineRequests = 0;
  private readonly sums = new Map<EngineKey, { sum: number; n: number }>();
  /** The measured requests' spans and engine time (how full the run kept the server). */
  readonly occupancy = new OccupancyTally();

  static of(results: readonly ItemResult[]): ServerTally {
    const t = new ServerTally();
    for (const r of results) t.add(r);
    return t;
  }

  add(r: ItemResult): void {
    if (r.error || r.cached === true) return;
    const t = r.timings;
    const engine = t?.engine;
    if (engine) {
      this.engineRequests++;
      for (const k of ENGINE_KEYS) {
        const v = engine[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        const s = this.sums.get(k);
        if (s) {
          s.sum += v;
          s.n++;
        } else this.sums.set(k, { sum: 0 + v, n: 1 });
      }
    }
    if (typeof t?.startedAtEpochMs === 'number' && typeof t?.e2eMs === 'number') {
      const e = engine as Record<string, unknown> | undefined;
      const engineMs = typeof e?.prompt_ms === 'number' && typeof e?.predicted_ms === 'number' ? e.prompt_ms + e.predicted_ms : null;
      this.occupancy.add({ startedAtEpochMs: t.startedAtEpochMs, e2eMs: t.e2eMs, engineMs });
    }
  }

  /** The mean of one engine figure over the requests that had it as a finite number; null: none had. */
  engineMean(k: EngineKey): number | null {
    const s = this.sums.get(k);
    return s ? s.sum / s.n : null;
  }

  /** Its sum over those requests (0: none had it). */
  engineSum(k: EngineKey): number {
    return this.sums.get(k)?.sum ?? 0;
  }
}
