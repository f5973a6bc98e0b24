// An experiment file (suites/paper.yaml): which suite, which baseline and compressed runner profile(s),
// in which order, and the claims to check. Paths are relative to the experiment file.
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { sloSchema, type Slo } from '../metrics/goodput.js';
import { claimSpecSchema, type ClaimSpec } from '../report/claims.js';
import { readYamlFile } from '../core/yaml-config.js';

export const experimentSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** Suite YAML, relative to this file. */
  suite: z.string().min(1),
  /** Runner profile of the baseline model, relative to this file. */
  baseline: z.string().min(1),
  /** Runner profile of the compressed model, or a list of them (a ladder), relative to this file. */
  compressed: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  order: z.enum(['back-to-back', 'alternating']).default('back-to-back'),
  chunk: z.number().int().positive().default(10),
  seed: z.number().int().default(1234),
  claims: z.array(claimSpecSchema).min(1),
  /** Service-level objectives for goodput (vLLM bench serve --goodput), in ms: { ttftMs, ttfoMs, tpotMs, e2eMs }. */
  goodput: sloSchema.optional(),
});

export interface Experiment {
  file: string;
  name: string | undefined;
  suite: string;
  baseline: string;
  /** Every compressed model's profile, in the file's order (one for a pair). */
  compressed: string[];
  order: 'back-to-back' | 'alternating';
  chunk: number;
  seed: number;
  claims: ClaimSpec[];
  goodput: Slo | undefined;
}

export async function loadExperiment(file: string): Promise<Experiment> {
  const e = await readYamlFile(file, experimentSchema, 'experiment file');
  const base = dirname(resolve(file));
  return {
    file,
    name: e.name,
    suite: resolve(base, e.suite),
    baseline: resolve(base, e.baseline),
    compressed: (typeof e.compressed === 'string' ? [e.compressed] : e.compressed).map((c) => resolve(base, c)),
    order: e.order,
    chunk: e.chunk,
    seed: e.seed,
    claims: e.claims,
    goodput: e.goodput,
  };
}
