// `medeval merge`: the shard runs of one suite (core/shard.ts) made into one run folder that report,
// gate, rescore and compare read like an unsharded run. It refuses what would not be that run: shards of
// another configuration or dataset, a shard given twice, items in the wrong shard or in two, and missing
// shards (unless allowPartial, which the merged manifest records and which leaves the run "incomplete").
// Each shard ran on its own machine and clock: their timestamps are never laid on one timeline, their
// durations never added, their memory never summed. The merged manifest keeps each shard's own figures.
import { resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { readRunFolder, RunFolder, type LoadedRun } from '../core/run-folder.js';
import { writeRunSummary } from './summary.js';
import { SHARD_RULE, shardOf } from './shard.js';
import type { ItemResult, MergedShard, MergeRecord, RunManifest } from '../core/types.js';
import { highestMemory } from '../metrics/memory-merge.js';

export const MERGED_THROUGHPUT_METHOD = "the sum of the shards' own rates (each shard's measured requests and output tokens over its own measured duration, " +
  "on its own machine's clock): the combined rate of the shards running at the same time; no timestamps of different machines are compared or added";

export interface MergeOptions {
  allowPartial?: boolean;
  now?: Date;
}

export interface MergeOutcome {
  dir: string;
  manifest: RunManifest;
  results: ItemResult[];
  warnings: string[];
}

const ID_ORDER = new Intl.Collator('en', { numeric: true });
const STATUS_ORDER: RunManifest['status'][] = ['finished', 'incomplete', 'interrupted', 'failed'];
const worse = (a: RunManifest['status'], b: RunManifest['status']) => (STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b);

function fault(dir: string, message: string, hint?: string): InputError {
  return new InputError(message, { file: dir }, hint);
}

/** The value most shards agree on; the others are the ones at fault. */
function majority<T>(shards: LoadedRun[], key: (s: LoadedRun) => T): T {
  const counts = new Map<T, number>();
  for (const s of shards) counts.set(key(s), (counts.get(key(s)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

function ownClock(run: LoadedRun): Pick<MergedShard, 'durationMs' | 'durationSource' | 'requestsPerS' | 'outputTokensPerS'> {
  const measured = run.results.filter((r) => r.timings !== null && !r.error && r.cached !== true);
  let durationMs: number | null = null;
  let durationSource: MergedShard['durationSource'] = null;
  if (run.manifest.durationMs !== undefined && run.manifest.durationMs > 0) {
    durationMs = run.manifest.durationMs;
    durationSource = 'manifest';
  } else if (measured.length) {
    // The shard's own records, on the shard's own clock: never compared with another shard's.
    // A loop, not Math.min(...xs): a shard of 100,000 records is more arguments than a call may take.
    let first = Infinity, last = -Infinity;
    for (const r of measured) {
      first = Math.min(first, r.timings!.startedAtEpochMs);
      last = Math.max(last, r.timings!.startedAtEpochMs + r.timings!.e2eMs);
    }
    durationMs = last - first;
    durationSource = 'timings';
  }
  const tokens = measured.reduce((n, r) => n + (r.outputTokens ?? 0), 0);
  const perS = (x: number) => (durationMs && durationMs > 0 ? x / (durationMs / 1000) : null);
  return { durationMs, durationSource, requestsPerS: perS(measured.length), outputTokensPerS: measured.some((r) => r.outputTokens !== null) ? perS(tokens) : null };
}

function withoutManaged(server: NonNullable<RunManifest['server']>): NonNullable<MergedShard['server']> {
  const { managed: _managed, ...rest } = server;
  return rest;
}

/** Read, check and merge `shardDirs` into a new run folder `outDir`. */
export function mergeShards(shardDirs: string[], outDir: string, opts: MergeOptions = {}): MergeOutcome {
  if (shardDirs.length === 0) throw new InputError('merge needs at least one shard run folder', { field: 'SHARD_DIRS' });
  const out = new RunFolder(outDir);
  if (out.exists()) throw new InputError('the output folder already holds a run', { file: out.dir }, 'merge writes a new run folder: choose another --out');
  const warnings: string[] = [];
  const shards = shardDirs.map((dir) => {
    const run = readRunFolder(dir);
    const file = resolve(dir, 'manifest.json');
    if (run.manifest.merged) throw fault(dir, 'this folder is already a merged run, not a shard', 'merge the shard folders themselves');
    if (!run.manifest.shard) throw fault(dir, 'not a shard run: its manifest has no "shard" (it was not run with --shard)', 'merge the folders of `medeval run --shard I/N`');
    if (run.manifest.shard.rule !== SHARD_RULE) throw new InputError(`assigns items by another rule (${run.manifest.shard.rule}) than this medeval's (${SHARD_RULE})`, { file, field: 'shard.rule' });
    if (run.journalProblems?.length) {
      throw new InputError(`its journal disagrees with its manifest: ${run.journalProblems.join('; ')}`, { file: resolve(dir, 'results.jsonl') },
        'rerun this shard (or restore its folder) before merging');
    }
    warnings.push(...run.warnings.filter((w) => !/covers .* of the .* valid questions|status is "/.test(w)).map((w) => `${dir}: ${w}`));
    return run;
  });

  // The same run, split: configuration, dataset, shard count and the items before the split.
  const checks: Array<[string, (s: LoadedRun) => string, string]> = [
    ['configuration (configHash: suite, prompts, runner profile, sampling, samples, seed)', (s) => s.manifest.configHash, 'run every shard with the same suite, runner profile and flags'],
    ['dataset (suite.datasetHash)', (s) => s.manifest.suite.datasetHash, 'run every shard on the same dataset file'],
    ['shard count', (s) => String(s.manifest.shard!.count), 'every shard of one run names the same N in --shard I/N'],
    ['items before the split (--limit or --skip-invalid differ)', (s) => s.manifest.shard!.itemIdsBeforeShardSha256, 'run every shard with the same --limit and --skip-invalid'],
  ];
  for (const [what, key, hint] of checks) {
    const want = majority(shards, key);
    const odd = shards.find((s) => key(s) !== want);
    if (odd) {
      const other = shards.find((s) => key(s) === want)!;
      throw fault(odd.dir!, `this shard's ${what} differs from the other shards' (${key(odd).slice(0, 16)} here, ${want.slice(0, 16)} in ${other.dir})`, hint);
    }
  }
  const count = shards[0]!.manifest.shard!.count;

  // Every shard once; every item in its own shard, and in one shard only.
  const byIndex = new Map<number, LoadedRun>();
  for (const s of shards) {
    const i = s.manifest.shard!.index;
    const seen = byIndex.get(i);
    if (seen) throw fault(s.dir!, `shard ${i}/${count} is given twice: ${seen.dir} and ${s.dir}`, 'pass each shard folder once');
    byIndex.set(i, s);
  }
  const owner = new Map<string, number>();
  for (const s of shards) {
    const i = s.manifest.shard!.index;
    for (const r of s.results) {
      const home = shardOf(r.itemId, count);
      if (home !== i) throw fault(s.dir!, `holds item ${JSON.stringify(r.itemId)}, which belongs to shard ${home}, not ${i}`, 'this folder was not written by `medeval run --shard`, or was edited');
      const prev = owner.get(r.itemId);
      if (prev !== undefined && prev !== i) throw fault(s.dir!, `item ${JSON.stringify(r.itemId)} is in shard ${prev} too`);
      owner.set(r.itemId, i);
    }
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  const unfinished = shards.filter((s) => s.manifest.status === 'running');
  if (!opts.allowPartial) {
    if (missing.length) {
      throw new InputError(`shard(s) ${missing.join(', ')} of ${count} are missing (given: ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')})`, { field: 'SHARD_DIRS' },
        'pass every shard folder, or --allow-partial to merge what is there (the merged run is then "incomplete" and says which shards are missing)');
    }
    if (unfinished[0]) {
      throw fault(unfinished[0].dir!, 'this shard is still running or was killed before its end (status "running")',
        'resume it (medeval run ... --shard I/N --resume), or pass --allow-partial');
    }
  }

  const ordered = [...byIndex.values()].sort((a, b) => a.manifest.shard!.index - b.manifest.shard!.index);
  const merged: MergedShard[] = ordered.map((s) => ({
    index: s.manifest.shard!.index,
    dir: s.dir!,
    status: s.manifest.status,
    ...(s.manifest.stopReason ? { stopReason: s.manifest.stopReason } : {}),
    records: s.results.length,
    errors: s.results.filter((r) => r.error).length,
    medevalVersion: s.manifest.medevalVersion,
    gitCommit: s.manifest.gitCommit,
    createdAt: s.manifest.createdAt,
    ...(s.manifest.finishedAt ? { finishedAt: s.manifest.finishedAt } : {}),
    ...ownClock(s),
    ...(s.manifest.memory ? { memory: s.manifest.memory } : {}),
    // The shard's server figures (a managed server's end stays in the shard's own folder).
    ...(s.manifest.server ? { server: withoutManaged(s.manifest.server) } : {}),
  }));
  const sumOf = (k: 'requestsPerS' | 'outputTokensPerS') => (merged.some((m) => m[k] !== null) ? merged.reduce((n, m) => n + (m[k] ?? 0), 0) : null);
  const record: MergeRecord = {
    count,
    rule: SHARD_RULE,
    mergedAt: (opts.now ?? new Date()).toISOString(),
    shards: merged,
    missing,
    partial: missing.length > 0 || unfinished.length > 0,
    throughput: { requestsPerS: sumOf('requestsPerS'), outputTokensPerS: sumOf('outputTokensPerS'), method: MERGED_THROUGHPUT_METHOD },
  };

  let status = ordered.map((s) => (s.manifest.status === 'running' ? 'interrupted' : s.manifest.status)).reduce(worse, 'finished');
  if (missing.length) status = worse(status, 'incomplete');
  const base = ordered[0]!.manifest;
  const stopReasons = merged.filter((m) => m.stopReason).map((m) => `shard ${m.index}: ${m.stopReason}`);
  if (missing.length) stopReasons.push(`shard(s) ${missing.join(', ')} of ${count} missing (merged with --allow-partial)`);
  const times = (xs: Array<string | undefined>) => xs.filter((x): x is string => Boolean(x)).sort();
  const { shard: _shard, server: _server, durationMs: _duration, stopReason: _stop, memory: _memory, ...rest } = base;
  const mergedMemory = highestMemory(merged.map((m) => ({ name: String(m.index), memory: m.memory })), 'shard', 'each shard its own machine');
  const manifest: RunManifest = {
    ...rest,
    createdAt: times(ordered.map((s) => s.manifest.createdAt))[0]!,
    suite: {
      ...base.suite,
      // The whole run the shards were cut from: the journal check then counts any missing shard's items.
      items: base.shard!.itemsBeforeShard,
      itemIdsSha256: base.shard!.itemIdsBeforeShardSha256,
    },
    ...(mergedMemory ? { memory: mergedMemory } : {}),
    ...(times(ordered.map((s) => s.manifest.finishedAt)).length ? { finishedAt: times(ordered.map((s) => s.manifest.finishedAt)).at(-1)! } : {}),
    status,
    ...(stopReasons.length ? { stopReason: stopReasons.join('; ') } : {}),
    merged: record,
  };
  // Each record says which shard (machine) it came from: per-shard figures stay computable. One order
  // whatever order the shards finished or were given in (by item id, then sample): the bootstrap resamples
  // in journal order, so the merged intervals are reproducible.
  const results = ordered.flatMap((s) => s.results.map((r) => ({ ...r, shard: s.manifest.shard!.index })))
    .sort((a, b) => ID_ORDER.compare(a.itemId, b.itemId) || a.sample - b.sample);
  out.create();
  out.writeJournal(results);
  out.writeManifest(manifest);
  writeRunSummary(out, manifest, results);
  return { dir: out.dir, manifest, results, warnings };
}
