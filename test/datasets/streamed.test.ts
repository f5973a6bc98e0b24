// openDataset (the streamed loader a run uses) against loadDataset (the whole-file loader) on every
// format fixture: the same records in the same order, the same ids (numbered duplicates included), the same
// skipped records, warnings, name and hash, and the same errors when a file does not load.
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputErrors } from '../../src/core/errors.js';
import { loadDataset, openDataset, type DatasetIndex, type DatasetSpec } from '../../src/datasets/index.js';
import type { DatasetItem } from '../../src/core/types.js';
import { FIXTURES, fixture } from './helpers.js';
import { writeMedqaShaped } from '../helpers/medqa-shaped.js';

const HF_MEDQA = { question: 'question', options: 'options', answer: 'answer_idx', meta: { step: 'meta_info' } };
const SWAG = { id: 'id', question: ['sent1', 'sent2'], options: ['ending0', 'ending1', 'ending2', 'ending3'], answer: 'label', answerAs: 'index' as const };

const filesIn = (dir: string) => readdirSync(fixture(dir)).filter((f) => !f.endsWith('.yaml')).map((f) => `${dir}/${f}`);

/** Every fixture with the formats and settings that read it. */
function specs(): DatasetSpec[] {
  const out: DatasetSpec[] = [];
  for (const dir of ['medqa', 'medmcqa', 'medmcqa-noid']) {
    for (const f of filesIn(dir)) {
      const format = dir.startsWith('medmcqa') ? 'medmcqa' : 'medqa';
      out.push({ format: 'auto', path: fixture(f) }, { format, path: fixture(f), skipInvalid: true }, { format, path: fixture(f), skipInvalid: true, limit: 2 });
    }
  }
  out.push({ format: 'medmcqa', path: fixture('medmcqa/validation.jsonl'), copBase: 1, skipInvalid: true });
  for (const f of filesIn('pubmedqa')) out.push({ format: 'pubmedqa', path: fixture(f) }, { format: 'pubmedqa', path: fixture(f), skipInvalid: true, limit: 1 });
  for (const gt of ['test_ground_truth.json', 'unsorted_ground_truth.json', 'wrong_ground_truth.json']) {
    out.push({ format: 'pubmedqa', path: fixture('pubmedqa/ori_pqal.json'), groundTruthPath: fixture(`pubmedqa/${gt}`) });
  }
  for (const dir of ['mmlu', 'mmlu-bad', 'mmlu-test']) {
    out.push({ format: 'auto', path: fixture(dir) }, { format: 'mmlu', path: fixture(dir), skipInvalid: true, limit: 3 });
    for (const f of filesIn(dir)) out.push({ format: 'mmlu', path: fixture(f), skipInvalid: true });
  }
  out.push({ format: 'mmlu', path: fixture('mmlu-test'), subjects: ['anatomy', 'college_medicine'], skipInvalid: true });
  const mapped: Array<[string, DatasetSpec['fields'], Partial<DatasetSpec>?]> = [
    ['medqa-4-options.jsonl', HF_MEDQA],
    ['medqa-4-options.jsonl', { ...HF_MEDQA, answer: 'answer', answerAs: 'text' }],
    ['medqa-key-value.jsonl', { id: 'id', question: 'question', options: 'options', answer: 'answer_idx', meta: { subject: 'meta.subject', step: 'meta.step' } }],
    ['medqa-swag.jsonl', SWAG, { skipInvalid: true }],
    ['medqa-swag.jsonl', SWAG],
    ['list-1-based.json', { question: 'question', options: 'choices', answer: 'correct', answerAs: 'index', meta: { subject: 'subject' } }],
    ['answer-text.csv', { question: 'question', options: ['A', 'B', 'C'], answer: 'answer', answerAs: 'text', meta: { subject: 'subject', area: 'subject' } }],
    ['bad.jsonl', { question: 'question', options: 'options', answer: 'answer_idx' }],
    ['bad.jsonl', { question: 'question', options: 'options', answer: 'answer_idx' }, { skipInvalid: true }],
    ['bad-swag.jsonl', { ...SWAG, id: undefined, question: 'sent1' }, { skipInvalid: true }],
    ['ambiguous-index.jsonl', { question: 'question', options: 'choices', answer: 'label', answerAs: 'index' }],
    ['ambiguous-index.jsonl', { question: 'question', options: 'choices', answer: 'label', answerAs: 'index', indexBase: 1 }],
  ];
  for (const [f, fields, more] of mapped) out.push({ format: 'mapped', path: fixture(`mapped/${f}`), fields, ...more });
  return out;
}

