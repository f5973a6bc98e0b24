// A file that repeats one question many times (the run-memory bench's dataset has 93,700 exact
// duplicates) lists the first WARNINGS_LISTED repeats and counts the rest in one line, in both loaders,
// and the console counts every one of them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, openDataset } from '../../src/datasets/index.js';
import { WARNINGS_LISTED } from '../../src/datasets/finish.js';
import { progressReporter } from '../../src/cli/progress.js';

const record = (question: string) => JSON.stringify({ question, answer: 'Ulna', options: { A: 'Radius', B: 'Ulna', C: 'Humerus', D: 'Scapula' }, meta_info: 'step1', answer_idx: 'B' });

function repeatedFile(copies: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'medeval-dup-')), 'test.jsonl');
  writeFileSync(file, [record('Which bone forms the point of the elbow?'), ...Array.from({ length: copies }, () => record('Which bone is lateral in the forearm?'))].join('\n') + '\n');
  return file;
}

describe('exact duplicates: the first ones listed, the rest counted', () => {
  it('lists 20 of 35 repeats and says "and 15 more", in both loaders; every id is still numbered', async () => {
    const file = repeatedFile(36);
    const whole = await loadDataset({ format: 'medqa', path: file });
    const streamed = await openDataset({ format: 'medqa', path: file });
    for (const d of [whole, streamed]) {
      const dups = d.warnings.filter((w) => w.includes('exact duplicate of'));
      expect(dups).toHaveLength(WARNINGS_LISTED);
      expect(dups[0]).toContain(`${file}:3: exact duplicate of ${file}:2`);
      expect(d.warnings.at(-1)).toBe(`... and 15 more exact duplicates (as published), each kept under a numbered id ("<id>.<n>"); the first ${WARNINGS_LISTED} are listed`);
      expect(d.unlistedWarnings).toBe(15);
    }
    expect(whole.items.map((i) => i.id)).toEqual(streamed.ids);
    expect(new Set(streamed.ids).size).toBe(37);
    expect(streamed.ids.at(-1)).toMatch(/\.36$/);
  });

  it('a file with few repeats lists them all, with no count line', async () => {
    const d = await openDataset({ format: 'medqa', path: repeatedFile(3) });
    expect(d.warnings.filter((w) => w.includes('exact duplicate of'))).toHaveLength(2);
    expect(d.warnings.some((w) => w.includes('more exact duplicates'))).toBe(false);
    expect(d.unlistedWarnings).toBeUndefined();
  });

  it('the console counts the unlisted warnings among the "more"', async () => {
    const d = await openDataset({ format: 'medqa', path: repeatedFile(36) });
    const lines: string[] = [];
    const progress = progressReporter('t', { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream);
    progress.onEvent({ type: 'validated', dataset: d, items: d.ids.length, todo: d.ids.length, resumed: 0, resumedCorrect: 0 });
    expect(lines.filter((l) => l.includes('warning: '))).toHaveLength(5);
    // 35 repeats in all: 5 shown, 30 more.
    expect(lines.at(-1)).toBe('  ... and 30 more warnings\n');
  });
});
