// The compiled twin of the record schema (core/fast-parse.ts) accepts a record only when zod accepts it
// and would give an equal value (no key it would drop), and refuses every record zod refuses, so the
// journal reader can keep JSON.parse's object and leave everything else to zod.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileCheck } from '../../src/core/fast-parse.js';
import { readSchemas } from '../../src/core/record.js';
import { REPO } from '../helpers/tiny-run.js';

const JOURNALS = [
  'reports/demo/runs/baseline-demo-f32',
  'reports/likelihood/runs/compressed-demo-q4_0',
  'reports/runners/runs/onnx-tiny-q4',
  'test/fixtures/runs/baseline-f16',
].map((d) => join(REPO, d, 'results.jsonl'));

const records: Record<string, unknown>[] = JOURNALS.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
const exact = compileCheck(readSchemas.itemResult)!;

/** Never accepted unless zod accepts it with an equal value; returns whether it was accepted. */
function agree(value: unknown): boolean {
  const zod = readSchemas.itemResult.safeParse(value);
  const accepted = exact(value);
  if (!zod.success) expect(accepted).toBe(false);
  if (accepted) expect(value).toStrictEqual(zod.data);
  return accepted;
}

describe('compileParser on the journal record schema', () => {
  it('compiles (every construct the record schema uses is handled)', () => {
    expect(exact).toBeTypeOf('function');
    expect(records.length).toBeGreaterThan(50);
  });

  it('accepts every stored record (in any key order) as zod gives it, and leaves one with a key zod drops to zod', () => {
    for (const r of records) {
      expect(agree(r)).toBe(true);
      expect(agree(Object.fromEntries(Object.entries(r).reverse()))).toBe(true);
      expect(agree({ ...r, fieldOfANewerMedeval: { x: 1 } })).toBe(false);
      if (r.timings) expect(agree({ ...r, timings: { ...(r.timings as object), newGauge: 1 } })).toBe(false);
    }
  });

  it('refuses what zod refuses: any one field replaced by a value of another kind, or removed', () => {
    const replacements = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([1, 'x']), fc.constant(-1), fc.constant(0.5), fc.constant(''));
    fc.assert(fc.property(fc.nat(records.length - 1), fc.nat(), replacements, fc.boolean(), (i, k, replacement, nested) => {
      const r = structuredClone(records[i]!);
      // A top-level field, or one inside timings / extracted / error when the record has them.
      const target = nested && r.timings && typeof r.timings === 'object' ? (r.timings as Record<string, unknown>) : nested ? (r.extracted as Record<string, unknown>) : r;
      const keys = Object.keys(target);
      const key = keys[k % keys.length]!;
      if (replacement === undefined) delete target[key];
      else target[key] = replacement;
      agree(r);
    }), { numRuns: 3000, seed: 16 });
  });

  it('refuses the wrong element in an array and the wrong value in a map', () => {
    const r = structuredClone(records.find((x) => (x.timings as { itlMs?: number[] } | null)?.itlMs?.length)!);
    (r.timings as { itlMs: unknown[] }).itlMs[0] = '12';
    expect(agree(r)).toBe(false);
    const withMap = { ...structuredClone(records[0]!), letterLogprobs: { A: -0.1, B: 'x' } };
    expect(agree(withMap)).toBe(false);
  });

  it('compiles to null for a construct it does not handle (then zod alone decides)', () => {
    expect(compileCheck(z.object({ a: z.string().email() }))).toBeNull();
    expect(compileCheck(z.object({ a: z.number().max(3) }))).toBeNull();
    expect(compileCheck(z.object({ a: z.union([z.string(), z.number()]) }))).toBeNull();
  });
});
