// A stream whose data line is broken JSON is a bad response: retried within `retries` like other
// transient failures (issue 10 item 7; it used to end the item at once), and it must never count as a
// connection failure, which feeds the "server looks dead" stop. (When the SDK's iterator parsed the stream, its SyntaxError "Unterminated
// string in JSON" matched retry.ts's /terminated/ connection pattern: retried, and counted as a dead server.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';

const req = { messages: [{ role: 'user' as const, content: 'q' }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } };

describe('a malformed SSE data line', () => {
  let server: LlamaServerDouble;
  beforeAll(async () => {
    server = await new LlamaServerDouble().start();
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer' }, { delayMs: 0, content: ': B' }], finishReason: 'stop' });
  });
  afterAll(() => server.stop());

  const attempt = async () => {
    server.requests.length = 0;
    server.failures = [{ malformedAfterChunks: 1 }, { malformedAfterChunks: 1 }, { malformedAfterChunks: 1 }, { malformedAfterChunks: 1 }];
    const session = new OpenAiServerSession({
      baseUrl: server.baseUrl, apiKey: null, model: 'm', api: 'chat', inlineThink: 'auto', retries: 3, requestTimeoutMs: 5000,
      retrySleep: async () => {},
    });
    const err = await session.generate(req, {}).then(() => null, (e: Error & { kind?: string }) => e);
    return { err, requests: server.requests.filter((r) => r.path === '/v1/chat/completions').length };
  };

  it('is an error, never an answer', async () => {
    const { err } = await attempt();
    expect(err).not.toBeNull();
    expect(err!.kind).not.toBe('aborted');
  });

  it('is a bad-response, retried within the retries, and not a connection failure', async () => {
    const { err, requests } = await attempt();
    expect(err!.kind).toBe('bad-response');
    expect((err as { retries?: number }).retries).toBe(3);
    expect(requests).toBe(4);
  });
});
