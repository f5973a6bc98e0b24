import { describe, expect, it } from 'vitest';
import { readJsonl, type JsonlLine } from '../../src/datasets/jsonl.js';
import { fixture } from './helpers.js';

async function collect(file: string): Promise<JsonlLine[]> {
  const out: JsonlLine[] = [];
  for await (const line of readJsonl(file)) out.push(line);
  return out;
}

describe('readJsonl', () => {
  it('tolerates a BOM and CRLF, skips blank lines and keeps physical line numbers', async () => {
    const lines = await collect(fixture('medqa/bom-crlf.jsonl'));
    expect(lines.map((l) => [l.kind, l.line])).toEqual([
      ['value', 1],
      ['value', 3],
    ]);
    const first = lines[0] as Extract<JsonlLine, { kind: 'value' }>;
    expect(Object.keys(first.value as object)[0]).toBe('question');
  });

  it('yields a parse error naming file:line and keeps going', async () => {
    const file = fixture('medqa/broken-json.jsonl');
    const lines = await collect(file);
    expect(lines.map((l) => l.kind)).toEqual(['value', 'error', 'value']);
    const error = lines[1] as Extract<JsonlLine, { kind: 'error' }>;
    expect(error.error.place).toEqual({ file, line: 2 });
    expect(error.error.message).toContain(`${file}:2: not valid JSON`);
  });

  it('yields nothing for an empty file', async () => {
    expect(await collect(fixture('medqa/empty.jsonl'))).toEqual([]);
  });
});
