// The CI gate: does the current run regress against a stored baseline run by more than the user allows,
// beyond what noise explains? Every statistic comes from the report builder (buildPairFigures: the report's
// first pair), so the gate's figures are the same numbers report.md shows for that pair; only the pass/fail
// rules live here.
//
// The rules (also printed with every result, and in docs/ci.md):
// - accuracy: FAIL when the point estimate of the drop (baseline - current, in points) is larger than
//   --max-drop AND the drop is statistically significant at 1 - confidence. A drop larger than the
//   threshold that noise could explain is a WARN (exit 0, said loudly). Anything else passes.
//   Significance: paired runs with one sample per question use McNemar's exact test (p < alpha);
//   paired runs with several samples (pass@1) use the paired bootstrap interval (upper bound < 0);
//   unpaired runs use Newcombe's hybrid score interval (upper bound < 0).
//   We test "is there a real drop at all" and let the threshold say how big a drop matters. Requiring
//   proof that the drop exceeds the threshold (upper bound < -threshold) would wave most real
//   regressions through on suites of a few hundred questions.
// - completeness: FAIL when the current run did not finish (interrupted, failed, incomplete, running)
//   or scored fewer of the baseline's questions than --min-coverage (default: all), unless
//   --allow-partial (then a WARN): a run killed at 10 of 60 questions is no evidence about the other 50.
// - journal: FAIL when either run's journal disagrees with its manifest (journal-check.ts), always.
// - error rate: FAIL when more than --max-error-rate of the current run's requests failed (unscored),
//   because accuracy over the survivors is then not trustworthy.
// - latency / memory (optional): the same shape as accuracy for latency (point increase over the
//   threshold AND the bootstrap interval of the increase above 0); memory is one measurement per run,
//   so it fails on the point increase alone. A requested gate that cannot be measured fails.
import { InputError } from '../core/errors.js';
import { buildPairFigures, DEFAULT_SEED } from '../report/build.js';
import { pValue } from '../report/format.js';
import { LATENCY_METRICS, MEMORY_PARTS, type LatencyMetric, type MemoryPartName, type PairComparison, type ReportNote } from '../report/model.js';
import type { LoadedRun, ParseResultsOptions } from '../core/run-folder.js';
import { checkJournal } from '../core/journal-check.js';
import { DEFAULT_RESAMPLES } from '../stats/bootstrap.js';
import { wilsonInterval } from '../stats/proportion.js';
import { newcombeDifference, twoProportionP } from './unpaired.js';
import { portablePath } from '../core/portable-path.js';
import { LATENCY_TABLE, MEMORY_TABLE } from '../metrics/table.js';
import { formatBytes } from '../metrics/units.js';

export const GATE_SCHEMA_VERSION = 'medeval.gate/1' as const;
export const DEFAULT_MAX_ERROR_RATE = 0.05;

export type Pairing = 'paired' | 'unpaired';

export interface GateOptions {
  baseline: LoadedRun;
  current: LoadedRun;
  /** Largest tolerated accuracy drop, in percentage points (2 = 2 points). */
  maxAccuracyDropPoints: number;
  /** Confidence of every interval; the significance level is 1 - confidence. Default 0.95. */
  confidence?: number;
  /** Bootstrap seed (the same seed and runs always give the same result). */
  seed?: number;
  resamples?: number;
  /** Largest tolerated share of failed (unscored) requests in the current run, 0..1. Default 0.05. */
  maxErrorRate?: number;
  /** Latency gate: largest tolerated increase of the mean, in percent. Off when undefined. */
  maxLatencyIncreasePercent?: number;
  latencyMetric?: LatencyMetric;
  /** Memory gate: largest tolerated increase of one memory part, in percent. Off when undefined. */
  maxMemoryIncreasePercent?: number;
  memoryPart?: MemoryPartName;
  /** "auto" (default): paired when one run's questions contain the other's, else unpaired. */
  pairing?: 'auto' | Pairing;
  /** Treat WARN (over the threshold but not significant) as FAIL: strict gating on the point estimate. */
  failOnWarn?: boolean;
  /** Smallest share of the baseline's questions the current run must have scored, 0..1. Default 1 (all). */
  minCoverage?: number;
  /** Let an unfinished current run, or one below minCoverage, pass with a WARN instead of failing. */
  allowPartial?: boolean;
}

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface GateCheck {
  id: 'accuracy' | 'error-rate' | 'latency' | 'memory' | 'run-status' | 'coverage' | 'journal';
  name: string;
  status: CheckStatus;
  /** Accuracy: change current - baseline in points; error rate: percent; latency/memory: increase in percent. */
  measured: number | null;
  unit: 'points' | 'percent';
  /** Interval of `measured`, same unit; null when there is no sampling error to show or nothing measured. */
  interval: { lower: number; upper: number; confidence: number; method: string } | null;
  p: number | null;
  /** The test behind `p` (and behind `significant` where it decides). */
  test: string | null;
  /** Whether the change is beyond noise at 1 - confidence; null when not applicable. */
  significant: boolean | null;
  /** Largest tolerated drop (points) / error rate (percent) / increase (percent). */
  threshold: number;
  /** The figures compared, in their natural unit (accuracy as a fraction, ms, bytes, error rate). */
  baselineValue: number | null;
  currentValue: number | null;
  /** What was found, in words, for checks that are not a number (run status, journal). */
  detail?: string;
  reason: string;
}

