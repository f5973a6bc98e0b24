import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QUESTION_TYPES, type DatasetItem } from '../../src/core/types.js';
import { loadDataset, loadSampleDataset, SAMPLE_DATASET_PATH } from '../../src/datasets/index.js';

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

describe('bundled sample set (datasets/sample/usmle-sample.jsonl)', () => {
  it('loads without warnings or skipped lines', async () => {
    const data = await loadSampleDataset();
    expect(data.name).toBe('sample');
    expect(data.items).toHaveLength(60);
    expect(data.warnings).toEqual([]);
    expect(data.skipped).toEqual([]);
  });

  it('is named "sample" and read as MedQA by format auto too', async () => {
    const data = await loadDataset({ format: 'auto', path: SAMPLE_DATASET_PATH });
    expect(data.format).toBe('medqa');
    expect(data.name).toBe('sample');
  });

  it('is balanced: 10 per question type, 30 per step, 12 per answer letter (6 per letter in each step, 2 in each type)', async () => {
    const { items } = await loadSampleDataset();
    expect(countBy(items, (i) => i.meta.questionType ?? 'none')).toEqual(Object.fromEntries(QUESTION_TYPES.map((t) => [t, 10])));
    expect(countBy(items, (i) => i.meta.step ?? 'none')).toEqual({ step1: 30, 'step2&3': 30 });
    expect(countBy(items, (i) => i.answer)).toEqual({ A: 12, B: 12, C: 12, D: 12, E: 12 });
    for (const count of Object.values(countBy(items, (i) => `${i.meta.step} ${i.answer}`))) expect(count).toBe(6);
    const byTypeLetter = countBy(items, (i) => `${i.meta.questionType} ${i.answer}`);
    expect(Object.keys(byTypeLetter)).toHaveLength(30);
    for (const count of Object.values(byTypeLetter)) expect(count).toBe(2);
  });

  it('carries ids, explanations and five distinct options per question', async () => {
    const { items } = await loadSampleDataset();
    expect(items.map((i) => i.id)).toEqual(items.map((_, n) => `usmle-sample-${String(n + 1).padStart(3, '0')}`));
    for (const item of items as DatasetItem[]) {
      expect(Object.keys(item.options)).toEqual(['A', 'B', 'C', 'D', 'E']);
      expect(new Set(Object.values(item.options)).size).toBe(5);
      expect(item.meta.explanation?.length).toBeGreaterThan(40);
      expect(item.question).toMatch(/\?$/);
    }
    expect(new Set(items.map((i) => i.question)).size).toBe(60);
  });

  it('uses the MedQA field order and keeps answer text equal to the answer option', () => {
    const lines = readFileSync(SAMPLE_DATASET_PATH, 'utf8').trimEnd().split('\n');
    for (const line of lines) {
      const record = JSON.parse(line);
      expect(Object.keys(record)).toEqual(['question', 'answer', 'options', 'meta_info', 'answer_idx', 'id', 'question_type', 'explanation']);
      expect(record.options[record.answer_idx]).toBe(record.answer);
    }
  });

  it('respects limit on the sample (a mixed prefix)', async () => {
    const { items } = await loadSampleDataset({ limit: 12 });
    expect(items).toHaveLength(12);
    expect(new Set(items.map((i) => i.answer)).size).toBeGreaterThanOrEqual(4);
  });
});
