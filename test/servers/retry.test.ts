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

describe('per-attempt timeouts (one timer for all attempts of one length)', () => {
  it('times out each hung attempt after its own timeout, however many end meanwhile or start later', async () => {
    const { withRetry } = await import('../../src/runners/retry.js');
    const hang = (cancel: { addEventListener(t: 'abort', f: () => void): void; reason: unknown }) =>
      new Promise<never>((_, reject) => cancel.addEventListener('abort', () => reject(cancel.reason)));
    const started = performance.now();
    const first = withRetry(hang, { retries: 0, timeoutMs: 300 }).then(() => null, (e: RequestError) => ({ e, at: performance.now() - started }));
    // Many quick attempts of the same length end while the first still waits (their deadlines are dropped).
    for (let i = 0; i < 50; i++) expect(await withRetry(async () => i, { retries: 0, timeoutMs: 300 })).toBe(i);
    const laterStart = performance.now();
    const second = withRetry(hang, { retries: 0, timeoutMs: 300 }).then(() => null, (e: RequestError) => ({ e, at: performance.now() - laterStart }));
    // And one of another length, shorter: it does not wait for the longer ones.
    const short = withRetry(hang, { retries: 0, timeoutMs: 50 }).then(() => null, (e: RequestError) => e);
    const [a, b, c] = await Promise.all([first, second, short]);
    for (const r of [a!, b!]) {
      expect(r.e).toBeInstanceOf(RequestError);
      expect(r.e.kind).toBe('timeout');
      expect(r.e.message).toMatch(/no complete answer within 300 ms/);
      // Never before its own deadline (timers may be late on a loaded machine, never early beyond the ms rounding).
      expect(r.at).toBeGreaterThanOrEqual(299);
    }
    expect(c!.kind).toBe('timeout');
    expect(c!.message).toMatch(/within 50 ms/);
  });
});

describe("the caller's signal", () => {
  it('aborts every attempt in flight under it at once, and none that already ended', async () => {
    const { withRetry } = await import('../../src/runners/retry.js');
    const caller = new AbortController();
    const seen: unknown[] = [];
    const hang = (cancel: { addEventListener(t: 'abort', f: () => void): void; reason: unknown }) =>
      new Promise<never>((_, reject) => cancel.addEventListener('abort', () => {
        seen.push(cancel.reason);
        reject(cancel.reason);
      }));
    const done = await Promise.all(Array.from({ length: 5 }, (_, i) => withRetry(async () => i, { retries: 3, signal: caller.signal })));
    expect(done).toEqual([0, 1, 2, 3, 4]);
    const inFlight = Array.from({ length: 64 }, () => withRetry(hang, { retries: 3, signal: caller.signal, timeoutMs: 60_000 }).then(() => null, (e: RequestError) => e));
    const why = new Error('stopped by the run');
    caller.abort(why);
    const errors = await Promise.all(inFlight);
    expect(errors.every((e) => e instanceof RequestError && e.kind === 'aborted' && e.retries === 0)).toBe(true);
    // Each in-flight attempt saw the caller's reason, exactly once; none of the ended ones was touched.
    expect(seen).toHaveLength(64);
    expect(seen.every((r) => r === why)).toBe(true);
  });

  it('an attempt that got its place only after the caller aborted is aborted at once', async () => {
    const { withRetry } = await import('../../src/runners/retry.js');
    const caller = new AbortController();
    // Registers the signal's one listener, then ends.
    await withRetry(async () => 1, { signal: caller.signal });
    let release!: () => void;
    const gate = { acquire: () => new Promise<unknown>((r) => (release = () => r({}))), release: () => {} };
    const attempt = withRetry((cancel) => new Promise<never>((_, reject) => {
      if (cancel.aborted) reject(cancel.reason);
      cancel.addEventListener('abort', () => reject(cancel.reason));
    }), { signal: caller.signal, gate, retries: 0, timeoutMs: 60_000 }).then(() => null, (e: RequestError) => e);
    // withRetry waits in the gate now (it asked for its place synchronously).
    caller.abort(new Error('stop'));
    release();
    const e = await attempt;
    expect(e).toBeInstanceOf(RequestError);
    expect(e!.kind).toBe('aborted');
  });
});
