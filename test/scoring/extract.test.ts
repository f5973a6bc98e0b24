import { describe, expect, it } from 'vitest';
import { extractAnswer, type ExtractOptions } from '../../src/scoring/extract.js';
import type { AnswerStatus } from '../../src/core/types.js';

// A MedQA-style item with five options and a MedMCQA-style item with four.
const DIABETES = {
  A: 'Insulin glargine',
  B: 'Glipizide',
  C: 'Metformin',
  D: 'Sitagliptin',
  E: 'Pioglitazone',
};
const POISONING = { A: 'Atropine', B: 'Pralidoxime', C: 'Physostigmine', D: 'Neostigmine' };

// Reasoning in the style of DeepSeek-R1 distills: it discusses every letter, so any extractor that reads
// it would find an answer there.
const THINK_DIABETES =
  "<think>\nOkay, let's see. A 52-year-old man with type 2 diabetes, HbA1c 8.1%, BMI 31, normal renal function. " +
  'Option A, insulin glargine, is for HbA1c above 10% or symptomatic hyperglycemia, so probably not A. ' +
  'B is glipizide, a sulfonylurea; it causes weight gain and hypoglycemia. Answer: B? No. ' +
  'D, sitagliptin, is a second-line add-on. E, pioglitazone, causes fluid retention. ' +
  'So the answer is C, metformin, first-line per ADA.\n</think>\n\n';
const THINK_POISONING =
  '<think>\nFarmer with miosis, salivation, bradycardia after spraying pesticides: organophosphate poisoning. ' +
  'Atropine (A) blocks muscarinic effects; pralidoxime (B) reactivates cholinesterase. ' +
  'Physostigmine (C) and neostigmine (D) would worsen it. The immediate drug is A. Maybe B too?\n</think>\n\n';

interface Case {
  name: string;
  raw: string;
  options?: Record<string, string>;
  opts?: ExtractOptions;
  letter: string | null;
  status: AnswerStatus;
  method: string;
}

