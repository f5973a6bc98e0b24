// Every record of an item keeps the whole question as the dataset gives it (results.csv's `question`), beside
// the short stem the reports show.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { answeredRecord, itemBase } from '../../src/run/item-record.js';
import { writeSchemas } from '../../src/core/record.js';
import type { DatasetItem, ExtractedAnswer, Generation, ItemResult } from '../../src/core/types.js';

describe('itemBase', () => {
  it('keeps the whole question in questionText and the 300-character stem in question', () => {
    const question = `A 54-year-old man\n\nwith ${'a long history of findings, '.repeat(30)}presents. What next?`;
    const item = { id: 'q1', question, options: { A: 'x', B: 'y' }, answer: 'A', meta: {} } as unknown as DatasetItem;
    const base = itemBase(item, 0, { prompt: `Q: ${question}\nA. x\nB. y`, questionType: 'other', typeReason: 'fallback', template: 'other' }, 'd.jsonl');
    expect(base.questionText).toBe(question);
    expect(base.question!.length).toBeLessThanOrEqual(300);
    expect(base.question!.endsWith('…')).toBe(true);
    expect(writeSchemas.itemResult.shape.questionText).toBeDefined(); // the strict writer accepts it
  });
});

// The answered record as runItem built it before (object spreads), kept here as the reference.
function spreadRecord(item: DatasetItem, rendered: Parameters<typeof itemBase>[2], budget: ItemResult['budget'] | undefined, gen: Generation,
  extracted: ExtractedAnswer, queueMs: number, rssBytes: number, hit: boolean): ItemResult {
  const base = { ...itemBase(item, 2, rendered, 'medqa'), ...(budget ? { budget } : {}) };
  return {
    ...base,
    rawOutput: gen.rawText,
    reasoning: gen.reasoning,
    extracted,
    correct: extracted.status === 'answered' && extracted.letter === item.answer,
    promptTokens: gen.promptTokens,
    outputTokens: gen.outputTokens,
    tokenSource: gen.tokenSource,
    finishReason: gen.finishReason,
    timings: { ...gen.timings, queueMs },
    rssBytes,
    ...(hit ? { cached: true } : {}),
    ...(!hit && gen.retries ? { retries: gen.retries, ...(gen.retryReasons?.length ? { retryReasons: gen.retryReasons } : {}) } : {}),
    ...(!hit && gen.replica ? { replica: gen.replica } : {}),
  } as ItemResult;
}

describe('answeredRecord', () => {
  it('writes the same journal line as the spread form, byte for byte, whatever optional fields are there', () => {
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    fc.assert(fc.property(
      fc.record({
        step: opt(fc.constantFrom('step1', 'step2&3')), subject: opt(fc.string()), budget: fc.boolean(), hit: fc.boolean(),
        retries: opt(fc.nat(3)), retryReasons: opt(fc.array(fc.string(), { maxLength: 2 })), replica: opt(fc.string()),
        reasoning: fc.option(fc.string()), text: fc.string(), ttft: fc.option(fc.double({ min: 0, max: 1e4, noNaN: true })),
        itl: fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 5 }), queueMs: fc.double({ min: 0, max: 1e4, noNaN: true }),
        letter: fc.constantFrom('A', 'B', null), status: fc.constantFrom('answered', 'unparseable', 'truncated'),
      }),
      (v) => {
        const item = { id: 'medqa-1', question: 'Which one? é', options: { A: 'x', B: 'y' }, answer: 'B',
          meta: { source: { file: 't.jsonl', line: 1 }, dataset: 'medqa', ...(v.step ? { step: v.step } : {}), ...(v.subject !== undefined ? { subject: v.subject } : {}) } } as unknown as DatasetItem;
        const rendered = { prompt: 'Which one? é\nA. x\nB. y', questionType: 'other' as const, typeReason: 'fallback', template: 'other.md' };
        const budget = v.budget ? { requested: 16, maxTokens: 8, promptTokens: 100, contextSize: 128, capped: true } as unknown as ItemResult['budget'] : undefined;
        const gen = { rawText: v.text, reasoning: v.reasoning, promptTokens: 12, outputTokens: 6, tokenSource: 'server-usage', finishReason: 'stop',
          timings: { ttftMs: v.ttft, ttfoMs: v.ttft, e2eMs: 9, tpotMs: 1, itlMs: v.itl, startedAtEpochMs: 1795534944000 },
          ...(v.retries !== undefined ? { retries: v.retries } : {}), ...(v.retryReasons ? { retryReasons: v.retryReasons } : {}), ...(v.replica !== undefined ? { replica: v.replica } : {}) } as unknown as Generation;
        const extracted = { letter: v.letter, status: v.status, method: 'answer-line', answerText: v.letter ?? '' } as ExtractedAnswer;
        const before = JSON.stringify(spreadRecord(item, rendered, budget, gen, extracted, v.queueMs, 1234, v.hit));
        const base: ReturnType<typeof itemBase> & { budget?: ItemResult['budget'] } = itemBase(item, 2, rendered, 'medqa');
        if (budget) base.budget = budget;
        const after = JSON.stringify(answeredRecord(base, gen, extracted, extracted.status === 'answered' && extracted.letter === item.answer, v.queueMs, 1234, v.hit));
        expect(after).toBe(before);
      },
    ), { numRuns: 400 });
  });
});