export interface GateRunSide {
  label: string;
  folder: string | null;
  status: string;
  /** Distinct questions with at least one record. */
  items: number;
  /** Records (question x sample). */
  requests: number;
  /** Records whose request failed (not scored). */
  errors: number;
  errorRate: number | null;
  /** Questions with at least one scored sample. */
  scoredItems: number;
  /** Accuracy over its own scored questions (pass@1 with several samples); null when none. */
  accuracy: number | null;
}

export interface GateCounts {
  /** Questions scored in both runs (the base of the paired figures). */
  itemsInCommon: number;
  onlyInBaseline: number;
  onlyInCurrent: number;
  excludedForErrors: number;
  bothRight: number;
  bothWrong: number;
  rightToWrong: number;
  wrongToRight: number;
}

export interface GateResult {
  schema: typeof GATE_SCHEMA_VERSION;
  verdict: 'pass' | 'fail';
  /** One line saying why: every failing check's reason, else every warning, else the accuracy reason. */
  summary: string;
  pairing: Pairing;
  baseline: GateRunSide;
  current: GateRunSide;
  counts: GateCounts;
  checks: GateCheck[];
  /** The rules applied, in words (printed in every output). */
  rules: string[];
  settings: {
    confidence: number;
    seed: number;
    resamples: number;
    maxAccuracyDropPoints: number;
    maxErrorRate: number;
    maxLatencyIncreasePercent: number | null;
    latencyMetric: LatencyMetric;
    maxMemoryIncreasePercent: number | null;
    memoryPart: MemoryPartName;
    failOnWarn: boolean;
    minCoverage: number;
    allowPartial: boolean;
  };
  warnings: string[];
}

/**
 * How the gate reads a run folder (readRunFolder's options): only the fields its figures read, and the
 * timings only when a latency check was asked for. The same result as reading every field
 * (test/gate/read-sameness.test.ts), in a fraction of the memory.
 */
export function gateReadOptions(opts: Pick<GateOptions, 'maxLatencyIncreasePercent'>): ParseResultsOptions {
  return { scoresOnly: true, omitTimings: opts.maxLatencyIncreasePercent === undefined };
}

/** Floating-point slack for "larger than the threshold" (a 2.0-point drop does not exceed 2). */
const EPS = 1e-9;

