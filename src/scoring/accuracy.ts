// Accuracy of one run from its stored ItemResults: overall, per USMLE step, per question type and (with
// several samples per question) by majority vote, in the report model's shapes (RunAccuracy,
// AccuracyCell; docs/report-schema.md). The one place accuracy is computed: reports, run summaries,
// the gate and the library all call scoreRun. A pure function of the journal: it never calls a model.
//
// Rules (each has a test in test/scoring/accuracy.test.ts):
// - A record is scored unless its request failed (error set, or correct === null). Failed requests are
//   counted as errors and are never in the denominator.
// - Unparseable and truncated answers are scored wrong, and counted apart from wrong letters.
// - One sample per question: accuracy = correct / scored with a Wilson interval.
// - Several samples: pass@1 = mean over questions of each question's share of correct scored samples
//   (DeepSeek-R1's protocol), with a percentile bootstrap over questions (seeded: reproducible).
//   Majority vote beside it (ties: the letter that reached the top count first; counted in `ties`).
// - The journal is append-only: a repeated (item, sample) keeps its LAST record (as readRunFolder does).
import { latestRecords } from '../core/run-folder.js';
import { QUESTION_TYPES, type ItemResult } from '../core/types.js';
import { bootstrapMean, DEFAULT_RESAMPLES } from '../stats/bootstrap.js';
import { wilsonInterval } from '../stats/proportion.js';
import { majorityLetter } from '../stats/samples.js';

/** A point estimate with an interval. Proportions and ratios are fractions (0.921, not 92.1). */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  /** e.g. 0.95 */
  confidence: number;
  /** "wilson" | "bootstrap-percentile" | "exact" (no sampling error, lower = upper = estimate) ... */
  method: string;
}

/** Accuracy of one slice of a run (overall, one step, one question type). */
export interface AccuracyCell {
  /** "overall", a step ("step1"), or a question type ("diagnosis"). */
  key: string;
  /** Distinct questions in the slice. */
  items: number;
  /** Scored answers (one per question and sample; request errors are not scored). */
  scored: number;
  /** Correct scored answers. */
  correct: number;
  /**
   * Accuracy over scored answers. One sample per question: Wilson interval. Several samples: pass@1
   * (mean over samples, then over questions) with a bootstrap interval over questions. null: nothing scored.
   */
  accuracy: Interval | null;
  /** Scored but wrong with a parsed letter. */
  wrong: number;
  /** No letter could be extracted (scored wrong, shown apart). */
  unparseable: number;
  /** Reasoning never finished (budget ran out; scored wrong, shown apart). */
  truncated: number;
  /** Requests that failed (not scored, not in the denominator). */
  errors: number;
  /**
   * Majority-vote cell only: questions whose top count was shared by two or more letters (decided by
   * the letter that reached the top count first).
   */
  ties?: number;
}

export interface RunAccuracy {
  samplesPerItem: number;
  overall: AccuracyCell;
  byStep: AccuracyCell[];
  byQuestionType: AccuracyCell[];
  /** Per dataset subject (MMLU subject, MedMCQA subject_name), sorted; empty when no item has one. Absent in older reports. */
  bySubject?: AccuracyCell[];
  /**
   * With several samples per question: majority vote over samples, one answer per question (ties: the
   * letter that reached the top count first; `ties` counts them). A question with no letter in any scored
   * sample is `truncated` when every scored sample was truncated, else `unparseable`; `errors` counts
   * questions with no scored sample.
   */
  majorityVote: AccuracyCell | null;
}

/** The bootstrap seed reports use unless told otherwise. */
export const DEFAULT_SEED = 20250101;
export const DEFAULT_CONFIDENCE = 0.95;

export interface ScoreOptions {
  /** Samples per question the run asked for (manifest.samples); default: the highest sample index + 1. */
  samples?: number;
  /** Bootstrap seed (several samples only); default DEFAULT_SEED. */
  seed?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Bootstrap resamples; default DEFAULT_RESAMPLES (2000). */
  resamples?: number;
  /**
   * false: byStep, byQuestionType and bySubject are left empty, for callers that read only the overall and
   * majority-vote cells (the gate, through the report's pair figures). Default true.
   */
  slices?: boolean;
}

