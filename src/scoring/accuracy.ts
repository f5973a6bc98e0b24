// Accuracy from stored ItemResults: overall, per USMLE step and per question type, with Wilson 95%
// intervals, and with unparseable, truncated and failed requests counted apart from wrong answers
// (inspect_ai#5323). A pure function of the journal: re-scoring never calls a model.

import { QUESTION_TYPES, type ItemResult, type Letter, type QuestionType } from '../core/types.js';
import { wilsonInterval, type ProportionInterval } from '../stats/proportion.js';

export const ACCURACY_CONFIDENCE = 0.95;

/** Items answered correctly under majority vote across their samples. */
export interface MajorityVoteAccuracy extends ProportionInterval {
  /** Items with at least one scored sample. */
  items: number;
  correct: number;
  /** Items whose most frequent letter was tied with another (counted as not correct). */
  ties: number;
  /** Items where no sample gave a letter (all unparseable or truncated; counted as not correct). */
  noVotes: number;
}

/** Mean over items of the fraction of an item's scored samples that were correct. */
export interface PassAt1Accuracy extends ProportionInterval {
  /** Items with at least one scored sample. */
  items: number;
}

export interface AccuracyStats {
  /** Distinct items in this group (whatever happened to them). */
  items: number;
  /** Scored records (answered + unparseable + truncated) over all samples; errors are not in n. */
  n: number;
  correct: number;
  /** Answered with a letter other than the gold one. */
  wrong: number;
  /** No letter could be read from a finished answer (empty, ambiguous, not an option...). */
  unparseable: number;
  /** The token budget ran out (mid-reasoning or mid-answer). */
  truncated: number;
  /** Requests that failed (error set, or correct === null): not scored, never counted as wrong. */
  errors: number;
  /**
   * The headline figure, with a Wilson 95% interval.
   * - One sample per item: correct / n over the items (sample 0).
   * - Several samples: pass@1, the mean over items of each item's fraction of correct samples, which is
   *   the DeepSeek-R1 protocol. Its interval is Wilson with n = items (each item's mean counts as one
   *   observation): conservative, since averaging samples can only shrink an item's variance, and it
   *   does not pretend the samples of one question are independent questions.
   * So with several samples `accuracy.estimate` need not equal correct / n (items may have different
   * numbers of scored samples after errors).
   */
  accuracy: ProportionInterval;
  metric: 'accuracy' | 'pass@1';
  /** Only with several samples per item. */
  passAt1?: PassAt1Accuracy;
  /** Only with several samples per item. */
  majorityVote?: MajorityVoteAccuracy;
}

export interface AccuracySummary {
  /** Samples per item in the run (highest `sample` index + 1). */
  samples: number;
  metric: 'accuracy' | 'pass@1';
  confidence: number;
  overall: AccuracyStats;
  /** By `step` (MedQA "step1", "step2&3"); records without a step go under "unspecified". Empty when no record has a step. */
  byStep: Record<string, AccuracyStats>;
  /** By question type, in QUESTION_TYPES order; types with no records are left out. */
  byQuestionType: Partial<Record<QuestionType, AccuracyStats>>;
  /** Records that repeated an (itemId, sample) already seen; the journal is append-only, so the last one counts. */
  duplicates: number;
}

type Outcome = 'correct' | 'wrong' | 'unparseable' | 'truncated' | 'error';

function outcomeOf(r: ItemResult): Outcome {
  if (r.error != null || r.correct === null) return 'error';
  if (r.correct === true) return 'correct';
  if (r.extracted?.status === 'truncated') return 'truncated';
  if (r.extracted?.status === 'unparseable') return 'unparseable';
  return 'wrong';
}

export function scoreResults(results: ItemResult[]): AccuracySummary {
  const { records, duplicates } = latestPerItemSample(results);
  const samples = records.reduce((max, r) => Math.max(max, r.sample + 1), 0) || 1;
  const metric = samples > 1 ? 'pass@1' : 'accuracy';

  const byStep: Record<string, AccuracyStats> = {};
  if (records.some((r) => r.step != null)) {
    const steps = groupBy(records, (r) => r.step ?? 'unspecified');
    for (const key of [...steps.keys()].sort()) byStep[key] = statsFor(steps.get(key)!, samples);
  }

  const byQuestionType: Partial<Record<QuestionType, AccuracyStats>> = {};
  const types = groupBy(records, (r) => r.questionType);
  // Known types in their canonical order, then anything else a record carried (never dropped silently).
  const order = [...QUESTION_TYPES, ...[...types.keys()].filter((t) => !QUESTION_TYPES.includes(t)).sort()];
  for (const type of order) {
    const group = types.get(type);
    if (group) byQuestionType[type] = statsFor(group, samples);
  }

  return {
    samples,
    metric,
    confidence: ACCURACY_CONFIDENCE,
    overall: statsFor(records, samples),
    byStep,
    byQuestionType,
    duplicates,
  };
}