export function evaluateGate(opts: GateOptions): GateResult {
  const settings = resolveSettings(opts);
  const { baseline, current } = opts;
  const baseTally = tally(baseline);
  const currTally = tally(current);
  const baseSide = baseTally.side;
  const currSide = currTally.side;
  if (baseSide.scoredItems === 0) {
    throw new InputError('the baseline run has no scored answers, so there is nothing to compare against', { file: baseline.dir ?? baseline.manifest.label },
      'pass a finished baseline run folder whose requests succeeded');
  }
  const pairing = choosePairing(baseTally, currTally, opts.pairing ?? 'auto');
  // The report's figures for this pair, without what only a report shows (per-run latency, timelines).
  const figures = buildPairFigures({
    baseline,
    compressed: current,
    seed: settings.seed,
    confidence: settings.confidence,
    resamples: settings.resamples,
    // Only the latency comparison a gate was asked for.
    latencyMetrics: settings.maxLatencyIncreasePercent === null ? [] : [settings.latencyMetric],
  });
  const cmp = figures.comparison;
  const multiSample = figures.runs.some((r) => r.accuracy.majorityVote !== null);

  const checks: GateCheck[] = [
    pairing === 'paired'
      ? pairedAccuracyCheck(cmp, multiSample, settings)
      : unpairedAccuracyCheck(baseTally, currTally, settings),
    errorRateCheck(currSide, settings),
  ];
  if (settings.maxLatencyIncreasePercent !== null) checks.push(latencyCheck(cmp, settings.latencyMetric, settings.maxLatencyIncreasePercent, settings.confidence));
  if (settings.maxMemoryIncreasePercent !== null) checks.push(memoryCheck(cmp, settings.memoryPart, settings.maxMemoryIncreasePercent));
  // Whether the runs can be gated on at all comes last, so the figures above keep their places.
  checks.push(runStatusCheck(currSide, settings), coverageCheck(baseTally, currTally, settings), journalCheck(baseline, current));

  const warnings = gateWarnings(figures.notes, baseSide, settings.maxErrorRate, pairing, cmp);
  const failed = (c: GateCheck) => checkFails(c, settings.failOnWarn);
  const verdict = checks.some(failed) ? 'fail' : 'pass';
  return {
    schema: GATE_SCHEMA_VERSION,
    verdict,
    summary: summaryLine(checks, failed),
    pairing,
    baseline: baseSide,
    current: currSide,
    counts: {
      itemsInCommon: cmp.itemsInCommon,
      onlyInBaseline: cmp.onlyInBaseline,
      onlyInCurrent: cmp.onlyInCompressed,
      excludedForErrors: cmp.excludedForErrors,
      bothRight: cmp.bothRight,
      bothWrong: cmp.bothWrong,
      rightToWrong: cmp.rightToWrong.length,
      wrongToRight: cmp.wrongToRight.length,
    },
    checks,
    rules: gateRules(settings),
    settings,
    warnings,
  };
}

type Settings = GateResult['settings'];

/** Whether a check fails the gate: FAIL always, WARN only with failOnWarn. */
export function checkFails(c: GateCheck, failOnWarn: boolean): boolean {
  return c.status === 'fail' || (failOnWarn && c.status === 'warn');
}

function resolveSettings(o: GateOptions): Settings {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new InputError(`expected ${want}, got ${String(value)}`, { field }, undefined);
  };
  const confidence = o.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) bad('confidence', confidence, 'a confidence strictly between 0 and 1 (e.g. 0.95)');
  if (!(Number.isFinite(o.maxAccuracyDropPoints) && o.maxAccuracyDropPoints >= 0 && o.maxAccuracyDropPoints <= 100)) {
    bad('--max-drop', o.maxAccuracyDropPoints, 'a drop in percentage points between 0 and 100 (2 = two points)');
  }
  const maxErrorRate = o.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE;
  const minCoverage = o.minCoverage ?? 1;
  if (!(minCoverage >= 0 && minCoverage <= 1)) bad('--min-coverage', minCoverage, "a share of the baseline's questions between 0 and 1 (1 = all, 0.9 = 90%)");
  if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) bad('--max-error-rate', maxErrorRate, 'a share between 0 and 1 (0.05 = 5%)');
  for (const [field, v] of [['--max-latency-increase', o.maxLatencyIncreasePercent], ['--max-memory-increase', o.maxMemoryIncreasePercent]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(field, v, 'a non-negative percentage (10 = 10%)');
  }
  const latencyMetric = o.latencyMetric ?? 'e2eMs';
  if (!LATENCY_METRICS.includes(latencyMetric)) bad('--latency-metric', latencyMetric, `one of ${LATENCY_METRICS.join(', ')}`);
  const memoryPart = o.memoryPart ?? 'weights';
  if (!MEMORY_PARTS.includes(memoryPart)) bad('--memory-part', memoryPart, `one of ${MEMORY_PARTS.join(', ')}`);
  const resamples = o.resamples ?? DEFAULT_RESAMPLES;
  if (!(Number.isInteger(resamples) && resamples > 0)) bad('resamples', resamples, 'a positive whole number');
  return {
    confidence,
    seed: o.seed ?? DEFAULT_SEED,
    resamples,
    maxAccuracyDropPoints: o.maxAccuracyDropPoints,
    maxErrorRate,
    maxLatencyIncreasePercent: o.maxLatencyIncreasePercent ?? null,
    latencyMetric,
    maxMemoryIncreasePercent: o.maxMemoryIncreasePercent ?? null,
    memoryPart,
    failOnWarn: o.failOnWarn ?? false,
    minCoverage,
    allowPartial: o.allowPartial ?? false,
  };
}

