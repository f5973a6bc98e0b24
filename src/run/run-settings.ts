// The settings of a run that are not the runner or the output folder, as one validated object: what
// `medeval run` takes as flags, and what `medeval compare` hands, unchanged, to each model's worker
// process. A setting added here (and to the flag table, src/cli/run-flags.ts) works in both.
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { DATASET_FORMAT_NAMES } from '../datasets/formats.js';
import type { RunOptions } from './run.js';
import { samplingSchema } from './suite.js';

export const runSettingsSchema = z.strictObject({
  /** Suite YAML file; without it, `dataset` makes a suite with the default settings. */
  suite: z.string().min(1).optional(),
  /** A dataset file or a known Hub name (medeval datasets list), replacing the suite's dataset. */
  dataset: z.string().min(1).optional(),
  /** With `dataset`: its format (default: detected). */
  format: z.enum([...DATASET_FORMAT_NAMES, 'auto']).optional(),
  /** Override the suite's answerConstraint ("letter": replies constrained to "Answer: <letter>", for tiny models). */
  answerConstraint: z.enum(['none', 'letter']).optional(),
  /** Only the first N valid items. */
  limit: z.number().int().positive().optional(),
  /** Base seed; per-item seeds derive from it (default 1234). */
  seed: z.number().int().optional(),
  /** Samples per question (default: the suite's). */
  samples: z.number().int().positive().optional(),
  /** Override the suite's max generated tokens. */
  maxTokens: z.number().int().positive().optional(),
  /** The suite's other sampling settings, each overriding the suite's when given. */
  temperature: samplingSchema.shape.temperature.removeDefault().optional(),
  topP: samplingSchema.shape.topP.removeDefault().optional(),
  topK: samplingSchema.shape.topK,
  minP: samplingSchema.shape.minP,
  stop: samplingSchema.shape.stop,
  /** Skip invalid dataset lines instead of refusing to start. */
  skipInvalid: z.boolean().optional(),
  /** Response cache folder; false: no cache (default .cache/responses). */
  cacheDir: z.union([z.string().min(1), z.literal(false)]).optional(),
  /** Stop the run when more than this share of requests failed. */
  maxErrorRate: z.number().min(0).max(1).optional(),
});
export type RunSettings = z.infer<typeof runSettingsSchema>;

// Every setting is a run option of the same name and type: spreading the settings into runSuite's
// options needs no per-setting code (this line stops compiling if one drifts).
const _settingsAreRunOptions: (s: RunSettings) => Partial<RunOptions> = (s) => s;
void _settingsAreRunOptions;

export const RUN_SETTING_KEYS = runSettingsSchema.keyof().options;

/** The settings in `values` (other keys are left out), validated; undefined values count as not given. */
export function parseRunSettings(values: Record<string, unknown>, where = 'run settings'): RunSettings {
  const picked: Record<string, unknown> = {};
  for (const k of RUN_SETTING_KEYS) if (values[k] !== undefined) picked[k] = values[k];
  const r = runSettingsSchema.safeParse(picked);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(issue.message, { field: issue.path.join('.') || where });
  }
  return r.data;
}

