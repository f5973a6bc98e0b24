// Issue 10 item 2: llama-server reports a failed streamed request as an SSE `error:` field (status 200,
// then `data: [DONE]`). The server's own message is recorded and classified: an input error (code 400,
// invalid_request_error: the context is exceeded) is not retried, a capacity error (KV cache full) is.
// (Before: the `error:` line was dropped and every such request ended as "the stream ended before a
// finish_reason", a bad response, whatever the server said.)
import { once } from 'node:events';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { RequestError } from '../../src/runners/retry.js';
import { CONTEXT_EXCEEDED, KV_CACHE_FULL, LlamaServerDouble } from '../doubles/llama-server-double.js';

const req = (content = 'q') => ({ messages: [{ role: 'user' as const, content }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } });

describe('errors inside the stream (llama-server double)', () => {
  let server: LlamaServerDouble;
  let waits: number[];
  const session = (retries = 3) =>
    new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries, requestTimeoutMs: 60_000,
      retrySleep: async (ms) => void waits.push(ms),
    });
  const generations = () => server.requests.filter((r) => r.path === '/v1/chat/completions').length;

  beforeAll(async () => {
    server = await new LlamaServerDouble().start();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    waits = [];
    server.failures = [];
    server.requests.length = 0;
    server.kvCacheCells = null;
    server.streamErrorField = 'error';
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: B' }], finishReason: 'stop' });
  });

  it('context exceeded (code 400, invalid_request_error): an input error with the server\'s message, not retried', async () => {
    server.failures.push(CONTEXT_EXCEEDED);
    const err = (await session().generate(req(), {}).catch((e) => e)) as RequestError;
    expect(err).toBeInstanceOf(RequestError);
    expect(err.kind).toBe('input');
    expect(err.retries).toBe(0);
    expect(err.message).toContain('the request exceeds the available context size. try increasing the context size or enable context shift');
    expect(err.message).toContain('code 400');
    expect(generations()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('the same error mid-stream, after text came, is still that error (no partial answer)', async () => {
    server.failures.push({ ...CONTEXT_EXCEEDED, streamErrorAfterChunks: 1 });
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer' }, { delayMs: 0, content: ': B' }], finishReason: 'stop' });
    const err = (await session().generate(req(), {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'input', retries: 0 });
  });

  it('KV cache full (the real build\'s message, code 500): a capacity error, retried, then answered', async () => {
    server.failures.push(KV_CACHE_FULL);
    const out = await session().generate(req(), {});
    expect(out.generation.rawText).toBe('Answer: B');
    expect(out.generation.retries).toBe(1);
    expect(generations()).toBe(2);
    expect(waits).toHaveLength(1);
  });

  it('KV cache full every time: ends as a capacity error with the message, after the retries', async () => {
    server.failures.push(KV_CACHE_FULL, KV_CACHE_FULL, KV_CACHE_FULL);
    const err = (await session(2).generate(req(), {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'capacity', retries: 2 });
    expect(err.message).toContain('Input prompt is too big compared to KV size');
    expect(generations()).toBe(3);
  });

  it('the kvCacheCells mode, as the real build: a request that finds no room fails the whole batch, the stream in flight too; the window then sends one at a time and both are answered', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    server.script = (body) => ((body.messages as Array<{ content: string }>)[0]!.content === 'first'
      ? { chunks: [{ delayMs: 0, content: 'Answer', waitFor: gate }, { delayMs: 0, content: ': A' }], finishReason: 'stop' }
      : { chunks: [{ delayMs: 0, content: 'Answer: C' }], finishReason: 'stop' });
    server.kvCacheCells = 12; // room for one of these requests (prompt 7 + 1-2 generated cells each), not two
    const s = session(3);
    // The first holds its cells once its stream has started; wait for that, not for a time.
    const started = once(server.events, 'stream-start');
    const first = s.generate(req('first'), {});
    await started;
    // The second finds no room: its refusal ends its stream at once; then the first goes on, and fails too.
    const refused = once(server.events, 'stream-end');
    const second = s.generate(req('second'), {});
    await refused;
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.generation.rawText).toBe('Answer: A');
    expect(b.generation.rawText).toBe('Answer: C');
    expect(a.generation.retries).toBe(1);
    expect(b.generation.retries).toBe(1);
    expect(a.generation.retryReasons![0]).toMatch(/^capacity: .*Input prompt is too big compared to KV size/);
    // One episode, one cut: 2 in flight -> 1; the retries went one at a time and found room.
    expect(server.kvFullRefusals).toBe(1);
    expect(generations()).toBe(4);
    expect(s.throttle()).toMatchObject({ cuts: 1, before: 2, lowest: 1 });
    expect(s.throttle()!.changes[0]).toMatchObject({ from: 2, to: 1, why: 'capacity' });
  });

  it('a server error in the stream that is neither (code 500 server_error): a bad response with the server\'s message', async () => {
    server.failures.push({ streamErrorAfterChunks: 0, message: 'slot crashed' }, { streamErrorAfterChunks: 0, message: 'slot crashed' });
    const err = (await session(1).generate(req(), {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'bad-response', retries: 1 });
    expect(err.message).toContain('slot crashed');
  });

  it('an error object on a data line (vLLM, proxies) is classified the same way', async () => {
    server.streamErrorField = 'data';
    server.failures.push({ ...CONTEXT_EXCEEDED });
    const input = (await session().generate(req(), {}).catch((e) => e)) as RequestError;
    expect(input).toMatchObject({ kind: 'input', retries: 0 });
    server.failures.push({ streamErrorAfterChunks: 0, code: 503, type: 'unavailable_error', message: 'server busy' });
    const out = await session().generate(req(), {});
    expect(out.generation.retries).toBe(1);
  });
});
