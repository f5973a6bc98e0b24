import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extractAnswer, EXTRACTION_METHODS } from '../../src/scoring/extract.js';

const FOUR = { A: 'Atropine', B: 'Pralidoxime', C: 'Physostigmine', D: 'Neostigmine' };
const FIVE = { A: 'Insulin glargine', B: 'Glipizide', C: 'Metformin', D: 'Sitagliptin', E: 'Pioglitazone' };
const itemOptions = fc.constantFrom<Record<string, string>>(FOUR, FIVE);

// Pieces models really emit, so random strings reach the interesting paths instead of staying noise.
const FRAGMENTS = [
  '<think>', '</think>', '</think', '<think', 'Answer:', 'ANSWER: $', 'Final Answer', 'the answer is', 'The correct answer is ',
  '\\boxed{', '\\text{', '}', '{', '$', '**', '__', '(', ')', '[', ']', 'A', 'B', 'C', 'D', 'E', 'F', 'Z', 'a', 'c', 'e',
  'Ｃ', 'ℂ', ' or ', ' and ', ', ', '.', '\n', ' ', '\t', 'option ', 'not ', 'if ', 'Metformin', 'Atropine', 'glipizide', '-', "'", 'I ',
];
const hostile = fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })), { maxLength: 60 }).map((parts) => parts.join(''));
const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), hostile);

// Characters with no Latin letter in them even after NFKC folding (which turns "Ｃ" or "ℂ" into "C").
const noLetterChar = fc
  .oneof(
    fc.constantFrom(...' \n\t.,;:!?()[]{}<>/\\*_$`"\'#@%^&+=|~-0123456789'.split('')),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  )
  .filter((ch) => !/[A-Za-z]/.test(ch.normalize('NFKC')));
const noLetterText = fc.array(noLetterChar, { maxLength: 200 }).map((chars) => chars.join(''));

const THINK_TAG = /<\/?think\s*>/i;

describe('extractAnswer: properties', () => {
  it('never throws, and only ever answers with one of the options', () => {
    fc.assert(
      fc.property(anyText, itemOptions, fc.boolean(), (raw, options, startsInReasoning) => {
        const got = extractAnswer(raw, options, { startsInReasoning });
        expect(EXTRACTION_METHODS).toContain(got.method);
        if (got.status === 'answered') {
          expect(Object.keys(options)).toContain(got.letter);
        } else {
          expect(got.letter).toBeNull();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never answers from text with no letter-like content', () => {
    fc.assert(
      fc.property(noLetterText, itemOptions, (raw, options) => {
        expect(extractAnswer(raw, options).status).not.toBe('answered');
      }),
      { numRuns: 1000 },
    );
  });

  it('never takes anything from a closed think block', () => {
    fc.assert(
      fc.property(hostile.filter((s) => !THINK_TAG.test(s)), hostile.filter((s) => !THINK_TAG.test(s)), itemOptions, (reasoning, answer, options) => {
        const withReasoning = extractAnswer(`<think>${reasoning}</think>${answer}`, options);
        const alone = extractAnswer(answer, options);
        expect({ ...withReasoning }).toEqual({ ...alone });
      }),
      { numRuns: 1000 },
    );
  });

  it('an unterminated think block is always truncated', () => {
    fc.assert(
      fc.property(anyText, anyText.filter((s) => !/<\/think\s*>/i.test(s)), itemOptions, (before, reasoning, options) => {
        const got = extractAnswer(`${before.replace(/<\/?think\s*>/gi, '')}<think>${reasoning}`, options);
        expect(got.status).toBe('truncated');
        expect(got.letter).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('the last explicit statement wins over an earlier one', () => {
    const letters = fc.constantFrom('A', 'B', 'C', 'D');
    const filler = fc.array(fc.constantFrom(' ', '\n', '1', '2', '.', ','), { maxLength: 40 }).map((p) => p.join(''));
    fc.assert(
      fc.property(letters, letters, filler, (first, last, between) => {
        const got = extractAnswer(`Answer: ${first}\n${between}\nActually, the correct answer is (${last}).`, FOUR);
        expect(got.letter).toBe(last);
      }),
    );
  });

  it('stays fast on long hostile input (no catastrophic backtracking)', () => {
    const long = 'Answer: **(' + '$'.repeat(20_000) + ' \\boxed{'.repeat(5_000) + '**A'.repeat(10_000) + ' A or'.repeat(10_000);
    // CPU time, not wall time: other processes on a busy machine cannot push it over (idle: ~60 ms).
    const started = process.cpuUsage();
    const got = extractAnswer(long, FOUR);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(5_000);
    expect(got.letter === null || Object.keys(FOUR).includes(got.letter)).toBe(true);
  });
});