// ---------- the two runs ----------

/** What the gate's own checks read of one run, from one pass over its records. */
interface RunTally {
  side: GateRunSide;
  /** Per question (first-seen order): its scored and correct samples. */
  byItem: Map<string, { scored: number; correct: number }>;
  /** Per-question pass@1 (mean over scored samples) of every question with a scored sample, in that order. */
  scores: number[];
  /** Questions with a record that was scored and carries no error (coverage). */
  covered: Set<string>;
}

function tally(run: LoadedRun): RunTally {
  const byItem = new Map<string, { scored: number; correct: number }>();
  const covered = new Set<string>();
  let errors = 0;
  for (const r of run.results) {
    let s = byItem.get(r.itemId);
    if (!s) byItem.set(r.itemId, (s = { scored: 0, correct: 0 }));
    if (r.correct === null) {
      errors++;
      continue;
    }
    s.scored++;
    if (r.correct) s.correct++;
    if (r.error == null) covered.add(r.itemId);
  }
  const scores: number[] = [];
  for (const s of byItem.values()) if (s.scored > 0) scores.push(s.correct / s.scored);
  const n = run.results.length;
  return {
    side: {
      label: run.manifest.label,
      folder: run.dir === null ? null : portablePath(run.dir),
      status: run.manifest.status,
      items: byItem.size,
      requests: n,
      errors,
      errorRate: n ? errors / n : null,
      scoredItems: scores.length,
      accuracy: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
    },
    byItem,
    scores,
    covered,
  };
}

/**
 * Paired when one run's questions contain the other's (same questions, or one run is a subset, e.g.
 * --limit): the comparison is then on the questions both scored. Partly overlapping runs (different
 * samples of a bank) are compared as independent samples.
 */
function choosePairing(baseline: RunTally, current: RunTally, wanted: 'auto' | Pairing): Pairing {
  const b = baseline.byItem, c = current.byItem;
  let common = 0;
  for (const id of c.keys()) if (b.has(id)) common++;
  if (wanted === 'paired' && common === 0) {
    throw new InputError('pairing "paired" was asked for, but the two runs share no question', { field: '--pairing' },
      'use --pairing auto (or unpaired), or gate against a baseline run on the same suite');
  }
  if (wanted !== 'auto') return wanted;
  return common > 0 && (common === b.size || common === c.size) ? 'paired' : 'unpaired';
}

// ---------- checks ----------

const points = (fraction: number) => fraction * 100;
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const signed = (x: number, digits = 1) => (x > 0 ? '+' : '') + x.toFixed(digits);
const changeWords = (percent: number) => (percent > EPS ? `rose ${fmt(percent)}%` : percent < -EPS ? `fell ${fmt(-percent)}%` : 'unchanged');
/** "p = 0.0123 < 0.05", "p < 0.001 (alpha 0.05)", "p = 0.18" */
function pText(p: number, alpha?: number): string {
  if (p < 0.001) return `p < 0.001${alpha !== undefined ? ` (alpha ${fmt(alpha, 2)})` : ''}`;
  return `p = ${pValue(p)}${alpha !== undefined ? ` ${p < alpha ? '<' : '>='} ${fmt(alpha, 2)}` : ''}`;
}
const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

function accuracyDecision(
  changePoints: number,
  significant: boolean,
  threshold: number,
  evidence: string,
  context: string,
): { status: CheckStatus; reason: string } {
  const drop = -changePoints;
  if (drop > threshold + EPS) {
    if (significant) {
      return { status: 'fail', reason: `accuracy fell ${fmt(drop)} points ${context}, more than the allowed ${fmt(threshold)}, and the drop is significant (${evidence})` };
    }
    return { status: 'warn', reason: `accuracy fell ${fmt(drop)} points ${context}, more than the allowed ${fmt(threshold)}, but the drop is not significant (${evidence}): it cannot be told apart from noise at this sample size; run more questions to decide` };
  }
  if (drop > EPS) return { status: 'pass', reason: `accuracy fell ${fmt(drop)} points ${context}, within the allowed ${fmt(threshold)} (${evidence})` };
  if (drop < -EPS) return { status: 'pass', reason: `accuracy rose ${fmt(-drop)} points ${context} (${evidence})` };
  return { status: 'pass', reason: `accuracy unchanged ${context} (${evidence})` };
}

