import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { datasetSpec, loadSuite } from '../../src/run/suite.js';
import { MMLU_MEDICAL_SUBJECTS, loadDataset, mmluSubject } from '../../src/datasets/index.js';
import { tempDir } from '../helpers/tiny-run.js';
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

describe('MMLU published test folder (duplicates, medical subjects)', () => {
  const folder = fixture('mmlu-test');

  it('keeps exact duplicate rows, each with its own id, and warns naming both lines', async () => {
    const data = await loadDataset({ format: 'mmlu', path: folder, subjects: ['college_physics', 'high_school_psychology'] });
    const physics = data.items.filter((i) => i.meta.subject === 'college_physics');
    expect(physics.map((i) => i.meta.source.line)).toEqual([1, 2, 3]);
    expect(physics[2].id).toBe(`${physics[0].id}.2`);
    expect(new Set(data.items.map((i) => i.id)).size).toBe(data.items.length);
    expect(data.items).toHaveLength(6);
    const physicsFile = `${folder}/college_physics_test.csv`;
    expect(data.warnings).toEqual([
      `${physicsFile}:3: exact duplicate of ${physicsFile}:1 (as published); kept, as id ${physics[2].id}`,
      expect.stringMatching(/high_school_psychology_test\.csv:2: exact duplicate of .*high_school_psychology_test\.csv:1/),
    ]);
    // Same ids on every load: a run and its resume pair.
    const again = await loadDataset({ format: 'mmlu', path: folder, subjects: ['college_physics', 'high_school_psychology'] });
    expect(again.items.map((i) => i.id)).toEqual(data.items.map((i) => i.id));
  });

  it('the shipped suite selects the six medical subjects of the standard folder', async () => {
    const suite = await loadSuite(fileURLToPath(new URL('../../suites/mmlu-medical.yaml', import.meta.url)));
    expect(suite.dataset.subjects).toEqual([...MMLU_MEDICAL_SUBJECTS]);
    const spec = datasetSpec({ ...suite, datasetPath: folder }, {});
    const data = await loadDataset(spec);
    expect([...new Set(data.items.map((i) => i.meta.subject))]).toEqual([...MMLU_MEDICAL_SUBJECTS]);
    expect(data.items).toHaveLength(7);
    expect(data.files).toHaveLength(6);
    expect(data.warnings).toEqual([]);
  });

  it('keeps the first error line short when a folder has many files', async () => {
    const dir = tempDir('medeval-mmlu-57-');
    for (let i = 0; i < 57; i++) {
      writeFileSync(join(dir, `a_rather_long_subject_name_number_${String(i).padStart(2, '0')}_test.csv`), 'Q?,a,b,c,d,A\n');
    }
    writeFileSync(join(dir, 'a_rather_long_subject_name_number_30_test.csv'), 'Q?,a,b,c,d,Z\n');
    const error = await loadDataset({ format: 'mmlu', path: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const first = (error as Error).message.split('\n')[0]!;
    expect(first.length).toBeLessThan(dir.length + 200);
    expect(first).toContain(`57 files in ${dir}`);
    expect((error as Error).message).toContain('a_rather_long_subject_name_number_30_test.csv:1');
  });
});
