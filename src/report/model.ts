// The report model: one versioned, JSON-serialisable view of one or more run folders (and the
// baseline-vs-compressed comparisons between them). Every renderer (JSON, Markdown, CSV, LaTeX, HTML,
// charts) reads only this model, so they cannot disagree. Changes are additive only within
// "medeval.report/2"; documented in docs/report-schema.md.
import type { McNemar } from '../stats/mcnemar.js';
import type { Summary } from '../stats/descriptive.js';
import type { FinishReason, MemoryFigure, ModelDescription, QuestionType, RunManifest, SamplingParams } from '../core/types.js';
import type { Slo } from '../metrics/goodput.js';
import type { InFlightTimeline } from '../metrics/in-flight.js';
import type { ServerView } from './server-view.js';

export const REPORT_SCHEMA_VERSION = 'medeval.report/2' as const;

import type { AccuracyCell, Interval, RunAccuracy } from '../scoring/accuracy.js';
// Accuracy shapes are computed and defined in scoring/ (below the reports); part of the report model.
export type { AccuracyCell, Interval, RunAccuracy };

/**
 * Summary of a sample of values (ms for latency): n, mean, std (ddof 0), min, max, p50/p90/p95/p99 with
 * linear interpolation (numpy default), and `curve`, the quantile curve for CDF charts
 * ([percentile 0..100, value] at 0,1,5,10,...,95,99,100). Computed by `summarize` in src/stats/descriptive.ts.
 */
export type Distribution = Summary;

/** Latency metrics and memory parts, their names and units: the one metric table (src/metrics/table.ts). */
export { LATENCY_METRICS, MEMORY_PARTS, type LatencyMetric, type MemoryPartName } from '../metrics/table.js';
import type { LatencyMetric, MemoryPartName } from '../metrics/table.js';

/**
 * One distribution per latency metric of the metric table, by its key (ttftMs, ..., e2eMs); null when no
 * request had that figure. A per-gap metric (ITL) is pooled over requests.
 */
export type LatencyDistributions = Record<LatencyMetric, Distribution | null>;

export interface RunLatency extends LatencyDistributions {
  /** Records in the run (one per question and sample). */
  requests: number;
  /** Requests that completed and were measured here (cached results excluded). */
  completed: number;
  failed: number;
  /**
   * Results served from the response cache: scored, but left out of every latency figure here
   * (distributions, tokens, throughput, reductions), since their timings are from the run that first
   * generated them. Always set by this version; absent in older reports (read as 0).
   */
  cachedExcluded?: number;
  /** Time spent waiting for a client-side slot (not latency), when recorded. */
  queueMs: Distribution | null;
  outputTokens: { total: number; perRequest: Distribution | null; sources: string[] };
  /** Measured duration (manifest.durationMs, else first start to last end). */
  durationMs: number | null;
  /** shards: a merged run (no one clock; durationMs null, throughput from the shards' own rates, throughputMethod). */
  durationSource: 'manifest' | 'timings' | 'shards' | null;
  requestThroughputPerS: number | null;
  outputTokenThroughputPerS: number | null;
  /** How the throughput was had, when not requests over durationMs (a merged run). */
  throughputMethod?: string;
  load: RunManifest['load'];
  /** True for the paper's latency setting: sequential requests, concurrency 1. */
  batchSizeOne: boolean;
  /** Requests meeting every service-level objective; only when the report was built with some (--goodput). */
  goodput?: Goodput;
  /** Requests in flight over the run (measured requests' start and end), at most 300 steps. */
  inFlight?: InFlightTimeline;
}

/** vLLM's goodput (src/metrics/goodput.ts): completed requests meeting every objective, per second. */
export interface Goodput {
  slo: Slo;
  /** "TTFT <= 2000 ms, TPOT <= 50 ms" */
  objectives: string;
  /** Measured requests (completed, not cached) and those meeting every objective. */
  completed: number;
  good: number;
  /** good / completed with a Wilson interval; null when nothing completed. */
  share: Interval | null;
  /** good / run duration (s); null without a duration. */
  perS: number | null;
}


export interface MemoryPart extends MemoryFigure {
  part: MemoryPartName;
}

export interface RunReliability {
  /** Records in the journal (one per question and sample). */
  requests: number;
  /** Records whose request failed (not scored). */
  errors: number;
  errorRate: number | null;
  /** Failures by kind (timeout, http-5xx, http-429, connection, bad-response, ...). */
  errorKinds: Record<string, number>;
  /** Records that needed at least one retry (answered or not), and the retries made in all. */
  retriedRequests: number;
  retries: number;
  /** Why the run stopped early, when it did (error rate, dead server). */
  stopReason: string | null;
}

