// A small RFC 4180 CSV parser (quoted fields, "" escapes, embedded newlines, CRLF), enough for the
// header-less MMLU files; csv-parse is not a dependency of this project.

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
  /** Broken quoting in this record, with the line where it shows. */
  problem?: { line: number; message: string };
}

/** Parses CSV text. Blank lines are skipped; a leading BOM is ignored. Never throws. */
export function parseCsv(text: string): CsvRecord[] {
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const records: CsvRecord[] = [];
  let problem: CsvRecord['problem'];
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;

  const endRecord = () => {
    fields.push(field);
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) records.push({ line: recordLine, fields, ...(problem && { problem }) });
    problem = undefined;
    fields = [];
    field = '';
  };

  while (i < n) {
    const c = text[i];
    if (c === '"' && field === '') {
      // Quoted field: runs to the next lone quote, across commas and newlines.
      const startLine = line;
      i++;
      let closed = false;
      while (i < n) {
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) {
        problem ??= { line: startLine, message: 'quoted field is never closed (a missing " ?)' };
        break;
      }
      if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
        problem ??= { line, message: `unexpected text after a closing quote: ${JSON.stringify(text.slice(i, i + 20))}` };
        // Keep the stray text so nothing is silently dropped; the record will usually fail validation.
      }
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
