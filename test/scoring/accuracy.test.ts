import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupByItem, itemVote, scoreRun } from '../../src/scoring/accuracy.js';
import { latestRecords } from '../../src/core/run-folder.js';
import type { AnswerStatus, ItemResult, QuestionType } from '../../src/core/types.js';
import type { AccuracyCell } from '../../src/report/model.js';

type Outcome = 'correct' | 'wrong' | 'unparseable' | 'truncated' | 'error' | 'null';

interface Spec {
  item: string;
  sample?: number;
  outcome: Outcome;
  /** Letter the model gave when answered (defaults: gold when correct, "A" when wrong). */
  letter?: string;
  gold?: string;
  step?: string;
  type?: QuestionType;
}

function result(spec: Spec): ItemResult {
  const gold = spec.gold ?? 'C';
  const answered = spec.outcome === 'correct' || spec.outcome === 'wrong';
  const letter = answered ? (spec.letter ?? (spec.outcome === 'correct' ? gold : 'A')) : null;
  const status: AnswerStatus = answered ? 'answered' : spec.outcome === 'truncated' ? 'truncated' : 'unparseable';
  return {
    schema: 1,
    itemId: spec.item,
    sample: spec.sample ?? 0,
    dataset: 'test',
    ...(spec.step !== undefined ? { step: spec.step } : {}),
    questionType: spec.type ?? 'diagnosis',
    typeReason: 'dataset',
    template: 'r1',
    prompt: 'Q?',
    gold,
    rawOutput: letter ? `Answer: ${letter}` : '',
    reasoning: null,
    extracted: { letter, status, method: answered ? 'answer-colon' : 'no-answer-found', answerText: '' },
    correct: spec.outcome === 'error' || spec.outcome === 'null' ? null : spec.outcome === 'correct',
    promptTokens: 10,
    outputTokens: 5,
    tokenSource: 'server-usage',
    finishReason: spec.outcome === 'truncated' ? 'length' : 'stop',
    timings: null,
    ...(spec.outcome === 'error' ? { error: { kind: 'http', message: 'connection refused' } } : {}),
  };
}

const counts = (c: AccuracyCell) => ({ items: c.items, scored: c.scored, correct: c.correct, wrong: c.wrong, unparseable: c.unparseable, truncated: c.truncated, errors: c.errors });

