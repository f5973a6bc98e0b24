// LlamaServerRunner attached to the protocol double: describe/memory figures, request body options,
// API-key handling, silent truncation detection, engine timings and /metrics.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createLlamaServerRunner, llamaServerProfileSchema, type LlamaServerRunner } from '../../src/runners/llama-server.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';

const sampling = { temperature: 0, topP: 1, maxTokens: 8 };
const noGpu = { nvidiaSmi: new NvidiaSmi(null) };

describe('llama-server runner (attached)', () => {
  let server: LlamaServerDouble;
  let runner: LlamaServerRunner;
  beforeAll(async () => {
    server = await new LlamaServerDouble().start();
    server.loadingHealthChecks = 2; // the runner must wait through "Loading model"
    runner = await createLlamaServerRunner(
      llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'double', baseUrl: server.baseUrl, cachePrompt: false }),
      noGpu,
    );
  });
  afterAll(async () => {
    await runner.close();
    await server.stop();
  });
  afterEach(() => {
    server.records.length = 0;
  });

  it('waited through 503 Loading model and read /props and /v1/models', async () => {
    expect(server.requests.filter((r) => r.path === '/health').length).toBe(3);
    const d = await runner.describe();
    expect(d.parameters).toBe(292800);
    expect(d.contextSize).toBe(512);
    expect(d.extra).toMatchObject({ slots: 4, nCtxPerSlot: 512, tensorBytes: 1171200, serverModelId: 'models/stories260K.gguf' });
  });

  it('memory says what it measured, and why a figure is missing', async () => {
    const m = await runner.memory();
    expect(m.weights).toMatchObject({ bytes: 1171200, source: expect.stringMatching(/meta\.size/) });
    expect(m.processPeak.bytes).toBeNull();
    expect(m.processPeak.note).toMatch(/attached server/);
    expect(m.gpuDevice?.note).toBe('not available: no nvidia-smi on PATH');
    expect(m.context?.bytes).toBeNull();
  });

  it('sends cache_prompt false, include_usage, no Authorization header; records engine timings', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: ' }, { delayMs: 1, content: 'C' }], finishReason: 'stop' });
    const g = await runner.generate({ messages: [{ role: 'user', content: 'Which?' }], sampling });
    const rec = server.records[0]!;
    expect(rec.body).toMatchObject({ cache_prompt: false, stream: true, stream_options: { include_usage: true }, max_tokens: 8, temperature: 0 });
    expect(rec.headers.authorization).toBeUndefined();
    expect(g.rawText).toBe('Answer: C');
    expect(g.reasoning).toBeNull();
    // predicted_n counts the stop token too, as the real server does.
    expect(g.timings.engine).toMatchObject({ prompt_n: g.promptTokens, predicted_n: 3, prompt_ms: 8.011, cache_n: 0 });
    expect(g.timings.ttftMs).not.toBeNull();
  });

  it('a prompt longer than its slot is refused before it is sent (the server would truncate it silently)', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'x' }] });
    const long = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ');
    const before = server.records.length;
    const err = await runner.generate({ messages: [{ role: 'user', content: long }], sampling }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'prompt-too-long' });
    expect(server.records.length).toBe(before);
  });

  it('asks for a grammar when replies are constrained to a letter', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: B' }] });
    await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling, constrain: { letters: ['A', 'B'], prefix: 'Answer: ' } });
    expect(server.records[0]!.body.grammar).toBe('root ::= "Answer: " ("A" | "B")');
  });

  it('inline <think> with a prefilled opening tag: reasoning is split after the fact, TTFO after </think>', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Let me think' }, { delayMs: 5, content: '.</think>' }, { delayMs: 5, content: 'Answer: A' }], finishReason: 'stop' });
    const g = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling });
    expect(g.reasoning).toBe('Let me think.');
    expect(g.rawText).toBe('<think>Let me think.</think>Answer: A');
    // TTFT is the first reasoning chunk, TTFO the chunk after </think>: their gap spans both chunk gaps the
    // client measured (the same timestamps; how close those are to the double's send times depends on load).
    const sent = server.records[0]!.textSentAt;
    expect(sent).toHaveLength(3);
    expect(g.timings.itlMs).toHaveLength(2);
    expect(g.timings.ttfoMs! - g.timings.ttftMs!).toBeCloseTo(g.timings.itlMs[0]! + g.timings.itlMs[1]!, 9);
    expect(sent[2]! - sent[0]!).toBeGreaterThan(5);
  });

  it('reports /metrics before and after, and the difference moves by what a request processed', async () => {
    const m1 = await runner.serverMetrics();
    expect(m1!.before['llamacpp:prompt_tokens_total']).toBe(597); // the recorded server's counter at start
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: A' }] });
    const g = await runner.generate({ messages: [{ role: 'user', content: 'Which one?' }], sampling });
    const m2 = await runner.serverMetrics();
    expect(m2!.delta['llamacpp:prompt_tokens_total']! - m1!.delta['llamacpp:prompt_tokens_total']!).toBe(g.promptTokens);
    expect(m2!.after['llamacpp:prompt_tokens_total']).toBe(597 + m2!.delta['llamacpp:prompt_tokens_total']!);
    const report = await runner.serverReport();
    expect(report.metrics!.delta).toEqual(m2!.delta);
    expect(report.truncation).toEqual(runner.truncation);
  });
});

describe('API key', () => {
  it('sends the key from the named env var and never shows it in errors', async () => {
    const server = await new LlamaServerDouble().start();
    process.env.MEDEVAL_TEST_KEY = 'sk-secret-123456';
    try {
      const runner = await createLlamaServerRunner(
        llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'k', baseUrl: server.baseUrl, apiKeyEnv: 'MEDEVAL_TEST_KEY', retries: 0, truncationCheck: false }),
        noGpu,
      );
      await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling });
      expect(server.records[0]!.headers.authorization).toBe('Bearer sk-secret-123456');
      server.failures.push({ status: 401, body: JSON.stringify({ error: { code: 401, message: 'Invalid API Key sk-secret-123456', type: 'authentication_error' } }) });
      const err = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling }).catch((e: Error) => e);
      expect(err).toMatchObject({ kind: 'http-4xx', status: 401 });
      expect((err as Error).message).not.toContain('sk-secret-123456');
      expect((err as Error).message).toContain('[redacted]');
      expect(JSON.stringify(await runner.describe())).not.toContain('sk-secret');
      await runner.close();
    } finally {
      delete process.env.MEDEVAL_TEST_KEY;
      await server.stop();
    }
  });
  it('a named but unset variable is an input error', async () => {
    await expect(createLlamaServerRunner(llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'k', baseUrl: 'http://127.0.0.1:9', apiKeyEnv: 'MEDEVAL_NOPE' }))).rejects.toThrow(/MEDEVAL_NOPE/);
  });
});

describe('profile schema', () => {
  it('needs baseUrl when attached, model when managed, and owns -m/--port', () => {
    expect(llamaServerProfileSchema.safeParse({ kind: 'llama-server', label: 'a' }).error?.issues[0]?.path).toEqual(['baseUrl']);
    const r = llamaServerProfileSchema.safeParse({ kind: 'llama-server', label: 'a', mode: 'managed', model: 'm.gguf', args: ['-c', '4096', '--port', '1'] });
    expect(r.error?.issues[0]).toMatchObject({ path: ['args', 2], message: expect.stringMatching(/--port is set by medeval/) });
  });
});