export interface RunReport {
  /** Unique within the report: the run's label (suffixed "#2"... when labels repeat). */
  id: string;
  label: string;
  /** The run folder as given (may be relative), or null when built from memory. */
  folder: string | null;
  createdAt: string;
  finishedAt: string | null;
  status: RunManifest['status'];
  medevalVersion: string;
  gitCommit: string | null;
  suite: RunManifest['suite'];
  runner: RunManifest['runner'];
  model: ModelDescription;
  sampling: SamplingParams;
  seed: number;
  configHash: string;
  accuracy: RunAccuracy;
  /**
   * What a uniform guess among the options shown would score (mean of 1/options over scored answers);
   * null when an option count is unknown. Charts draw it as the chance line. Absent in older reports.
   */
  chanceAccuracy?: number | null;
  latency: RunLatency;
  /** Every part in MEMORY_PARTS order; bytes null = not available (note says why). */
  memory: MemoryPart[];
  finishReasons: Partial<Record<FinishReason, number>>;
  /** Failed requests and retries: failures are errors, never wrong answers. */
  reliability: RunReliability;
  /** The server's own figures beside the client's (server runners): engine timings, /metrics differences. */
  server?: ServerView | null;
  /** Memory over the run (rssBytes after each item), downsampled to at most 200 points. */
  rssTimeline: Array<{ index: number; rssBytes: number }>;
  /** Problems found while reading the folder (torn last line, duplicates, ...). */
  warnings: string[];
  /** A merged run (medeval merge): each shard's own figures, its own clock and machine. */
  shards?: ShardView[];
  /** A run over several replicas: each one's figures beside the run's totals (`latency`). */
  replicas?: ReplicaView[];
}

export interface ReplicaView {
  /** Its base URL. */
  replica: string;
  /** Records it served (answered or failed there), measured ones, failed ones. */
  requests: number;
  completed: number;
  failed: number;
  /** Its measured requests and output tokens over the run's duration (one client clock). */
  requestsPerS: number | null;
  outputTokensPerS: number | null;
  ttftMs: Distribution | null;
  e2eMs: Distribution | null;
  /** When it was taken out of rotation, and why. */
  outOfRotation?: { afterRequests: number; reason: string };
  /** Its /metrics after - before (null: not read, e.g. out of rotation). */
  metricsDelta: Record<string, number> | null;
}

export interface ShardView {
  index: number;
  status: RunManifest['status'];
  records: number;
  errors: number;
  /** On the shard's own clock. */
  durationMs: number | null;
  requestsPerS: number | null;
  outputTokensPerS: number | null;
  /** The shard's machine's peaks (never summed across shards). */
  processPeakBytes: number | null;
  gpuPeakBytes: number | null;
}

export interface FlippedItem {
  itemId: string;
  /** Question stem excerpt (runs made before medeval stored it have none). */
  question?: string;
  step?: string;
  questionType: QuestionType;
  gold: string;
  baselineLetter: string | null;
  compressedLetter: string | null;
  /** What each model answered (the sample behind its voted letter): status and the end of its reply. */
  baselineOutput?: FlipOutput;
  compressedOutput?: FlipOutput;
}

export interface FlipOutput {
  status: 'answered' | 'unparseable' | 'truncated';
  /** The reply after any reasoning, one line, its last 300 characters (the answer is at the end). */
  excerpt: string;
  /** The reply had reasoning (`<think>` or a reasoning field); false: answer text only. */
  reasoned: boolean;
}

/**
 * McNemar's test on the discordant pairs: b = baseline right & compressed wrong, c = the reverse; exactP is
 * the reported two-sided binomial p, midP the less conservative variant, chiSquare(P) the continuity-
 * corrected statistic for comparison with older papers (null when b + c = 0). From src/stats/mcnemar.ts.
 */
export type McNemarResult = McNemar;

export interface LatencyReduction {
  metric: LatencyMetric;
  statistic: 'mean';
  baselineMs: number;
  compressedMs: number;
  /** 1 - compressed/baseline; positive = compressed is faster. */
  reduction: Interval;
  /** Paired resampling over the same (item, sample) requests, or independent resampling per model. */
  paired: boolean;
  n: { baseline: number; compressed: number };
}

export interface MemoryReduction {
  part: MemoryPartName;
  baselineBytes: number | null;
  compressedBytes: number | null;
  /** 1 - compressed/baseline; null when either side is not available. */
  reduction: number | null;
  note?: string;
}

