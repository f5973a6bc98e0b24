// Sameness of the item-id hash: canonicalJson built by appending to one string and hashId on one-shot
// hashing give exactly what the earlier code gave (kept below, verbatim), on any JSON-like value (sparse
// arrays, undefined members, null prototypes, functions) and on the ids of the bundled and test datasets.
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashId, loadDataset } from '../../src/datasets/index.js';

function canonicalJsonBefore(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJsonBefore).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => JSON.stringify(k) + ':' + canonicalJsonBefore((value as Record<string, unknown>)[k]));
    return '{' + entries.join(',') + '}';
  }
  return JSON.stringify(value);
}
function hashIdBefore(prefix: string, value: unknown): string {
  return `${prefix}-${createHash('sha256').update(canonicalJsonBefore(value)).digest('hex').slice(0, 12)}`;
}

describe('item-id hashing', () => {
  it('canonicalJson gives the earlier text for any value', () => {
    const value = fc.anything({ withNullPrototype: true, withSparseArray: true, withObjectString: true, withDate: true, withMap: true, withSet: true, maxDepth: 4 });
    fc.assert(fc.property(value, (v) => {
      expect(canonicalJson(v)).toBe(canonicalJsonBefore(v));
    }), { numRuns: 5000, seed: 16 });
    const odd = [undefined, [undefined, 1], [, 2], { a: undefined, b: 1 }, { f: () => 1 }, [() => 1, Symbol('s')], { z: 1, a: { y: [1, { c: null, b: 'x' }] } }, '\u2028"\\', -0, NaN];
    for (const v of odd) expect(canonicalJson(v)).toBe(canonicalJsonBefore(v));
  });

  it('hashId gives the earlier id, also for every item of the bundled and test datasets', async () => {
    fc.assert(fc.property(fc.string(), fc.jsonValue(), (prefix, v) => {
      expect(hashId(prefix, v)).toBe(hashIdBefore(prefix, v));
    }), { numRuns: 2000, seed: 16 });
    const repo = resolve(import.meta.dirname, '../..');
    let n = 0;
    for (const path of ['datasets/sample/usmle-sample.jsonl', 'test/fixtures/datasets/medqa/test.jsonl', 'test/fixtures/datasets/medqa/phrases_no_exclude_test.jsonl', 'test/fixtures/datasets/mmlu-test']) {
      for (const item of (await loadDataset({ format: 'auto', path: join(repo, path), skipInvalid: true })).items) {
        const v = { question: item.question, options: item.options, answer_idx: item.answer };
        expect(hashId('medqa', v)).toBe(hashIdBefore('medqa', v));
        n++;
      }
    }
    expect(n).toBeGreaterThan(50);
  });
});
