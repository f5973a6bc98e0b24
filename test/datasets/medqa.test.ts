import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../src/core/errors.js';
import { loadDataset } from '../../src/datasets/index.js';
import { tempDir } from '../helpers/tiny-run.js';
import { fixture, problemsOf } from './helpers.js';

const load = (name: string, extra: { skipInvalid?: boolean; limit?: number } = {}) =>
  loadDataset({ format: 'medqa', path: fixture(name), ...extra });

describe('MedQA 5-option (test.jsonl shape)', () => {
  it('loads every record with its letter, step and source line', async () => {
    const file = fixture('medqa/test.jsonl');
    const data = await load('medqa/test.jsonl');
    expect(data.name).toBe('medqa-us-5');
    expect(data.format).toBe('medqa');
    expect(data.files).toEqual([file]);
    expect(data.skipped).toEqual([]);
    expect(data.items.map((i) => i.answer)).toEqual(['C', 'D', 'A', 'B']);
    expect(data.items.map((i) => i.meta.source)).toEqual([1, 2, 3, 4].map((line) => ({ file, line })));
    expect(data.items.every((i) => i.meta.dataset === 'medqa-us-5' && Object.keys(i.options).join('') === 'ABCDE')).toBe(true);
    expect(data.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
  });

  it('normalises the "stfep2&3" typo, keeps rawStep and says so', async () => {
    const data = await load('medqa/test.jsonl');
    expect(data.items[1].meta.step).toBe('step2&3');
    expect(data.items[1].meta.rawStep).toBe('stfep2&3');
    expect(data.items[0].meta).not.toHaveProperty('rawStep');
    expect(data.warnings.filter((w) => w.includes('stfep2&3'))).toEqual([
      expect.stringContaining(`${fixture('medqa/test.jsonl')}:2: meta_info "stfep2&3" read as "step2&3"`),
    ]);
  });

  it('warns, without failing, when the answer text differs only by a stray quote', async () => {
    const data = await load('medqa/test.jsonl');
    expect(data.items[2].answer).toBe('A');
    const quoteWarnings = data.warnings.filter((w) => w.includes('stray'));
    expect(quoteWarnings).toHaveLength(1);
    expect(quoteWarnings[0]).toContain('test.jsonl:3:');
  });

  it('gives stable content-hash ids: equal across runs, different across records', async () => {
    const first = await load('medqa/test.jsonl');
    const second = await load('medqa/test.jsonl');
    const ids = first.items.map((i) => i.id);
    expect(second.items.map((i) => i.id)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^medqa-[0-9a-f]{12}$/);
    // The documented recipe: sha256 of the canonical JSON of (question, options, answer_idx).
    const raw = JSON.parse(readFileSync(fixture('medqa/test.jsonl'), 'utf8').split('\n')[0]);
    const options = Object.keys(raw.options).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(raw.options[k])}`);
    const canonical = `{"answer_idx":${JSON.stringify(raw.answer_idx)},"options":{${options.join(',')}},"question":${JSON.stringify(raw.question)}}`;
    expect(ids[0]).toBe('medqa-' + createHash('sha256').update(canonical).digest('hex').slice(0, 12));
  });

  it('accepts a BOM, CRLF line ends and blank lines', async () => {
    const data = await load('medqa/bom-crlf.jsonl');
    expect(data.items.map((i) => i.meta.source.line)).toEqual([1, 3]);
    expect(data.items[0].question.startsWith('A 33-year-old')).toBe(true);
  });
});

describe('MedQA 4-option (phrases_no_exclude_test.jsonl shape)', () => {
  it('loads A..D options and keeps metamap_phrases in meta.extra', async () => {
    const data = await load('medqa/phrases_no_exclude_test.jsonl');
    expect(data.name).toBe('medqa-us-4');
    expect(data.items.every((i) => Object.keys(i.options).join('') === 'ABCD')).toBe(true);
    expect(Array.isArray(data.items[0].meta.extra?.metamapPhrases)).toBe(true);
    // The answer letter moves when a wrong option is deleted; the answer text must not.
    const five = await load('medqa/test.jsonl');
    expect(data.items[0].answer).toBe('B');
    expect(data.items[0].options.B).toBe(five.items[0].options.C);
    expect(data.items[0].id).not.toBe(five.items[0].id);
  });
});

describe('MedQA validation', () => {
  it('names file:line for broken JSON, with the --skip-invalid hint', async () => {
    const file = fixture('medqa/broken-json.jsonl');
    const error = await load('medqa/broken-json.jsonl').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputErrors);
    expect((error as InputErrors).message).toContain('--skip-invalid');
    expect((error as InputErrors).problems.map((p) => p.place)).toEqual([{ file, line: 2 }]);
    expect((error as InputErrors).message).toContain(`${file}:2: not valid JSON`);
  });

  it('names a missing field', async () => {
    expect(await problemsOf(() => load('medqa/missing-field.jsonl'))).toEqual([
      expect.objectContaining({ line: 2, field: 'question', message: expect.stringContaining('missing') }),
    ]);
  });

  it('rejects an answer letter that is not among the options', async () => {
    expect(await problemsOf(() => load('medqa/answer-not-in-options.jsonl'))).toEqual([
      expect.objectContaining({ line: 2, field: 'answer_idx', message: expect.stringContaining('"F" is not among the options (A..E)') }),
    ]);
  });

  it('rejects answer text that names a different option', async () => {
    expect(await problemsOf(() => load('medqa/answer-mismatch.jsonl'))).toEqual([
      expect.objectContaining({ line: 1, field: 'answer', message: expect.stringContaining('does not match option B') }),
    ]);
  });

  it('names both lines of a duplicate id', async () => {
    const file = fixture('medqa/duplicate-id.jsonl');
    expect(await problemsOf(() => load('medqa/duplicate-id.jsonl'))).toEqual([
      expect.objectContaining({ line: 3, field: 'id', message: expect.stringContaining(`duplicate id "q-7": also at ${file}:1`) }),
    ]);
  });

  it('lists every wrongly typed field of every line in one error', async () => {
    const problems = await problemsOf(() => load('medqa/wrong-types.jsonl'));
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [1, 'question'],
      [2, 'options'],
      [3, 'options'],
      [4, 'options.E'],
      [5, 'answer_idx'],
      [6, 'metamap_phrases'],
      [7, undefined],
    ]);
    expect(problems[0].message).toContain('must be a string, got a number');
    expect(problems[1].message).toContain('got an array');
    expect(problems[2].message).toContain('consecutive letters A..C, got A,B,D');
    expect(problems[3].message).toContain('is empty');
    expect(problems[6].message).toContain('must be a JSON object, got an array');
  });

  it('rejects an empty file and a file of blank lines', async () => {
    for (const name of ['medqa/empty.jsonl', 'medqa/blank-lines.jsonl']) {
      expect(await problemsOf(() => load(name))).toEqual([
        { file: fixture(name), message: expect.stringContaining('no records') },
      ]);
    }
  });

  it('with skipInvalid, skips bad lines and lists them', async () => {
    const file = fixture('medqa/broken-json.jsonl');
    const data = await load('medqa/broken-json.jsonl', { skipInvalid: true });
    expect(data.items.map((i) => i.meta.source.line)).toEqual([1, 3]);
    expect(data.skipped).toEqual([{ place: `${file}:2`, reason: expect.stringMatching(/^not valid JSON/) }]);

    const dup = await load('medqa/duplicate-id.jsonl', { skipInvalid: true });
    expect(dup.items.map((i) => i.id)).toEqual(['q-7', 'q-8']);
    expect(dup.skipped).toEqual([
      { place: `${fixture('medqa/duplicate-id.jsonl')}:3`, reason: expect.stringContaining('field "id" duplicate id "q-7"') },
    ]);
  });

  it('fails even with skipInvalid when nothing valid remains', async () => {
    const error = await load('medqa/wrong-types.jsonl', { skipInvalid: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('no valid records');
  });

  it('applies limit after validating the whole file', async () => {
    const data = await load('medqa/test.jsonl', { limit: 2 });
    expect(data.items.map((i) => i.answer)).toEqual(['C', 'D']);
    // The warning from line 3 is still reported: every line was read.
    expect(data.warnings.some((w) => w.includes('test.jsonl:3:'))).toBe(true);
    await expect(load('medqa/broken-json.jsonl', { limit: 1 })).rejects.toBeInstanceOf(InputErrors);
    await expect(load('medqa/test.jsonl', { limit: 0 })).rejects.toThrow(/limit must be a positive integer/);
  });

  it('accepts records without meta_info or the answer text (answer_idx suffices), with one warning per field', async () => {
    const file = fixture('medqa/no-meta-info.jsonl');
    const data = await load('medqa/no-meta-info.jsonl');
    expect(data.skipped).toEqual([]);
    expect(data.items.map((i) => [i.answer, i.meta.step])).toEqual([
      ['A', undefined],
      ['A', 'step2&3'],
      ['B', undefined],
      ['B', 'step1'],
    ]);
    expect(data.items[0].meta).not.toHaveProperty('step');
    expect(data.warnings).toEqual([
      `${file}: 2 record(s) without meta_info: their step is unknown (line 1, 3)`,
      `${file}: 2 record(s) without the answer text: scored by answer_idx alone (line 2, 3)`,
    ]);
  });

  it('still rejects a wrongly typed meta_info or answer', async () => {
    const dir = tempDir('medeval-medqa-types-');
    const path = join(dir, 'test.jsonl');
    const base = { question: 'Which is the most likely diagnosis?', options: { A: 'x', B: 'y' }, answer_idx: 'A' };
    writeFileSync(path, JSON.stringify({ ...base, meta_info: 3 }) + '\n' + JSON.stringify({ ...base, answer: ['x'] }) + '\n');
    expect((await problemsOf(() => loadDataset({ format: 'medqa', path }))).map((p) => [p.line, p.field])).toEqual([
      [1, 'meta_info'],
      [2, 'answer'],
    ]);
  });

  it('says which file is missing', async () => {
    const error = await load('medqa/nope.jsonl').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).place.file).toBe(fixture('medqa/nope.jsonl'));
    expect((error as Error).message).toContain('file not found');
  });
});