function pairedAccuracyCheck(cmp: PairComparison, multiSample: boolean, s: Settings): GateCheck {
  const alpha = 1 - s.confidence;
  const threshold = s.maxAccuracyDropPoints;
  const name = 'accuracy (paired)';
  const n = cmp.itemsInCommon;
  if (n === 0 || !cmp.accuracyDifference || cmp.baselineAccuracy === null || cmp.compressedAccuracy === null) {
    return {
      id: 'accuracy', name, status: 'fail', measured: null, unit: 'points', interval: null, p: null, test: null, significant: null,
      threshold, baselineValue: cmp.baselineAccuracy, currentValue: cmp.compressedAccuracy,
      reason: 'no question was scored in both runs (every shared question failed in at least one run), so accuracy cannot be compared',
    };
  }
  const diff = cmp.accuracyDifference;
  const change = points(diff.estimate);
  const interval = { lower: points(diff.lower), upper: points(diff.upper), confidence: s.confidence, method: 'paired bootstrap percentile over questions' };
  const p = cmp.mcnemar?.exactP ?? 1;
  const ci = `${Math.round(s.confidence * 100)}% CI of the change [${signed(interval.lower)}, ${signed(interval.upper)}] points`;
  let significant: boolean, evidence: string, test: string;
  if (multiSample) {
    significant = interval.upper < 0;
    test = 'paired bootstrap interval of the pass@1 change (McNemar p on majority vote shown for reference)';
    evidence = `${ci} ${significant ? 'lies below 0' : 'includes 0'}; McNemar on majority vote ${pText(p)}`;
  } else {
    significant = p < alpha && diff.estimate < 0;
    test = 'McNemar exact two-sided test on the discordant pairs';
    evidence = `McNemar exact ${pText(p, alpha)}, ${cmp.rightToWrong.length} right->wrong vs ${cmp.wrongToRight.length} wrong->right; ${ci}`;
  }
  const context = `(${fmt(points(cmp.baselineAccuracy))}% -> ${fmt(points(cmp.compressedAccuracy))}% on ${plural(n, 'common question')})`;
  const { status, reason } = accuracyDecision(change, significant, threshold, evidence, context);
  return {
    id: 'accuracy', name, status, measured: change, unit: 'points', interval, p, test, significant,
    threshold, baselineValue: cmp.baselineAccuracy, currentValue: cmp.compressedAccuracy, reason,
  };
}

function unpairedAccuracyCheck(baseline: RunTally, current: RunTally, s: Settings): GateCheck {
  const b = baseline.side, c = current.side;
  const threshold = s.maxAccuracyDropPoints;
  const name = 'accuracy (unpaired)';
  if (c.scoredItems === 0 || c.accuracy === null) {
    return {
      id: 'accuracy', name, status: 'fail', measured: null, unit: 'points', interval: null, p: null, test: null, significant: null,
      threshold, baselineValue: b.accuracy, currentValue: null, reason: 'the current run has no scored answers, so accuracy cannot be compared',
    };
  }
  const bScores = baseline.scores;
  const cScores = current.scores;
  const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
  const diff = newcombeDifference(sum(bScores), bScores.length, sum(cScores), cScores.length, s.confidence);
  const p = twoProportionP(sum(bScores), bScores.length, sum(cScores), cScores.length);
  const change = points(diff.estimate);
  const interval = { lower: points(diff.lower), upper: points(diff.upper), confidence: s.confidence, method: 'Newcombe hybrid score (from two Wilson intervals)' };
  const significant = interval.upper < 0;
  const evidence = `${Math.round(s.confidence * 100)}% Newcombe interval of the change [${signed(interval.lower)}, ${signed(interval.upper)}] points ${significant ? 'lies below 0' : 'includes 0'}; two-proportion z test ${pText(p)}`;
  const context = `(${fmt(points(b.accuracy!))}% on ${plural(bScores.length, 'question')} -> ${fmt(points(c.accuracy))}% on ${plural(cScores.length, 'question')}, runs not on the same questions)`;
  const { status, reason } = accuracyDecision(change, significant, threshold, evidence, context);
  return {
    id: 'accuracy', name, status, measured: change, unit: 'points', interval, p,
    test: 'Newcombe hybrid score interval of a difference of independent proportions (decides); pooled two-proportion z test (p shown)',
    significant, threshold, baselineValue: b.accuracy, currentValue: c.accuracy, reason,
  };
}

