import { describe, expect, it } from 'vitest';
import { scoreResults } from '../../src/scoring/accuracy.js';
import type { AnswerStatus, ItemResult, QuestionType } from '../../src/core/types.js';

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
    step: spec.step,
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

// Expected intervals: Wilson 95% (z = 1.959963984540054), computed independently with Python.
describe('scoreResults: one sample per item', () => {
  const outcomes: Outcome[] = ['correct', 'correct', 'correct', 'correct', 'correct', 'correct', 'wrong', 'wrong', 'unparseable', 'truncated', 'error', 'null'];
  const results = outcomes.map((outcome, i) => result({ item: `q${i}`, outcome }));
  const summary = scoreResults(results);

  it('counts wrong, unparseable, truncated and errors apart', () => {
    expect(summary.overall).toMatchObject({ items: 12, n: 10, correct: 6, wrong: 2, unparseable: 1, truncated: 1, errors: 2 });
  });

  it('accuracy is correct / scored, errors excluded from n, with a Wilson interval', () => {
    expect(summary.metric).toBe('accuracy');
    expect(summary.samples).toBe(1);
    expect(summary.overall.accuracy.estimate).toBeCloseTo(0.6, 12);
    expect(summary.overall.accuracy.lower).toBeCloseTo(0.312673769734, 9);
    expect(summary.overall.accuracy.upper).toBeCloseTo(0.831819670294, 9);
    expect(summary.overall.passAt1).toBeUndefined();
    expect(summary.overall.majorityVote).toBeUndefined();
  });

  it('an empty run has n = 0, estimate NaN and the interval [0, 1]', () => {
    const empty = scoreResults([]);
    expect(empty.overall.n).toBe(0);
    expect(empty.overall.accuracy.estimate).toBeNaN();
    expect([empty.overall.accuracy.lower, empty.overall.accuracy.upper]).toEqual([0, 1]);
  });
});

describe('scoreResults: groups', () => {
  const results = [
    result({ item: 'a', outcome: 'correct', step: 'step1', type: 'pharmacology' }),
    result({ item: 'b', outcome: 'wrong', step: 'step1', type: 'diagnosis' }),
    result({ item: 'c', outcome: 'correct', step: 'step2&3', type: 'pharmacology' }),
    result({ item: 'd', outcome: 'truncated', step: 'step2&3', type: 'management' }),
    result({ item: 'e', outcome: 'correct', type: 'diagnosis' }),
  ];
  const summary = scoreResults(results);

  it('splits by step, with records lacking a step under "unspecified"', () => {
    expect(Object.keys(summary.byStep)).toEqual(['step1', 'step2&3', 'unspecified']);
    expect(summary.byStep['step1']).toMatchObject({ n: 2, correct: 1, wrong: 1 });
    expect(summary.byStep['step2&3']).toMatchObject({ n: 2, correct: 1, truncated: 1 });
    expect(summary.byStep['unspecified']).toMatchObject({ n: 1, correct: 1 });
  });

  it('splits by question type in the canonical order', () => {
    expect(Object.keys(summary.byQuestionType)).toEqual(['diagnosis', 'management', 'pharmacology']);
    expect(summary.byQuestionType.pharmacology).toMatchObject({ n: 2, correct: 2 });
    expect(summary.byQuestionType.pharmacology!.accuracy.lower).toBeCloseTo(0.342380227507, 9);
    expect(summary.byQuestionType.management).toMatchObject({ n: 1, correct: 0, truncated: 1 });
  });

  it('group counts add up to the overall counts', () => {
    const sum = (key: 'n' | 'correct' | 'truncated') => Object.values(summary.byStep).reduce((s, g) => s + g[key], 0);
    expect(sum('n')).toBe(summary.overall.n);
    expect(sum('correct')).toBe(summary.overall.correct);
    expect(sum('truncated')).toBe(summary.overall.truncated);
  });

  it('has no step groups when no record has a step', () => {
    expect(scoreResults([result({ item: 'x', outcome: 'correct' })]).byStep).toEqual({});
  });
});

describe('scoreResults: several samples per item', () => {
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
  const summary = scoreResults(results);

  it('reports pass@1 as the primary metric', () => {
    expect(summary.samples).toBe(3);
    expect(summary.metric).toBe('pass@1');
    expect(summary.overall.metric).toBe('pass@1');
  });

  it('pass@1 is the mean over items of per-item accuracy; an item whose samples all failed is left out', () => {
    // (2/3 + 0/3 + 2/2) / 3 = 5/9; Wilson with n = 3 items.
    const p = summary.overall.passAt1!;
    expect(p.items).toBe(3);
    expect(p.estimate).toBeCloseTo(5 / 9, 12);
    expect(p.lower).toBeCloseTo(0.15071127202, 9);
    expect(p.upper).toBeCloseTo(0.898011280008, 9);
    expect(summary.overall.accuracy).toEqual({ estimate: p.estimate, lower: p.lower, upper: p.upper });
  });

  it('majority vote: a tie is no majority, unparseable samples do not vote', () => {
    // q1: C,C,B -> C correct; q2: A,B -> tie; q3: C,C -> correct.
    expect(summary.overall.majorityVote).toMatchObject({ items: 3, correct: 2, ties: 1, noVotes: 0 });
    expect(summary.overall.majorityVote!.estimate).toBeCloseTo(2 / 3, 12);
    expect(summary.overall.majorityVote!.lower).toBeCloseTo(0.207659600802, 9);
  });

  it('still counts records: n over all scored samples, errors apart', () => {
    expect(summary.overall).toMatchObject({ items: 4, n: 8, correct: 4, wrong: 3, unparseable: 1, truncated: 0, errors: 4 });
  });

  it('an item with only unparseable samples has no votes', () => {
    const s = scoreResults([
      result({ item: 'z', sample: 0, outcome: 'unparseable' }),
      result({ item: 'z', sample: 1, outcome: 'truncated' }),
    ]);
    expect(s.overall.majorityVote).toMatchObject({ items: 1, correct: 0, noVotes: 1 });
    expect(s.overall.passAt1!.estimate).toBe(0);
  });
});

describe('scoreResults: the journal', () => {
  it('keeps the last record of a repeated (item, sample), as after a retried error', () => {
    const s = scoreResults([
      result({ item: 'q1', outcome: 'error' }),
      result({ item: 'q2', outcome: 'wrong' }),
      result({ item: 'q1', outcome: 'correct' }),
    ]);
    expect(s.duplicates).toBe(1);
    expect(s.overall).toMatchObject({ n: 2, correct: 1, wrong: 1, errors: 0 });
  });

  it('treats correct === null without an error as an error, never as wrong', () => {
    const s = scoreResults([result({ item: 'q1', outcome: 'null' })]);
    expect(s.overall).toMatchObject({ n: 0, wrong: 0, errors: 1 });
  });

  it('rejects a record without a usable sample index', () => {
    const bad = { ...result({ item: 'q1', outcome: 'correct' }), sample: -1 };
    expect(() => scoreResults([bad])).toThrow(/"q1".*non-negative integer sample/);
  });
});
