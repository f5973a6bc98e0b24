// `medeval compare`: the baseline and one or more compressed models on the same items, same seed, same settings,
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
import { InputError } from '../core/errors.js';

export type CompareRole = 'baseline' | 'compressed';

/** The run settings (one object, every `run` setting) plus how to compare. */
export interface CompareOptions extends RunSettings {
  /** A runner profile file, or a profile made from flags (runners/flag-profile.ts). */
  baseline: string | LoadedRunnerProfile;
  /** One compressed model, or a ladder of them (files or profiles made from flags): each is paired with the baseline on the same items. */
  compressed: string | LoadedRunnerProfile | ReadonlyArray<string | LoadedRunnerProfile>;
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

/** One model of the comparison: its profile, its run folder and how its last turn ended. */
export interface CompareSide {
  role: CompareRole;
  /** The profile file, or what a profile made from flags runs. */
  runnerFile: string;
  runner: LoadedRunnerProfile;
  label: string;
  dir: string;
  outcome?: TurnOutcome;
}

export interface CompareRuns {
  baselineDir: string;
  /** The first compressed model's folder (the only one in a two-model comparison). */
  compressedDir: string;
  /** Every compressed model's folder, in the order given. */
  compressedDirs: string[];
  /** Every model, the baseline first: how each run ended (its last turn), "incomplete" when items are left in error. */
  sides: CompareSide[];
  /** How the baseline and the first compressed run ended (see `sides` for every model). */
  outcomes: { baseline?: TurnOutcome; compressed?: TurnOutcome };
  /** Records each run was asked for (items x samples). */
  total: number;
}

export async function runComparison(o: CompareOptions): Promise<CompareRuns> {
  const log = o.log ?? (() => {});
  const settings = parseRunSettings(o as unknown as Record<string, unknown>);
  const compressedGiven: Array<string | LoadedRunnerProfile> = Array.isArray(o.compressed) ? [...o.compressed] : [o.compressed as string | LoadedRunnerProfile];
  if (!compressedGiven.length) throw new InputError('compare needs at least one compressed runner profile', { field: '--compressed' });
  // Validate every profile and the dataset here, before any model is loaded.
  const [b, ...cs] = await Promise.all([o.baseline, ...compressedGiven].map((r) => (typeof r === 'string' ? loadRunnerProfile(r) : r))) as LoadedRunnerProfile[];
  const suite = await suiteForRun(settings);
  const ds = await loadDataset((await resolveSuiteDataset(suite, { skipInvalid: settings.skipInvalid, limit: settings.limit ?? suite.limit })).spec);
  const total = ds.items.length;
  const sides: CompareSide[] = [
    { role: 'baseline', runnerFile: runnerName(o.baseline), runner: b!, label: b!.profile.label, dir: join(o.out, 'runs', 'baseline-' + safe(b!.profile.label)) },
    ...cs.map((c, k) => ({ role: 'compressed' as const, runnerFile: runnerName(compressedGiven[k]!), runner: c, label: c.profile.label, dir: join(o.out, 'runs', 'compressed-' + safe(c.profile.label)) })),
  ];
  // Two models writing one folder would mix their journals.
  const byDir = new Map<string, CompareSide>();
  for (const side of sides) {
    const other = byDir.get(side.dir);
    if (other) {
      throw new InputError(`${side.runnerFile} and ${other.runnerFile} have the same label "${side.label}", so their runs would share ${side.dir}`,
        { file: side.runnerFile, field: 'label' }, 'give each compared model its own label in its runner profile');
    }
    byDir.set(side.dir, side);
  }
  if (o.fresh) for (const side of sides) rmSync(side.dir, { recursive: true, force: true });

  const records = total * (settings.samples ?? suite.samples);
  const many = sides.length > 2;
  // Which model a log line is about: its role, and its label when several compressed models share the role.
  const who = (s: CompareSide) => (many && s.role === 'compressed' ? `compressed [${s.label}]` : s.role);
  const workerFor = (s: CompareSide) => new ModelWorker({
    role: who(s), runnerFile: s.runnerFile, runner: s.runner, out: s.dir, settings,
    // Progress counts the comparison's records, not the turn's limit.
    onEvent: (e) => o.onEvent?.(s.role, s.label, e.type === 'item' ? { ...e, total: records } : e),
  });
  // Alternating turns keep every model loaded for the whole comparison; back-to-back loads one model at a
  // time (each still loaded once), so a ladder of N models never needs N models' memory at once.
  const alternating = o.order === 'alternating';
  const workers = new Map<CompareSide, ModelWorker>();
  const live = () => [...workers.values()];
  const onAbort = () => live().forEach((w) => w.stop());
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // Any live worker's death stops whatever is under way.
  const orDeath = <T>(p: Promise<T>): Promise<T> => Promise.race([p, ...live().map((w) => w.died)]);
  const start = async (group: CompareSide[]) => {
    for (const s of group) workers.set(s, workerFor(s));
    await orDeath(Promise.all(group.map((s) => workers.get(s)!.start())));
    // Its pid: the process whose memory is this model's (and the one to look at if it dies).
    for (const s of group) log(`compare: ${who(s)} worker pid ${workers.get(s)!.pid} (${s.runnerFile}): one process for the whole comparison`);
  };
  try {
    if (alternating) await start(sides);
    const step = alternating ? Math.max(1, o.chunk ?? 10) : total;
    for (let upTo = Math.min(step, total); ; upTo = Math.min(upTo + step, total)) {
      const last = upTo >= total;
      for (const side of sides) {
        if (o.signal?.aborted) throw interrupted(who(side), o.signal);
        if (!alternating) await start([side]);
        const worker = workers.get(side)!;
        log(`compare: ${who(side)} (${side.runnerFile}) items 1..${upTo} of ${total}`);
        // A run left incomplete (items in error) does not stop the comparison; the next turn's resume
        // re-runs its errors, and the command ends with exit 1 if any remain.
        const out = await orDeath(worker.turn(upTo, last));
        side.outcome = out;
        const acc = out.scored ? `${((100 * out.correct) / out.scored).toFixed(1)}%` : '-';
        log(`compare: ${who(side)} [${side.label}] ${out.records}/${records} records, accuracy so far ${acc}, errors ${out.errors}, ` +
          `model loaded ${out.loads === 1 ? 'once' : `${out.loads} times`}`);
        if (out.status === 'interrupted') throw interrupted(who(side), o.signal);
        if (out.status === 'failed') {
          throw new Error(`the ${who(side)} run (${side.runnerFile}) failed${out.stopReason ? `: ${out.stopReason}` : ''}; its records are kept: ` +
            'once the cause is fixed, the same compare command (without --fresh) resumes it');
        }
        if (!alternating) {
          await worker.close();
          workers.delete(side);
        }
      }
      if (last) break;
    }
    await Promise.all(live().map((w) => w.close()));
  } catch (e) {
    // Every live worker stops (finished items stay in their folders); none is restarted.
    for (const w of live()) w.stop();
    await Promise.all(live().map((w) => w.exited));
    throw e;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  const compressedSides = sides.filter((s) => s.role === 'compressed');
  return {
    baselineDir: sides[0]!.dir,
    compressedDir: compressedSides[0]!.dir,
    compressedDirs: compressedSides.map((s) => s.dir),
    sides,
    outcomes: { baseline: sides[0]!.outcome, compressed: compressedSides[0]!.outcome },
    total: records,
  };
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
