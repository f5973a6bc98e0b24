// The parts of a result record every runner path shares: what identifies the item, and the outcome
// of a request that failed.
import type { DatasetItem, ExtractedAnswer, Generation, ItemResult } from '../core/types.js';

export interface RenderedPrompt {
  prompt: string;
  questionType: ItemResult['questionType'];
  typeReason: string;
  template: string;
}

const QUESTION_EXCERPT_CHARS = 300;

/** The stem as reports show it: one line, at most QUESTION_EXCERPT_CHARS characters. */
export function questionExcerpt(question: string): string {
  const flat = question.replace(/\s+/g, ' ').trim();
  return flat.length <= QUESTION_EXCERPT_CHARS ? flat : `${flat.slice(0, QUESTION_EXCERPT_CHARS - 1).trimEnd()}…`;
}

/** What every record of an item carries, whatever happened to its request. */
export function itemBase(item: DatasetItem, sample: number, rendered: RenderedPrompt, dataset: string) {
  return {
    schema: 1 as const,
    itemId: item.id,
    sample,
    dataset,
    ...(item.meta.step ? { step: item.meta.step } : {}),
    ...(item.meta.subject ? { subject: item.meta.subject } : {}),
    questionType: rendered.questionType,
    typeReason: rendered.typeReason,
    template: rendered.template,
    prompt: rendered.prompt,
    question: questionExcerpt(item.question),
    questionText: item.question,
    gold: item.answer,
    optionCount: Object.keys(item.options).length,
  };
}

/** The outcome fields of a request that failed: never scored. */
export function emptyOutcome(): Pick<ItemResult, 'rawOutput' | 'reasoning' | 'extracted' | 'correct' | 'promptTokens' | 'outputTokens' | 'tokenSource' | 'finishReason' | 'timings'> {
  return {
    rawOutput: '',
    reasoning: null,
    extracted: { letter: null, status: 'unparseable', method: 'request-failed', answerText: '' },
    correct: null,
    promptTokens: null,
    outputTokens: null,
    tokenSource: 'unknown',
    finishReason: 'error',
    timings: null,
  };
}

/**
 * The record of an answered request: `base` (itemBase's fields, and the budget when planned) with the
 * answer's fields added in place, in the order the journal has always had them (that order is the line's
 * bytes). Built without object spreads: copying the item's fields into a new object and spreading the
 * optional ones in cost about 25 us a record against 3 (test/run/item-record.test.ts holds both forms).
 */
export function answeredRecord(base: ReturnType<typeof itemBase> & { budget?: ItemResult['budget'] }, gen: Generation, extracted: ExtractedAnswer,
  correct: boolean, queueMs: number, rssBytes: number, hit: boolean): ItemResult {
  const r = base as ItemResult;
  r.rawOutput = gen.rawText;
  r.reasoning = gen.reasoning;
  r.extracted = extracted;
  r.correct = correct;
  r.promptTokens = gen.promptTokens;
  r.outputTokens = gen.outputTokens;
  r.tokenSource = gen.tokenSource;
  r.finishReason = gen.finishReason;
  r.timings = { ...gen.timings, queueMs };
  r.rssBytes = rssBytes;
  if (hit) r.cached = true;
  if (!hit && gen.retries) {
    r.retries = gen.retries;
    if (gen.retryReasons?.length) r.retryReasons = gen.retryReasons;
  }
  if (!hit && gen.replica) r.replica = gen.replica;
  return r;
}