const cases: Case[] = [
  // --- Final-answer forms after a closed think block
  { name: 'bold Answer: line', raw: THINK_DIABETES + 'Metformin is first-line therapy.\n\n**Answer: C**', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'Answer: C plain', raw: THINK_DIABETES + 'Answer: C', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'ANSWER: $B$ (inspect_ai#5145)', raw: THINK_POISONING + 'ANSWER: $B$', options: POISONING, letter: 'B', status: 'answered', method: 'answer-colon' },
  { name: 'ANSWER: $\\text{A}$', raw: THINK_POISONING + 'ANSWER: $\\text{A}$', options: POISONING, letter: 'A', status: 'answered', method: 'answer-colon' },
  { name: 'Final answer: (C)', raw: THINK_DIABETES + 'Final answer: (C)', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: '**Final Answer:** (C) Metformin', raw: THINK_DIABETES + '**Final Answer:** (C) Metformin', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: '**Answer:** C — Metformin', raw: THINK_DIABETES + '**Answer:** C — Metformin', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'Answer: **C**', raw: THINK_DIABETES + 'Answer: **C**', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'lower-case answer: c', raw: THINK_DIABETES + 'answer: c', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'full-width Answer：Ｃ', raw: THINK_DIABETES + 'Answer：Ｃ', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'The answer is (C)', raw: THINK_DIABETES + 'The answer is (C).', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'the correct answer is C.', raw: THINK_DIABETES + 'Given his HbA1c and normal eGFR, the correct answer is C.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'I would go with C', raw: THINK_DIABETES + "I'd go with C.", letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'is option C', raw: THINK_DIABETES + 'The most appropriate next step is option C.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'the answer is likely **C. Metformin**', raw: THINK_DIABETES + 'The answer is likely **C. Metformin**.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: '(C) is correct', raw: THINK_DIABETES + 'Hence, (C) is correct.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'Option C is the best answer', raw: THINK_DIABETES + 'Option C is the best answer here; B risks hypoglycemia.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: '\\boxed{C}', raw: THINK_DIABETES + '\\boxed{C}', letter: 'C', status: 'answered', method: 'boxed' },
  { name: '\\boxed{\\text{C}}', raw: THINK_DIABETES + 'The final answer is $\\boxed{\\text{C}}$', letter: 'C', status: 'answered', method: 'boxed' },
  { name: '\\boxed{\\textbf{(C)}}', raw: THINK_DIABETES + '$\\boxed{\\textbf{(C)}}$', letter: 'C', status: 'answered', method: 'boxed' },
  { name: '\\boxed{C. Metformin}', raw: THINK_DIABETES + '\\[\n\\boxed{C. \\text{Metformin}}\n\\]', letter: 'C', status: 'answered', method: 'boxed' },
  { name: '\\boxed{Metformin} (option text in a box)', raw: THINK_DIABETES + '\\boxed{\\text{Metformin}}', letter: 'C', status: 'answered', method: 'boxed' },
  {
    name: 'markdown explanation then Final Answer heading and box',
    raw:
      THINK_DIABETES +
      '### Explanation\n- **Option A (Insulin glargine)**: reserved for HbA1c > 10%.\n- **Option B (Glipizide)**: hypoglycemia.\n\n### Final Answer\n\\boxed{C}',
    letter: 'C',
    status: 'answered',
    method: 'boxed',
  },
  { name: 'bare C', raw: THINK_DIABETES + 'C', letter: 'C', status: 'answered', method: 'bare-letter' },
  { name: 'bare C)', raw: THINK_DIABETES + 'C)', letter: 'C', status: 'answered', method: 'bare-letter' },
  { name: 'bare **C**', raw: THINK_DIABETES + '**C**', letter: 'C', status: 'answered', method: 'bare-letter' },
  { name: 'bare lower-case c after an empty think', raw: '<think>\n\n</think>\n\nc', letter: 'C', status: 'answered', method: 'bare-letter' },
  { name: 'bold letter in a sentence', raw: THINK_DIABETES + 'Guidelines favour **C** here.', letter: 'C', status: 'answered', method: 'bold' },
  { name: '(C) Metformin', raw: THINK_DIABETES + '(C) Metformin', letter: 'C', status: 'answered', method: 'option-prefix' },
  { name: 'C. Metformin', raw: THINK_DIABETES + 'C. Metformin', letter: 'C', status: 'answered', method: 'option-prefix' },
  // --- Restated, corrected, option text
  { name: 'restated twice with the same letter', raw: THINK_DIABETES + 'The answer is C.\n\n**Final Answer: C**', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'self-correction: the last statement wins', raw: THINK_DIABETES + 'Answer: B\n\nWait, actually the answer is C, because glipizide causes hypoglycemia.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'self-correction the other way', raw: THINK_DIABETES + 'The answer is C.\n\nHmm, on reflection the weight gain matters less.\nAnswer: B', letter: 'B', status: 'answered', method: 'answer-colon' },
  { name: 'negated then stated', raw: THINK_DIABETES + 'The answer is not A; the answer is C.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'explanation mentioning other options after the answer', raw: THINK_DIABETES + 'Final answer: C\n\nExplanation: Option B (glipizide) causes hypoglycemia; A is reserved for HbA1c > 10%.', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'option text instead of a letter', raw: THINK_DIABETES + 'The answer is metformin.', letter: 'C', status: 'answered', method: 'option-text' },
  { name: 'option text in prose', raw: THINK_DIABETES + 'Metformin should be started together with diet and exercise.', letter: 'C', status: 'answered', method: 'option-text' },
  { name: 'drug of choice is **Atropine**', raw: THINK_POISONING + 'The drug of choice is **Atropine** (A).', options: POISONING, letter: 'A', status: 'answered', method: 'option-text' },
  { name: 'multiple think blocks', raw: '<think>A?</think>Answer: C<think>or maybe B</think>', letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'upper-case THINK tags', raw: '<THINK>B looks right</THINK>\nAnswer: C', letter: 'C', status: 'answered', method: 'answer-colon' },
  // --- Prefilled <think> and separated reasoning
  { name: 'prefilled <think>, auto-detected from </think>', raw: THINK_DIABETES.replace('<think>\n', ''), letter: null, status: 'unparseable', method: 'empty' },
  { name: 'prefilled <think> then Answer', raw: THINK_DIABETES.replace('<think>\n', '') + 'Answer: C', opts: { startsInReasoning: true }, letter: 'C', status: 'answered', method: 'answer-colon' },
  { name: 'separated reasoning_content, answer in content', raw: 'Answer: C', opts: { reasoning: 'Answer: B? A is insulin...' }, letter: 'C', status: 'answered', method: 'answer-colon' },
  {
    name: 'separated reasoning also prepended to raw without tags',
    raw: 'Answer: B would be wrong... the answer is B.\n\nMetformin is first-line.',
    opts: { reasoning: 'Answer: B would be wrong... the answer is B.' },
    letter: 'C',
    status: 'answered',
    method: 'option-text',
  },
  // --- Failures: truncated, empty, ambiguous, not an option
  { name: 'reasoning cut off by max tokens', raw: THINK_DIABETES.split('</think>')[0].slice(0, 300), opts: { finishReason: 'length' }, letter: null, status: 'truncated', method: 'truncated-reasoning' },
  { name: 'cut off mid closing tag', raw: THINK_DIABETES.split('</think>')[0] + '</thi', letter: null, status: 'truncated', method: 'truncated-reasoning' },
  { name: 'prefilled <think> and no </think>', raw: 'So the answer is C. Let me double-check B...', opts: { startsInReasoning: true }, letter: null, status: 'truncated', method: 'truncated-reasoning' },
  { name: 'separated reasoning, empty content, length', raw: '', opts: { reasoning: 'A or B... the answer is C', finishReason: 'length' }, letter: null, status: 'truncated', method: 'truncated-reasoning' },
  { name: 'answer cut off by max tokens', raw: THINK_DIABETES + 'Considering the options, the best', opts: { finishReason: 'length' }, letter: null, status: 'truncated', method: 'truncated-answer' },
  { name: 'letters only inside the reasoning', raw: THINK_DIABETES, letter: null, status: 'unparseable', method: 'empty' },
  { name: 'empty answer after </think>', raw: THINK_DIABETES + '   \n\n', letter: null, status: 'unparseable', method: 'empty' },
  { name: 'empty output', raw: '', letter: null, status: 'unparseable', method: 'empty' },
  { name: 'prose with no answer', raw: THINK_DIABETES + 'I would need the eGFR before deciding.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: 'stray article "A 45-year-old"', raw: THINK_DIABETES + 'A 45-year-old man like this one needs first-line therapy.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: '"the answer is a sulfonylurea" is not A', raw: THINK_DIABETES + 'The answer is a sulfonylurea.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: 'a letter in a name is not a verdict', raw: THINK_DIABETES + 'Hepatitis B is the most likely cause; vitamin D is correct to check.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: '"D is the best tolerated" is not a verdict', raw: THINK_DIABETES + 'Overall, D is the best tolerated drug here.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: 'So C is correct', raw: THINK_DIABETES + 'So C is correct.', letter: 'C', status: 'answered', method: 'answer-is' },
  { name: 'I think A or B (never a guess)', raw: THINK_DIABETES + 'I think A or B', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: 'Answer: A or B', raw: THINK_DIABETES + 'Answer: A or B', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'boxed two letters', raw: THINK_DIABETES + '\\boxed{A, C}', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'two bold letters', raw: THINK_DIABETES + '**A** and **C** are both reasonable here.', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'option list reprinted', raw: THINK_DIABETES + 'A. Insulin glargine\nB. Glipizide\nC. Metformin', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'letter and option text disagree', raw: THINK_DIABETES + 'Answer: C. Glipizide', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'two option texts, no letter', raw: THINK_DIABETES + 'Metformin or glipizide, both are reasonable.', letter: null, status: 'unparseable', method: 'ambiguous' },
  { name: 'Answer: E on a four-option item', raw: THINK_POISONING + 'Answer: E', options: POISONING, letter: null, status: 'unparseable', method: 'letter-not-an-option' },
  { name: 'bare E on a four-option item', raw: THINK_POISONING + 'E', options: POISONING, letter: null, status: 'unparseable', method: 'letter-not-an-option' },
  { name: 'hypothetical "if the answer is A"', raw: THINK_DIABETES + 'If the answer is A, the HbA1c would have to be higher.', letter: null, status: 'unparseable', method: 'no-answer-found' },
  { name: 'template placeholder echoed', raw: THINK_DIABETES + "I must answer as 'ANSWER: $LETTER'.", letter: null, status: 'unparseable', method: 'no-answer-found' },
];

describe('extractAnswer: R1-style outputs', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name', ({ raw, options, opts, letter, status, method }) => {
    const got = extractAnswer(raw, options ?? DIABETES, opts);
    expect({ letter: got.letter, status: got.status, method: got.method }).toEqual({ letter, status, method });
  });
});

describe('extractAnswer: answerText', () => {
  it('is the text after the reasoning, trimmed', () => {
    expect(extractAnswer(THINK_DIABETES + '  Answer: C \n', DIABETES).answerText).toBe('Answer: C');
  });
  it('is empty when the reasoning never ended', () => {
    expect(extractAnswer('<think>the answer is C', DIABETES).answerText).toBe('');
  });
  it('keeps the original characters (no NFKC folding in what is stored)', () => {
    expect(extractAnswer('</think>Answer：Ｃ', DIABETES).answerText).toBe('Answer：Ｃ');
  });
});

describe('extractAnswer: bad options', () => {
  it('rejects an item without options', () => {
    expect(() => extractAnswer('Answer: A', {})).toThrow(/no options/);
  });
  it('rejects option keys that are not letters', () => {
    expect(() => extractAnswer('Answer: A', { '1': 'x', '2': 'y' })).toThrow(/single letters/);
  });
});
