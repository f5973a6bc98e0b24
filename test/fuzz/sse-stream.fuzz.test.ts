// Property tests of the streaming core (src/runners/openai-stream.ts) on byte streams served by a stub
// fetch: however the network splits a valid stream (mid-line, mid-JSON, mid-UTF-8 character), the text,
// reasoning and token counts are the same; hostile or cut-short bytes end in an error with a kind, never
// in an answer the stream did not contain.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Generation } from '../../src/core/types.js';
import { createOpenAiClient, streamGeneration } from '../../src/runners/openai-stream.js';
import { classifyError } from '../../src/runners/retry.js';
import { REPO } from '../helpers/tiny-run.js';

const enc = new TextEncoder();
/** Recorded from a real llama-server build (plain content, usage and timings on the last chunk). */
const RECORDED = new Uint8Array(readFileSync(join(REPO, 'test/fixtures/servers/llama-chat-stream.sse')));

/** A llama-server style stream with server-side reasoning and multi-byte characters, in the recorded framing. */
function reasoningStream(lineEnd: string): Uint8Array {
  const meta = { created: 1795534944, id: 'chatcmpl-fuzz', model: 'gpt-3.5-turbo', system_fingerprint: 'b0-unknown', object: 'chat.completion.chunk' };
  const delta = (d: object) => ({ choices: [{ finish_reason: null, index: 0, delta: d }], ...meta });
  const frames = [
    delta({ reasoning_content: 'Première étape: ' }),
    delta({ reasoning_content: '肺炎 → 抗生素 🫁' }),
    delta({ content: 'Answer: ' }),
    delta({ content: 'B' }),
    { choices: [{ finish_reason: 'stop', index: 0, delta: {} }], ...meta, usage: { completion_tokens: 4, prompt_tokens: 21, total_tokens: 25 }, timings: { prompt_n: 21, prompt_ms: 3.2, predicted_n: 4, predicted_ms: 1.1 } },
  ];
  return enc.encode(frames.map((f) => `data: ${JSON.stringify(f)}${lineEnd}${lineEnd}`).join('') + `data: [DONE]${lineEnd}${lineEnd}`);
}

/** Cuts `bytes` at the given offsets (any order, duplicates ignored). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) parts.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return parts;
}

/** A fetch that answers 200 text/event-stream with `parts` as separate network reads. */
function stubFetch(parts: Uint8Array[]): typeof fetch {
  return async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(p.slice());
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

async function generate(parts: Uint8Array[]): Promise<Generation> {
  const client = await createOpenAiClient('http://127.0.0.1:1', null, stubFetch(parts));
  const out = await streamGeneration(client, {
    api: 'chat', model: 'm', messages: [{ role: 'user', content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 16 },
  });
  return out.generation;
}

const essentials = (g: Generation) => ({
  rawText: g.rawText, reasoning: g.reasoning, promptTokens: g.promptTokens, outputTokens: g.outputTokens, tokenSource: g.tokenSource, finishReason: g.finishReason,
});

describe('SSE stream parsing under random network splits', () => {
  const streams: Array<[string, Uint8Array]> = [
    ['recorded llama-server stream', RECORDED],
    ['reasoning + multi-byte text, LF', reasoningStream('\n')],
    ['reasoning + multi-byte text, CRLF', reasoningStream('\r\n')],
  ];
  for (const [name, bytes] of streams) {
    it(`${name}: any split gives the same text and token counts as one read`, async () => {
      const whole = essentials(await generate([bytes]));
      expect(whole.rawText.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), async (cuts) => {
          expect(essentials(await generate(split(bytes, cuts)))).toEqual(whole);
        }),
        { numRuns: 120 },
      );
    });
  }

  it('one byte per read: still the same (every boundary at once)', async () => {
    const bytes = reasoningStream('\n');
    const oneByOne = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(essentials(await generate(oneByOne))).toEqual(essentials(await generate([bytes])));
    expect((await generate([bytes])).rawText).toBe('<think>Première étape: 肺炎 → 抗生素 🫁</think>Answer: B');
  });
});

describe('SSE stream parsing of hostile bytes', () => {
  /** The outcome of a stream: its text, or the kind retry.ts gives its error. */
  async function outcome(parts: Uint8Array[]): Promise<{ text: string } | { kind: string }> {
    try {
      return { text: (await generate(parts)).rawText };
    } catch (e) {
      return { kind: classifyError(e, { timedOut: false, aborted: false }).kind };
    }
  }

  it('random bytes: an error with a kind (bad response), never an answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 5 }), async (bytes, cuts) => {
        const o = await outcome(split(bytes, cuts));
        expect(o).toEqual({ kind: 'bad-response' });
      }),
      { numRuns: 150 },
    );
  });

  it('random text shaped like SSE (data: lines of junk): an error, never an answer', async () => {
    const junkLine = fc.oneof(
      fc.string({ maxLength: 60 }).map((s) => `data: ${s.replace(/[\r\n]/g, '')}`),
      fc.jsonValue().map((v) => `data: ${JSON.stringify(v)}`),
      fc.constantFrom(': ping', 'event: error', 'data:', 'data: {"choices":[]}', 'data: {"choices":[{"delta":{"content":"Answer: A"}}]}', 'retry: 10', 'id: 1'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(junkLine, { maxLength: 10 }), async (lines) => {
        const o = await outcome([enc.encode(lines.join('\n\n') + '\n\n')]);
        // No finish_reason ever arrives in these lines, so no answer may come out of them.
        expect('kind' in o).toBe(true);
        if ('kind' in o) expect(['bad-response', 'http-5xx', 'http-4xx']).toContain(o.kind);
      }),
      { numRuns: 150 },
    );
  });

  it('a valid stream cut short at any byte: the full answer or an error, never a different answer', async () => {
    const bytes = reasoningStream('\n');
    const full = (await generate([bytes])).rawText;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length }), fc.array(fc.nat(), { maxLength: 6 }), async (cut, splits) => {
        const o = await outcome(split(bytes.subarray(0, cut), splits));
        if ('text' in o) expect(o.text).toBe(full);
        else expect(o.kind).toBe('bad-response');
      }),
      { numRuns: 150 },
    );
  });
});
