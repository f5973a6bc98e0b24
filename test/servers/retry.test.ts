// Retries against the double: 429 with Retry-After (capped), 500s (capped; malformed-body 500s not retried),
// connection resets, 400 never retried, an aborted signal stops retrying, stalls past the timeout and
// broken, empty or cut-short streams retried within `retries`, every wait announced.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { parseRetryAfter, RequestError } from '../../src/runners/retry.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';

const req = { messages: [{ role: 'user' as const, content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } };

describe('retries against the llama-server double', () => {
  let server: LlamaServerDouble;
  let waits: number[];
  const session = (extra: Partial<ConstructorParameters<typeof OpenAiServerSession>[0]> = {}) =>
    new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 3, requestTimeoutMs: 5000,
      retrySleep: async (ms, signal) => {
        if (signal?.aborted) throw signal.reason;
        waits.push(ms);
      },
      ...extra,
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
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'ok' }] });
  });

  it('429 with Retry-After: waits at least that long, then succeeds', async () => {
    server.failures.push({ status: 429, headers: { 'Retry-After': '2' } }, { status: 429, headers: { 'Retry-After': '1' } });
    const out = await session().generate(req, {});
    expect(out.generation.rawText).toBe('ok');
    expect(generations()).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);
  });

  it('500s are retried once, then fail with kind http-5xx and the retry count', async () => {
    server.failures.push({ status: 500 }, { status: 500 }, { status: 500 });
    const err = (await session().generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toBeInstanceOf(RequestError);
    expect(err).toMatchObject({ kind: 'http-5xx', status: 500, retries: 1 });
    expect(generations()).toBe(2);
  });

  it("a 500 for a malformed body (llama-server's answer) is not retried", async () => {
    server.failures.push({ status: 500, body: JSON.stringify({ error: { code: 500, message: "[json.exception.out_of_range.403] key 'messages' not found", type: 'server_error' } }) });
    const err = (await session().generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'http-5xx', retries: 0 });
    expect(generations()).toBe(1);
  });

  it('connection resets (before and during the stream) are retried', async () => {
    server.failures.push({ reset: true }, { resetAfterChunks: 0 });
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'a' }, { delayMs: 0, content: 'b' }] });
    const out = await session().generate(req, {});
    expect(out.generation.rawText).toBe('ab');
    expect(generations()).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('gives up after the retry budget with kind connection', async () => {
    server.failures.push({ reset: true }, { reset: true }, { reset: true });
    const err = (await session({ retries: 2 }).generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'connection', retries: 2 });
  });

  it('400 is an input error: never retried', async () => {
    server.failures.push({ status: 400, body: JSON.stringify({ error: { code: 400, message: 'bad', type: 'invalid_request_error' } }) });
    const err = (await session().generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'http-4xx', status: 400, retries: 0 });
    expect(generations()).toBe(1);
  });

  it('an aborted signal stops retrying', async () => {
    const ctl = new AbortController();
    server.failures.push({ status: 429, headers: { 'Retry-After': '1' } }, { status: 429 });
    const s = new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 5, requestTimeoutMs: 5000,
      retrySleep: async () => {
        ctl.abort(); // the user presses Ctrl-C while we wait
        throw new Error('aborted');
      },
    });
    const err = (await s.generate({ ...req, signal: ctl.signal }, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'aborted' });
    expect(generations()).toBe(1);
  });

  // Issue 10 item 7 changed this: a stall past the timeout was not retried (one stall ended the item).
  it('a stall past the timeout is retried; a server that always stalls ends as a timeout after the retries', async () => {
    server.failures.push({ hang: true }, { hangAfterChunks: 1 });
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'a' }, { delayMs: 0, content: 'b' }] });
    const out = await session({ requestTimeoutMs: 3000 }).generate(req, {});
    expect(out.generation.rawText).toBe('ab');
    expect(out.generation.retries).toBe(2);
    server.failures.push({ hang: true }, { hang: true });
    const err = (await session({ requestTimeoutMs: 3000, retries: 1 }).generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'timeout', retries: 1 });
  });

  it('a malformed SSE line, an empty 200 and a stream cut before finish_reason are retried, then answered', async () => {
    server.failures.push(
      { malformedAfterChunks: 1 },
      { status: 200, body: '', headers: { 'Content-Type': 'text/event-stream' } },
      { endAfterChunks: 1 },
    );
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer' }, { delayMs: 0, content: ': C' }], finishReason: 'stop' });
    const out = await session().generate(req, {});
    expect(out.generation.rawText).toBe('Answer: C');
    expect(out.generation.retries).toBe(3);
    expect(generations()).toBe(4);
    expect(waits).toHaveLength(3);
  });

  it('Retry-After is capped (60 s by default, maxRetryAfterMs otherwise), and each wait is announced with its reason', async () => {
    const notices: string[] = [];
    server.failures.push({ status: 429, headers: { 'Retry-After': '3600' } }, { status: 503, headers: { 'Retry-After': '3600' } });
    const s = session();
    s.onNotice = (n) => notices.push(n.text);
    expect((await s.generate(req, {})).generation.retries).toBe(2);
    expect(waits).toEqual([60_000, 60_000]);
    expect(notices).toEqual([
      'waiting 60 s before retry 1/3: HTTP 429 Retry-After 3600 s capped to 60 s',
      expect.stringMatching(/^waiting 60 s before retry 2\/3: HTTP 503: .* Retry-After 3600 s capped to 60 s$/),
    ]);

    waits = [];
    server.failures.push({ status: 429, headers: { 'Retry-After': '3600' } });
    const capped = session({ maxRetryAfterMs: 5000 });
    const told: string[] = [];
    capped.onNotice = (n) => told.push(n.text);
    await capped.generate(req, {});
    expect(waits).toEqual([5000]);
    expect(told).toEqual(['waiting 5 s before retry 1/3: HTTP 429 Retry-After 3600 s capped to 5 s']);
    // A Retry-After under the cap is honoured as it is.
    waits = [];
    server.failures.push({ status: 429, headers: { 'Retry-After': '2' } });
    await capped.generate(req, {});
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits[0]).toBeLessThan(5000);
  });
});

describe('Retry-After', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    expect(parseRetryAfter(h({ 'retry-after': '3' }))).toBe(3000);
    expect(parseRetryAfter(h({ 'retry-after-ms': '250' }))).toBe(250);
    expect(parseRetryAfter(h({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
    expect(parseRetryAfter(h({}))).toBeUndefined();
  });
});
