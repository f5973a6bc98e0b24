// Goodput as vLLM `bench serve --goodput` defines it: completed requests that meet every configured
// service-level objective, per second of the run. An SLO is a ceiling in ms on TTFT, TPOT or E2EL (vLLM's
// keys `ttft`, `tpot`, `e2el`), plus TTFO here, the wait for the first answer token after reasoning.
// A request meets an objective when its figure is at most the ceiling; TPOT of a one-token answer counts
// as 0 (as vLLM does); a request with no first token (no TTFT/TTFO) meets no TTFT/TTFO objective.
// It is computed in reports from stored runs: objectives are a way of reading a run, not of making one.
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { GenerationTimings } from '../core/types.js';
import { LATENCY_TABLE, type LatencyMetric } from './table.js';

export const sloSchema = z
  .strictObject({
    ttftMs: z.number().positive().optional(),
    ttfoMs: z.number().positive().optional(),
    tpotMs: z.number().positive().optional(),
    e2eMs: z.number().positive().optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), { message: 'give at least one objective: ttftMs, ttfoMs, tpotMs or e2eMs' });

export type Slo = z.infer<typeof sloSchema>;

const SLO_METRICS = ['ttftMs', 'ttfoMs', 'tpotMs', 'e2eMs'] as const satisfies ReadonlyArray<keyof Slo & LatencyMetric>;
/** Command-line keys are the metric table's stems (vLLM's ttft, tpot, e2el, plus ttfo). */
const KEYS: Record<string, keyof Slo> = Object.fromEntries(SLO_METRICS.map((k) => [LATENCY_TABLE[k].stem, k]));

/**
 * Parses `ttft:2000,tpot:50` (commas or spaces, values in ms), as vLLM's `--goodput ttft:2000 tpot:50`.
 * `option` names the flag in the error.
 */
export function parseSlo(text: string, option = '--goodput'): Slo {
  const slo: Slo = {};
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const hint = `write e.g. ${option} ttft:2000,tpot:50 (milliseconds; keys ${Object.keys(KEYS).join(', ')})`;
  if (parts.length === 0) throw new InputError(`${option} is empty`, { field: option }, hint);
  for (const part of parts) {
    const m = /^([a-z0-9]+):(.+)$/i.exec(part);
    const key = m ? KEYS[m[1]!.toLowerCase()] : undefined;
    if (!m || !key) throw new InputError(`${option}: "${part}" is not KEY:MS with a known key`, { field: option }, hint);
    const ms = Number(m[2]);
    if (!Number.isFinite(ms) || ms <= 0) throw new InputError(`${option}: ${m[1]} must be a positive number of milliseconds, got "${m[2]}"`, { field: option }, hint);
    if (slo[key] !== undefined) throw new InputError(`${option}: ${m[1]} is given twice`, { field: option }, hint);
    slo[key] = ms;
  }
  return slo;
}

/** "TTFT <= 2000 ms, TPOT <= 50 ms": the objectives as reports print them. */
export function describeSlo(slo: Slo): string {
  return SLO_METRICS.filter((k) => slo[k] !== undefined).map((k) => `${LATENCY_TABLE[k].short} <= ${slo[k]} ms`).join(', ');
}

/** Whether one completed request meets every objective. */
export function meetsSlo(t: Pick<GenerationTimings, 'ttftMs' | 'ttfoMs' | 'tpotMs' | 'e2eMs'>, slo: Slo): boolean {
  if (slo.ttftMs !== undefined && (t.ttftMs === null || t.ttftMs > slo.ttftMs)) return false;
  if (slo.ttfoMs !== undefined && (t.ttfoMs === null || t.ttfoMs > slo.ttfoMs)) return false;
  if (slo.tpotMs !== undefined && (t.tpotMs ?? 0) > slo.tpotMs) return false;
  if (slo.e2eMs !== undefined && t.e2eMs > slo.e2eMs) return false;
  return true;
}

/** The keys --goodput takes, for help texts: "ttft, ttfo, tpot, e2el". */
export const SLO_KEYS: readonly string[] = Object.keys(KEYS);