export interface PairComparison {
  baseline: string;
  compressed: string;
  /** Questions answered (scored) by both runs, the base of every paired figure below. */
  itemsInCommon: number;
  onlyInBaseline: number;
  onlyInCompressed: number;
  /** Questions in both runs but with a request error in at least one (left out of the pairing). */
  excludedForErrors: number;
  /** Paired correctness per question: majority vote when there are several samples. */
  bothRight: number;
  bothWrong: number;
  rightToWrong: FlippedItem[];
  wrongToRight: FlippedItem[];
  /** Share of common questions where both runs were right or both wrong. */
  agreementRate: number | null;
  /** Share of common questions where both runs chose the same letter (null letters compare equal). */
  sameLetterRate: number | null;
  /** Accuracy on the common questions (pass@1 when several samples). */
  baselineAccuracy: number | null;
  compressedAccuracy: number | null;
  mcnemar: McNemarResult | null;
  /** compressed - baseline accuracy, paired bootstrap over questions. */
  accuracyDifference: Interval | null;
  /** compressed / baseline accuracy, paired bootstrap over questions. */
  retention: Interval | null;
  latency: LatencyReduction[];
  memory: MemoryReduction[];
  /** Likelihood-scored runs: how closely the compressed model's answer-letter distribution follows the baseline's. */
  letterDistribution?: LetterDistributionComparison;
}

/**
 * Per question, each model's distribution over the option letters (log-probabilities renormalised over
 * the letters), compared: KL(baseline || compressed) in nats, top-1 agreement, and the probability each
 * gives the correct letter. Questions where both runs have letter log-probabilities (first sample).
 */
export interface LetterDistributionComparison {
  items: number;
  /** Mean KL divergence with a percentile-bootstrap interval over questions. */
  klMean: Interval;
  klP50: number;
  klP90: number;
  klP99: number;
  klMax: number;
  /** Share of questions where both models' most likely letter is the same. */
  top1Agreement: number;
  baselineGoldProbability: number;
  compressedGoldProbability: number;
  /** Mean total next-token probability the letters got before renormalising. */
  baselineLetterMass: number;
  compressedLetterMass: number;
  /** Pairs left out because a letter had no figure on one side (outside a server's top N log-probabilities). */
  withoutFullDistribution?: number;
}

/** Verdict words and their rule: src/report/claims.ts (VERDICT_DEFINITIONS), docs/report-schema.md. */
export type Verdict = 'reproduced' | 'exceeded' | 'not reproduced' | 'inconclusive' | 'not measurable' | 'smoke test: no evidence';
export const VERDICTS: readonly Verdict[] = ['reproduced', 'exceeded', 'not reproduced', 'inconclusive', 'not measurable', 'smoke test: no evidence'];

/** One memory part of a memory claim, judged on its own. */
export interface ClaimPartCheck {
  part: MemoryPartName;
  /** "weights file (tensor bytes on disk)", "peak process memory", ... */
  label: string;
  baselineBytes: number | null;
  compressedBytes: number | null;
  /** 1 - compressed/baseline as an exact interval; null when either side is missing. */
  measured: Interval | null;
  verdict: Verdict;
  reason: string;
  /** Smoke tests only: what the rule alone would say. */
  ruleOutcome?: Verdict;
}
export type ClaimDirection = 'at-least' | 'at-most' | 'equal';

export interface ClaimCheck {
  id: string;
  /** The claim as the paper words it. */
  statement: string;
  claimed: number;
  tolerance: number;
  direction: ClaimDirection;
  /** How the figure is measured here (always shown beside the verdict). */
  definition: string;
  /** The verdict rule applied, in words. */
  rule: string;
  /** The measured figure; null when not measurable. */
  measured: Interval | null;
  verdict: Verdict;
  /** One line: why this verdict. */
  reason: string;
  /** Smoke tests only (verdict "smoke test: no evidence"): what the rule alone would say on these numbers. */
  ruleOutcome?: Verdict;
  /** Memory claims: which part the verdict above is (e.g. "weights: weights file (tensor bytes on disk)"). */
  basis?: string;
  /** Memory claims: every measured part judged on its own by the same rule. */
  parts?: ClaimPartCheck[];
  /**
   * The unit of `claimed`, `tolerance` and `measured`: renderers format by it (a fraction prints as a
   * percentage). Always set by this version; absent in older reports (read as "fraction").
   */
  unit?: 'fraction' | 'bytes' | 'ms';
  /**
   * Supporting figures shown beside the verdict (retention, other memory parts, TTFT, p50...). Unit
   * "points": a difference of two fractions (the value is still a fraction), printed in percentage points.
   */
  supporting: Array<{ label: string; value: number | null; unit: 'fraction' | 'points' | 'ms' | 'bytes' | 'count' | 'p-value'; interval?: Interval }>;
  /** Which comparison the claim was checked on. */
  baseline: string | null;
  compressed: string | null;
}

