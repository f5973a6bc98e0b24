// Server-sent events parsing for the OpenAI-compatible streaming core (src/runners/openai-stream.ts).

/** One completed event: its `data`, or llama-server's `error` field (how it reports a failure in a stream). */
export interface SseEvent {
  field: 'data' | 'error';
  value: string;
}

/**
 * Server-sent events (WHATWG HTML, "Parsing an event stream") from raw body bytes: push each network read,
 * get back every event completed by it. LF, CRLF and CR line ends (also split across reads), multi-line
 * values, comments and unknown fields are handled; `event`, `id` and `retry` are ignored (OpenAI-compatible
 * servers send only data). The one field beyond the spec that is kept is `error`: llama-server sends
 * `error: {"code":400,"message":...}` (then `data: [DONE]`) when a streamed request fails, and a reader that
 * dropped it would see only a stream that ended early. An event not closed by a blank line at the end of
 * the body is dropped, as the spec and the SDK's own decoder do.
 */
export class SseEventReader {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];
  private error: string[] = [];
  /** The last read ended in CR: a LF at the start of the next one belongs to the same line end. */
  private afterCR = false;

  push(bytes: Uint8Array): SseEvent[] {
    let text = this.decoder.decode(bytes, { stream: true });
    if (text.length === 0) return []; // only part of a multi-byte character so far
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    this.afterCR = text.endsWith('\r');
    const out: SseEvent[] = [];
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

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      // An event with an error field is an error, whatever data came with it.
      if (this.error.length > 0) out.push({ field: 'error', value: this.error.join('\n') });
      else if (this.data.length > 0) out.push({ field: 'data', value: this.data.length === 1 ? this.data[0]! : this.data.join('\n') });
      this.data = [];
      this.error = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data' && field !== 'error') return;
    const value = colon < 0 ? '' : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    (field === 'data' ? this.data : this.error).push(value);
  }
}