function errorRateCheck(c: GateRunSide, s: Settings): GateCheck {
  const threshold = points(s.maxErrorRate);
  const base = { id: 'error-rate' as const, name: 'failed requests (current run)', unit: 'percent' as const, p: null, test: null, significant: null, threshold, baselineValue: null };
  if (c.requests === 0 || c.errorRate === null) {
    return { ...base, status: 'fail', measured: null, interval: null, currentValue: null, reason: 'the current run has no results at all' };
  }
  const w = wilsonInterval(c.errors, c.requests, s.confidence);
  const interval = { lower: points(w.lower), upper: points(w.upper), confidence: s.confidence, method: 'wilson' };
  const rate = points(c.errorRate);
  const tooMany = c.errorRate > s.maxErrorRate + EPS;
  const what = `${c.errors} of ${c.requests} requests failed (${fmt(rate)}%)`;
  return {
    ...base,
    status: tooMany ? 'fail' : 'pass',
    measured: rate,
    interval,
    currentValue: c.errorRate,
    reason: tooMany
      ? `${what}, more than the allowed ${fmt(threshold)}%: accuracy over the answers that did come back is not trustworthy (failures are rarely random); fix the server, then medeval run ... --resume re-runs exactly the failed requests`
      : `${what}, within the allowed ${fmt(threshold)}%`,
  };
}

const PARTIAL_HINT = 'finish it with `medeval run ... --resume`, or pass --allow-partial to gate on what it has';

/** A current run that did not finish says nothing about the questions it did not reach. */
function runStatusCheck(c: GateRunSide, s: Settings): GateCheck {
  const base = { id: 'run-status' as const, name: 'run finished (current run)', measured: null, unit: 'percent' as const, interval: null, p: null, test: null, significant: null,
    threshold: 0, baselineValue: null, currentValue: null, detail: c.status };
  if (c.status === 'finished') return { ...base, status: 'pass', reason: 'the current run finished' };
  const what = `the current run's status is "${c.status}", not "finished"${c.status === 'running' ? ' (it was killed, or is still going)' : ''}`;
  return s.allowPartial
    ? { ...base, status: 'warn', reason: `${what}; allowed by --allow-partial` }
    : { ...base, status: 'fail', reason: `${what}: ${PARTIAL_HINT}` };
}

/** Share of the baseline's questions the current run scored (errors do not count as covered). */
function coverageCheck(baseline: RunTally, current: RunTally, s: Settings): GateCheck {
  const baseIds = baseline.byItem;
  const scored = current.covered;
  let covered = 0;
  for (const id of baseIds.keys()) if (scored.has(id)) covered++;
  const share = baseIds.size ? covered / baseIds.size : 0;
  const detail = `${covered} of ${baseIds.size} baseline questions`;
  const base = { id: 'coverage' as const, name: "baseline questions covered (current run)", measured: points(share), unit: 'percent' as const, interval: null, p: null, test: null,
    significant: null, threshold: points(s.minCoverage), baselineValue: baseIds.size, currentValue: covered, detail };
  const what = `the current run scored ${detail} (${fmt(points(share))}%)`;
  if (share + EPS >= s.minCoverage) return { ...base, status: 'pass', reason: `${what}, at least the required ${fmt(points(s.minCoverage))}%` };
  const short = `${what}, fewer than the required ${fmt(points(s.minCoverage))}% (--min-coverage): the other ${baseIds.size - covered} question(s) are not compared`;
  return s.allowPartial
    ? { ...base, status: 'warn', reason: `${short}; allowed by --allow-partial` }
    : { ...base, status: 'fail', reason: `${short}; ${PARTIAL_HINT}, or lower --min-coverage` };
}