// ---- the leaderboard (built by report/leaderboard.ts) ----

/** The axes a frontier is drawn on: a cost (lower is better) against accuracy. */
export const FRONTIER_AXES = ['weights', 'processPeak', 'e2eMs'] as const;
export type FrontierAxis = (typeof FRONTIER_AXES)[number];

export interface LeaderboardRow {
  run: string;
  label: string;
  quantization: string | null;
  /** "baseline": another model is paired with it; "compressed": paired with `baseline`; "unpaired": neither. */
  role: 'baseline' | 'compressed' | 'unpaired';
  /** The baseline run this row was compared with (compressed rows). */
  baseline: string | null;
  /** Scored answers behind `accuracy`. */
  scored: number;
  /** Accuracy over the run's own scored answers, Wilson interval. */
  accuracy: Interval | null;
  /** Paired figures against `baseline`, on the questions both answered (compressed rows; null otherwise). */
  itemsInCommon: number | null;
  retention: Interval | null;
  /** compressed - baseline accuracy as a fraction; every renderer prints it in percentage points. */
  accuracyDifference: Interval | null;
  /** McNemar exact two-sided p of this pair alone, and Holm-adjusted over every pair of the report. */
  mcnemarP: number | null;
  mcnemarPHolm: number | null;
  /** Memory parts in bytes (null: not measured for this run). */
  memory: Record<'weights' | 'residentWeights' | 'processPeak' | 'gpuProcessPeak', number | null>;
  /** Medians over measured requests, ms. */
  latencyP50Ms: Record<'ttftMs' | 'tpotMs' | 'e2eMs', number | null>;
  /** Claims checked on this row's pair (compressed rows), the verdict of each. */
  verdicts: Array<{ claim: string; verdict: Verdict }>;
  /** A smoke-test run (tiny model, smoke-test suite, scripted runner): its verdicts are never evidence. */
  smokeTest: boolean;
  /** Chance level of its suite (1/options averaged), when known. */
  chanceAccuracy: number | null;
  /** On the Pareto frontier of accuracy against each cost (point estimates). */
  frontier: Record<FrontierAxis, boolean>;
}

export interface Leaderboard {
  rows: LeaderboardRow[];
  /** How the p-values are reported: per pair unadjusted, and Holm's step-down adjustment over `pairs` pairs. */
  pAdjustment: { method: 'holm'; pairs: number };
}

export interface AccuracyMemoryPoint {
  run: string;
  label: string;
  accuracy: Interval | null;
  weightsBytes: number | null;
  processPeakBytes: number | null;
  gpuProcessPeakBytes: number | null;
}

export type ItemStatus = 'answered' | 'unparseable' | 'truncated' | 'error';

/** One run's answer to one (question, sample), for the side-by-side item table. */
export interface ItemCell {
  letter: string | null;
  status: ItemStatus;
  /** null: the request failed (not scored). */
  correct: boolean | null;
  e2eMs: number | null;
  ttftMs: number | null;
  outputTokens: number | null;
  /** Served from the response cache: its timings are from an earlier run (left out of latency figures). */
  cached?: true;
}

/** Per-item rows across runs (results.csv, flip explorers). */
export interface ItemTable {
  /** Run ids, in the order of each row's `cells`. */
  runs: string[];
  rows: Array<{
    itemId: string;
    sample: number;
    /** Question stem excerpt (runs made before medeval stored it have none). */
    question?: string;
    step?: string;
    questionType: QuestionType;
    gold: string;
    /** One cell per run in `runs` order; null when that run has no record for this item and sample. */
    cells: Array<ItemCell | null>;
  }>;
}

export interface ReportNote {
  kind: 'definition' | 'warning' | 'info';
  text: string;
}

export interface ReportModel {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  /** Set by the caller (the CLI passes the current time); null keeps a report byte-reproducible. */
  generatedAt: string | null;
  settings: {
    seed: number;
    confidence: number;
    bootstrapResamples: number;
    /** Service-level objectives the goodput figures use, when given. */
    goodputSlo?: Slo;
  };
  runs: RunReport[];
  comparisons: PairComparison[];
  claims: ClaimCheck[];
  accuracyVsMemory: AccuracyMemoryPoint[];
  /** One row per model: the ladder's table (report/leaderboard.ts). Absent in older reports. */
  leaderboard?: Leaderboard;
  notes: ReportNote[];
  /** Per-item table over all runs; omitted when built with includeItems: false. */
  items?: ItemTable;
}
