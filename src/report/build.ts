// Builds the report model from loaded run folders: per-run accuracy, latency and memory; the paired
// baseline-vs-compressed comparisons; the claims table; notes. Pure: the same runs, options and seed
// always give the same model (no clock, no model calls).
import type { GenerationTimings, ItemResult, MemoryFigure, RunManifest } from '../core/types.js';
import { DEFAULT_CONFIDENCE, DEFAULT_SEED, groupByItem, isScored, itemScore, itemVote, scoreRun } from '../scoring/accuracy.js';
import { latestRecords, type LoadedRun } from '../core/run-folder.js';
import { bootstrapMean, DEFAULT_RESAMPLES } from '../stats/bootstrap.js';
import { percentileSorted, summarize, summarizeInPlace } from '../stats/descriptive.js';
import { mcnemar } from '../stats/mcnemar.js';
import { countFlips, pairedAccuracy } from '../stats/paired.js';
import { latencyReductionsPaired, latencyReductionUnpaired, relativeReduction, type WeightedSamples } from '../stats/reduction.js';
import { checkClaims, isTinyOrSmokeRun, VERDICT_DEFINITIONS, type ClaimSpec } from './claims.js';

export { isTinyOrSmokeRun };
import { LATENCY_TABLE } from '../metrics/table.js';
import {
  LATENCY_METRICS,
  MEMORY_PARTS,
  REPORT_SCHEMA_VERSION,
  type AccuracyMemoryPoint,
  type Distribution,
  type FlippedItem,
  type FlipOutput,
  type Goodput,
  type LetterDistributionComparison,
  type Interval,
  type ItemCell,
  type ItemTable,
  type LatencyDistributions,
  type LatencyMetric,
  type LatencyReduction,
  type MemoryPart,
  type MemoryReduction,
  type PairComparison,
  type ReportModel,
  type ReportNote,
  type RunLatency,
  type RunReliability,
  type RunReport,
  type ReplicaView,
  type ShardView,
} from './model.js';
import { portablePath } from '../core/portable-path.js';
import { describeSlo, meetsSlo, sloSchema, type Slo } from '../metrics/goodput.js';
import { inFlightTimeline } from '../metrics/in-flight.js';
import { argmax, klDivergence, letterDistribution, letterMass } from '../metrics/letter-distribution.js';
import { buildServerView } from './server-view.js';
import { wilsonInterval } from '../stats/proportion.js';
import { chanceAccuracy } from '../scoring/chance.js';
import { buildLeaderboard } from './leaderboard.js';
import { BYTE_UNIT_POLICY } from '../metrics/units.js';

export interface PairSpec {
  /** Run ids (labels, "#2" suffix for repeats) or 0-based indices into `runs`. */
  baseline: string | number;
  compressed: string | number;
}

export interface BuildOptions {
  runs: LoadedRun[];
  /** Default: the first run is the baseline, every other run is compared with it. */
  pairs?: PairSpec[];
  /** Claims checked on the first pair; none by default. */
  claims?: ClaimSpec[];
  seed?: number;
  confidence?: number;
  resamples?: number;
  /** Stamped into the model as is; leave null for byte-reproducible reports. */
  generatedAt?: string | null;
  /** Include the per-item table (results.csv); true by default. */
  includeItems?: boolean;
  /** Service-level objectives: each run gets a goodput figure (vLLM bench serve --goodput). */
  goodput?: Slo;
  /** Latency comparisons to compute per pair (default: all). The gate asks only for the one it gates on. */
  latencyMetrics?: readonly LatencyMetric[];
}

/** Re-exported: the seed lives with the scoring it drives (src/scoring/accuracy.ts). */
export { DEFAULT_SEED };

interface Settings {
  seed: number;
  confidence: number;
  resamples: number;
  goodput?: Slo;
  latencyMetrics: readonly LatencyMetric[];
}

/** What a pair's comparison and the notes read of a run: a RunReport has it, and so has the gate's lighter view. */
export type RunBasics = Pick<RunReport, 'id' | 'suite' | 'warnings' | 'accuracy' | 'memory'> & { latency: Pick<RunReport['latency'], 'cachedExcluded'> };

function resolveSettings(opts: Omit<BuildOptions, 'runs'>): Settings {
  return {
    seed: opts.seed ?? DEFAULT_SEED,
    confidence: opts.confidence ?? DEFAULT_CONFIDENCE,
    resamples: opts.resamples ?? DEFAULT_RESAMPLES,
    ...(opts.goodput ? { goodput: sloSchema.parse(opts.goodput) } : {}),
    latencyMetrics: opts.latencyMetrics ?? LATENCY_METRICS,
  };
}

