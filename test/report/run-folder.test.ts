import { mkdtempSync, writeFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { latestRecords, parseManifest, parseResults, parseResultsFile, readRunFolder } from '../../src/core/run-folder.js';
import { itemResult, manifest } from '../fixtures/runs/synthetic.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/runs');

describe('readRunFolder', () => {
  it('reads and validates a finished run', () => {
    const run = readRunFolder(join(FIXTURES, 'baseline-f16'));
    expect(run.manifest.label).toBe('baseline-f16');
    expect(run.results).toHaveLength(20);
    expect(run.results[0]!.itemId).toBe('q01');
    expect(run.warnings).toEqual([]);
  });

  it('skips a torn last line with a warning naming file:line, and notes an unfinished run', () => {
    const run = readRunFolder(join(FIXTURES, 'torn'));
    expect(run.results.map((r) => r.itemId)).toEqual(['q01', 'q02', 'q03']);
    expect(run.warnings.join('\n')).toMatch(/results\.jsonl:4: torn last line skipped/);
    expect(run.warnings.join('\n')).toMatch(/status is "interrupted"/);
  });

  it('rejects a damaged line in the middle with file:line and the missing field', () => {
    let error: unknown;
    try {
      readRunFolder(join(FIXTURES, 'damaged'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const msg = (error as Error).message;
    expect(msg).toMatch(/results\.jsonl:2: not valid JSON/);
    expect(msg).toMatch(/results\.jsonl:3 field "gold"/);
  });

  it('says what to do when the folder or manifest is missing or wrong', () => {
    expect(() => readRunFolder(join(FIXTURES, 'no-such-run'))).toThrow(/not a run folder/);
    const dir = mkdtempSync(join(tmpdir(), 'medeval-rf-'));
    expect(() => readRunFolder(dir)).toThrow(/manifest\.json: cannot read the run manifest/);
    writeFileSync(join(dir, 'manifest.json'), '{"schema":1}');
    expect(() => readRunFolder(dir)).toThrow(/field "label"/);
    const bad = join(dir, 'sub');
    mkdirSync(bad);
    writeFileSync(join(bad, 'manifest.json'), '{not json');
    expect(() => readRunFolder(bad)).toThrow(/manifest\.json: not valid JSON/);
  });
});

describe('parseResults / parseManifest', () => {
  it('keeps the latest record for a repeated item and sample (resume, retry) and warns', () => {
    const failed = itemResult({ itemId: 'a', gold: 'A', letter: null });
    const retried = itemResult({ itemId: 'a', gold: 'A', letter: 'A' });
    const other = itemResult({ itemId: 'b', gold: 'B', letter: 'B' });
    const text = [failed, other, retried].map((r) => JSON.stringify(r)).join('\n') + '\n';
    const { results, warnings } = parseResults(text, 'r.jsonl');
    expect(results.map((r) => [r.itemId, r.correct])).toEqual([['b', true], ['a', true]]);
    expect(warnings[0]).toMatch(/1 record\(s\) were superseded/);
  });

  it('a bad enum value names the field and line', () => {
    const r = { ...itemResult({ itemId: 'a', gold: 'A', letter: 'A' }), finishReason: 'exploded' };
    expect(() => parseResults(JSON.stringify(r) + '\n', 'r.jsonl')).toThrow(/r\.jsonl:1 field "finishReason"/);
  });

  it('accepts a manifest with extra fields (forward compatible)', () => {
    const m = { ...manifest('x'), suite: { ...manifest('x').suite, smokeTest: true } };
    expect(parseManifest(m, 'm.json').label).toBe('x');
  });
});

describe('journal read line by line (parseResultsFile)', () => {
  it('cuts lines on the bytes like parseResults splits the text: a line longer than the buffer, CRLF, no last newline, an empty file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-lines-'));
    try {
      const file = join(dir, 'results.jsonl');
      const long = JSON.stringify(itemResult({ itemId: 'q-long', gold: 'A', letter: 'A', rawOutput: `${'λ'.repeat(700_000)} Answer: A` }));
      expect(Buffer.byteLength(long)).toBeGreaterThan(1 << 20);
      const short = (i: number) => JSON.stringify(itemResult({ itemId: `q${i}`, gold: 'B', letter: i % 2 ? 'B' : 'C', rawOutput: `€ ${i}` }));
      for (const text of [
        [short(1), long, short(2), long.replace('q-long', 'q-long2')].join('\n') + '\n',
        [short(1), short(2), short(3)].join('\r\n') + '\r\n',
        [short(1), '', short(2), long].join('\n'),
        [short(1), long].join('\n') + '\n{"schema":1,"itemId":"q-to',
        '',
        '\n\n',
      ]) {
        writeFileSync(file, text);
        expect(parseResultsFile(file)).toStrictEqual(parseResults(text, file));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a journal larger than its 1 MiB chunks like parseResults reads the text, torn last line and all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medeval-journal-stream-'));
    try {
      // Multi-byte characters on every line, so chunk boundaries fall inside UTF-8 sequences too.
      const lines = Array.from({ length: 1500 }, (_, i) =>
        JSON.stringify(itemResult({ itemId: `q${i % 1400}`, gold: 'A', letter: i % 3 ? 'A' : 'B', rawOutput: `Réponse ${'é'.repeat(400)} Answer: A` })));
      const text = lines.join('\n') + '\n{"schema":1,"itemId":"q-torn';
      const file = join(dir, 'results.jsonl');
      writeFileSync(file, text);
      expect(statSync(file).size).toBeGreaterThan(2 * 1024 * 1024);
      const streamed = parseResultsFile(file);
      expect(streamed).toStrictEqual(parseResults(text, file));
      expect(streamed.results).toHaveLength(1400);
      expect(streamed.warnings.some((w) => w.includes(`results.jsonl:${lines.length + 1}: torn last line`))).toBe(true);
      const slim = parseResultsFile(file, { omitPrompts: true });
      expect(slim.results.every((r) => r.prompt === '')).toBe(true);
      expect(slim.results.map((r) => r.rawOutput)).toStrictEqual(streamed.results.map((r) => r.rawOutput));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('latestRecords on records already one per (item, sample) gives them as they are; after a push it applies the rule again', () => {
    const run = readRunFolder(join(FIXTURES, 'baseline-f16'));
    const again = latestRecords(run.results);
    expect(again.duplicates).toBe(0);
    expect(again.records).toEqual([...run.results]);
    const once = latestRecords([...run.results, run.results[0]!]);
    expect(once.duplicates).toBe(1);
    expect(latestRecords(once.records)).toEqual({ records: once.records, duplicates: 0 });
    // A record appended to an array the rule had seen: counted and dropped all the same.
    once.records.push({ ...run.results[3]!, rawOutput: 'later' });
    const later = latestRecords(once.records);
    expect(later.duplicates).toBe(1);
    expect(later.records.at(-1)!.rawOutput).toBe('later');
    expect(later.records).toHaveLength(run.results.length);
  });
});
