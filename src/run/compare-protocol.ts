// The messages between `medeval compare` and its two model workers (node IPC, one worker per model).
// The parent says: start (the runner profile, the run folder and the run settings, once), turn (run
// the items up to N), close. The worker answers with the run's events, the end of each turn, and
// failures. Parent-to-worker messages are validated on arrival: the settings are one checked object.
import { z } from 'zod';
import { runSettingsSchema } from './run-settings.js';
import { runnerProfileSchema } from '../runners/registry.js';
import type { LoadedDataset } from '../datasets/index.js';
import type { RunEvent } from './run.js';
import type { RunManifest } from '../core/types.js';

export const toWorkerSchema = z.discriminatedUnion('type', [
  /** `runnerFile` names the model in messages (a profile file, or the flags that made it); `runner` is its profile as the parent read it. */
  z.strictObject({
    type: z.literal('start'), runnerFile: z.string().min(1), out: z.string().min(1), settings: runSettingsSchema,
    runner: z.strictObject({ profile: runnerProfileSchema, file: z.string().nullable(), source: z.enum(['file', 'flags', 'file+flags']).optional() }).optional(),
  }),
  /** Run items 1..upTo (resuming the folder); `last`: the final turn, after which the runner is closed. */
  z.strictObject({ type: z.literal('turn'), upTo: z.number().int().positive(), last: z.boolean() }),
  /** Stop the turn under way (its finished items are kept) and close. */
  z.strictObject({ type: z.literal('stop') }),
  /** Close the runner (a managed server stops) and exit. */
  z.strictObject({ type: z.literal('close') }),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

/** How one turn ended, counted over the whole run folder (every turn so far, resumed ones included). */
export interface TurnOutcome {
  status: RunManifest['status'];
  records: number;
  errors: number;
  /** Answered records, and the correct ones among them: the run's accuracy so far. */
  scored: number;
  correct: number;
  stopReason?: string;
  /** Models loaded (runners created) by this worker so far: 1 for a whole comparison. */
  loads: number;
}

/** A run event with the dataset cut to its headline (the items stay in the worker). */
export type WireRunEvent = Exclude<RunEvent, { type: 'validated' }>
  | (Omit<Extract<RunEvent, { type: 'validated' }>, 'dataset'> & { dataset: Pick<LoadedDataset, 'name' | 'valid' | 'skipped' | 'warnings' | 'unlistedWarnings'> });

export type FromWorker =
  | { type: 'ready'; pid: number; label: string }
  | { type: 'event'; event: WireRunEvent }
  | { type: 'turn-done'; outcome: TurnOutcome }
  /** The turn threw: bad input (exit 2 for compare) or a failure (the run folder says what was kept). */
  | { type: 'failed'; message: string; input: boolean }
  | { type: 'closed' };

export function wireEvent(e: RunEvent): WireRunEvent {
  if (e.type !== 'validated') return e;
  const d = e.dataset;
  return { ...e, dataset: { name: d.name, valid: d.valid, skipped: d.skipped, warnings: d.warnings, ...(d.unlistedWarnings ? { unlistedWarnings: d.unlistedWarnings } : {}) } };
}
