// Streams a JSONL file one line at a time, so a large split never has to sit in memory as text.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from '../core/errors.js';

export type JsonlLine =
  | { kind: 'value'; line: number; value: unknown }
  | { kind: 'error'; line: number; error: InputError };

const BOM = '\uFEFF';

/**
 * Yields every non-blank line of `file` parsed as JSON, or a parse error naming file:line.
 * Line numbers are 1-based physical lines; CRLF endings and a leading UTF-8 BOM are accepted.
 */
export async function* readJsonl(file: string): AsyncGenerator<JsonlLine> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (let text of lines) {
      line++;
      if (line === 1 && text.startsWith(BOM)) text = text.slice(1);
      if (text.trim() === '') continue;
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
  } finally {
    lines.close();
    input.destroy();
  }
}
