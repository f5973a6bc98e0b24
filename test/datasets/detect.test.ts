import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { detectFormat, loadDataset } from '../../src/datasets/index.js';
import { fixture } from './helpers.js';

describe("format 'auto'", () => {
  it.each([
    ['medqa/test.jsonl', 'medqa'],
    ['medqa/phrases_no_exclude_test.jsonl', 'medqa'],
    ['medqa/bom-crlf.jsonl', 'medqa'],
    ['medmcqa/validation.jsonl', 'medmcqa'],
    ['medmcqa/dev.json', 'medmcqa'],
    ['pubmedqa/ori_pqal.json', 'pubmedqa'],
    ['mmlu/anatomy_test.csv', 'mmlu'],
    ['mmlu', 'mmlu'],
  ])('detects %s as %s', async (name, format) => {
    expect(await detectFormat(fixture(name))).toBe(format);
  });

  it('loads with the detected format', async () => {
    const data = await loadDataset({ format: 'auto', path: fixture('medmcqa/dev.json') });
    expect(data.format).toBe('medmcqa');
    expect(data.items).toHaveLength(3);
  });

  it('asks for dataset.format when the fields are unknown', async () => {
    const error = await detectFormat(fixture('pubmedqa/test_ground_truth.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/cannot detect the format.*\n.*hint: set dataset\.format in the suite/);
  });

  it('reports an empty file', async () => {
    await expect(detectFormat(fixture('medqa/empty.jsonl'))).rejects.toThrow(/no records/);
  });
});
