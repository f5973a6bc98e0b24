// Everything the CLI prints goes through here. Text on a terminal can come from a dataset or a model
// (an error quoting a question, a server's message): its control characters are shown escaped (\x1b,
// \r, \u202e), so an ESC sequence cannot recolour, move the cursor or rewrite the screen. Files keep
// the real text. Secrets are cut out by the stream guard under this (src/core/redact.ts).
import { guardStream } from '../core/redact.js';

// C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder text.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\r') return '\\r';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Print to stdout (results a script may read). */
export function printOut(text: string): void {
  process.stdout.write(terminalSafe(text));
}

/** Print to stderr (progress, warnings, errors). */
export function printErr(text: string): void {
  process.stderr.write(terminalSafe(text));
}

/** A line printer for a given stream (progress lines go to the stream they were given). */
export function printerFor(stream: NodeJS.WritableStream): (text: string) => void {
  return (text) => void stream.write(terminalSafe(text));
}

/** Once per process, before anything is printed: secrets never reach stdout or stderr, whoever writes. */
export function guardOutput(): void {
  guardStream(process.stdout);
  guardStream(process.stderr);
}
