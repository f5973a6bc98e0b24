// The journal's write path: the compiled check in front of the strict schema refuses exactly the records
// the strict schema refuses (it lets through only what zod's strict form accepts, and sends everything else
// to zod, whose verdict and message stand), and the descriptor kept open between records writes the same
// lines appendFileSync wrote, follows a replaced journal, and is closed by a run's final manifest.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSchemas } from '../../src/core/record.js';
import { passesCompiledRecordCheck, RunFolder } from '../../src/core/run-folder.js';
import type { ItemResult } from '../../src/core/types.js';
import { itemResult, manifest } from '../fixtures/runs/synthetic.js';
import { tempDir } from '../helpers/tiny-run.js';

/** Records as the run loop writes them: answered, failed, cached, budgeted, retried, likelihood. */
function writtenRecords(): ItemResult[] {
  const base = itemResult({ itemId: 'a', gold: 'A', letter: 'A' });
  return [
    base,
    { ...base, subject: 'anatomy', step: 'step1', cached: true, budget: { maxTokens: 100, requested: 512, promptTokens: 412, contextSize: 512 },
      timings: { ...base.timings!, queueMs: 3, engine: { prompt_ms: 1.5, predicted_n: 8 } } },
    { ...base, itemId: 'b', retries: 2, retryReasons: ['connection: reset', 'http-5xx: HTTP 503'] } as ItemResult,
    { ...itemResult({ itemId: 'e', gold: 'A', letter: null }), error: { kind: 'timeout', message: 'timed out', retries: 1 } },
    { ...base, itemId: 'l', letterLogprobs: { A: -0.1, B: -2.3 } },
  ];
}

/** Every variant one edit away: each key of each object deleted, set to undefined, to null, to a wrong type, and an unknown key added. */
function variants(value: unknown): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown, rebuild: (replacement: unknown) => unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, (r) => rebuild(node.map((x, j) => (j === i ? r : x)))));
      out.push(rebuild([...node, 'extra']), rebuild([...node, { extra: 1 }]));
      return;
    }
    if (node === null || typeof node !== 'object') {
      for (const wrong of [null, 'text', 42, -1, 1.5, Number.NaN, Infinity, true, {}, []]) if (wrong !== node) out.push(rebuild(wrong));
      return;
    }
    const obj = node as Record<string, unknown>;
    out.push(rebuild({ ...obj, notInTheSchema: 1 }), rebuild(null), rebuild('text'), rebuild([]));
    for (const k of Object.keys(obj)) {
      const { [k]: _dropped, ...rest } = obj;
      out.push(rebuild(rest), rebuild({ ...obj, [k]: undefined }));
      visit(obj[k], (r) => rebuild({ ...obj, [k]: r }));
    }
  };
  visit(value, (r) => r);
  return out;
}

describe('the compiled writer check', () => {
  it('passes the records the run loop writes (so they skip zod)', () => {
    for (const r of writtenRecords()) expect(passesCompiledRecordCheck(r), r.itemId).toBe(true);
  });

  it('lets through only records the strict schema accepts, and append refuses exactly what the strict schema refuses', () => {
    let checked = 0;
    let refused = 0;
    let toZod = 0;
    for (const record of writtenRecords()) {
      for (const v of variants(record)) {
        const strict = writeSchemas.itemResult.safeParse(v).success;
        const compiled = passesCompiledRecordCheck(v);
        // Sound: nothing the strict schema refuses passes the compiled check.
        if (compiled) expect(strict, JSON.stringify(v)).toBe(true);
        else toZod++;
        const folder = new RunFolder(join(tempDir(), 'run'));
        folder.create();
        let threw = false;
        try {
          folder.append(v as ItemResult);
        } catch (e) {
          threw = true;
          expect((e as Error).message).toMatch(/refused to write a journal record/);
        }
        folder.close();
        expect(threw, JSON.stringify(v)).toBe(!strict);
        // A refused record reaches no disk.
        if (threw) expect(existsSync(folder.path('results.jsonl'))).toBe(false);
        checked++;
        if (!strict) refused++;
      }
    }
    expect(checked).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(200);
    expect(toZod).toBeGreaterThanOrEqual(refused);
  });
});

describe('the journal descriptor', () => {
  it('appends the same lines appendFileSync would, follows a replaced journal, and a final manifest closes it', () => {
    const folder = new RunFolder(join(tempDir(), 'run'));
    folder.create();
    const [a, b, c] = writtenRecords();
    folder.writeManifest(manifest('x'));
    folder.append(a!);
    folder.append(b!);
    // Each line is on disk as soon as append returns (no buffering in the process: a SIGKILL loses nothing written).
    expect(readFileSync(folder.path('results.jsonl'), 'utf8')).toBe(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`);
    const fdsOpen = () => readdirSync('/proc/self/fd').length;
    const before = fdsOpen();
    // Replaced (resume, rescore): later appends go to the new file, not the renamed-over one.
    folder.writeJournal([b!]);
    expect(fdsOpen()).toBe(before - 1);
    folder.append(c!);
    expect(readFileSync(folder.path('results.jsonl'), 'utf8')).toBe(`${JSON.stringify(b)}\n${JSON.stringify(c)}\n`);
    expect(folder.readJournal().results.map((r) => r.itemId)).toEqual([b!.itemId, c!.itemId]);
    folder.append(a!);
    expect(fdsOpen()).toBe(before);
    folder.writeManifest({ ...manifest('x'), status: 'finished' });
    expect(fdsOpen()).toBe(before - 1);
    expect(readFileSync(folder.path('results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });
});
