// The scripted kind's profile (runners/*.yaml), apart from the runner (scripted.ts, with its script
// schemas): what the registry needs of the kind (in-process-kinds.ts) without loading the runner (start-up).
import { z } from 'zod';

export const scriptedProfileSchema = z.strictObject({
  kind: z.literal('scripted'),
  label: z.string().min(1),
  /** The script: .jsonl (one entry a line) or .yaml/.yml (a list of entries); ./ paths resolve against the profile. */
  script: z.string().min(1),
  /** The context the planning step caps budgets to (prompt tokens are counted as whitespace-separated words). */
  contextSize: z.number().int().positive().default(4096),
  /** Wait the scripted times on the real clock (default: a virtual clock, no sleeps). */
  realTime: z.boolean().default(false),
  /** Memory figures to report, labelled as scripted (default: none). */
  memory: z.strictObject({ weightsBytes: z.number().int().nonnegative().optional(), peakBytes: z.number().int().nonnegative().optional() }).optional(),
  notes: z.string().optional(),
});
export type ScriptedProfile = z.infer<typeof scriptedProfileSchema>;
