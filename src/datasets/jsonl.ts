// Streams a JSONL file one line at a time, so a large split never has to sit in memory as text.
// A pretty-printed JSON array saved as .jsonl (a common export mistake) is recognised and read as the
// array it is, with a warning, instead of one "not valid JSON" per physical line.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';

export type JsonlLine =
  | { kind: 'value'; line: number; value: unknown }
  | { kind: 'error'; line: number; error: InputError };

const BOM = '\uFEFF';

/** Warnings about how a file was read, per file, until loadDataset collects them (takeReadWarnings). */
const readWarnings = new Map<string, string[]>();

/** The warnings noted while reading `file` (and forgets them). */
export function takeReadWarnings(file: string): string[] {
  const w = readWarnings.get(file) ?? [];
  readWarnings.delete(file);
  return w;
}

function warn(file: string, message: string): void {
  readWarnings.set(file, [...(readWarnings.get(file) ?? []), message]);
}

/**
 * Yields every non-blank line of `file` parsed as JSON, or a parse error naming file:line.
 * Line numbers are 1-based physical lines; CRLF endings and a leading UTF-8 BOM are accepted.
 * A file that is one JSON array yields its elements, each with the line it starts on.
 */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  const first = await firstNonBlankLine(file);
  if (first && first.text.trimStart().startsWith('[')) {
    const array = await readAsArray(file, first);
    if (array) {
      yield* array;
      return;
    }
  }
  for await (const { line, text } of nonBlankLines(file)) {
    try {
      yield { kind: 'value', line, value: JSON.parse(text) };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      yield {
        kind: 'error',
        line,
        error: new InputError(`not valid JSON (${detail})`, { file, line }),
      };
    }
  }
}

/** Every line with any text (a BOM on line 1 dropped), with its 1-based physical line number. */
async function* nonBlankLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  let line = 0;
  for await (const lines of physicalLines(file)) {
    for (let text of lines) {
      line++;
      if (line === 1 && text.startsWith(BOM)) text = text.slice(1);
      if (text.trim() !== '') yield { line, text };
    }
  }
}

/** Where lines end, as readline ends them: \r\n, \n, or a \r alone. */
const LINE_END = /\r\n|\n|\r/;

/**
 * The file's lines, a chunk's worth at a time, split where node's readline splits them (crlfDelay
 * Infinity: \r\n, \n and a lone \r each end a line; a last line without an ending still counts; no
 * empty line after a final ending). Split here rather than through readline's line events and their
 * async iterator, which cost a promise and an event per line at start-up; the same lines, in the same
 * order (test/datasets/jsonl-lines.test.ts holds both). `chunkBytes` is for tests (chunk edges).
 */
export async function* physicalLines(file: string, chunkBytes?: number): AsyncGenerator<string[]> {
  const input = createReadStream(file, { encoding: 'utf8', ...(chunkBytes ? { highWaterMark: chunkBytes } : {}) });
  let carry = '';
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      let text = carry + chunk;
      // A \r at the end may be the first half of \r\n: held until the next chunk says.
      const heldReturn = text.endsWith('\r');
      if (heldReturn) text = text.slice(0, -1);
      const lines = text.split(LINE_END);
      carry = lines.pop()! + (heldReturn ? '\r' : '');
      if (lines.length) yield lines;
    }
  } finally {
    input.destroy();
  }
  if (carry.endsWith('\r')) yield [carry.slice(0, -1)];
  else if (carry !== '') yield [carry];
}

/** The first line with any text (a BOM on line 1 dropped), with its 1-based line number. */
export async function firstNonBlankLine(file: string): Promise<{ line: number; text: string } | undefined> {
  for await (const first of nonBlankLines(file)) return first;
  return undefined;
}

/**
 * The whole file as one JSON array: its elements with their start lines, plus a warning. Null when
 * it is not (JSON Lines whose records happen to be arrays); a single error when the array is broken.
 */
async function readAsArray(file: string, first: { line: number; text: string }): Promise<JsonlLine[] | null> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (isJson(first.text)) return null; // a first line that is a whole record: JSON Lines after all
    const detail = err instanceof Error ? err.message : String(err);
    const at = /at position (\d+)/.exec(detail);
    const line = at ? lineAt(text, Number(at[1])) : first.line;
    return [{
      kind: 'error', line,
      error: new InputError(`this is a JSON array, not JSON Lines, and it is not valid JSON (${detail})`, { file, line },
        'fix the JSON, or convert it to one record per line, e.g. jq -c \'.[]\' in.json > out.jsonl'),
    }];
  }
  if (!Array.isArray(value)) return null;
  const starts = elementLines(text);
  warn(file, `${file} is a JSON array, not JSON Lines (one record per line): read it as an array of ${value.length} records; ` +
    `convert it with jq -c '.[]' ${file} > records.jsonl to silence this`);
  return value.map((v, i) => ({ kind: 'value', line: starts[i] ?? first.line, value: v }));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The 1-based line on which each top-level element of a JSON array text starts. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectValue = false;
  for (const c of text) {
    if (c === '\n') line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectValue && !/\s/.test(c) && c !== ']') {
      lines.push(line);
      expectValue = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return lines;
}
