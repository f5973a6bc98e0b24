// Server-sent events parsing for the OpenAI-compatible streaming core (src/runners/openai-stream.ts).

/**
 * Server-sent events (WHATWG HTML, "Parsing an event stream") from raw body bytes: push each network read,
 * get back the `data` of every event completed by it. LF, CRLF and CR line ends (also split across reads),
 * multi-line data, comments and unknown fields are handled; `event`, `id` and `retry` are ignored (OpenAI-
 * compatible servers send only data). An event not closed by a blank line at the end of the body is dropped,
 * as the spec and the SDK's own decoder do.
 */
export class SseEventReader {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];
  /** The last read ended in CR: a LF at the start of the next one belongs to the same line end. */
  private afterCR = false;

  push(bytes: Uint8Array): string[] {
    let text = this.decoder.decode(bytes, { stream: true });
    if (text.length === 0) return []; // only part of a multi-byte character so far
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    this.afterCR = text.endsWith('\r');
    const out: string[] = [];
    let buf = this.buffer + text;
    if (buf.includes('\r')) buf = buf.replace(/\r\n?/g, '\n');
    let pos = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', pos)) {
      this.line(buf.slice(pos, nl), out);
      pos = nl + 1;
    }
    this.buffer = pos === 0 ? buf : buf.slice(pos);
    return out;
  }

  private line(line: string, out: string[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) out.push(this.data.length === 1 ? this.data[0]! : this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    const value = colon < 0 ? '' : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    this.data.push(value);
  }
}
