import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { datasetSpec, loadSuite } from '../../src/run/suite.js';
import { loadDataset } from '../../src/datasets/index.js';
import { fieldAt } from '../../src/datasets/mapped.js';
import type { DatasetSpec } from '../../src/datasets/types.js';
import { tempDir } from '../helpers/tiny-run.js';
import { fixture, problemsOf } from './helpers.js';

const mapped = (name: string, fields: DatasetSpec['fields'], more: Partial<DatasetSpec> = {}) =>
  loadDataset({ format: 'mapped', path: fixture(`mapped/${name}`), fields, ...more });

const HF_MEDQA = { question: 'question', options: 'options', answer: 'answer_idx', meta: { step: 'meta_info' } };
const SWAG = { id: 'id', question: ['sent1', 'sent2'], options: ['ending0', 'ending1', 'ending2', 'ending3'], answer: 'label', answerAs: 'index' as const };

describe('field-mapped datasets (format: mapped)', () => {
  it('reads GBaker/MedQA-USMLE-4-options: options by letter, letter answer, meta_info as step, content-hash ids', async () => {
    const data = await mapped('medqa-4-options.jsonl', HF_MEDQA);
    expect(data.format).toBe('mapped');
    expect(data.name).toBe('medqa-4-options');
    expect(data.items.map((i) => [i.answer, i.meta.step, i.meta.source.line])).toEqual([['D', 'step2&3', 1], ['B', 'step1', 2]]);
    expect(data.items[0].options).toEqual({ A: 'Ampicillin', B: 'Ceftriaxone', C: 'Doxycycline', D: 'Nitrofurantoin' });
    expect(data.items[0].id).toMatch(/^mapped-[0-9a-f]{12}$/);
    expect(new Set(data.items.map((i) => i.id)).size).toBe(2);
    // The same file loaded twice gives the same ids.
    expect((await mapped('medqa-4-options.jsonl', HF_MEDQA)).items.map((i) => i.id)).toEqual(data.items.map((i) => i.id));
  });

  it('the answer as option text gives the same items as the letter', async () => {
    const byLetter = await mapped('medqa-4-options.jsonl', HF_MEDQA);
    const byText = await mapped('medqa-4-options.jsonl', { ...HF_MEDQA, answer: 'answer', answerAs: 'text' });
    expect(byText.items.map((i) => [i.id, i.answer])).toEqual(byLetter.items.map((i) => [i.id, i.answer]));
  });

  it('reads options as a list of {key, value}, an id field and dotted metadata paths (subject into meta.subject)', async () => {
    const data = await mapped('medqa-key-value.jsonl', {
      id: 'id', question: 'question', options: 'options', answer: 'answer_idx', meta: { subject: 'meta.subject', step: 'meta.step' },
    });
    expect(data.items.map((i) => [i.id, i.answer, i.meta.subject, i.meta.step])).toEqual([
      ['q-001', 'C', 'Biochemistry', 'step1'],
      ['q-002', 'B', 'Anatomy', 'step1'],
    ]);
    expect(data.items[1].options).toEqual({ A: 'Radial', B: 'Axillary', C: 'Median', D: 'Ulnar' });
  });

  it('reads the sent1/ending0..3/label form: question from two fields, options from four, 0-based label detected and reported', async () => {
    const data = await mapped('medqa-swag.jsonl', SWAG);
    expect(data.items.map((i) => [i.id, i.answer])).toEqual([['0', 'A'], ['1', 'C']]);
    expect(data.items[0].question).toBe('A 45-year-old man has crushing chest pain radiating to the left arm. The most appropriate first drug is');
    expect(data.items[1].options).toEqual({ A: 'hypothyroidism', B: 'Cushing syndrome', C: 'Graves disease', D: 'Addison disease' });
    expect(data.warnings).toEqual([expect.stringMatching(/label read as a 0-based index \(0 at line 1\)/)]);
    // A stated base is used as stated, without a warning.
    const stated = await mapped('medqa-swag.jsonl', { ...SWAG, indexBase: 1 }, { skipInvalid: true });
    expect(stated.warnings).toEqual([]);
    expect(stated.items.map((i) => i.answer)).toEqual(['B']); // label 0 is out of range 1..4
    expect(stated.skipped).toEqual([{ place: `${fixture('mapped/medqa-swag.jsonl')}:1`, reason: 'field "label" 0 is outside 1..4 (read as 1-based)' }]);
  });

  it('reads a JSON array with options as a list of strings and a 1-based index detected from the option count', async () => {
    const data = await mapped('list-1-based.json', { question: 'question', options: 'choices', answer: 'correct', answerAs: 'index', meta: { subject: 'subject' } });
    expect(data.items.map((i) => [i.answer, i.meta.subject, i.meta.source.line])).toEqual([['B', 'Physiology', 2], ['C', 'Physiology', 8]]);
    expect(data.items[1].options).toEqual({ A: '20-40', B: '30-50', C: '60-100' });
    expect(data.warnings).toEqual([expect.stringMatching(/is a JSON array/), expect.stringMatching(/correct read as a 1-based index \(3 = the option count at line 8\)/)]);
  });

  it('reads a CSV with a header row, options from columns and the answer as text', async () => {
    const data = await mapped('answer-text.csv', { question: 'question', options: ['A', 'B', 'C'], answer: 'answer', answerAs: 'text', meta: { subject: 'subject', area: 'subject' } });
    expect(data.items.map((i) => [i.answer, i.meta.subject, i.meta.source.line])).toEqual([['A', 'Pharmacology', 2], ['B', 'Cardiology', 3]]);
    expect(data.items[1].options.C).toBe('Hypocalcemia, severe');
    expect(data.items[1].meta.extra).toEqual({ area: 'Cardiology' });
  });

  it('names file:line and the field of every bad record, and exits 2', async () => {
    const file = fixture('mapped/bad.jsonl');
    const load = () => mapped('bad.jsonl', { question: 'question', options: 'options', answer: 'answer_idx' });
    const problems = await problemsOf(load);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [2, 'question'],
      [3, 'answer_idx'],
      [4, 'options'],
      [5, undefined],
      [6, 'options'],
      [6, 'answer_idx'],
    ]);
    expect(problems.map((p) => p.file)).toEqual(Array(6).fill(file));
    expect(problems[1].message).toMatch(/"E" is not an option letter \(A\.\.B\)/);
    expect(problems[2].message).toMatch(/must be an object by letter, a list of strings or a list of \{key, value\}/);
    expect(problems[4].message).toMatch(/consecutive letters A\.\.B, got A,C/);
    expect(problems[5].message).toMatch(/bad\.jsonl:6 field "answer_idx": missing$/);
    const error = await load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError); // the CLI's exit 2
    expect(String((error as Error).message)).toMatch(/5 invalid record\(s\)/);
  });

  it('--skip-invalid keeps the good records and lists the bad ones with file:line and field', async () => {
    const file = fixture('mapped/bad-swag.jsonl');
    const data = await mapped('bad-swag.jsonl', { ...SWAG, id: undefined, question: 'sent1' }, { skipInvalid: true });
    expect(data.items.map((i) => i.question)).toEqual(['One.']);
    expect(data.skipped).toEqual([
      { place: `${file}:2`, reason: 'field "ending2" missing' },
      { place: `${file}:3`, reason: 'field "label" 7 is outside 0..3 (read as 0-based)' },
      { place: `${file}:4`, reason: 'field "label" must be an integer index (answerAs: index), got the string "x"' },
    ]);
  });

  it('an index that could count from 0 or 1 is an error asking for indexBase, not a guess', async () => {
    const problems = await problemsOf(() => mapped('ambiguous-index.jsonl', { question: 'question', options: 'choices', answer: 'label', answerAs: 'index' }));
    expect(problems).toEqual([expect.objectContaining({ file: fixture('mapped/ambiguous-index.jsonl'), field: 'label', message: expect.stringMatching(/cannot tell a 0-based from a 1-based/) })]);
    const data = await mapped('ambiguous-index.jsonl', { question: 'question', options: 'choices', answer: 'label', answerAs: 'index', indexBase: 1 });
    expect(data.items.map((i) => i.answer)).toEqual(['A', 'B']);
  });

  it('a mapping that is missing or wrong is an input error naming the field', async () => {
    await expect(loadDataset({ format: 'mapped', path: fixture('mapped/bad.jsonl') })).rejects.toMatchObject({ place: { field: 'fields' } });
    await expect(mapped('bad.jsonl', { question: 'question', options: 'options' } as never)).rejects.toMatchObject({ place: { field: 'fields.answer' } });
    await expect(loadDataset({ format: 'medqa', path: fixture('mapped/bad.jsonl'), fields: HF_MEDQA })).rejects.toThrow(/use format: mapped|set dataset.format: mapped/);
  });

  it('dotted paths: an exact key wins, else the path goes through objects', () => {
    expect(fieldAt({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
    expect(fieldAt({ a: { b: { c: 3 } } }, 'a.b.c')).toBe(3);
    expect(fieldAt({ a: 'x' }, 'a.b')).toBeUndefined();
  });

  it('end to end: a suite with format mapped loads through datasetSpec and loadDataset', async () => {
    const suite = await loadSuite(fixture('mapped/medqa-swag.suite.yaml'));
    expect(suite.dataset.format).toBe('mapped');
    const data = await loadDataset(datasetSpec(suite, {}));
    expect(data.name).toBe('medqa-swag-mapped');
    expect(data.items.map((i) => [i.id, i.answer, i.meta.dataset])).toEqual([['0', 'A', 'medqa-swag-mapped'], ['1', 'C', 'medqa-swag-mapped']]);
  });

  it('a suite with format mapped but no fields (or fields with another format) is rejected at load, naming the field', async () => {
    const dir = tempDir('medeval-mapped-suite-');
    writeFileSync(join(dir, 'no-fields.yaml'), 'name: x\ndataset:\n  format: mapped\n  path: d.jsonl\n');
    await expect(loadSuite(join(dir, 'no-fields.yaml'))).rejects.toThrow(/fields[\s\S]*format "mapped" needs fields/);
    writeFileSync(join(dir, 'wrong-format.yaml'), 'name: x\ndataset:\n  format: medqa\n  path: d.jsonl\n  fields: {question: q, options: o, answer: a}\n');
    await expect(loadSuite(join(dir, 'wrong-format.yaml'))).rejects.toThrow(/use format: mapped/);
  });
});
