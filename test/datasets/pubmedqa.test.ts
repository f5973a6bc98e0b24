import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/index.js';
import { fixture, problemsOf } from './helpers.js';

/** 1-based line of the first line containing `needle`, found independently of the loader. */
function lineOf(file: string, needle: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe('PubMedQA (ori_pqal.json)', () => {
  it('turns each PMID into a yes/no/maybe item with its abstract as context', async () => {
    const file = fixture('pubmedqa/ori_pqal.json');
    const data = await loadDataset({ format: 'pubmedqa', path: file });
    expect(data.name).toBe('pubmedqa');
    expect(data.items.map((i) => [i.id, i.answer])).toEqual([
      ['pubmedqa-90000001', 'A'],
      ['pubmedqa-90000002', 'B'],
      ['pubmedqa-90000003', 'C'],
    ]);
    expect(data.items[0].options).toEqual({ A: 'yes', B: 'no', C: 'maybe' });
    expect(data.items[0].question).toBe('Does daily walking lower resting blood pressure in older adults?');
    expect(data.items[1].meta.extra?.context).toBe('We reviewed 2,000 appendectomies.\nAppendicitis rates did not differ by hair color.');
    expect(data.items[1].meta.extra).toMatchObject({ pmid: '90000002', labels: ['METHODS', 'RESULTS'], year: '2012' });
    expect(data.items[1].meta.source).toEqual({ file, line: lineOf(file, '"90000002": {') });
  });

  it('keeps only the ground-truth PMIDs and hashes both files', async () => {
    const path = fixture('pubmedqa/ori_pqal.json');
    const all = await loadDataset({ format: 'pubmedqa', path });
    const test = await loadDataset({ format: 'pubmedqa', path, groundTruthPath: fixture('pubmedqa/test_ground_truth.json') });
    expect(test.name).toBe('pubmedqa-test');
    expect(test.items.map((i) => i.id)).toEqual(['pubmedqa-90000001', 'pubmedqa-90000003']);
    expect(test.files).toHaveLength(2);
    expect(test.sha256).not.toBe(all.sha256);
  });

  it('reports ground-truth PMIDs that are missing or labelled differently', async () => {
    const gt = fixture('pubmedqa/wrong_ground_truth.json');
    const problems = await problemsOf(() =>
      loadDataset({ format: 'pubmedqa', path: fixture('pubmedqa/ori_pqal.json'), groundTruthPath: gt }),
    );
    expect(problems).toEqual([
      expect.objectContaining({ file: gt, field: '90000002', message: expect.stringContaining('label "yes" differs from final_decision "no"') }),
      expect.objectContaining({ file: gt, field: '90000009', message: expect.stringContaining('PMID 90000009 is not in') }),
    ]);
  });

  it('names the line and field of bad records', async () => {
    const file = fixture('pubmedqa/bad_pqal.json');
    const problems = await problemsOf(() => loadDataset({ format: 'pubmedqa', path: file }));
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [lineOf(file, '"90000004"'), 'final_decision'],
      [lineOf(file, '"90000005"'), 'QUESTION'],
      [lineOf(file, '"90000005"'), 'CONTEXTS'],
    ]);
    expect(problems[0].message).toContain('got "perhaps"');
  });

  it('reports a truncated document with a line number', async () => {
    const problems = await problemsOf(() => loadDataset({ format: 'pubmedqa', path: fixture('pubmedqa/broken.json') }));
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain('not valid JSON');
    expect(problems[0].line).toBeGreaterThan(1);
  });
});

describe('PubMedQA item order', () => {
  const file = fixture('pubmedqa/unsorted_pqal.json');
  const inFileOrder = ['25429730', '17208539', '9000005', '31000001'];

  it("keeps the file's order of PMIDs, not ascending numeric order", async () => {
    const data = await loadDataset({ format: 'pubmedqa', path: file });
    expect(data.items.map((i) => i.meta.extra?.pmid)).toEqual(inFileOrder);
    expect(data.items.map((i) => i.meta.source.line)).toEqual(inFileOrder.map((p) => lineOf(file, `"${p}": {`)));
    // A PMID-like key inside a context string is not a top-level key.
    expect(data.items[1].meta.extra?.context).toContain('{"90000001": {"x": 1}}');
    expect(data.items[1].question).toBe('Is a "watch and wait" strategy safe for small kidney stones?');
  });

  it('--limit takes the first items of the file', async () => {
    const data = await loadDataset({ format: 'pubmedqa', path: file, limit: 2 });
    expect(data.items.map((i) => i.meta.extra?.pmid)).toEqual(['25429730', '17208539']);
    expect(data.valid).toBe(4);
  });

  it('with a ground truth, keeps the data file order of the kept PMIDs', async () => {
    const data = await loadDataset({ format: 'pubmedqa', path: file, groundTruthPath: fixture('pubmedqa/unsorted_ground_truth.json') });
    expect(data.items.map((i) => i.meta.extra?.pmid)).toEqual(['25429730', '9000005', '31000001']);
  });

  it('names both lines of a PMID given twice (JSON.parse would silently keep the last)', async () => {
    const dup = fixture('pubmedqa/duplicate_pmid.json');
    const problems = await problemsOf(() => loadDataset({ format: 'pubmedqa', path: dup }));
    expect(problems).toEqual([
      expect.objectContaining({ line: 4, field: 'id', message: expect.stringContaining(`duplicate id "pubmedqa-25429730": also at ${dup}:2`) }),
    ]);
  });
});
