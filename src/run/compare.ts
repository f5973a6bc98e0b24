// `medeval compare`: the baseline and the compressed model on the same items, same seed, same settings,
// each in its own long-lived worker process (its peak memory its own; the model loaded and warmed up
// once), then one report. Order "back-to-back" runs the baseline fully, then the compressed model;
// "alternating" runs them in turns of `chunk` items, so slow drift of the machine (heat, background
// load) falls on both alike. Every turn resumes the model's run folder to a larger limit.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ModelWorker, WorkerDied } from './compare-workers.js';
import type { TurnOutcome, WireRunEvent } from './compare-protocol.js';
import { loadRunnerProfile, type LoadedRunnerProfile } from '../runners/registry.js';
import { parseRunSettings, type RunSettings } from './run-settings.js';
import { resolveSuiteDataset, suiteForRun } from './suite.js';
import { loadDataset } from '../datasets/index.js';

export type CompareRole = 'baseline' | 'compressed';

/** The run settings (one object, every `run` setting) plus how to compare. */
export interface CompareOptions extends RunSettings {
  /** A runner profile file, or a profile made from flags (runners/flag-profile.ts). */
  baseline: string | LoadedRunnerProfile;
  compressed: string | LoadedRunnerProfile;
  out: string;
  order?: 'back-to-back' | 'alternating';
  chunk?: number;
  /** Start over even if run folders exist (otherwise finished runs are resumed / kept). */
  fresh?: boolean;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Each model's run events (progress); item events count the whole run so far. */
  onEvent?: (role: CompareRole, label: string, e: WireRunEvent) => void;
}

export interface CompareRuns {
  baselineDir: string;
  compressedDir: string;
  /** How each run ended (its last turn): "incomplete" when items are left in error. */
  outcomes: { baseline?: TurnOutcome; compressed?: TurnOutcome };
  /** Records each run was asked for (items x samples). */
  total: number;
}

export async function runComparison(o: CompareOptions): Promise<CompareRuns> {
  const log = o.log ?? (() => {});
  const settings = parseRunSettings(o as unknown as Record<string, unknown>);
  // Validate both profiles and the dataset here, before any model is loaded.
  const [b, c] = await Promise.all([o.baseline, o.compressed].map((r) => (typeof r === 'string' ? loadRunnerProfile(r) : r))) as [LoadedRunnerProfile, LoadedRunnerProfile];
  const suite = await suiteForRun(settings);
  const ds = await loadDataset((await resolveSuiteDataset(suite, { skipInvalid: settings.skipInvalid, limit: settings.limit ?? suite.limit })).spec);
  const total = ds.items.length;
  const baselineDir = join(o.out, 'runs', 'baseline-' + safe(b.profile.label));
  const compressedDir = join(o.out, 'runs', 'compressed-' + safe(c.profile.label));
  if (o.fresh) for (const d of [baselineDir, compressedDir]) rmSync(d, { recursive: true, force: true });

  const records = total * (settings.samples ?? suite.samples);
  const sides = ([['baseline', o.baseline, b, baselineDir], ['compressed', o.compressed, c, compressedDir]] as const)
    .map(([role, given, runner, out]) => ({
      role, runnerFile: runnerName(given), label: runner.profile.label,
      worker: new ModelWorker({
        role, runnerFile: runnerName(given), runner, out, settings,
        // Progress counts the comparison's records, not the turn's limit.
        onEvent: (e) => o.onEvent?.(role, runner.profile.label, e.type === 'item' ? { ...e, total: records } : e),
      }),
    }));
  const workers = sides.map((s) => s.worker);
  const onAbort = () => workers.forEach((w) => w.stop());
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const outcomes: CompareRuns['outcomes'] = {};
  try {
    // Any worker's death stops whatever is under way.
    const orDeath = <T>(p: Promise<T>): Promise<T> => Promise.race([p, ...workers.map((w) => w.died)]);
    await orDeath(Promise.all(workers.map((w) => w.start())));
    // Its pid: the process whose memory is this model's (and the one to look at if it dies).
    for (const { role, runnerFile, worker } of sides) log(`compare: ${role} worker pid ${worker.pid} (${runnerFile}): one process for the whole comparison`);
    const step = o.order === 'alternating' ? Math.max(1, o.chunk ?? 10) : total;
    for (let upTo = Math.min(step, total); ; upTo = Math.min(upTo + step, total)) {
      const last = upTo >= total;
      for (const { role, runnerFile, label, worker } of sides) {
        if (o.signal?.aborted) throw interrupted(role, o.signal);
        log(`compare: ${role} (${runnerFile}) items 1..${upTo} of ${total}`);
        // A run left incomplete (items in error) does not stop the comparison; the next turn's resume
        // re-runs its errors, and the command ends with exit 1 if any remain.
        const out = await orDeath(worker.turn(upTo, last));
        outcomes[role] = out;
        const acc = out.scored ? `${((100 * out.correct) / out.scored).toFixed(1)}%` : '-';
        log(`compare: ${role} [${label}] ${out.records}/${records} records, accuracy so far ${acc}, errors ${out.errors}, ` +
          `model loaded ${out.loads === 1 ? 'once' : `${out.loads} times`}`);
        if (out.status === 'interrupted') throw interrupted(role, o.signal);
        if (out.status === 'failed') {
          throw new Error(`the ${role} run (${runnerFile}) failed${out.stopReason ? `: ${out.stopReason}` : ''}; its records are kept: ` +
            'once the cause is fixed, the same compare command (without --fresh) resumes it');
        }
      }
      if (last) break;
    }
    await Promise.all(workers.map((w) => w.close()));
  } catch (e) {
    // Both workers stop (their finished items stay in their folders); none is restarted.
    for (const w of workers) w.stop();
    await Promise.all(workers.map((w) => w.exited));
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  return { baselineDir, compressedDir, outcomes, total: records };
}

function interrupted(role: string, signal: AbortSignal | undefined): Error {
  const why = (signal?.reason as Error | undefined)?.message ?? 'its worker was interrupted';
  return new WorkerDied(`the comparison was stopped (${why}) during the ${role} turn; every finished item is kept in the run folders`);
}

/** A profile file's path; for a profile made by flags, what it runs. */
function runnerName(r: string | LoadedRunnerProfile): string {
  if (typeof r === 'string') return r;
  const p = r.profile as { kind: string; model?: string; baseUrl?: string };
  return `${r.file ? `${r.file} with flags` : 'flags'}: ${p.kind} ${p.baseUrl ?? p.model ?? ''}`.trim();
}

function safe(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '_');
}