// Expected intervals: Wilson 95% (z = 1.959963984540054), computed independently with Python.
describe('scoreRun: one sample per question', () => {
  const outcomes: Outcome[] = ['correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'wrong', 'wrong', 'unparseable', 'truncated', 'error', 'null'];
  const acc = scoreRun(outcomes.map((outcome, i) => result({ item: `q${i}`, outcome })));

  it('counts wrong, unparseable, truncated and errors apart', () => {
    expect(counts(acc.overall)).toEqual({ items: 12, scored: 10, correct: 6, wrong: 2, unparseable: 1, truncated: 1, errors: 2 });
  });

  it('accuracy is correct / scored, errors excluded from the denominator, with a Wilson interval', () => {
    expect(acc.samplesPerItem).toBe(1);
    expect(acc.overall.accuracy).toMatchObject({ method: 'wilson', confidence: 0.95 });
    expect(acc.overall.accuracy!.estimate).toBeCloseTo(0.6, 12);
    expect(acc.overall.accuracy!.lower).toBeCloseTo(0.312673769734, 9);
    expect(acc.overall.accuracy!.upper).toBeCloseTo(0.831819670294, 9);
    expect(acc.majorityVote).toBeNull();
  });

  it('honours the confidence level', () => {
    const narrow = scoreRun(outcomes.map((outcome, i) => result({ item: `q${i}`, outcome })), { confidence: 0.8 }).overall.accuracy!;
    expect(narrow.confidence).toBe(0.8);
    expect(narrow.lower).toBeGreaterThan(acc.overall.accuracy!.lower);
    expect(narrow.upper).toBeLessThan(acc.overall.accuracy!.upper);
  });

  it('an empty run, or one where every request failed, has no accuracy (null), not 0%', () => {
    const empty = scoreRun([]);
    expect(empty.overall).toMatchObject({ items: 0, scored: 0, accuracy: null });
    expect(empty.byStep).toEqual([]);
    const failed = scoreRun([result({ item: 'q1', outcome: 'error' }), result({ item: 'q2', outcome: 'error' })]);
    expect(failed.overall).toMatchObject({ items: 2, scored: 0, errors: 2, accuracy: null });
  });
});

describe('scoreRun: per step and per question type', () => {
  const acc = scoreRun([
    result({ item: 'a', outcome: 'correct', step: 'step1', type: 'pharmacology' }),
    result({ item: 'b', outcome: 'wrong', step: 'step1', type: 'diagnosis' }),
    result({ item: 'c', outcome: 'correct', step: 'step2&3', type: 'pharmacology' }),
    result({ item: 'd', outcome: 'truncated', step: 'step2&3', type: 'management' }),
    result({ item: 'e', outcome: 'correct', type: 'diagnosis' }),
  ]);

  it('splits by step, questions without one under "(none)"', () => {
    expect(acc.byStep.map((c) => c.key)).toEqual(['(none)', 'step1', 'step2&3']);
    expect(acc.byStep.find((c) => c.key === 'step1')).toMatchObject({ scored: 2, correct: 1, wrong: 1 });
    expect(acc.byStep.find((c) => c.key === 'step2&3')).toMatchObject({ scored: 2, correct: 1, truncated: 1 });
    expect(acc.byStep.find((c) => c.key === '(none)')).toMatchObject({ scored: 1, correct: 1 });
  });

  it('splits by question type in the canonical order, with Wilson intervals per slice', () => {
    expect(acc.byQuestionType.map((c) => c.key)).toEqual(['diagnosis', 'management', 'pharmacology']);
    const pharm = acc.byQuestionType.find((c) => c.key === 'pharmacology')!;
    expect(pharm).toMatchObject({ scored: 2, correct: 2 });
    expect(pharm.accuracy!.lower).toBeCloseTo(0.342380227507, 9);
    expect(acc.byQuestionType.find((c) => c.key === 'management')).toMatchObject({ scored: 1, correct: 0, truncated: 1 });
  });

  it('keeps a question type the canonical list does not know, after the known ones', () => {
    const odd = { ...result({ item: 'z', outcome: 'correct' }), questionType: 'radiology' as QuestionType };
    expect(scoreRun([odd, result({ item: 'y', outcome: 'wrong', type: 'other' })]).byQuestionType.map((c) => c.key)).toEqual(['other', 'radiology']);
  });

  it('slices by subject (sorted) when items carry one, and not at all when none does', () => {
    const withSubject = (item: string, outcome: Outcome, subject: string) => ({ ...result({ item, outcome }), subject });
    const bySubject = scoreRun([withSubject('a', 'correct', 'college_medicine'), withSubject('b', 'wrong', 'anatomy'), withSubject('c', 'correct', 'anatomy')]).bySubject!;
    expect(bySubject.map((c) => [c.key, c.scored, c.correct])).toEqual([['anatomy', 2, 1], ['college_medicine', 1, 1]]);
    expect(scoreRun([result({ item: 'x', outcome: 'correct' })]).bySubject).toEqual([]);
  });

  it('has no step slices when no question has a step', () => {
    expect(scoreRun([result({ item: 'x', outcome: 'correct' })]).byStep).toEqual([]);
  });

  it('slices: false leaves the slices empty and every other cell as it is', () => {
    const records = [result({ item: 'a', outcome: 'correct', step: 'step1', type: 'pharmacology' }), result({ item: 'a', outcome: 'wrong', step: 'step1', type: 'pharmacology', sample: 1 }),
      result({ item: 'b', outcome: 'truncated', step: 'step2&3', type: 'diagnosis' })];
    const full = scoreRun(records, { seed: 3 });
    expect(full.byStep.length * full.byQuestionType.length).toBeGreaterThan(0);
    expect(scoreRun(records, { seed: 3, slices: false })).toStrictEqual({ ...full, byStep: [], byQuestionType: [], bySubject: [] });
  });
});

describe('scoreRun: several samples per question', () => {
  // gold is C everywhere.
  const results = [
    result({ item: 'q1', sample: 0, outcome: 'correct' }),
    result({ item: 'q1', sample: 1, outcome: 'correct' }),
    result({ item: 'q1', sample: 2, outcome: 'wrong', letter: 'B' }),
    result({ item: 'q2', sample: 0, outcome: 'wrong', letter: 'A' }),
    result({ item: 'q2', sample: 1, outcome: 'wrong', letter: 'B' }),
    result({ item: 'q2', sample: 2, outcome: 'unparseable' }),
    result({ item: 'q3', sample: 0, outcome: 'correct' }),
    result({ item: 'q3', sample: 1, outcome: 'correct' }),
    result({ item: 'q3', sample: 2, outcome: 'error' }),
    result({ item: 'q4', sample: 0, outcome: 'error' }),
    result({ item: 'q4', sample: 1, outcome: 'error' }),
    result({ item: 'q4', sample: 2, outcome: 'error' }),
  ];
  const opts = { samples: 3, seed: 11, resamples: 400 };
  const acc = scoreRun(results, opts);

  it('pass@1 is the mean over questions of each one\'s share of correct scored samples, with a bootstrap interval', () => {
    // (2/3 + 0/3 + 2/2) / 3 = 5/9; q4 (every sample failed) is left out.
    expect(acc.samplesPerItem).toBe(3);
    const a = acc.overall.accuracy!;
    expect(a.method).toBe('bootstrap-percentile');
    expect(a.estimate).toBeCloseTo(5 / 9, 12);
    // Bootstrap over 3 question scores {2/3, 0, 1}: the interval lies within their range and holds the mean.
    expect(a.lower).toBeGreaterThanOrEqual(0);
    expect(a.lower).toBeLessThan(5 / 9);
    expect(a.upper).toBeGreaterThan(5 / 9);
    expect(a.upper).toBeLessThanOrEqual(1);
  });

  it('the bootstrap is reproducible under a seed and moves with another seed', () => {
    expect(scoreRun(results, opts)).toEqual(acc);
    const many = Array.from({ length: 40 }, (_, i) => [0, 1].map((s) => result({ item: `m${i}`, sample: s, outcome: (i * 7 + s) % 3 ? 'correct' : 'wrong' }))).flat();
    const a = scoreRun(many, { seed: 1, resamples: 300 }).overall.accuracy!;
    const b = scoreRun(many, { seed: 2, resamples: 300 }).overall.accuracy!;
    expect(a.estimate).toBe(b.estimate);
    expect([a.lower, a.upper]).not.toEqual([b.lower, b.upper]);
  });

  it('still counts answers: scored over all samples, errors apart', () => {
    expect(counts(acc.overall)).toEqual({ items: 4, scored: 8, correct: 4, wrong: 3, unparseable: 1, truncated: 0, errors: 4 });
  });

  it('majority vote: one answer per question, ties go to the first letter to reach the top count and are counted', () => {
    // q1: C,C,B -> C right; q2: A,B (unparseable does not vote) -> tie, A first -> wrong; q3: C,C -> right; q4: no scored sample.
    expect(acc.majorityVote).toMatchObject({ key: 'majority-vote', items: 4, scored: 3, correct: 2, wrong: 1, unparseable: 0, errors: 1, ties: 1 });
    expect(acc.majorityVote!.accuracy!.method).toBe('wilson');
    expect(acc.majorityVote!.accuracy!.lower).toBeCloseTo(0.207659600802, 9);
    expect(itemVote(groupByItem(results).get('q2')!)).toMatchObject({ letter: 'A', tie: true, correct: false });
  });

  it('a question with no letter in any sample is unparseable, or truncated when every sample was', () => {
    const acc2 = scoreRun([
      result({ item: 'z', sample: 0, outcome: 'unparseable' }),
      result({ item: 'z', sample: 1, outcome: 'truncated' }),
      result({ item: 't', sample: 0, outcome: 'truncated' }),
      result({ item: 't', sample: 1, outcome: 'truncated' }),
    ]);
    expect(acc2.majorityVote).toMatchObject({ scored: 2, correct: 0, unparseable: 1, truncated: 1 });
    expect(acc2.overall.accuracy!.estimate).toBe(0);
  });

  it('the manifest\'s samples count decides the metric even when only sample 0 was written so far', () => {
    const partial = scoreRun([result({ item: 'a', outcome: 'correct' }), result({ item: 'b', outcome: 'wrong' })], { samples: 4, resamples: 100 });
    expect(partial.samplesPerItem).toBe(4);
    expect(partial.overall.accuracy!.method).toBe('bootstrap-percentile');
    expect(partial.majorityVote).not.toBeNull();
  });
});

describe('scoreRun: the journal', () => {
  it('keeps the last record of a repeated (item, sample), as after a retried error', () => {
    const journal = [
      result({ item: 'q1', outcome: 'error' }),
      result({ item: 'q2', outcome: 'wrong' }),
      result({ item: 'q1', outcome: 'correct' }),
    ];
    expect(counts(scoreRun(journal).overall)).toEqual({ items: 2, scored: 2, correct: 1, wrong: 1, unparseable: 0, truncated: 0, errors: 0 });
    const { records, duplicates } = latestRecords(journal);
    expect(duplicates).toBe(1);
    // The survivor takes the position of its last write, as readRunFolder orders it.
    expect(records.map((r) => [r.itemId, r.correct])).toEqual([['q2', false], ['q1', true]]);
  });

  it('treats correct === null without an error, and an error with a stale correct flag, as errors, never as wrong', () => {
    expect(scoreRun([result({ item: 'q1', outcome: 'null' })]).overall).toMatchObject({ scored: 0, wrong: 0, errors: 1 });
    const stale = { ...result({ item: 'q2', outcome: 'correct' }), error: { kind: 'timeout', message: 'late' } };
    expect(scoreRun([stale]).overall).toMatchObject({ scored: 0, correct: 0, errors: 1 });
  });

  it('rejects a record without a usable sample index', () => {
    const bad = { ...result({ item: 'q1', outcome: 'correct' }), sample: -1 };
    expect(() => scoreRun([bad])).toThrow(/"q1".*non-negative integer sample/);
  });
});

describe('scoreRun: invariants on random journals', () => {
  const outcome = fc.constantFrom<Outcome>('correct', 'wrong', 'unparseable', 'truncated', 'error', 'null');
  const record = fc.record({
    item: fc.integer({ min: 0, max: 8 }).map((i) => `q${i}`),
    sample: fc.integer({ min: 0, max: 2 }),
    outcome,
  });

  it('counts add up overall and across slices; one sample: estimate = correct / scored', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.boolean(), (specs, oneSample) => {
        // A question's step and type follow from its id, as in a real dataset.
        const results = specs.map((s) => {
          const n = Number(s.item.slice(1));
          return result({ ...s, sample: oneSample ? 0 : s.sample, step: n % 3 ? `step${n % 3}` : undefined, type: n % 2 ? 'ethics' : 'diagnosis' });
        });
        const { records } = latestRecords(results);
        const acc = scoreRun(results, { resamples: 50 });
        const o = acc.overall;
        expect(o.scored + o.errors).toBe(records.length);
        expect(o.correct + o.wrong + o.unparseable + o.truncated).toBe(o.scored);
        for (const slices of [acc.byQuestionType, acc.byStep.length ? acc.byStep : null]) {
          if (!slices) continue;
          for (const k of ['items', 'scored', 'correct', 'wrong', 'unparseable', 'truncated', 'errors'] as const) {
            expect(slices.reduce((sum, c) => sum + c[k], 0)).toBe(o[k]);
          }
        }
        if (o.scored === 0) expect(o.accuracy).toBeNull();
        else if (acc.majorityVote === null) expect(o.accuracy!.estimate).toBeCloseTo(o.correct / o.scored, 12);
        else {
          expect(o.accuracy!.lower).toBeLessThanOrEqual(o.accuracy!.estimate + 1e-12);
          expect(o.accuracy!.upper).toBeGreaterThanOrEqual(o.accuracy!.estimate - 1e-12);
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
