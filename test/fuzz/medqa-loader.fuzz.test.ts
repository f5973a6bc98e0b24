// Property tests of the MedQA JSONL loader on random and hostile files: whatever the lines hold, loading
// either fails with an InputError (file:line, field) or yields items whose answer is one of their options.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/datasets/index.js';
import { tempDir } from '../helpers/tiny-run.js';

const LETTERS = 'ABCDEFGH';
const text = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).filter((s) => s.trim() !== '');

/** A record the loader should accept. */
const validRecord = fc
  .tuple(text, fc.array(text, { minLength: 2, maxLength: 6 }), fc.nat(), fc.constantFrom('step1', 'step2&3', 'stfep2&3', 'step9'), fc.option(fc.oneof(text, fc.nat()), { nil: undefined }))
  .map(([question, texts, pick, step, id]) => {
    const options = Object.fromEntries(texts.map((t, i) => [LETTERS[i]!, t]));
    const idx = LETTERS[pick % texts.length]!;
    return { question, options, answer_idx: idx, answer: options[idx], meta_info: step, ...(id !== undefined ? { id } : {}) } as Record<string, unknown>;
  });

/** A valid record with one field broken: removed, replaced by any JSON value, or a near miss. */
const brokenRecord = fc
  .tuple(
    validRecord,
    fc.constantFrom('question', 'options', 'answer_idx', 'answer', 'meta_info', 'id', 'question_type', 'explanation', 'metamap_phrases'),
    fc.oneof(
      fc.constant(undefined),
      fc.jsonValue(),
      fc.constantFrom('', ' ', 'Z', 'a', 'A ', '"A"', 0, -1, 1.5, null, [], {}, { A: 'x' }, { B: 'x', C: 'y' }, { A: '', B: 'y' }, { A: 'x', B: 'y', D: 'z' }),
    ),
  )
  .map(([rec, field, value]) => {
    const out = { ...rec };
    if (value === undefined) delete out[field];
    else out[field] = value;
    return out;
  });

/** One physical line of a hostile file. */
const line = fc.oneof(
  { weight: 4, arbitrary: validRecord.map((r) => JSON.stringify(r)) },
  { weight: 4, arbitrary: brokenRecord.map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80, unit: 'binary' }).map((s) => s.replace(/[\r\n]/g, ' ')) },
  { weight: 1, arbitrary: validRecord.map((r) => JSON.stringify(r).slice(0, -3)) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\uFEFF', '{', '[]', 'null', '"text"', '{"question": "q"}', '\u0000') },
);

const file = fc.record({
  lines: fc.array(line, { minLength: 0, maxLength: 12 }),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  skipInvalid: fc.boolean(),
  limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
});

describe('MedQA JSONL loader on random and hostile files', () => {
  const dir = tempDir('medeval-fuzz-medqa-');
  let n = 0;

  it('fails only with InputError, and never yields an item whose answer is not among its options', async () => {
    const seen = { loaded: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const path = join(dir, `f${n++}.jsonl`);
        writeFileSync(path, (f.bom ? '\uFEFF' : '') + f.lines.join(f.crlf ? '\r\n' : '\n'));
        let loaded;
        try {
          loaded = await loadDataset({ format: 'medqa', path, skipInvalid: f.skipInvalid, limit: f.limit });
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          // Every problem names the file (and, for record problems, a line).
          expect((e as Error).message).toContain(path);
          seen.refused++;
          return;
        }
        seen.loaded++;
        expect(loaded.items.length).toBeGreaterThan(0);
        if (f.limit) expect(loaded.items.length).toBeLessThanOrEqual(f.limit);
        const ids = new Set<string>();
        for (const item of loaded.items) {
          expect(Object.hasOwn(item.options, item.answer)).toBe(true);
          expect(typeof item.options[item.answer]).toBe('string');
          expect(Object.keys(item.options).join('')).toBe(LETTERS.slice(0, Object.keys(item.options).length));
          expect(item.question.trim()).not.toBe('');
          expect(ids.has(item.id)).toBe(false);
          ids.add(item.id);
        }
      }),
      { numRuns: 150 },
    );
    // Both outcomes were exercised, not just one.
    expect(seen.loaded).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(10);
  });

  // KNOWN BUG (src/datasets/medqa.ts medqaRecord): `answerIdx in options` is true for inherited names
  // ("toString", "constructor"), so options[answerIdx] is a function and looseText() throws a TypeError
  // instead of an InputError. Fix: `Object.hasOwn(options, answerIdx)`. Then this fails: drop `.fails`.
  it('answer_idx "toString" is an input error, not a crash', async () => {
    const path = join(dir, 'proto.jsonl');
    writeFileSync(path, JSON.stringify({ question: 'q?', options: { A: 'x', B: 'y' }, answer_idx: 'toString', answer: 'x', meta_info: 'step1' }) + '\n');
    await expect(loadDataset({ format: 'medqa', path })).rejects.toBeInstanceOf(InputError);
  });
});