/** Slice key for questions without a step (MedQA files without meta_info). */
export const NO_STEP_KEY = '(none)';

/** False when the request failed: such a record is counted as an error, never scored. */
export function isScored(r: ItemResult): boolean {
  return r.correct !== null && r.error == null;
}

/** The outcome counts of a cell: one record added (an error, or scored as correct, unparseable, truncated or wrong). */
export function countOutcome(c: { errors: number; scored: number; correct: number; unparseable: number; truncated: number; wrong: number }, r: ItemResult): void {
  if (!isScored(r)) {
    c.errors++;
    return;
  }
  c.scored++;
  if (r.correct) c.correct++;
  else if (r.extracted.status === 'unparseable') c.unparseable++;
  else if (r.extracted.status === 'truncated') c.truncated++;
  else c.wrong++;
}

/** Records by question, in first-seen question order, each question's samples in sample order. */
export function groupByItem(results: readonly ItemResult[]): Map<string, ItemResult[]> {
  const byItem = new Map<string, ItemResult[]>();
  for (const r of results) {
    const list = byItem.get(r.itemId);
    if (list) list.push(r);
    else byItem.set(r.itemId, [r]);
  }
  for (const list of byItem.values()) list.sort((a, b) => a.sample - b.sample);
  return byItem;
}

/** pass@1 of one question: its share of correct scored samples; null when no sample was scored. */
export function itemScore(samples: readonly ItemResult[]): number | null {
  let scored = 0, correct = 0;
  for (const s of samples) {
    if (!isScored(s)) continue;
    scored++;
    if (s.correct) correct++;
  }
  return scored === 0 ? null : correct / scored;
}

export interface ItemVote {
  /** The majority letter over scored samples (ties: first to reach the top count); null: no letter at all. */
  letter: string | null;
  correct: boolean;
  /** The top count was shared by two or more letters. */
  tie: boolean;
  /** Every scored sample was truncated (only meaningful when letter is null). */
  allTruncated: boolean;
}

/**
 * One question's answer over its samples: with one scored sample, that sample (its own `correct`);
 * with several, the majority vote. null when no sample was scored.
 */
export function itemVote(samples: readonly ItemResult[]): ItemVote | null {
  const scored = samples.filter(isScored);
  if (scored.length === 0) return null;
  const allTruncated = scored.every((r) => r.extracted.status === 'truncated');
  if (scored.length === 1) {
    const r = scored[0]!;
    return { letter: r.extracted.letter, correct: r.correct === true, tie: false, allTruncated };
  }
  const letters = scored.map((r) => r.extracted.letter);
  const letter = majorityLetter(letters);
  const counts = new Map<string, number>();
  for (const l of letters) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  const top = Math.max(0, ...counts.values());
  const tie = [...counts.values()].filter((n) => n === top).length > 1;
  return { letter, correct: letter !== null && letter === scored[0]!.gold, tie, allTruncated };
}

interface Settings {
  seed: number;
  confidence: number;
  resamples: number;
}

function toInterval(x: { estimate: number; lower: number; upper: number }, confidence: number, method: string): Interval {
  return { estimate: x.estimate, lower: x.lower, upper: x.upper, confidence, method };
}

function emptyCell(key: string, items: number): AccuracyCell {
  return { key, items, scored: 0, correct: 0, accuracy: null, wrong: 0, unparseable: 0, truncated: 0, errors: 0 };
}

/** The cell of counts kept elsewhere (one sample per question): the same object accuracyCell makes, Wilson interval. */
export function wilsonCell(key: string, c: { items: number; scored: number; correct: number; wrong: number; unparseable: number; truncated: number; errors: number }, confidence = DEFAULT_CONFIDENCE): AccuracyCell {
  const cell: AccuracyCell = { ...emptyCell(key, c.items), scored: c.scored, correct: c.correct, wrong: c.wrong, unparseable: c.unparseable, truncated: c.truncated, errors: c.errors };
  if (c.scored > 0) cell.accuracy = toInterval(wilsonInterval(c.correct, c.scored, confidence), confidence, 'wilson');
  return cell;
}

