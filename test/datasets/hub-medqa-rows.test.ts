// MedQA rows as the Hub's copies hold them become the original file's records, so an item fetched from
// the Hub gets the same id as the same question read from the original test.jsonl. mkieffer/MedQA-USMLE
// (the 5-option source; its upload_to_hf.py) moves the letter into `answer`, drops `answer_idx` and adds
// positional `index` / `source_index`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { medqaRecord } from '../../src/datasets/hub/convert.js';
import { loadDataset } from '../../src/datasets/load.js';
import { tempDir } from '../helpers/tiny-run.js';

const options = { A: 'Ampicillin', B: 'Ceftriaxone', C: 'Ciprofloxacin', D: 'Doxycycline', E: 'Nitrofurantoin' };
const original = { question: 'A 23-year-old pregnant woman has burning upon urination. Which is the best treatment?', answer: 'Nitrofurantoin', options, meta_info: 'step2&3', answer_idx: 'E' };

describe('MedQA rows from the Hub', () => {
  it('mkieffer/MedQA-USMLE: the letter in `answer` and the positional ids become the original record', async () => {
    const hubRow = { index: 7, source_index: 7, question: original.question, options, answer: 'E', meta_info: 'step2&3' };
    expect(medqaRecord(hubRow)).toEqual({ question: original.question, options, answer: 'Nitrofurantoin', answer_idx: 'E', meta_info: 'step2&3' });
    const dir = tempDir('medeval-hub-rows-');
    writeFileSync(join(dir, 'original.jsonl'), JSON.stringify(original) + '\n');
    writeFileSync(join(dir, 'hub.jsonl'), JSON.stringify(medqaRecord(hubRow)) + '\n');
    const a = await loadDataset({ format: 'medqa', path: join(dir, 'original.jsonl') });
    const b = await loadDataset({ format: 'medqa', path: join(dir, 'hub.jsonl') });
    expect(b.items[0]!.id).toBe(a.items[0]!.id);
    expect(b.items[0]!.answer).toBe('E');
    expect(b.items[0]!.meta.extra ?? {}).not.toHaveProperty('source_index');
  });

  it('GBaker/MedQA-USMLE-4-options rows are the original form already (answer text, answer_idx, options by letter)', () => {
    const row = { question: 'q?', answer: 'x', options: { A: 'x', B: 'y', C: 'z', D: 'w' }, meta_info: 'step1', answer_idx: 'A', metamap_phrases: ['q'] };
    expect(medqaRecord(row)).toEqual(row);
  });
});
