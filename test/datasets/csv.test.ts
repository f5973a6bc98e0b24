import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/datasets/csv.js';

/** RFC 4180 writer used only to check the parser (quotes a field when it needs to). */
function toCsv(rows: string[][], eol: string): string {
  const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);
  return rows.map((r) => r.map(quote).join(',')).join(eol) + eol;
}

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and embedded newlines', () => {
    const text = 'a,"b, c","say ""hi"""\n"line1\nline2",x,y\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b, c', 'say "hi"'] },
      { line: 2, fields: ['line1\nline2', 'x', 'y'] },
    ]);
  });

  it('handles CRLF, a BOM, blank lines and a missing final newline', () => {
    const records = parseCsv('\uFEFFq,A\r\n\r\nr,B');
    expect(records).toEqual([
      { line: 1, fields: ['q', 'A'] },
      { line: 3, fields: ['r', 'B'] },
    ]);
  });

  it('keeps empty fields', () => {
    expect(parseCsv('a,,c\n')[0].fields).toEqual(['a', '', 'c']);
  });

  it('reports an unclosed quote at the line where the field starts', () => {
    const records = parseCsv('ok,1\n"broken,2\nmore,3\n');
    expect(records[0].problem).toBeUndefined();
    expect(records[1].line).toBe(2);
    expect(records[1].problem).toEqual({ line: 2, message: expect.stringContaining('never closed') });
  });

  it('reports text after a closing quote', () => {
    expect(parseCsv('"a"b,c\n')[0].problem?.message).toContain('after a closing quote');
  });

  it('round-trips any table written by an RFC 4180 writer', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é') , maxLength: 8 });
    const rows = fc.array(fc.array(field, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(rows, fc.constantFrom('\n', '\r\n'), (table, eol) => {
        expect(parseCsv(toCsv(table, eol)).map((r) => r.fields)).toEqual(table);
      }),
      { numRuns: 200 },
    );
  });
});
