// Every record of an item keeps the whole question as the dataset gives it (results.csv's `question`), beside
// the short stem the reports show.
import { describe, expect, it } from 'vitest';
import { itemBase } from '../../src/run/item-record.js';
import { writeSchemas } from '../../src/core/record.js';
import type { DatasetItem } from '../../src/core/types.js';

describe('itemBase', () => {
  it('keeps the whole question in questionText and the 300-character stem in question', () => {
    const question = `A 54-year-old man\n\nwith ${'a long history of findings, '.repeat(30)}presents. What next?`;
    const item = { id: 'q1', question, options: { A: 'x', B: 'y' }, answer: 'A', meta: {} } as unknown as DatasetItem;
    const base = itemBase(item, 0, { prompt: `Q: ${question}\nA. x\nB. y`, questionType: 'other', typeReason: 'fallback', template: 'other' }, 'd.jsonl');
    expect(base.questionText).toBe(question);
    expect(base.question!.length).toBeLessThanOrEqual(300);
    expect(base.question!.endsWith('…')).toBe(true);
    expect(writeSchemas.itemResult.shape.questionText).toBeDefined(); // the strict writer accepts it
  });
});