/** What a load ends in: the dataset's parts, or the error's message and problems. */
async function outcome<T>(load: () => Promise<T>): Promise<{ ok: T } | { error: unknown }> {
  try {
    return { ok: await load() };
  } catch (e) {
    if (e instanceof InputErrors) return { error: { message: e.message, problems: e.problems.map((p) => [p.message, p.place, p.hint]) } };
    const err = e as Error & { place?: unknown };
    return { error: { message: err.message, place: err.place } };
  }
}

async function itemsOf(index: DatasetIndex): Promise<DatasetItem[]> {
  const cursor = index.cursor();
  const items: DatasetItem[] = [];
  for (let k = 0; k < index.ids.length; k++) items.push(structuredClone(await cursor.at(k)));
  await cursor.close();
  return items;
}

describe('openDataset (streamed) gives what loadDataset gives', () => {
  const all = specs();

  it(`on every format fixture (${all.length} file and setting combinations): records, order, ids, skipped, warnings, name, hash, errors`, async () => {
    expect(all.length).toBeGreaterThan(60);
    let loaded = 0;
    for (const spec of all) {
      const what = `${spec.format} ${spec.path.slice(FIXTURES.length)} ${JSON.stringify({ ...spec, path: undefined })}`;
      const whole = await outcome(() => loadDataset(spec));
      const streamed = await outcome(() => openDataset(spec));
      if ('error' in whole) {
        expect(streamed, what).toEqual(whole);
        continue;
      }
      expect('ok' in streamed, what).toBe(true);
      const index = (streamed as { ok: DatasetIndex }).ok;
      const { items, ...rest } = whole.ok;
      expect({ name: index.name, format: index.format, files: index.files, valid: index.valid, skipped: index.skipped, warnings: index.warnings, sha256: index.sha256 }, what).toEqual(rest);
      expect(index.ids, what).toEqual(items.map((i) => i.id));
      expect(await itemsOf(index), what).toEqual(items);
      loaded++;
    }
    // Both kinds of outcome are covered.
    expect(loaded).toBeGreaterThan(30);
    expect(loaded).toBeLessThan(all.length);
  });

  it('numbered duplicates keep their numbered ids when read again; a cursor serves out-of-order asks; a subset is a shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-streamed-'));
    const file = writeMedqaShaped(dir, 6, { words: 12 });
    // The same record three times (a content-hash id): kept as <id>, <id>.2, <id>.3.
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    writeFileSync(file, [lines[0], lines[1], lines[0], lines[2], lines[0]].join('\n') + '\n');
    const spec: DatasetSpec = { format: 'medqa', path: file };
    const whole = await loadDataset(spec);
    const index = await openDataset(spec);
    expect(index.ids).toEqual(whole.items.map((i) => i.id));
    expect(index.ids.filter((id) => /\.\d$/.test(id))).toHaveLength(2);
    expect(await itemsOf(index)).toEqual(whole.items);
    const cursor = index.cursor();
    // Asked at once, out of order: each answer is the item asked for.
    const got = await Promise.all([4, 1, 1, 3, 0].map((k) => cursor.at(k).then((i) => i.id)));
    expect(got).toEqual([4, 1, 1, 3, 0].map((k) => whole.items[k]!.id));
    await expect(cursor.at(5)).rejects.toThrow(/no item at position 5/);
    await cursor.close();
    const shard = index.subset([1, 4]);
    expect(shard.ids).toEqual([whole.items[1]!.id, whole.items[4]!.id]);
    expect(await itemsOf(shard)).toEqual([whole.items[1], whole.items[4]]);
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  it('a file changed under a run is an error naming the item, never another question', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-streamed-'));
    const file = writeMedqaShaped(dir, 4, { words: 12 });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const index = await openDataset({ format: 'medqa', path: file });
    writeFileSync(file, [...lines].reverse().join('\n') + '\n');
    await expect(index.cursor().at(0)).rejects.toThrow(/the dataset changed while the run was reading it \(item 1: record .*:1 is not item/);
    writeFileSync(file, lines.slice(0, 2).join('\n') + '\n');
    await expect(index.cursor().at(3)).rejects.toThrow(/fewer records now/);
  });
});
