// What a runner module declares about itself: its kind, the schema of its profile (runners/*.yaml), the
// factory that makes a Runner from a profile, and what it can do. registry.ts builds everything else from
// the list of these (the profile union, the factory map, the JSON Schema, every capability check), so a
// new kind is one module exporting one definition plus one line in RUNNER_DEFINITIONS.
import type { z } from 'zod';
import type { Runner } from '../core/types.js';
import type { ServerFigureLabel } from '../metrics/table.js';

/**
 * The server's own /metrics figures a kind knows how to read, by their Prometheus names; the report's
 * server view (report/server-view.ts) turns the run's after - before differences into labelled figures.
 * In every list, alternative names are tried in order: the current name first, deprecated ones after.
 */
export interface ServerMetricNames {
  /** Tokens counter over the seconds counter that sums each request's own time: a per-request speed. */
  speeds?: Array<{ tokens: string; seconds: string; figure: ServerFigureLabel }>;
  /** Tokens counters over the run's measured wall time: the server's throughput. */
  throughputs?: Array<{ tokens: string; figure: ServerFigureLabel }>;
  /** Counters shown as they moved over the run. */
  counts?: Array<{ name: string; label: string }>;
  /** Histograms (_sum / _count over the run) shown as means in ms. */
  histograms?: Array<{ names: string[]; label: string }>;
}

export interface RunnerCapabilities {
  /** Answer-letter log-probabilities (Runner.letterLogprobs), for suites with `scoring: likelihood`. */
  likelihood: boolean;
  /** How the model is reached: in this process, or over HTTP with a server attached to or started (managed) by medeval. */
  modes: ReadonlyArray<'in-process' | 'attached' | 'managed'>;
  /** Where the usable context is set, for messages that say what to change. */
  contextSetting: string;
  /** Profile fields holding paths: `./x` and `../x` resolve against the profile file's folder. */
  pathFields: readonly string[];
  /** The server's /metrics this kind reads (server kinds). */
  serverMetrics?: ServerMetricNames;
}

export interface RunnerDefinition<K extends string = string, S extends z.ZodType = z.ZodType> {
  kind: K;
  /** One line for the JSON Schema and `--help`: what this kind runs. */
  description: string;
  /** The profile schema; its `kind` field is z.literal(kind). */
  profileSchema: S;
  create(profile: z.output<S>): Promise<Runner>;
  capabilities: RunnerCapabilities;
}

/** Keeps K and S precise at the definition site (so the registry's union and factory map stay typed). */
export function defineRunner<K extends string, S extends z.ZodType<{ kind: K }>>(d: RunnerDefinition<K, S>): RunnerDefinition<K, S> {
  return d;
}