function latestPerItemSample(results: ItemResult[]): { records: ItemResult[]; duplicates: number } {
  if (!Array.isArray(results)) throw new TypeError('scoreResults: expected an array of ItemResult records');
  const latest = new Map<string, ItemResult>();
  for (const r of results) {
    if (typeof r?.itemId !== 'string' || !Number.isInteger(r.sample) || r.sample < 0) {
      throw new TypeError(
        `scoreResults: record ${JSON.stringify(r?.itemId)} needs a string itemId and a non-negative integer sample (got sample ${JSON.stringify(r?.sample)})`,
      );
    }
    latest.set(`${r.itemId}\u0000${r.sample}`, r);
  }
  return { records: [...latest.values()], duplicates: results.length - latest.size };
}

function groupBy<K>(records: ItemResult[], key: (r: ItemResult) => K): Map<K, ItemResult[]> {
  const groups = new Map<K, ItemResult[]>();
  for (const r of records) {
    const k = key(r);
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

function statsFor(records: ItemResult[], samples: number): AccuracyStats {
  const counts: Record<Outcome, number> = { correct: 0, wrong: 0, unparseable: 0, truncated: 0, error: 0 };
  for (const r of records) counts[outcomeOf(r)]++;
  const n = counts.correct + counts.wrong + counts.unparseable + counts.truncated;
  const byItem = groupBy(records, (r) => r.itemId);
  const base = {
    items: byItem.size,
    n,
    correct: counts.correct,
    wrong: counts.wrong,
    unparseable: counts.unparseable,
    truncated: counts.truncated,
    errors: counts.error,
  };
  if (samples === 1) {
    return { ...base, accuracy: wilsonInterval(counts.correct, n, ACCURACY_CONFIDENCE), metric: 'accuracy' };
  }
  const passAt1 = passAt1Of(byItem);
  const accuracy = { estimate: passAt1.estimate, lower: passAt1.lower, upper: passAt1.upper };
  return { ...base, accuracy, metric: 'pass@1', passAt1, majorityVote: majorityVoteOf(byItem) };
}

function passAt1Of(byItem: Map<string, ItemResult[]>): PassAt1Accuracy {
  let items = 0;
  let sum = 0;
  for (const records of byItem.values()) {
    const scored = records.filter((r) => outcomeOf(r) !== 'error');
    if (scored.length === 0) continue; // every sample failed: nothing to score
    items++;
    sum += scored.filter((r) => r.correct === true).length / scored.length;
  }
  return { items, ...wilsonInterval(Math.min(sum, items), items, ACCURACY_CONFIDENCE) };
}

function majorityVoteOf(byItem: Map<string, ItemResult[]>): MajorityVoteAccuracy {
  let items = 0;
  let correct = 0;
  let ties = 0;
  let noVotes = 0;
  for (const records of byItem.values()) {
    const scored = records.filter((r) => outcomeOf(r) !== 'error');
    if (scored.length === 0) continue;
    items++;
    // Only samples that produced a letter vote; a tie is not resolved by order, it is not a majority.
    const votes = new Map<Letter, number>();
    for (const r of scored) {
      if (r.extracted?.status === 'answered' && r.extracted.letter != null) {
        votes.set(r.extracted.letter, (votes.get(r.extracted.letter) ?? 0) + 1);
      }
    }
    if (votes.size === 0) {
      noVotes++;
      continue;
    }
    const ranked = [...votes.entries()].sort((a, b) => b[1] - a[1]);
    if (ranked.length > 1 && ranked[0][1] === ranked[1][1]) {
      ties++;
      continue;
    }
    if (ranked[0][0] === scored[0].gold) correct++;
  }
  return { items, correct, ties, noVotes, ...wilsonInterval(correct, items, ACCURACY_CONFIDENCE) };
}
