// `medeval compare`: the baseline and the compressed model on the same items, same seed, same settings,
// each in its own process, then one report. Order "back-to-back" runs the baseline fully, then the
// compressed model; "alternating" runs them in turns of `chunk` items, so slow drift of the machine
// (heat, background load) falls on both alike.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runInChild, type ChildRunOutcome } from './child-run.js';
import { loadRunnerProfile } from '../runners/registry.js';
import { datasetSpec, loadSuite } from './suite.js';
import { loadDataset } from '../datasets/index.js';

export interface CompareOptions {
  suite: string;
  baseline: string;
  compressed: string;
  out: string;
  order?: 'back-to-back' | 'alternating';
  chunk?: number;
  limit?: number;
  seed?: number;
  samples?: number;
  maxTokens?: number;
  skipInvalid?: boolean;
  /** Start over even if run folders exist (otherwise finished runs are resumed / kept). */
  fresh?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface CompareRuns {
  baselineDir: string;
  compressedDir: string;
  /** How each run ended (its last child run): "incomplete" when items are left in error. */
  outcomes: { baseline?: ChildRunOutcome; compressed?: ChildRunOutcome };
  /** Records each run was asked for (items x samples). */
  total: number;
}

export async function runComparison(o: CompareOptions): Promise<CompareRuns> {
  const log = o.log ?? (() => {});
  // Validate both profiles and the dataset here, before any model is loaded.
  const [b, c] = await Promise.all([loadRunnerProfile(o.baseline), loadRunnerProfile(o.compressed)]);
  const suite = await loadSuite(o.suite);
  const ds = await loadDataset(datasetSpec(suite, { skipInvalid: o.skipInvalid, limit: o.limit ?? suite.limit }));
  const total = ds.items.length;
  const baselineDir = join(o.out, 'runs', 'baseline-' + safe(b.profile.label));
  const compressedDir = join(o.out, 'runs', 'compressed-' + safe(c.profile.label));
  if (o.fresh) for (const d of [baselineDir, compressedDir]) rmSync(d, { recursive: true, force: true });

  const common = { suite: o.suite, seed: o.seed, samples: o.samples, maxTokens: o.maxTokens, skipInvalid: o.skipInvalid };
  const step = o.order === 'alternating' ? Math.max(1, o.chunk ?? 10) : total;
  const outcomes: CompareRuns['outcomes'] = {};
  const records = total * (o.samples ?? suite.samples);
  for (let upTo = Math.min(step, total); ; upTo = Math.min(upTo + step, total)) {
    for (const [runner, dir, role] of [[o.baseline, baselineDir, 'baseline'], [o.compressed, compressedDir, 'compressed']] as const) {
      if (o.signal?.aborted) return { baselineDir, compressedDir, outcomes, total: records };
      log(`compare: ${role} (${runner}) items 1..${upTo} of ${total}`);
      // A run left incomplete (items in error) does not stop the comparison; the next turn's resume
      // re-runs its errors, and the command ends with exit 1 if any remain.
      outcomes[role] = await runInChild({ ...common, runner, out: dir, limit: upTo, resume: existsSync(join(dir, 'manifest.json')) }, o.signal);
    }
    if (upTo >= total) break;
  }
  return { baselineDir, compressedDir, outcomes, total: records };
}

function safe(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '_');
}
