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
