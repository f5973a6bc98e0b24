import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/datasets/index.js';
import { fixture, problemsOf } from './helpers.js';

const load = (name: string, copBase?: 0 | 1) => loadDataset({ format: 'medmcqa', path: fixture(name), copBase });

describe('MedMCQA', () => {
  it('reads the Hugging Face copy as 0-based and says why', async () => {
    const data = await load('medmcqa/validation.jsonl');
    expect(data.name).toBe('medmcqa');
    expect(data.items.map((i) => i.answer)).toEqual(['A', 'C', 'D']);
    expect(data.items[0].options).toEqual({ A: 'Abducens nerve', B: 'Oculomotor nerve', C: 'Trochlear nerve', D: 'Facial nerve' });
    expect(data.items[0].id).toBe('2f1c7a9e-0001-4c1e-9a55-6f1e2d3c4b5a');
    expect(data.warnings).toEqual([expect.stringMatching(/cop read as 0-based .*cop 0 at line 1/)]);
  });

  it('reads the original dev.json as 1-based and gets the same answers', async () => {
    const hf = await load('medmcqa/validation.jsonl');
    const original = await load('medmcqa/dev.json');
    expect(original.items.map((i) => [i.id, i.answer])).toEqual(hf.items.map((i) => [i.id, i.answer]));
    expect(original.warnings).toEqual([expect.stringMatching(/cop read as 1-based .*cop 4 at line 3/)]);
  });

  it('keeps subject, topic, choice type and explanation', async () => {
    const [first, second, third] = (await load('medmcqa/validation.jsonl')).items;
    expect(first.meta.explanation).toContain('abducens');
    expect(first.meta.extra).toMatchObject({ subject: 'Anatomy', topic: 'Head and neck', choiceType: 'single', cop: 0, copBase: 0 });
    expect(second.meta).not.toHaveProperty('explanation'); // exp ""
    expect(second.meta.extra).not.toHaveProperty('topic'); // topic_name null
    expect(third.meta.extra?.choiceType).toBe('multi');
  });

  it('guesses the base from the file name when only 1..3 occur, and an explicit base wins', async () => {
    const guessed = await load('medmcqa/ambiguous.jsonl');
    expect(guessed.items[0].answer).toBe('C');
    expect(guessed.warnings[0]).toMatch(/0-based, guessed from the file name/);
    const explicit = await load('medmcqa/ambiguous.jsonl', 1);
    expect(explicit.items[0].answer).toBe('B');
    expect(explicit.warnings[0]).toMatch(/1-based \(set explicitly\)/);
  });

  it('names each bad line and field', async () => {
    const problems = await problemsOf(() => load('medmcqa/bad.jsonl'));
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [1, 'cop'],
      [2, 'cop'],
      [3, 'opb'],
      [4, 'cop'],
    ]);
    expect(problems[0].message).toContain('-1: no answer label');
    expect(problems[1].message).toContain('must be an integer, got the string "2"');
    expect(problems[2].message).toContain('is empty');
    expect(problems[3].message).toContain('7 is outside 0..3');
  });

  it('refuses a file mixing 0 and 4, naming both lines', async () => {
    const problems = await problemsOf(() => load('medmcqa/mixed-base.jsonl'));
    expect(problems).toEqual([
      expect.objectContaining({ field: 'cop', message: expect.stringContaining('0 (line 1) and 4 (line 2)') }),
    ]);
  });
});

describe('MedMCQA ids without an id field', () => {
  it('are the same for the 0-based and the 1-based copy of the same questions', async () => {
    const hf = await load('medmcqa-noid/validation.jsonl');
    const original = await load('medmcqa-noid/dev.json');
    expect(hf.warnings[0]).toMatch(/0-based/);
    expect(original.warnings[0]).toMatch(/1-based/);
    expect(hf.items.map((i) => i.answer)).toEqual(['A', 'C', 'D']);
    expect(original.items.map((i) => [i.id, i.answer])).toEqual(hf.items.map((i) => [i.id, i.answer]));
    for (const item of hf.items) expect(item.id).toMatch(/^medmcqa-[0-9a-f]{12}$/);
    expect(new Set(hf.items.map((i) => i.id)).size).toBe(3);
    expect(hf.items.map((i) => i.meta.subject)).toEqual(['Anatomy', 'Pharmacology', 'Pathology']);
  });

  it('refuses the same question and options with another answer, keeps an exact repeat', async () => {
    const file = fixture('medmcqa-noid/conflict.jsonl');
    const problems = await problemsOf(() => load('medmcqa-noid/conflict.jsonl'));
    expect(problems).toEqual([
      expect.objectContaining({ line: 2, field: 'answer', message: expect.stringContaining(`same question and options as ${file}:1 but answer B instead of A`) }),
    ]);
    const kept = await loadDataset({ format: 'medmcqa', path: file, skipInvalid: true });
    expect(kept.items.map((i) => i.meta.source.line)).toEqual([1, 3]);
    expect(kept.items[1].id).toBe(`${kept.items[0].id}.2`);
    expect(kept.warnings).toContainEqual(expect.stringContaining(`${file}:3: exact duplicate of ${file}:1`));
  });
});
