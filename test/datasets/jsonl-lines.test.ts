// Sameness of the dataset line reader: physicalLines (chunks split on \r\n, \n and a lone \r) gives exactly
// the lines node's readline gave the loaders before (crlfDelay Infinity), in the same order, for every test
// fixture and bundled dataset file and for generated files of line endings, blank lines, a BOM and
// multi-byte characters, read in chunks small enough to cut every ending and character in two.
import { createReadStream, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { physicalLines } from '../../src/datasets/jsonl.js';

async function readlineLines(file: string): Promise<string[]> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const out: string[] = [];
  for await (const text of createInterface({ input, crlfDelay: Infinity })) out.push(text);
  return out;
}

async function linesNow(file: string, chunkBytes?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const lines of physicalLines(file, chunkBytes)) out.push(...lines);
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('dataset line reader', () => {
  it('gives readline\'s lines for every fixture and bundled dataset file', async () => {
    const repo = resolve(import.meta.dirname, '../..');
    const files = [...filesUnder(join(repo, 'test/fixtures/datasets')), join(repo, 'datasets/sample/usmle-sample.jsonl')];
    expect(files.length).toBeGreaterThan(30);
    for (const file of files) {
      const before = await readlineLines(file);
      expect(await linesNow(file), file).toEqual(before);
      expect(await linesNow(file, 7), file).toEqual(before);
    }
  });

  it('gives readline\'s lines for any mix of line endings, blank lines, a BOM and multi-byte text, cut anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-lines-'));
    const piece = fc.constantFrom('\r', '\n', '\r\n', '\n\r', '\r\r\n', '', ' ', 'a', '{"q":"é"}', '€', '😀', '\uFEFF', 'line');
    let run = 0;
    await fc.assert(fc.asyncProperty(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 9 }), async (parts, chunk) => {
      const file = join(dir, `f${run++}.jsonl`);
      writeFileSync(file, parts.join(''));
      const before = await readlineLines(file);
      expect(await linesNow(file, chunk)).toEqual(before);
      expect(await linesNow(file)).toEqual(before);
    }), { numRuns: 400, seed: 16 });
  });
});
