// The server runners' hot path (openai-stream.ts, DirectTarget): a streamed request goes straight onto the
// keep-alive transport (http-fetch.ts) and its body is read from node's stream: no SDK request building and
// no WHATWG Response or Headers per request (they were most of the client's CPU at thousands of requests per
// second). A status error still becomes the SDK's own typed error, so retry.ts reads both paths alike.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APIError } from 'openai';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { RequestError } from '../../src/runners/retry.js';
import { VllmDouble } from '../doubles/vllm-double.js';

const request = { messages: [{ role: 'user' as const, content: 'Which option? A or B.' }], sampling: { temperature: 0, topP: 1, maxTokens: 8 } };

describe('the streamed request path', () => {
  let server: VllmDouble;
  let session: OpenAiServerSession;
  beforeAll(async () => {
    server = await new VllmDouble().start();
    session = new OpenAiServerSession({ baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 0, requestTimeoutMs: 60_000 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('builds no SDK request and no WHATWG Response or Headers per request', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer:' }, { delayMs: 0, content: ' B' }], finishReason: 'stop' });
    const create = vi.spyOn((await session.client()).chat.completions, 'create');
    const made = { responses: 0, headers: 0 };
    const RealResponse = globalThis.Response;
    const RealHeaders = globalThis.Headers;
    globalThis.Response = class extends RealResponse {
      constructor(...args: ConstructorParameters<typeof Response>) {
        super(...args);
        made.responses++;
      }
    } as typeof Response;
    globalThis.Headers = class extends RealHeaders {
      constructor(...args: ConstructorParameters<typeof Headers>) {
        super(...args);
        made.headers++;
      }
    } as typeof Headers;
    try {
      server.records.length = 0;
      for (let i = 0; i < 5; i++) {
        const out = await session.generate(request, { cache_prompt: true });
        expect(out.generation.rawText).toBe('Answer: B');
        expect(out.generation.timings.ttftMs).not.toBeNull();
      }
    } finally {
      globalThis.Response = RealResponse;
      globalThis.Headers = RealHeaders;
      create.mockRestore();
    }
    expect(create).not.toHaveBeenCalled();
    expect(made).toEqual({ responses: 0, headers: 0 });
    // What the SDK would have sent: the body fields and JSON.
    const sent = server.records[0]!;
    expect(sent.body).toMatchObject({ model: 'm', stream: true, stream_options: { include_usage: true }, max_tokens: 8, cache_prompt: true });
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
  });

  it('a status error is the SDK\'s typed error underneath, classified as on the SDK path', async () => {
    server.failures.push({ status: 429, headers: { 'Retry-After': '2' } });
    const err = await session.generate(request, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect(err).toMatchObject({ kind: 'http-429', status: 429, retryAfterMs: 2000 });
    expect((err as RequestError).cause).toBeInstanceOf(APIError);
    // A FastAPI-style body without an `error` key still reaches the message.
    server.failures.push({ status: 400, body: JSON.stringify({ object: 'error', message: 'maximum context length is 32768 tokens', type: 'BadRequestError', code: 400 }) });
    const bad = await session.generate(request, {}).catch((e: unknown) => e);
    expect(bad).toMatchObject({ kind: 'http-4xx', status: 400 });
    expect((bad as Error).message).toMatch(/maximum context length is 32768 tokens/);
  });
});