export function buildReport(opts: BuildOptions): ReportModel {
  const settings = resolveSettings(opts);
  const loaded = opts.runs.map(oneRecordPerSample);
  const ids = uniqueIds(loaded.map((r) => r.manifest.label));
  const runs = loaded.map((r, i) => buildRunReport(r, ids[i]!, settings));
  const pairs = resolvePairs(opts.pairs, runs);
  const comparisons = pairs.map(([b, c], k) => comparePair(loaded[b]!, runs[b]!, loaded[c]!, runs[c]!, { ...settings, seed: settings.seed + 1000 * k }));
  const first = pairs[0];
  const claims = opts.claims?.length
    ? checkClaims(opts.claims, {
      comparison: comparisons[0] ?? null,
      baseline: first ? runs[first[0]]! : null,
      compressed: first ? runs[first[1]]! : runs[0] ?? null,
    })
    : [];
  // A ladder: the same claims judged on every pair, for the leaderboard's verdict column (the claims
  // section keeps the first pair's, as before).
  const claimsPerPair = pairs.map(([b, c], k) => (k === 0 ? claims
    : opts.claims?.length ? checkClaims(opts.claims, { comparison: comparisons[k]!, baseline: runs[b]!, compressed: runs[c]! }) : []));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: opts.generatedAt ?? null,
    settings: { seed: settings.seed, confidence: settings.confidence, bootstrapResamples: settings.resamples, ...(settings.goodput ? { goodputSlo: settings.goodput } : {}) },
    runs,
    comparisons,
    claims,
    accuracyVsMemory: runs.map(accuracyMemoryPoint),
    leaderboard: buildLeaderboard(runs, comparisons, claimsPerPair),
    notes: buildNotes(loaded, runs, pairs),
    ...(opts.includeItems === false ? {} : { items: buildItemTable(loaded, runs) }),
  };
}

export interface PairFigures {
  comparison: PairComparison;
  /** Per run: its id, accuracy (pass@1 and majority vote; no slices), memory and warnings, as the report has them. */
  runs: RunBasics[];
  notes: ReportNote[];
}

/**
 * One baseline/compressed pair's comparison and the report's notes, without what only a report shows
 * (per-run latency distributions, timelines, server and replica views, the item table): what the gate
 * reads. The same functions and seeds as buildReport's first pair, so every figure is the report's.
 */
export function buildPairFigures(opts: Omit<BuildOptions, 'runs' | 'pairs' | 'claims' | 'includeItems' | 'generatedAt'> & { baseline: LoadedRun; compressed: LoadedRun }): PairFigures {
  const settings = resolveSettings(opts);
  const loaded = [opts.baseline, opts.compressed].map(oneRecordPerSample);
  const ids = uniqueIds(loaded.map((r) => r.manifest.label));
  const runs: RunBasics[] = loaded.map((r, i) => runBasics(r, ids[i]!, settings));
  return {
    comparison: comparePair(loaded[0]!, runs[0]!, loaded[1]!, runs[1]!, settings),
    runs,
    notes: buildNotes(loaded, runs, [[0, 1]]),
  };
}

/**
 * The journal rule for every figure, not just accuracy: a repeated (item, sample) keeps its last
 * record. readRunFolder has applied it already; runs built in memory may not have.
 */
function oneRecordPerSample(run: LoadedRun): LoadedRun {
  const { records, duplicates } = latestRecords(run.results);
  if (duplicates === 0) return run;
  return {
    ...run,
    results: records,
    warnings: [...run.warnings, `${duplicates} record(s) were superseded by a later record for the same item and sample (resume or retry)`],
  };
}

function itemCell(r: ItemResult): ItemCell {
  return {
    letter: r.extracted.letter,
    status: isScored(r) ? r.extracted.status : 'error',
    correct: r.correct,
    e2eMs: r.timings?.e2eMs ?? null,
    ttftMs: r.timings?.ttftMs ?? null,
    outputTokens: r.outputTokens,
    ...(r.cached ? { cached: true as const } : {}),
  };
}

