// The SSE parser that replaced the openai SDK's stream iterator (bench/client-overhead.ts measured it):
// the same events whatever way the body is cut into network reads, and the spec's field rules.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseEventReader } from '../../src/runners/sse.js';

const enc = new TextEncoder();

/** The data of every event (the `error` field is checked on its own below). */
function readAll(parts: Uint8Array[]): string[] {
  const r = new SseEventReader();
  return parts.flatMap((p) => r.push(p)).map((e) => (e.field === 'data' ? e.value : `error:${e.value}`));
}

/** Cuts bytes at the given offsets (sorted, deduplicated, within range). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('SseEventReader', () => {
  it('reads data, joins multi-line data, skips comments and other fields, drops an unclosed last event', () => {
    const body =
      ': ping\n\n' +
      'event: message\nid: 7\ndata: {"a":1}\n\n' +
      'data:{"no":"space"}\n\n' +
      'data: line one\ndata: line two\n\n' +
      'retry: 100\n\n' + // no data: no event
      'data\n\n' + // a field name alone is data with an empty value
      'data: [DONE]\n\n' +
      'data: never closed';
    expect(readAll([enc.encode(body)])).toEqual(['{"a":1}', '{"no":"space"}', 'line one\nline two', '', '[DONE]']);
  });

  it('accepts LF, CRLF and CR line ends', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      expect(readAll([enc.encode(`data: x${nl}${nl}data: y${nl}data: z${nl}${nl}`)])).toEqual(['x', 'y\nz']);
    }
  });

  it('gives the same events however the bytes are split (CRLF and multi-byte characters cut too)', () => {
    const events = ['{"content":"é 😀 ü"}', '{"content":"plain"}', 'two\nlines', '[DONE]'];
    fc.assert(
      fc.property(fc.constantFrom('\n', '\r\n', '\r'), fc.array(fc.nat(), { maxLength: 12 }), (nl, at) => {
        const body = events.map((e) => e.split('\n').map((l) => `data: ${l}${nl}`).join('') + nl).join('');
        expect(readAll(cut(enc.encode(body), at))).toEqual(events);
      }),
    );
  });

  it('returns events as soon as their blank line has arrived, not later', () => {
    const r = new SseEventReader();
    expect(r.push(enc.encode('data: a\n'))).toEqual([]);
    expect(r.push(enc.encode('\ndata: b'))).toEqual([{ field: 'data', value: 'a' }]);
    expect(r.push(enc.encode('\n\n'))).toEqual([{ field: 'data', value: 'b' }]);
  });

  it("surfaces llama-server's `error:` field as an error event (the bytes a real build sends), split anywhere", () => {
    const error = '{"code":400,"message":"the request exceeds the available context size. try increasing the context size or enable context shift","type":"invalid_request_error"}';
    const body = enc.encode(`error: ${error}\n\ndata: [DONE]\n\n`);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (at) => {
        const r = new SseEventReader();
        expect(cut(body, at).flatMap((p) => r.push(p))).toEqual([{ field: 'error', value: error }, { field: 'data', value: '[DONE]' }]);
      }),
    );
    // An event holding both fields is the error.
    expect(new SseEventReader().push(enc.encode('data: {"choices":[]}\nerror: boom\n\n'))).toEqual([{ field: 'error', value: 'boom' }]);
  });
});

/** The reader before it stopped slicing out every line and field name (kept here as the reference). */
class ReferenceSseReader {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];
  private error: string[] = [];
  private afterCR = false;

  push(bytes: Uint8Array): Array<{ field: string; value: string }> {
    let text = this.decoder.decode(bytes, { stream: true });
    if (text.length === 0) return [];
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    this.afterCR = text.endsWith('\r');
    const out: Array<{ field: string; value: string }> = [];
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

  private line(line: string, out: Array<{ field: string; value: string }>): void {
    if (line.length === 0) {
      if (this.error.length > 0) out.push({ field: 'error', value: this.error.join('\n') });
      else if (this.data.length > 0) out.push({ field: 'data', value: this.data.length === 1 ? this.data[0]! : this.data.join('\n') });
      this.data = [];
      this.error = [];
      return;
    }
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data' && field !== 'error') return;
    const value = colon < 0 ? '' : line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    (field === 'data' ? this.data : this.error).push(value);
  }
}

describe('SseEventReader against the reference reader', () => {
  it('gives exactly the same events for any text made of SSE pieces, cut anywhere', () => {
    const piece = fc.constantFrom('data', 'data:', 'data: ', 'data:  x', 'error', 'error: ', ':', ': c', 'event: e', 'id:1', 'dat', 'datax: y', 'data :z',
      '{"a":1}', '[DONE]', 'é', '€', '😀', '\n', '\n', '\n', '\r', '\r\n', ' ', 'x:y', 'data: a:b').map((p) => enc.encode(p));
    // Bytes that are not UTF-8 too: a lone lead byte, a stray continuation byte, 0xff.
    const bad = fc.constantFrom(Uint8Array.of(0xc3), Uint8Array.of(0xe2, 0x82), Uint8Array.of(0x80), Uint8Array.of(0xff));
    fc.assert(fc.property(fc.array(fc.oneof({ weight: 6, arbitrary: piece }, { weight: 1, arbitrary: bad }), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, at) => {
      const bytes = Uint8Array.from(pieces.flatMap((p) => [...p]));
      const parts = cut(bytes, at);
      const a = new SseEventReader();
      const b = new ReferenceSseReader();
      expect(parts.flatMap((p) => a.push(p))).toEqual(parts.flatMap((p) => b.push(p)));
    }), { numRuns: 3000 });
  });
});
