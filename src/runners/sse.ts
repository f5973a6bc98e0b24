// Server-sent events parsing for the OpenAI-compatible streaming core (src/runners/openai-stream.ts).
import { isAscii } from 'node:buffer';

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
  /** Made on the first read that is not ASCII: most streams never need one. */
  private decoder: InstanceType<typeof TextDecoder> | null = null;
  private buffer = '';
  /** The current event's data lines: the first held as it is (most events have one), the rest in a list. */
  private data: string | null = null;
  private moreData: string[] | null = null;
  private error: string[] | null = null;
  /** The last read ended in CR: a LF at the start of the next one belongs to the same line end. */
  private afterCR = false;
  /** The decoder may hold the start of a character cut by the last read (its last byte was not ASCII). */
  private decoderHolds = false;

  push(bytes: Uint8Array): SseEvent[] {
    let text: string;
    // ASCII with nothing held back decodes to the same text as TextDecoder gives, at a fraction of its cost.
    if (!this.decoderHolds && isAscii(bytes)) text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    else {
      text = (this.decoder ??= new TextDecoder()).decode(bytes, { stream: true });
      if (bytes.length > 0) this.decoderHolds = bytes[bytes.length - 1]! >= 0x80;
    }
    if (text.length === 0) return []; // only part of a multi-byte character so far
    if (this.afterCR && text.charCodeAt(0) === 10) text = text.slice(1);
    this.afterCR = text.charCodeAt(text.length - 1) === 13;
    const out: SseEvent[] = [];
    let buf = this.buffer.length === 0 ? text : this.buffer + text;
    if (buf.includes('\r')) buf = buf.replace(/\r\n?/g, '\n');
    let pos = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', pos)) {
      if (nl === pos) this.dispatch(out);
      else this.line(buf, pos, nl);
      pos = nl + 1;
    }
    this.buffer = pos === 0 ? buf : pos === buf.length ? '' : buf.slice(pos);
    return out;
  }

  /** A blank line: the event so far is complete. */
  private dispatch(out: SseEvent[]): void {
    // An event with an error field is an error, whatever data came with it.
    if (this.error !== null) out.push({ field: 'error', value: this.error.join('\n') });
    else if (this.data !== null) out.push({ field: 'data', value: this.moreData === null ? this.data : [this.data, ...this.moreData].join('\n') });
    this.data = null;
    this.moreData = null;
    this.error = null;
  }

  /** The line buf[start, end), not blank. */
  private line(buf: string, start: number, end: number): void {
    const c = buf.charCodeAt(start);
    if (c === 58 /* ':' comment */) return;
    // The common line, `data: ...`, without slicing out its field name.
    if (c === 100 /* d */ && buf.startsWith('data:', start)) {
      const from = start + 5;
      this.addData(buf.slice(from < end && buf.charCodeAt(from) === 32 ? from + 1 : from, end));
      return;
    }
    const colon = buf.indexOf(':', start);
    const fieldEnd = colon < 0 || colon > end ? end : colon;
    const field = buf.slice(start, fieldEnd);
    if (field !== 'data' && field !== 'error') return;
    const value = fieldEnd === end ? '' : buf.slice(buf.charCodeAt(fieldEnd + 1) === 32 && fieldEnd + 1 < end ? fieldEnd + 2 : fieldEnd + 1, end);
    if (field === 'data') this.addData(value);
    else (this.error ??= []).push(value);
  }

  private addData(value: string): void {
    if (this.data === null) this.data = value;
    else (this.moreData ??= []).push(value);
  }
}
