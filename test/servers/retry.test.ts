// Retries against the double: 429 with Retry-After, 500s (capped; malformed-body 500s not retried),
// connection resets, 400 never retried, an aborted signal stops retrying, timeouts are errors.
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

  it('a stream slower than the timeout is a timeout error, not retried', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'a' }, { delayMs: 400, content: 'b' }] });
    const err = (await session({ requestTimeoutMs: 100 }).generate(req, {}).catch((e) => e)) as RequestError;
    expect(err).toMatchObject({ kind: 'timeout', retries: 0 });
    expect(generations()).toBe(1);
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
