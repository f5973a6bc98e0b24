import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDataset, mmluSubject } from '../../src/datasets/index.js';
import { fixture, problemsOf } from './helpers.js';

describe('MMLU CSV', () => {
  it('reads quoted, multi-line questions and takes the subject from the file name', async () => {
    const file = fixture('mmlu/anatomy_test.csv');
    const data = await loadDataset({ format: 'mmlu', path: file });
    expect(data.name).toBe('mmlu-anatomy');
    expect(data.items.map((i) => [i.meta.source.line, i.answer])).toEqual([
      [1, 'B'],
      [2, 'A'],
      [3, 'C'],
      [7, 'B'],
    ]);
    expect(data.items[1].question).toBe('Which of the following structures, when damaged, causes a "winged" scapula?');
    expect(data.items[2].question.split('\n')).toHaveLength(4);
    expect(data.items[0].options).toEqual({ A: 'Radius', B: 'Ulna', C: 'Humerus', D: 'Scapula' });
    expect(data.items[0].meta.extra).toEqual({ subject: 'anatomy', split: 'test' });
    expect(new Set(data.items.map((i) => i.id)).size).toBe(4);
    expect(data.items[0].id).toMatch(/^mmlu-[0-9a-f]{12}$/);
  });

  it('loads a folder of subjects in name order, optionally only some', async () => {
    const all = await loadDataset({ format: 'auto', path: fixture('mmlu') });
    expect(all.format).toBe('mmlu');
    expect(all.name).toBe('mmlu');
    expect(all.files.map((f) => f.split('/').pop())).toEqual(['anatomy_test.csv', 'college_medicine_dev.csv']);
    expect(all.items).toHaveLength(6);
    const some = await loadDataset({ format: 'mmlu', path: fixture('mmlu'), subjects: ['college_medicine'] });
    expect(some.items.map((i) => i.meta.extra?.subject)).toEqual(['college_medicine', 'college_medicine']);
    await expect(loadDataset({ format: 'mmlu', path: fixture('mmlu'), subjects: ['virology'] })).rejects.toThrow(/virology/);
  });

  it('names each bad row and column', async () => {
    const problems = await problemsOf(() => loadDataset({ format: 'mmlu', path: fixture('mmlu-bad/virology_test.csv') }));
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [2, undefined],
      [3, 'answer'],
      [4, 'B'],
      [5, undefined],
    ]);
    expect(problems[0].message).toContain('expected 6 columns');
    expect(problems[3].message).toContain('never closed');
  });

  it('skips bad rows when asked', async () => {
    const data = await loadDataset({ format: 'mmlu', path: fixture('mmlu-bad/virology_test.csv'), skipInvalid: true });
    expect(data.items).toHaveLength(1);
    expect(data.skipped.map((s) => s.place.split(':').pop())).toEqual(['2', '3', '4', '5']);
  });

  it('parses subject and split from file names', () => {
    expect(mmluSubject('/x/professional_medicine_test.csv')).toEqual({ subject: 'professional_medicine', split: 'test' });
    expect(mmluSubject('anatomy.csv')).toEqual({ subject: 'anatomy' });
  });

  it('rejects a folder without CSV files', async () => {
    await expect(loadDataset({ format: 'mmlu', path: fixture('medqa') })).rejects.toBeInstanceOf(InputError);
  });
});
