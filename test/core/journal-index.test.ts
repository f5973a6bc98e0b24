// The journal index (core/run-folder.ts): offsets of each record's line, the journal rule (the latest
// record per item and sample), a journal that grows while it is viewed, one that is replaced, damage
// at file:line, and a page that parses its own lines only.
import { appendFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { JournalIndex } from '../../src/core/run-folder.js';
import { itemResult } from '../fixtures/runs/synthetic.js';

const line = (id: string, letter: string | null, over: object = {}) => JSON.stringify({ ...itemResult({ itemId: id, gold: 'A', letter }), ...over }) + '\n';

function journal(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'medeval-index-'));
  const file = join(dir, 'results.jsonl');
  writeFileSync(file, text);
  return { dir, file };
}

describe('JournalIndex', () => {
  it('keeps offsets and the latest record per item and sample, and reads only the lines asked for', async () => {
    const { dir } = journal(line('q1', 'A') + '\n' + line('q2', 'B') + line('q1', 'C') + line('q3', 'A'));
    const index = new JournalIndex(dir);
    await index.refresh();
    const entries = index.entries();
    expect(entries.map((e) => [e.itemId, e.line, e.correct])).toEqual([['q2', 3, false], ['q1', 4, false], ['q3', 5, true]]);
    expect(index.linesIndexed).toBe(4);
    expect(index.warnings().join('\n')).toMatch(/1 record\(s\) were superseded/);
    const [q1] = await index.records([entries[1]!]);
    expect(q1!.rawOutput).toBe('Answer: C');
    expect(index.linesRead).toBe(1);
    // The index holds where a record is and what filters read, never its text.
    expect(Object.keys(entries[0]!)).not.toEqual(expect.arrayContaining(['prompt']));
    expect(Object.keys(entries[0]!).filter((k) => ['prompt', 'rawOutput', 'reasoning', 'question'].includes(k))).toEqual([]);
  });

  it('recomputes correct from the gold letter and the answer, as every reader does', async () => {
    const { dir } = journal(line('q1', 'B', { correct: true }));
    const index = new JournalIndex(dir);
    await index.refresh();
    expect(index.entries()[0]!.correct).toBe(false);
    expect((await index.records(index.entries()))[0]!.correct).toBe(false);
  });

  it('indexes only what was appended since the last pass; a torn tail is left for later', async () => {
    const { dir, file } = journal(line('q1', 'A'));
    const index = new JournalIndex(dir);
    await index.refresh();
    const half = line('q2', 'A');
    appendFileSync(file, half.slice(0, 40));
    await index.refresh();
    expect(index.entries().map((e) => e.itemId)).toEqual(['q1']);
    expect(index.warnings().join('\n')).toMatch(/results\.jsonl:2: the last line has no newline and is not JSON/);
    appendFileSync(file, half.slice(40) + line('q3', 'B'));
    await index.refresh();
    expect(index.entries().map((e) => e.itemId)).toEqual(['q1', 'q2', 'q3']);
    expect(index.linesIndexed).toBe(3);
    expect(index.warnings()).toEqual([]);
    expect((await index.records(index.entries())).map((r) => r.itemId)).toEqual(['q1', 'q2', 'q3']);
  });

  it('starts again when the journal was replaced (rescore, resume)', async () => {
    const { dir, file } = journal(line('q1', 'A') + line('q2', 'A'));
    const index = new JournalIndex(dir);
    await index.refresh();
    const tmp = join(dir, '.results.jsonl.tmp');
    writeFileSync(tmp, line('q9', 'A'));
    renameSync(tmp, file);
    await index.refresh();
    expect(index.entries().map((e) => e.itemId)).toEqual(['q9']);
  });

  it('a damaged line in the middle is an InputError at file:line', async () => {
    const { dir } = journal(line('q1', 'A') + '{not json\n' + line('q2', 'A'));
    const index = new JournalIndex(dir);
    const err = await index.refresh().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/results\.jsonl:2: not valid JSON/);
  });

  it('a line rewritten in place under the index is refused, not shown as another record', async () => {
    const { dir, file } = journal(line('q1', 'A') + line('q2', 'A'));
    const index = new JournalIndex(dir);
    await index.refresh();
    const entries = index.entries();
    // Same inode, same length: only the id changed (q2 -> q7).
    writeFileSync(file, line('q1', 'A') + line('q7', 'A'), { flag: 'r+' });
    await expect(index.records([entries[1]!])).rejects.toThrow(/journal changed under the viewer/);
  });

  it('a run that has not written a record yet has an empty index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-index-'));
    const index = new JournalIndex(dir);
    await index.refresh();
    expect(index.entries()).toEqual([]);
  });
});
