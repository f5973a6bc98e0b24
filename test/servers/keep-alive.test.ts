// Issue 10 item 1: llama-server closes the TCP connection after every streamed response while it still
// sends `Keep-Alive: timeout=5, max=100`. Against the double that does the same, a healthy server must
// cost no retry and no error, sequentially and 4 at a time, and with `retries: 0` too. (Before the fix:
// 59 of 60 sequential and 116 of 120 concurrent requests were retried; with retries 0, 10 of 20 failed.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';

const req = (i: number) => ({ messages: [{ role: 'user' as const, content: `question ${i}` }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } });

describe('a healthy llama-server that closes after each stream', () => {
  let server: LlamaServerDouble;
  beforeAll(async () => {
    server = await new LlamaServerDouble().start();
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer' }, { delayMs: 0, content: ': A' }], finishReason: 'stop' });
  });
  afterAll(() => server.stop());

  /** n requests, `concurrency` at a time, through one session (one pool): retries made, errors, answers. */
  async function run(n: number, concurrency: number, retries: number) {
    const waits: number[] = [];
    const session = new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries, requestTimeoutMs: 60_000,
      retrySleep: async (ms) => void waits.push(ms),
    });
    const before = server.records.length;
    let next = 0;
    let retried = 0;
    const errors: string[] = [];
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        try {
          const out = await session.generate(req(i), {});
          expect(out.generation.rawText).toBe('Answer: A');
          retried += out.generation.retries ?? 0;
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    }));
    return { retried, waits: waits.length, errors, served: server.records.length - before };
  }

  it('60 sequential requests: 0 retries, 0 errors', async () => {
    const closedBefore = server.closedAfterStream;
    expect(await run(60, 1, 3)).toEqual({ retried: 0, waits: 0, errors: [], served: 60 });
    // The double did close every one of those connections.
    expect(server.closedAfterStream - closedBefore).toBe(60);
  });

  it('120 requests at concurrency 4: 0 retries, 0 errors', async () => {
    expect(await run(120, 4, 3)).toEqual({ retried: 0, waits: 0, errors: [], served: 120 });
  });

  it('with retries: 0, no request fails (sequential and at concurrency 4)', async () => {
    expect(await run(20, 1, 0)).toEqual({ retried: 0, waits: 0, errors: [], served: 20 });
    expect(await run(60, 4, 0)).toEqual({ retried: 0, waits: 0, errors: [], served: 60 });
  });
});