/** Rows in the first run's order, then items only later runs have, in their order. */
function buildItemTable(loaded: LoadedRun[], runs: RunReport[]): ItemTable {
  const rows = new Map<string, ItemTable['rows'][number]>();
  loaded.forEach((run, k) => {
    for (const r of run.results) {
      const key = `${r.itemId}\u0000${r.sample}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          itemId: r.itemId,
          sample: r.sample,
          ...(r.question !== undefined ? { question: r.question } : {}),
          ...(r.step !== undefined ? { step: r.step } : {}),
          questionType: r.questionType,
          gold: r.gold,
          cells: loaded.map(() => null),
        };
        rows.set(key, row);
      }
      if (row.question === undefined && r.question !== undefined) row.question = r.question;
      row.cells[k] = itemCell(r);
    }
  });
  return { runs: runs.map((r) => r.id), rows: [...rows.values()] };
}

function uniqueIds(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return n === 1 ? l : `${l}#${n}`;
  });
}

function resolvePairs(pairs: PairSpec[] | undefined, runs: RunReport[]): Array<[number, number]> {
  if (!pairs) return runs.slice(1).map((_, i) => [0, i + 1]);
  const find = (ref: string | number): number => {
    const idx = typeof ref === 'number' ? ref : runs.findIndex((r) => r.id === ref || r.label === ref);
    if (idx < 0 || idx >= runs.length) {
      throw new RangeError(`comparison names run "${ref}", which is not among the runs: ${runs.map((r) => r.id).join(', ')}`);
    }
    return idx;
  };
  return pairs.map((p) => [find(p.baseline), find(p.compressed)]);
}

// ---------- one run ----------

function toInterval(x: { estimate: number; lower: number; upper: number }, confidence: number, method: string): Interval {
  return { estimate: x.estimate, lower: x.lower, upper: x.upper, confidence, method };
}

function toDistribution(values: number[]): Distribution | null {
  return summarize(values);
}

function isBatchSizeOne(load: RunManifest['load']): boolean {
  return load.profile === 'sequential' || (load.profile === 'concurrency' && load.concurrency === 1);
}

/**
 * A request whose timings count as latency here: it completed, and was generated in this run (a
 * cached result keeps the timings of the run that first generated it).
 */
function isMeasured(r: ItemResult): r is ItemResult & { timings: NonNullable<ItemResult['timings']> } {
  return r.timings !== null && !r.error && r.cached !== true;
}

function buildGoodput(ok: ReadonlyArray<ItemResult & { timings: GenerationTimings }>, slo: Slo, durationMs: number | null, confidence: number): Goodput {
  const good = ok.filter((r) => meetsSlo(r.timings, slo)).length;
  return {
    slo,
    objectives: describeSlo(slo),
    completed: ok.length,
    good,
    share: ok.length ? toInterval(wilsonInterval(good, ok.length, confidence), confidence, 'wilson') : null,
    perS: durationMs && durationMs > 0 ? good / (durationMs / 1000) : null,
  };
}

/** Each latency metric's distribution over the measured requests (a per-gap metric pooled over them). */
function latencyDistributions(ok: ReadonlyArray<ItemResult & { timings: GenerationTimings }>): LatencyDistributions {
  const out = {} as LatencyDistributions;
  // Each metric's values in one typed buffer of the exact size (a run's ITL gaps are millions at 100,000
  // requests), summarised in place.
  for (const k of LATENCY_METRICS) {
    let values: Float64Array;
    if (LATENCY_TABLE[k].per === 'gap') {
      let total = 0;
      for (const r of ok) total += (r.timings[k] as number[]).length;
      values = new Float64Array(total);
      let at = 0;
      // Not a number (never in a validated journal): NaN, left out as summarize leaves out the non-finite.
      for (const r of ok) for (const g of r.timings[k] as number[]) values[at++] = typeof g === 'number' ? g : NaN;
    } else {
      values = new Float64Array(ok.length);
      let at = 0;
      for (const r of ok) {
        const v = r.timings[k] as number | null | undefined;
        if (v !== null && v !== undefined && Number.isFinite(v)) values[at++] = v;
      }
      values = values.subarray(0, at);
    }
    out[k] = summarizeInPlace(values);
  }
  return out;
}

function buildLatency(run: LoadedRun, s: Settings): RunLatency {
  const ok = run.results.filter(isMeasured);
  const pick = (f: (r: ItemResult) => number | null | undefined) => {
    const out: number[] = [];
    for (const r of ok) {
      const v = f(r);
      if (v !== null && v !== undefined && Number.isFinite(v)) out.push(v);
    }
    return out;
  };
  const tokens = pick((r) => r.outputTokens);
  const totalTokens = tokens.reduce((a, b) => a + b, 0);
  let durationMs: number | null = null;
  let durationSource: RunLatency['durationSource'] = null;
  const merged = run.manifest.merged;
  if (merged) {
    // Shards ran on their own machines and clocks: no one duration, no one timeline (core/merge.ts).
    durationSource = 'shards';
  } else if (run.manifest.durationMs !== undefined && run.manifest.durationMs > 0) {
    durationMs = run.manifest.durationMs;
    durationSource = 'manifest';
  } else if (ok.length) {
    let first = Infinity, last = -Infinity;
    for (const r of ok) {
      first = Math.min(first, r.timings!.startedAtEpochMs);
      last = Math.max(last, r.timings!.startedAtEpochMs + r.timings!.e2eMs);
    }
    durationMs = last - first;
    durationSource = 'timings';
  }
  const perS = (x: number) => (durationMs && durationMs > 0 ? x / (durationMs / 1000) : null);
  return {
    requests: run.results.length,
    completed: ok.length,
    failed: run.results.filter((r) => !isScored(r)).length,
    cachedExcluded: run.results.filter((r) => r.cached === true).length,
    ...latencyDistributions(ok),
    queueMs: toDistribution(pick((r) => r.timings!.queueMs)),
    outputTokens: {
      total: totalTokens,
      perRequest: toDistribution(tokens),
      sources: [...new Set(ok.map((r) => r.tokenSource))].sort(),
    },
    durationMs,
    durationSource,
    requestThroughputPerS: merged ? merged.throughput.requestsPerS : perS(ok.length),
    outputTokenThroughputPerS: merged ? merged.throughput.outputTokensPerS : tokens.length ? perS(totalTokens) : null,
    ...(merged ? { throughputMethod: merged.throughput.method } : {}),
    load: run.manifest.load,
    batchSizeOne: isBatchSizeOne(run.manifest.load),
    ...(s.goodput ? { goodput: buildGoodput(ok, s.goodput, durationMs, s.confidence) } : {}),
    ...(ok.length && !merged ? { inFlight: inFlightTimeline(ok.map((r) => ({ startMs: r.timings.startedAtEpochMs, endMs: r.timings.startedAtEpochMs + r.timings.e2eMs }))) } : {}),
  };
}

export function buildMemory(m: RunManifest): MemoryPart[] {
  const mem = m.memory;
  return MEMORY_PARTS.map((part): MemoryPart => {
    const fig: MemoryFigure | undefined = mem?.[part];
    if (fig) return { part, ...fig };
    if (part === 'weights' && m.model.fileBytes !== null && m.model.fileBytes !== undefined) {
      return { part, bytes: m.model.fileBytes, source: 'manifest model.fileBytes', note: 'no memory report; model file size used' };
    }
    return { part, bytes: null, source: 'none', note: mem ? 'not recorded by this runner' : 'the manifest has no memory report (run unfinished?)' };
  });
}

function rssTimeline(results: readonly ItemResult[]): RunReport['rssTimeline'] {
  const points = results.flatMap((r, index) => (r.rssBytes !== undefined ? [{ index, rssBytes: r.rssBytes }] : []));
  if (points.length <= 200) return points;
  const stride = points.length / 200;
  return Array.from({ length: 200 }, (_, k) => points[Math.min(points.length - 1, Math.round(k * stride))]!);
}

function buildReliability(run: LoadedRun): RunReliability {
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  let retriedRequests = 0;
  let retries = 0;
  for (const r of run.results) {
    const n = r.error?.retries ?? r.retries ?? 0;
    if (n > 0) retriedRequests++;
    retries += n;
    if (!isScored(r)) {
      errors++;
      const kind = r.error?.kind ?? 'unknown';
      errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
    }
  }
  const requests = run.results.length;
  return { requests, errors, errorRate: requests ? errors / requests : null, errorKinds, retriedRequests, retries, stopReason: run.manifest.stopReason ?? null };
}

/** Each shard of a merged run on its own clock and machine (core/merge.ts). */
function shardViews(merged: NonNullable<RunManifest['merged']>): ShardView[] {
  return merged.shards.map((x) => ({
    index: x.index,
    status: x.status,
    records: x.records,
    errors: x.errors,
    durationMs: x.durationMs,
    requestsPerS: x.requestsPerS,
    outputTokensPerS: x.outputTokensPerS,
    processPeakBytes: x.memory?.processPeak?.bytes ?? null,
    gpuPeakBytes: x.memory?.gpuProcessPeak?.bytes ?? null,
  }));
}

/**
 * A run over several replicas (run/replicas.ts): each replica's requests, latency and throughput over the
 * run's duration (one client, one clock), its /metrics differences, and whether it left the rotation.
 */
function replicaViews(run: LoadedRun, durationMs: number | null): ReplicaView[] | null {
  const listed = run.manifest.server?.replicas ?? [];
  const names = [...new Set([...listed.map((r) => r.replica), ...run.results.flatMap((r) => (r.replica ? [r.replica] : []))])];
  if (names.length === 0) return null;
  const perS = (x: number) => (durationMs && durationMs > 0 ? x / (durationMs / 1000) : null);
  return names.map((name) => {
    const mine = run.results.filter((r) => r.replica === name);
    const ok = mine.filter(isMeasured);
    const tokens = ok.reduce((n, r) => n + (r.outputTokens ?? 0), 0);
    const info = listed.find((r) => r.replica === name);
    return {
      replica: name,
      requests: mine.length,
      completed: ok.length,
      failed: mine.filter((r) => r.error).length,
      requestsPerS: perS(ok.length),
      outputTokensPerS: ok.some((r) => r.outputTokens !== null) ? perS(tokens) : null,
      ttftMs: toDistribution(ok.flatMap((r) => (r.timings.ttftMs !== null ? [r.timings.ttftMs] : []))),
      e2eMs: toDistribution(ok.map((r) => r.timings.e2eMs)),
      ...(info?.outOfRotation ? { outOfRotation: info.outOfRotation } : {}),
      metricsDelta: info?.metrics?.delta ?? null,
    };
  });
}

function runAccuracy(run: LoadedRun, s: Settings, slices = true): RunReport['accuracy'] {
  return scoreRun(run.results, { samples: run.manifest.samples, seed: s.seed, confidence: s.confidence, resamples: s.resamples, slices });
}

function runBasics(run: LoadedRun, id: string, s: Settings): RunBasics {
  return {
    id,
    suite: run.manifest.suite,
    warnings: [...run.warnings],
    // Comparisons and notes read the overall and majority-vote cells only: no per-step/type/subject slices.
    accuracy: runAccuracy(run, s, false),
    memory: buildMemory(run.manifest),
    latency: { cachedExcluded: run.results.filter((r) => r.cached === true).length },
  };
}

function buildRunReport(run: LoadedRun, id: string, s: Settings): RunReport {
  const m = run.manifest;
  const finishReasons: RunReport['finishReasons'] = {};
  for (const r of run.results) finishReasons[r.finishReason] = (finishReasons[r.finishReason] ?? 0) + 1;
  const latency = buildLatency(run, s);
  const replicas = replicaViews(run, latency.durationMs);
  return {
    id,
    label: m.label,
    folder: run.dir === null ? null : portablePath(run.dir),
    createdAt: m.createdAt,
    finishedAt: m.finishedAt ?? null,
    status: m.status,
    medevalVersion: m.medevalVersion,
    gitCommit: m.gitCommit,
    suite: m.suite,
    runner: m.runner,
    model: m.model,
    sampling: m.sampling,
    seed: m.seed,
    configHash: m.configHash,
    accuracy: runAccuracy(run, s),
    chanceAccuracy: chanceAccuracy(run.results),
    latency,
    ...(replicas ? { replicas } : {}),
    memory: buildMemory(m),
    finishReasons,
    reliability: buildReliability(run),
    server: buildServerView(m, run.results),
    // A merged run's records come from several machines: their RSS is not one line (each shard has its own).
    rssTimeline: m.merged ? [] : rssTimeline(run.results),
    ...(m.merged ? { shards: shardViews(m.merged) } : {}),
    warnings: [...run.warnings],
  };
}

// ---------- a baseline/compressed pair ----------

interface PairedItem {
  itemId: string;
  base: ItemResult[];
  comp: ItemResult[];
}

/** Paired correctness of a question both runs scored: its one answer, or the majority vote. */
const OUTPUT_EXCERPT_CHARS = 300;

/** The reply as a flip list shows it: the text after the reasoning, one line, its last characters. */
export function outputExcerpt(rawOutput: string): string {
  const close = rawOutput.lastIndexOf('</think>');
  const answer = close >= 0 ? rawOutput.slice(close + '</think>'.length) : rawOutput.replace(/^\s*<think>/, '');
  const flat = answer.replace(/\s+/g, ' ').trim();
  return flat.length <= OUTPUT_EXCERPT_CHARS ? flat : `…${flat.slice(flat.length - OUTPUT_EXCERPT_CHARS + 1).trimStart()}`;
}

/** The scored sample behind a voted letter (the first with that letter), as a flip shows it. */
function flipOutput(samples: ItemResult[], letter: string | null): FlipOutput | undefined {
  const scored = samples.filter(isScored);
  const r = scored.find((x) => x.extracted.letter === letter) ?? scored[0];
  if (!r) return undefined;
  if (r.letterLogprobs) {
    // Likelihood scoring wrote nothing: show the letter distribution instead, most likely first.
    const letters = Object.keys(r.letterLogprobs);
    const p = letterDistribution(r.letterLogprobs, letters);
    const shown = letters.map((l, i) => [l, p[i]!] as const).sort((a, b) => b[1] - a[1]).map(([l, x]) => `P(${l}) ${(100 * x).toFixed(1)}%`).join(', ');
    const missing = Object.keys(r.letterNoFigure ?? {});
    const excerpt = missing.length ? `${shown} (among the letters with a figure; no figure: ${missing.join(', ')})` : shown;
    return { status: r.extracted.status, excerpt, reasoned: false };
  }
  return { status: r.extracted.status, excerpt: outputExcerpt(r.rawOutput), reasoned: r.reasoning !== null || r.rawOutput.includes('<think>') };
}

function pairCorrect(samples: ItemResult[]): { correct: boolean; letter: string | null } {
  const vote = itemVote(samples)!;
  return { correct: vote.correct, letter: vote.letter };
}

function comparePair(bRun: LoadedRun, bRep: RunBasics, cRun: LoadedRun, cRep: RunBasics, s: Settings): PairComparison {
  const bItems = groupByItem(bRun.results);
  const cItems = groupByItem(cRun.results);
  const paired: PairedItem[] = [];
  let excludedForErrors = 0, onlyInBaseline = 0;
  for (const [itemId, base] of bItems) {
    const comp = cItems.get(itemId);
    if (!comp) {
      onlyInBaseline++;
      continue;
    }
    if (itemScore(base) === null || itemScore(comp) === null) excludedForErrors++;
    else paired.push({ itemId, base, comp });
  }
  let onlyInCompressed = 0;
  for (const id of cItems.keys()) if (!bItems.has(id)) onlyInCompressed++;

  const bScores = paired.map((p) => itemScore(p.base)!);
  const cScores = paired.map((p) => itemScore(p.comp)!);
  const bPair = paired.map((p) => pairCorrect(p.base));
  const cPair = paired.map((p) => pairCorrect(p.comp));
  const flips = countFlips(bPair.map((x) => x.correct), cPair.map((x) => x.correct));
  const rightToWrong: FlippedItem[] = [];
  const wrongToRight: FlippedItem[] = [];
  let sameLetter = 0;
  paired.forEach((p, i) => {
    if (bPair[i]!.letter === cPair[i]!.letter) sameLetter++;
    if (bPair[i]!.correct === cPair[i]!.correct) return;
    const first = p.base[0]!;
    const item: FlippedItem = {
      itemId: p.itemId,
      ...(first.question !== undefined ? { question: first.question } : p.comp[0]?.question !== undefined ? { question: p.comp[0].question } : {}),
      ...(first.step !== undefined ? { step: first.step } : {}),
      questionType: first.questionType,
      gold: first.gold,
      baselineLetter: bPair[i]!.letter,
      compressedLetter: cPair[i]!.letter,
    };
    const bOut = flipOutput(p.base, bPair[i]!.letter);
    const cOut = flipOutput(p.comp, cPair[i]!.letter);
    if (bOut) item.baselineOutput = bOut;
    if (cOut) item.compressedOutput = cOut;
    (bPair[i]!.correct ? rightToWrong : wrongToRight).push(item);
  });
  const n = paired.length;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const boot = { seed: s.seed, resamples: s.resamples, confidence: s.confidence };
  // One resampling of the questions gives both intervals (stats/paired.ts).
  const accuracy = n ? pairedAccuracy(bScores, cScores, boot) : null;
  const retention = accuracy && bScores.some((x) => x > 0) ? accuracy.retention : null;
  return {
    baseline: bRep.id,
    compressed: cRep.id,
    itemsInCommon: n,
    onlyInBaseline,
    onlyInCompressed,
    excludedForErrors,
    bothRight: flips.bothRight,
    bothWrong: flips.bothWrong,
    rightToWrong,
    wrongToRight,
    agreementRate: flips.agreementRate,
    sameLetterRate: n ? sameLetter / n : null,
    baselineAccuracy: mean(bScores),
    compressedAccuracy: mean(cScores),
    mcnemar: n ? mcnemar(flips.rightToWrong, flips.wrongToRight) : null,
    accuracyDifference: accuracy ? toInterval(accuracy.difference, s.confidence, 'bootstrap-percentile') : null,
    retention: retention ? toInterval(retention, s.confidence, 'bootstrap-percentile') : null,
    latency: compareLatency(bRun, cRun, s),
    memory: compareMemory(bRep, cRep),
    ...letterDistributionField(paired, s),
  };
}

/** Likelihood-scored pairs: KL divergence and agreement of the answer-letter distributions (first samples). */
function letterDistributionField(paired: readonly PairedItem[], s: Settings): { letterDistribution?: LetterDistributionComparison } {
  const kls: number[] = [];
  let agree = 0, bGold = 0, cGold = 0, bMass = 0, cMass = 0, withoutFull = 0;
  for (const p of paired) {
    const b = p.base.find((r) => r.sample === 0) ?? p.base[0]!;
    const c = p.comp.find((r) => r.sample === 0) ?? p.comp[0]!;
    if (!b.letterLogprobs || !c.letterLogprobs) continue;
    // A letter without a figure leaves the distribution unknown: renormalising over the rest would be wrong.
    if (Object.keys(b.letterNoFigure ?? {}).length > 0 || Object.keys(c.letterNoFigure ?? {}).length > 0) {
      withoutFull++;
      continue;
    }
    const letters = Object.keys(b.letterLogprobs).filter((l) => l in c.letterLogprobs!).sort();
    if (letters.length < 2) continue;
    const bp = letterDistribution(b.letterLogprobs, letters);
    const cp = letterDistribution(c.letterLogprobs, letters);
    kls.push(klDivergence(bp, cp));
    if (argmax(bp) === argmax(cp)) agree++;
    const gold = letters.indexOf(b.gold);
    if (gold >= 0) {
      bGold += bp[gold]!;
      cGold += cp[gold]!;
    }
    bMass += letterMass(b.letterLogprobs, letters);
    cMass += letterMass(c.letterLogprobs, letters);
  }
  const n = kls.length;
  if (n === 0) return {};
  const sorted = [...kls].sort((x, y) => x - y);
  return {
    letterDistribution: {
      items: n,
      klMean: toInterval(bootstrapMean(kls, { seed: s.seed + 17, resamples: s.resamples, confidence: s.confidence }), s.confidence, 'bootstrap-percentile'),
      klP50: percentileSorted(sorted, 50),
      klP90: percentileSorted(sorted, 90),
      klP99: percentileSorted(sorted, 99),
      klMax: sorted[n - 1]!,
      top1Agreement: agree / n,
      baselineGoldProbability: bGold / n,
      compressedGoldProbability: cGold / n,
      baselineLetterMass: bMass / n,
      compressedLetterMass: cMass / n,
      ...(withoutFull > 0 ? { withoutFullDistribution: withoutFull } : {}),
    },
  };
}

/**
 * A run's measured requests as columns: row i is the i-th measured request (in journal order); per latency
 * figure a value and a weight per row (weight 0: the request has no such figure; ITL: value = the request's
 * mean gap, weight = its number of gaps, so resampling keeps each request's gaps together).
 */
interface LatencyColumns {
  rows: Map<string, number>;
  values: Record<LatencyMetric, Float64Array>;
  weights: Record<LatencyMetric, Float64Array>;
  /** Rows with the figure (weight > 0). */
  present: Record<LatencyMetric, number>;
}

function latencyColumns(results: readonly ItemResult[]): LatencyColumns {
  const measured = results.filter(isMeasured);
  const n = measured.length;
  const per = <T>(f: () => T) => Object.fromEntries(LATENCY_METRICS.map((m) => [m, f()])) as Record<LatencyMetric, T>;
  const cols: LatencyColumns = { rows: new Map(), values: per(() => new Float64Array(n)), weights: per(() => new Float64Array(n)), present: per(() => 0) };
  measured.forEach((r, i) => {
    cols.rows.set(`${r.itemId}\u0000${r.sample}`, i);
    for (const metric of LATENCY_METRICS) {
      let value: number | null | undefined, weight = 1;
      if (LATENCY_TABLE[metric].per === 'gap') {
        const gaps = r.timings[metric] as number[];
        if (!gaps.length) continue;
        value = gaps.reduce((a, b) => a + b, 0) / gaps.length;
        weight = gaps.length;
      } else {
        value = r.timings[metric] as number | null | undefined;
        if (value === null || value === undefined || !Number.isFinite(value)) continue;
      }
      cols.values[metric][i] = value;
      cols.weights[metric][i] = weight;
      cols.present[metric]++;
    }
  });
  return cols;
}

/** The figure's values and weights of the rows that have it, in row order (an unpaired run's samples). */
function presentSamples(cols: LatencyColumns, metric: LatencyMetric): WeightedSamples {
  const values: number[] = [], weights: number[] = [];
  const v = cols.values[metric], w = cols.weights[metric];
  for (let i = 0; i < v.length; i++) {
    if (w[i]! > 0) {
      values.push(v[i]!);
      weights.push(w[i]!);
    }
  }
  return { values, weights };
}

function pooledMean(cols: LatencyColumns, metric: LatencyMetric): number {
  let num = 0, den = 0;
  const v = cols.values[metric], w = cols.weights[metric];
  for (let i = 0; i < v.length; i++) {
    if (w[i]! > 0) {
      num += v[i]! * w[i]!;
      den += w[i]!;
    }
  }
  return num / den;
}

/**
 * Latency reductions of a pair. A figure is paired when both runs measured it on the same (item, sample)
 * requests; the paired figures are resampled together, from one stream of request pairs (seed + 10) over
 * the requests that have any paired figure, whichever figures were asked for, so the gate's one figure
 * is the report's. Unpaired figures resample each run on its own (seed + 10 + the figure's place).
 */
function compareLatency(bRun: LoadedRun, cRun: LoadedRun, s: Settings): LatencyReduction[] {
  const b = latencyColumns(bRun.results);
  const c = latencyColumns(cRun.results);
  const nb = b.values.e2eMs.length;
  // The compressed run's row of each baseline row's request, or -1.
  const cRow = new Int32Array(nb).fill(-1);
  for (const [key, i] of b.rows) cRow[i] = c.rows.get(key) ?? -1;
  const paired = (metric: LatencyMetric): boolean => {
    if (b.present[metric] !== c.present[metric]) return false;
    const bw = b.weights[metric], cw = c.weights[metric];
    for (let i = 0; i < nb; i++) if (bw[i]! > 0 && !(cRow[i]! >= 0 && cw[cRow[i]!]! > 0)) return false;
    return true;
  };
  const measurable = LATENCY_METRICS.filter((m) => b.present[m] > 0 && c.present[m] > 0);
  const pairedMetrics = measurable.filter(paired);
  // The resampled units: baseline rows with any paired figure, in journal order.
  const units: number[] = [];
  for (let i = 0; i < nb; i++) if (pairedMetrics.some((m) => b.weights[m][i]! > 0)) units.push(i);
  const asked = measurable.filter((m) => s.latencyMetrics.includes(m));
  const askedPaired = asked.filter((m) => pairedMetrics.includes(m));
  const series = askedPaired.map((metric) => {
    const column = (cols: LatencyColumns, row: (i: number) => number): WeightedSamples => ({
      values: units.map((i) => cols.values[metric][row(i)]!),
      weights: units.map((i) => cols.weights[metric][row(i)]!),
    });
    return { baseline: column(b, (i) => i), compressed: column(c, (i) => cRow[i]!) };
  });
  const boot = { resamples: s.resamples, confidence: s.confidence };
  const pairedReductions = series.length ? latencyReductionsPaired(series, { ...boot, seed: s.seed + 10 }) : [];
  return asked.map((metric): LatencyReduction => {
    const k = askedPaired.indexOf(metric);
    // LATENCY_METRICS' order fixes an unpaired figure's seed, whichever figures were asked.
    const reduction = k >= 0
      ? pairedReductions[k]!
      : latencyReductionUnpaired(presentSamples(b, metric), presentSamples(c, metric), { ...boot, seed: s.seed + 10 + LATENCY_METRICS.indexOf(metric) });
    return {
      metric,
      statistic: 'mean',
      baselineMs: pooledMean(b, metric),
      compressedMs: pooledMean(c, metric),
      reduction: toInterval(reduction, s.confidence, 'bootstrap-percentile'),
      paired: k >= 0,
      n: { baseline: b.present[metric], compressed: c.present[metric] },
    };
  });
}

function compareMemory(b: RunBasics, c: RunBasics): MemoryReduction[] {
  return MEMORY_PARTS.map((part): MemoryReduction => {
    const bb = b.memory.find((m) => m.part === part)?.bytes ?? null;
    const cb = c.memory.find((m) => m.part === part)?.bytes ?? null;
    const reduction = bb !== null && cb !== null ? relativeReduction(bb, cb) : null;
    const missing = [bb === null ? b.id : null, cb === null ? c.id : null].filter(Boolean);
    return {
      part,
      baselineBytes: bb,
      compressedBytes: cb,
      reduction,
      ...(missing.length ? { note: `not available for ${missing.join(' and ')}` } : {}),
    };
  });
}

// ---------- points and notes ----------

function accuracyMemoryPoint(r: RunReport): AccuracyMemoryPoint {
  const bytes = (part: string) => r.memory.find((m) => m.part === part)?.bytes ?? null;
  return {
    run: r.id,
    label: r.label,
    accuracy: r.accuracy.overall.accuracy,
    weightsBytes: bytes('weights'),
    processPeakBytes: bytes('processPeak'),
    gpuProcessPeakBytes: bytes('gpuProcessPeak'),
  };
}


export const DEFINITIONS: string[] = [
  'Accuracy = correct / scored answers. Unparseable and truncated answers are scored wrong and counted apart; failed requests are not scored (shown as errors). Interval: 95% Wilson score interval.',
  'Several samples per question: accuracy is pass@1 (mean correctness over samples, then over questions) with a percentile bootstrap interval over questions; majority vote shown beside it (one answer per question; ties: the letter that reached the top count first, counted as ties).',
  'Paired comparison on questions scored in both runs: flips (right->wrong, wrong->right), McNemar exact two-sided binomial test on the discordant pairs (mid-p and continuity-corrected chi-square shown too), accuracy difference and retention (compressed/baseline) with paired percentile bootstrap intervals over questions.',
  'Latency (client clock, ms): TTFT = first chunk with any text (reasoning included); TTFO = first answer chunk after reasoning; E2EL = start to last text chunk; TPOT = (E2EL - TTFT)/(N - 1) when N > 1, N = output tokens whose text streamed (a server counts the stop token but sends no text for it: left out) (otherwise vLLM definition; guidellm calls this ITL); ITL = gaps between chunks pooled over requests. Percentiles: linear interpolation (numpy default); std with ddof=0.',
  'Latency reduction = 1 - mean(compressed)/mean(baseline), 95% percentile bootstrap over requests: paired when both runs answered the same (item, sample) requests, otherwise resampled within each run. Failed requests, warm-up requests and results served from the response cache are excluded from every latency figure.',
  `Memory is reported in parts: weights (tensor bytes of the model file), resident weights (the model buffers the engine states it allocated, which can exceed the file when weights are repacked), context (KV cache from settings), process peak (peak RSS / VmHWM), process RSS at the end, GPU per-process peak, device-wide GPU (context only). Reduction = 1 - compressed/baseline per part; one measurement per run, so no interval. Printed in ${BYTE_UNIT_POLICY}, in the largest unit in which the figure is at least 1; CSV and JSON keep bytes.`,
  `Claim verdicts, with the 95% interval [lo, hi], the claim c and the tolerance t in percentage points (the band c ± t): ${VERDICT_DEFINITIONS.map(([v, d]) => `"${v}": ${d}`).join('; ')}. A memory claim is judged on each measured part (weights file, resident weights, KV cache, peak process memory, ...) on its own; the claim's verdict is the part its claim file names.`,
];

export function buildNotes(loaded: LoadedRun[], runs: RunBasics[], pairs: Array<[number, number]>): ReportNote[] {
  const notes: ReportNote[] = DEFINITIONS.map((text) => ({ kind: 'definition', text }));
  runs.forEach((r, i) => {
    if (isTinyOrSmokeRun(loaded[i]!.manifest)) {
      notes.push({ kind: 'warning', text: `Run "${r.id}" is a smoke test (tiny random model or smoke-test suite "${r.suite.name}"): its accuracy is chance level and its latency and memory say nothing about the paper's 7B model. Use it to check the pipeline only.` });
    }
    for (const w of r.warnings) notes.push({ kind: 'warning', text: `Run "${r.id}": ${w}` });
    if (loaded[i]!.manifest.suite.answerConstraint === 'letter') {
      notes.push({ kind: 'info', text: `Run "${r.id}": replies were constrained to "Answer: <letter>" by a grammar, so its accuracy measures the model's choice among the option letters, not its ability to follow the answer format.` });
    }
    if (loaded[i]!.manifest.suite.scoring === 'likelihood') {
      notes.push({ kind: 'info', text: `Run "${r.id}": scored by likelihood: nothing was generated; each answer is the option letter with the highest log-probability after the prompt, and its times are prompt evaluation only (not inference latency).` });
    }
    const skipped = loaded[i]!.manifest.suite.skipped;
    if (skipped) {
      notes.push({ kind: 'warning', text: `Run "${r.id}": ${skipped.total} invalid dataset record(s) were skipped (--skip-invalid) and are in no figure; manifest.json (suite.skipped) and summary.md list them.` });
    }
    const errors = r.accuracy.overall.errors;
    if (errors) notes.push({ kind: 'warning', text: `Run "${r.id}": ${errors} request(s) failed and are not scored; accuracy is over the ${r.accuracy.overall.scored} scored answer(s).` });
    const cached = r.latency.cachedExcluded ?? 0;
    if (cached) {
      notes.push({ kind: 'info', text: `Run "${r.id}": ${cached} result(s) were served from the response cache: scored, but left out of every latency figure (distributions, throughput, reductions), since their timings are from the run that first generated them.` });
    }
  });
  for (const [b, c] of pairs) {
    const mb = loaded[b]!.manifest, mc = loaded[c]!.manifest;
    const diffs: string[] = [];
    if (mb.suite.datasetHash !== mc.suite.datasetHash) diffs.push('dataset (hash differs)');
    if (JSON.stringify(mb.sampling) !== JSON.stringify(mc.sampling)) diffs.push('sampling parameters');
    if (mb.seed !== mc.seed) diffs.push('seed');
    if (mb.samples !== mc.samples) diffs.push('samples per question');
    if (JSON.stringify(mb.load) !== JSON.stringify(mc.load)) diffs.push('load profile');
    const ctxB = mb.model.contextSize, ctxC = mc.model.contextSize;
    if (ctxB !== undefined && ctxC !== undefined && ctxB !== ctxC) diffs.push(`context size (${ctxB} vs ${ctxC}: memory parts are not comparable)`);
    if (diffs.length) {
      notes.push({ kind: 'warning', text: `"${runs[b]!.id}" and "${runs[c]!.id}" differ in ${diffs.join(', ')}: the comparison is not like for like.` });
    }
  }
  return notes;
}
