// How dataset files are read, whatever their format: a folder where a file belongs, bytes that are not
// UTF-8, and a pretty-printed JSON array saved as .jsonl. Real files in the published MedQA shape.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../src/core/errors.js';
import { detectFormat, loadDataset } from '../../src/datasets/load.js';
import { readJsonl } from '../../src/datasets/jsonl.js';
import { SAMPLE, tempDir } from '../helpers/tiny-run.js';

const records = readFileSync(SAMPLE, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 5).map((l) => JSON.parse(l) as Record<string, unknown>);

async function errorOf(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('a dataset path that is a folder', () => {
  it('is bad input naming the field, with a file inside it to point at', async () => {
    const dir = tempDir('medeval-ds-dir-');
    const folder = join(dir, 'MedQA');
    mkdirSync(folder);
    writeFileSync(join(folder, 'test.jsonl'), '');
    const e = await errorOf(loadDataset({ format: 'medqa', path: folder }));
    expect(e.place).toEqual({ file: folder, field: 'path' });
    expect(e.message).toContain('is a folder, not a dataset file');
    expect(e.hint).toContain(join(folder, 'test.jsonl'));
    expect(e.message).not.toContain('EISDIR');
  });

  it('the same for a PubMedQA ground-truth path', async () => {
    const dir = tempDir('medeval-ds-dir-');
    const file = join(dir, 'ori_pqal.json');
    writeFileSync(file, '{}');
    const e = await errorOf(loadDataset({ format: 'pubmedqa', path: file, groundTruthPath: dir }));
    expect(e.place.field).toBe('groundTruthPath');
  });
});

describe('invalid UTF-8', () => {
  it('is read as U+FFFD (as before) and warned about with file:line', async () => {
    const dir = tempDir('medeval-ds-utf8-');
    const file = join(dir, 'test.jsonl');
    const lines = records.map((r) => Buffer.from(JSON.stringify(r) + '\n'));
    // Line 2 and 4 carry a Latin-1 byte (é as 0xE9), as a file re-encoded by a careless export does.
    const withLatin1 = (r: Record<string, unknown>) => Buffer.concat([Buffer.from(JSON.stringify(r).slice(0, -1)), Buffer.from(', "note": "caf\xe9"}\n', 'latin1')]);
    lines[1] = withLatin1(records[1]!);
    lines[3] = withLatin1(records[3]!);
    writeFileSync(file, Buffer.concat(lines));
    const ds = await loadDataset({ format: 'medqa', path: file });
    expect(ds.items.length).toBe(5);
    const w = ds.warnings.filter((x) => x.includes('invalid UTF-8'));
    expect(w).toHaveLength(1);
    expect(w[0]).toContain(`${file}:2`);
    expect(w[0]).toContain(`${file}:4`);
    expect(w[0]).toContain('2 line(s)');
    expect(w[0]).not.toContain(`${file}:1,`);
  });

  it('a clean file gives no warning', async () => {
    const dir = tempDir('medeval-ds-utf8-');
    const file = join(dir, 'test.jsonl');
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const ds = await loadDataset({ format: 'medqa', path: file });
    expect(ds.warnings.filter((x) => x.includes('UTF-8'))).toEqual([]);
  });
});

describe('a JSON array given as .jsonl', () => {
  const pretty = () => JSON.stringify(records, null, 2) + '\n';

  it('is read as the array it is, with a warning, each record placed on the line it starts', async () => {
    const dir = tempDir('medeval-ds-array-');
    const file = join(dir, 'test.jsonl');
    const text = pretty();
    writeFileSync(file, text);
    const ds = await loadDataset({ format: 'medqa', path: file });
    expect(ds.items.map((i) => i.id)).toEqual(records.map((r) => r.id));
    expect(ds.warnings.some((w) => w.includes('is a JSON array, not JSON Lines') && w.includes('5 records'))).toBe(true);
    // Element k starts on the line of its "{" in the file.
    const starts = text.split('\n').flatMap((l, i) => (l === '  {' ? [i + 1] : []));
    expect(ds.items.map((i) => i.meta.source.line)).toEqual(starts);
  });

  it('is detected with format auto', async () => {
    const dir = tempDir('medeval-ds-array-');
    const file = join(dir, 'test.jsonl');
    writeFileSync(file, pretty());
    expect(await detectFormat(file)).toBe('medqa');
    const ds = await loadDataset({ format: 'auto', path: file });
    expect(ds.items).toHaveLength(5);
  });

  it('a broken array gives one error naming the line, not one per physical line', async () => {
    const dir = tempDir('medeval-ds-array-');
    const file = join(dir, 'test.jsonl');
    const text = pretty().replace('"answer_idx": "A",\n', '"answer_idx": "A",,\n');
    writeFileSync(file, text);
    const e = await loadDataset({ format: 'medqa', path: file }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(InputErrors);
    const problems = (e as InputErrors).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('this is a JSON array, not JSON Lines');
    const badLine = text.split('\n').findIndex((l) => l.includes(',,')) + 1;
    expect(problems[0]!.place.line).toBe(badLine);
  });

  it('JSON Lines whose records are arrays, or a one-line array, stay as they were read', async () => {
    const dir = tempDir('medeval-ds-array-');
    const file = join(dir, 'arrays.jsonl');
    writeFileSync(file, '[1, 2]\n[3, 4]\n');
    const out = [];
    for await (const l of readJsonl(file)) out.push(l);
    expect(out).toEqual([{ kind: 'value', line: 1, value: [1, 2] }, { kind: 'value', line: 2, value: [3, 4] }]);
  });
});