/** A journal that disagrees with its manifest (edited, damaged, forged) is never gated on. */
function journalCheck(baseline: LoadedRun, current: LoadedRun): GateCheck {
  const problemsOf = (run: LoadedRun) => run.journalProblems ?? checkJournal(run.manifest, run.results).problems;
  const problems = [
    ...problemsOf(baseline).map((p) => `baseline: ${p}`),
    ...problemsOf(current).map((p) => `current: ${p}`),
  ];
  const base = { id: 'journal' as const, name: 'journals match their manifests', measured: null, unit: 'percent' as const, interval: null, p: null, test: null, significant: null,
    threshold: 0, baselineValue: null, currentValue: null, detail: problems.length ? `${plural(problems.length, 'problem')}` : 'consistent' };
  if (!problems.length) return { ...base, status: 'pass', reason: 'both journals agree with their manifests (record counts, status, question ids, correctness recomputed from gold and answer)' };
  return { ...base, status: 'fail', reason: `a run folder does not match its manifest, so its figures cannot be trusted (not lifted by --allow-partial): ${problems.join('; ')}` };
}

function latencyCheck(cmp: PairComparison, metric: LatencyMetric, threshold: number, confidence: number): GateCheck {
  const short = LATENCY_TABLE[metric].short;
  const name = `latency (mean ${short})`;
  const lat = cmp.latency.find((l) => l.metric === metric);
  if (!lat) {
    return {
      id: 'latency', name, status: 'fail', measured: null, unit: 'percent', interval: null, p: null, test: null, significant: null, threshold,
      baselineValue: null, currentValue: null,
      reason: `a latency gate was asked for, but mean ${short} is not measurable: one of the runs has no successful timed request with this figure`,
    };
  }
  // The report stores a reduction (1 - current/baseline); the gate speaks of an increase.
  const increase = -points(lat.reduction.estimate);
  const interval = { lower: -points(lat.reduction.upper), upper: -points(lat.reduction.lower), confidence, method: `bootstrap percentile over requests (${lat.paired ? 'paired' : 'unpaired'})` };
  const significant = interval.lower > 0;
  const ci = `${Math.round(confidence * 100)}% CI [${signed(interval.lower)}%, ${signed(interval.upper)}%]`;
  const context = `(${fmt(lat.baselineMs)} ms -> ${fmt(lat.compressedMs)} ms over ${lat.n.baseline} / ${lat.n.compressed} requests)`;
  let status: CheckStatus, reason: string;
  if (increase > threshold + EPS) {
    status = significant ? 'fail' : 'warn';
    reason = significant
      ? `mean ${short} rose ${fmt(increase)}% ${context}, more than the allowed ${fmt(threshold)}%, and the increase is significant (${ci} lies above 0)`
      : `mean ${short} rose ${fmt(increase)}% ${context}, more than the allowed ${fmt(threshold)}%, but the ${ci} includes 0: not told apart from noise`;
  } else {
    status = 'pass';
    reason = `mean ${short} ${changeWords(increase)} ${context}, within the allowed ${fmt(threshold)}% increase (${ci})`;
  }
  return {
    id: 'latency', name, status, measured: increase, unit: 'percent', interval, p: null,
    test: 'percentile bootstrap of the ratio of means', significant, threshold,
    baselineValue: lat.baselineMs, currentValue: lat.compressedMs, reason,
  };
}

function memoryCheck(cmp: PairComparison, part: MemoryPartName, threshold: number): GateCheck {
  const partName = MEMORY_TABLE[part].long;
  const name = `memory (${partName})`;
  const mem = cmp.memory.find((m) => m.part === part);
  const base = { id: 'memory' as const, name, unit: 'percent' as const, interval: null, p: null, test: null, significant: null, threshold,
    baselineValue: mem?.baselineBytes ?? null, currentValue: mem?.compressedBytes ?? null };
  if (!mem || mem.reduction === null) {
    return { ...base, status: 'fail', measured: null,
      reason: `a memory gate was asked for, but ${partName} is not measurable (${mem?.note ?? 'no figure'}); pick another part with --memory-part` };
  }
  const increase = -points(mem.reduction);
  const context = `(${formatBytes(mem.baselineBytes)} -> ${formatBytes(mem.compressedBytes)}; one measurement per run, no interval)`;
  const tooMuch = increase > threshold + EPS;
  return {
    ...base,
    status: tooMuch ? 'fail' : 'pass',
    measured: increase,
    reason: tooMuch
      ? `${partName} rose ${fmt(increase)}% ${context}, more than the allowed ${fmt(threshold)}%`
      : `${partName} ${changeWords(increase)} ${context}, within the allowed ${fmt(threshold)}% increase`,
  };
}