/** Accuracy of a set of questions (each with its samples). */
function accuracyCell(key: string, items: readonly ItemResult[][], multiSample: boolean, s: Settings): AccuracyCell {
  const cell = emptyCell(key, items.length);
  const scores: number[] = [];
  for (const samples of items) {
    for (const r of samples) {
      countOutcome(cell, r);
    }
    const score = itemScore(samples);
    if (score !== null) scores.push(score);
  }
  if (cell.scored === 0) return cell;
  if (multiSample) {
    const b = bootstrapMean(scores, s);
    cell.accuracy = toInterval(b, s.confidence, 'bootstrap-percentile');
  } else {
    cell.accuracy = toInterval(wilsonInterval(cell.correct, cell.scored, s.confidence), s.confidence, 'wilson');
  }
  return cell;
}

/** Questions grouped by a key of their first sample, in `order`. Empty when no question has a key. */
function sliceCells(
  byItem: Map<string, ItemResult[]>,
  keyOf: (r: ItemResult) => string | undefined,
  order: (keys: string[]) => string[],
  multi: boolean,
  s: Settings,
): AccuracyCell[] {
  const groups = new Map<string, ItemResult[][]>();
  let anyKey = false;
  for (const samples of byItem.values()) {
    const k = keyOf(samples[0]!);
    if (k !== undefined) anyKey = true;
    const key = k ?? NO_STEP_KEY;
    const list = groups.get(key);
    if (list) list.push(samples);
    else groups.set(key, [samples]);
  }
  if (!anyKey) return [];
  return order([...groups.keys()]).map((k) => accuracyCell(k, groups.get(k)!, multi, s));
}

/** Known question types in their canonical order, then any other type a record carried (never dropped). */
export function questionTypeOrder(keys: string[]): string[] {
  const known = QUESTION_TYPES.filter((t) => keys.includes(t));
  const other = keys.filter((k) => !(QUESTION_TYPES as readonly string[]).includes(k)).sort();
  return [...known, ...other];
}

/** One answer per question by majority vote: `scored` counts questions, `errors` questions with no scored sample. */
function majorityCell(byItem: Map<string, ItemResult[]>, s: Settings): AccuracyCell {
  const cell: AccuracyCell = { ...emptyCell('majority-vote', byItem.size), ties: 0 };
  for (const samples of byItem.values()) {
    const vote = itemVote(samples);
    if (vote === null) {
      cell.errors++;
      continue;
    }
    cell.scored++;
    if (vote.tie) cell.ties!++;
    if (vote.letter === null) {
      if (vote.allTruncated) cell.truncated++;
      else cell.unparseable++;
    } else if (vote.correct) cell.correct++;
    else cell.wrong++;
  }
  if (cell.scored) cell.accuracy = toInterval(wilsonInterval(cell.correct, cell.scored, s.confidence), s.confidence, 'wilson');
  return cell;
}

/**
 * Accuracy of one run in the report model's shape. `results` may hold repeated (item, sample) records
 * (the last one counts). Several samples per question (opts.samples > 1, or any question with more than
 * one record): pass@1 with a bootstrap interval, plus the majority vote.
 */
export function scoreRun(results: readonly ItemResult[], opts: ScoreOptions = {}): RunAccuracy {
  const { records } = latestRecords(results);
  const s: Settings = {
    seed: opts.seed ?? DEFAULT_SEED,
    confidence: opts.confidence ?? DEFAULT_CONFIDENCE,
    resamples: opts.resamples ?? DEFAULT_RESAMPLES,
  };
  const byItem = groupByItem(records);
  const slices = opts.slices ?? true;
  const samplesPerItem = opts.samples ?? (records.reduce((max, r) => Math.max(max, r.sample + 1), 0) || 1);
  const multi = samplesPerItem > 1 || [...byItem.values()].some((l) => l.length > 1);
  return {
    samplesPerItem,
    overall: accuracyCell('overall', [...byItem.values()], multi, s),
    byStep: slices ? sliceCells(byItem, (r) => r.step, (keys) => keys.sort(), multi, s) : [],
    byQuestionType: slices ? sliceCells(byItem, (r) => r.questionType, questionTypeOrder, multi, s) : [],
    bySubject: slices ? sliceCells(byItem, (r) => r.subject, (keys) => keys.sort(), multi, s) : [],
    majorityVote: multi ? majorityCell(byItem, s) : null,
  };
}
