// CSV reading with csv-parse (RFC 4180: quoted fields, "" escapes, embedded newlines, CRLF), as the
// header-less MMLU files and mapped CSV sets need it, with each record's starting line for file:line
// errors. Broken quoting never throws: the record is kept with its problem so the loader can report it.
import { createRequire } from 'node:module';
import type { CsvError, parse as Parse } from 'csv-parse/sync';

// csv-parse loads on the first CSV read (its one-file CommonJS build), not with the dataset loaders: a run
// on a JSONL or JSON dataset never needs it (start-up).
const require = createRequire(import.meta.url);
let parseModule: { parse: typeof Parse } | undefined;
const csvParse = (): typeof Parse => (parseModule ??= require('csv-parse/sync') as { parse: typeof Parse }).parse;

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
  /** Broken quoting in this record, with the line where it shows. */
  problem?: { line: number; message: string };
}

const newlines = (text: string) => text.split('\n').length - 1;

/** Why csv-parse skipped a record, in the words the loaders' errors use. */
function problemMessage(error: CsvError, raw: string | undefined): string {
  if (error.code === 'CSV_QUOTE_NOT_CLOSED') return 'quoted field is never closed (a missing " ?)';
  if (error.code === 'CSV_INVALID_CLOSING_QUOTE') {
    const after = error.message.match(/got "(.*?)" at line/)?.[1] ?? '';
    return `unexpected text after a closing quote: ${JSON.stringify(after)} (${raw ? JSON.stringify(raw.slice(0, 20)) : 'this record'})`;
  }
  return error.message;
}

/** Parses CSV text. Blank lines are skipped; a leading BOM is ignored. Never throws. */
export function parseCsv(text: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  const rows = csvParse()(text, {
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    raw: true,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      if (!error) return;
      // error.lines is where parsing stopped; the record started as many lines earlier as it spans.
      const span = raw ? newlines(raw.replace(/\r?\n$/, '')) : 0;
      const line = Math.max(1, Number(error.lines) - span);
      out.push({ line, fields: [], problem: { line, message: problemMessage(error, raw) } });
    },
  }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
  for (const { record, info } of rows) {
    // info.lines is the record's last line; embedded newlines say how many lines it spans.
    const line = info.lines - record.reduce((n, f) => n + newlines(f), 0);
    out.push({ line, fields: record });
  }
  return out.sort((a, b) => a.line - b.line);
}