// ---------- words ----------

/** The rules as applied with these settings, for every output. */
export function gateRules(s: Settings): string[] {
  const alpha = fmt(1 - s.confidence, 2);
  const rules = [
    `Accuracy: FAIL when the drop (baseline - current, percentage points) is larger than ${fmt(s.maxAccuracyDropPoints)} AND significant at alpha = ${alpha}; WARN (exit 0) when it is larger but not significant; otherwise PASS.`,
    'Significance: same questions with one sample each: McNemar exact two-sided test on the right->wrong vs wrong->right flips; several samples (pass@1): the paired bootstrap interval of the change lies below 0; different questions: Newcombe hybrid score interval of the difference of two proportions lies below 0.',
    `Failed requests: FAIL when more than ${fmt(points(s.maxErrorRate))}% of the current run's requests failed (not scored).`,
  ];
  if (s.maxLatencyIncreasePercent !== null) {
    rules.push(`Latency: FAIL when mean ${s.latencyMetric} rose more than ${fmt(s.maxLatencyIncreasePercent)}% AND the bootstrap interval of the increase lies above 0; WARN when larger but not significant.`);
  }
  if (s.maxMemoryIncreasePercent !== null) {
    rules.push(`Memory: FAIL when ${s.memoryPart} rose more than ${fmt(s.maxMemoryIncreasePercent)}% (one measurement per run, no interval).`);
  }
  rules.push(s.allowPartial
    ? `Completeness: a current run that did not finish, or scored fewer than ${fmt(points(s.minCoverage))}% of the baseline's questions, is a WARN (--allow-partial).`
    : `Completeness: FAIL when the current run did not finish (status other than "finished") or scored fewer than ${fmt(points(s.minCoverage))}% of the baseline's questions (--min-coverage); --allow-partial makes these a WARN.`);
  rules.push('Journal: FAIL when either run\'s results.jsonl disagrees with its manifest (records missing or extra, a "finished" status on a partial journal, question ids not the run\'s, a "correct" flag that disagrees with the gold letter and answer).');
  rules.push('A gate that was asked for but cannot be measured FAILS.');
  if (s.failOnWarn) rules.push('--fail-on-warn: every WARN counts as a FAIL (gating on the point estimate alone).');
  return rules;
}

function summaryLine(checks: GateCheck[], failed: (c: GateCheck) => boolean): string {
  const failing = checks.filter(failed);
  if (failing.length) return `FAIL: ${failing.map((c) => c.reason + (c.status === 'warn' ? ' (a warning, failed by --fail-on-warn)' : '')).join('; ')}`;
  const warned = checks.filter((c) => c.status === 'warn');
  if (warned.length) return `PASS with warnings: ${warned.map((c) => c.reason).join('; ')}`;
  return `PASS: ${checks.find((c) => c.id === 'accuracy')!.reason}`;
}

function gateWarnings(notes: readonly ReportNote[], base: GateRunSide, maxErrorRate: number, pairing: Pairing, cmp: PairComparison): string[] {
  const out = notes.filter((n) => n.kind === 'warning').map((n) => n.text);
  if (base.errorRate !== null && base.errorRate > maxErrorRate + EPS) {
    out.push(`The baseline run itself has ${fmt(points(base.errorRate))}% failed requests (more than ${fmt(points(maxErrorRate))}%): the baseline figure is shaky; consider re-recording it.`);
  }
  if (pairing === 'unpaired') {
    out.push(`The runs are not on the same questions (${cmp.itemsInCommon} in common, ${cmp.onlyInBaseline} only in the baseline, ${cmp.onlyInCompressed} only in the current run): accuracy is compared as two independent samples, which needs a larger drop to reach significance than a paired comparison.`);
  } else if (cmp.onlyInBaseline + cmp.onlyInCompressed > 0) {
    out.push(`Paired on the ${cmp.itemsInCommon} questions both runs scored; ${cmp.onlyInBaseline} question(s) only in the baseline and ${cmp.onlyInCompressed} only in the current run are left out.`);
  }
  return out;
}
