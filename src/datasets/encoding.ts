// Invalid UTF-8 in a dataset: the loaders read text as UTF-8, which quietly turns every bad byte into
// U+FFFD. This finds the lines where that happened, so the user hears about it (file:line).
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';

/** 1-based line numbers of `file` whose bytes are not valid UTF-8 (streamed: any size). */
export async function invalidUtf8Lines(file: string): Promise<number[]> {
  const bad: number[] = [];
  let line = 1;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    const buf: Buffer = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
      if (!isUtf8(buf.subarray(start, nl))) bad.push(line);
      line++;
      start = nl + 1;
    }
    carry = Buffer.from(buf.subarray(start));
  }
  if (carry.length && !isUtf8(carry)) bad.push(line);
  return bad;
}

/** One warning per file: how many lines, the first few as file:line, and what to do. */
export function invalidUtf8Warning(file: string, lines: number[]): string {
  const shown = lines.slice(0, 5).map((l) => `${file}:${l}`).join(', ');
  const more = lines.length > 5 ? ` and ${lines.length - 5} more` : '';
  return `invalid UTF-8 on ${lines.length} line(s): ${shown}${more}; those bytes were read as U+FFFD (\uFFFD): ` +
    're-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8) if the text matters';
}
