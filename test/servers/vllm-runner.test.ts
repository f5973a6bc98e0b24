// VllmRunner attached to the vLLM double: role chunk ignored for TTFT, deepseek_r1 reasoning in
// reasoning_content or reasoning, usage from the separate usage chunk, max_model_len, /metrics with
// current or deprecated names, constrained choice, 400 for an over-long prompt (no silent truncation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { createVllmRunner, vllmProfileSchema, type VllmRunner } from '../../src/runners/vllm.js';
import { VllmDouble } from '../doubles/vllm-double.js';

const sampling = { temperature: 0.6, topP: 0.95, maxTokens: 64 };

describe('vLLM runner (attached)', () => {
  let server: VllmDouble;
  let runner: VllmRunner;
  beforeAll(async () => {
    server = await new VllmDouble().start();
    runner = await createVllmRunner(vllmProfileSchema.parse({ kind: 'vllm', label: 'r1-bf16', baseUrl: server.baseUrl, retries: 0 }), { nvidiaSmi: new NvidiaSmi(null) });
  });
  afterAll(async () => {
    await runner.close();
    await server.stop();
  });

  it('describes the served model with max_model_len', async () => {
    const d = await runner.describe();
    expect(d).toMatchObject({ runner: 'vllm', contextSize: 32768, extra: { serverModelId: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B' } });
  });

  it.each(['reasoning_content', 'reasoning'] as const)('reads deepseek_r1 reasoning from delta.%s; TTFT skips the role chunk', async (field) => {
    server.reasoningField = field;
    server.records.length = 0;
    server.script = () => ({
      chunks: [{ delayMs: 20, reasoning: 'Fever and rash' }, { delayMs: 5, reasoning: ' suggest measles.' }, { delayMs: 10, content: 'ANSWER: C' }],
      finishReason: 'stop',
      completionTokens: 11,
    });
    const starts: number[] = [];
    const g = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling });
    void starts;
    expect(server.records[0]!.body.model).toBe('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B');
    expect(g.reasoning).toBe('Fever and rash suggest measles.');
    expect(g.rawText).toBe('<think>Fever and rash suggest measles.</think>ANSWER: C');
    expect(g.outputTokens).toBe(11);
    expect(g.tokenSource).toBe('server-usage');
    // The role chunk came at once; the first text 20 ms later: TTFT must not be the role chunk.
    expect(g.timings.ttftMs!).toBeGreaterThan(15);
    expect(g.timings.itlMs).toHaveLength(2);
    // TTFO is the answer chunk, after both reasoning chunks: its distance from TTFT spans both measured gaps
    // (a number of ms here would depend on how fast a loaded machine reads each chunk).
    expect(g.timings.ttfoMs! - g.timings.ttftMs!).toBeCloseTo(g.timings.itlMs[0]! + g.timings.itlMs[1]!, 9);
    // 11 counted tokens, the last the EOS that sends no text: E2EL ends at its finish chunk, so 10 steps.
    expect(g.timings.tpotMs).toBeCloseTo((g.timings.e2eMs - g.timings.ttftMs!) / 10, 9);
  });

  it('a reasoning budget that runs out leaves the think block unterminated', async () => {
    server.script = () => ({ chunks: [{ delayMs: 0, reasoning: 'still thinking' }], finishReason: 'length' });
    const g = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling });
    expect(g.finishReason).toBe('length');
    expect(g.rawText).toBe('<think>still thinking');
    expect(g.timings.ttfoMs).toBeNull();
  });

  it('constrained letters become structured_outputs choices', async () => {
    server.records.length = 0;
    server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: A' }] });
    await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling, constrain: { letters: ['A', 'B'], prefix: 'Answer: ' } });
    expect(server.records[0]!.body.structured_outputs).toEqual({ choice: ['Answer: A', 'Answer: B'] });
  });

  it("an over-long prompt is vLLM's 400, kept as prompt-too-long (not retried)", async () => {
    server.maxModelLen = 50;
    const err = await runner.generate({ messages: [{ role: 'user', content: 'word '.repeat(100) }], sampling }).catch((e) => e);
    server.maxModelLen = 32768;
    expect(err).toMatchObject({ kind: 'prompt-too-long', retries: 0 });
    expect(err.message).toMatch(/maximum context length/);
  });

  it('a planned prompt count caps max_tokens to max_model_len, and one that alone fills it is not sent', async () => {
    // The runner read max_model_len (32768) from /v1/models when it attached.
    try {
      server.records.length = 0;
      server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: A' }] });
      await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling: { ...sampling, maxTokens: 32768 }, promptTokens: 9 });
      expect(server.records[0]!.body.max_tokens).toBe(32768 - 9 - 1);
      const before = server.requests.length;
      const err = await runner.generate({ messages: [{ role: 'user', content: 'q' }], sampling, promptTokens: 32768 }).catch((e) => e);
      expect(err).toMatchObject({ kind: 'prompt-too-long' });
      expect(err.message).toMatch(/max_model_len.*--max-model-len/);
      expect(server.requests.length).toBe(before);
    } finally {
      server.maxModelLen = 32768;
    }
  });

  it('reads /metrics under current or deprecated names', async () => {
    let m = await runner.serverMetrics();
    expect(m?.after).toHaveProperty('vllm:kv_cache_usage_perc', 0.0123);
    expect(m!.delta['vllm:generation_tokens_total']).toBeGreaterThan(0);
    expect(m!.delta).toHaveProperty('vllm:inter_token_latency_seconds_count');
    server.deprecatedMetrics = true;
    m = await runner.serverMetrics();
    expect(m?.after).toHaveProperty('vllm:gpu_cache_usage_perc', 0.0123);
    expect(m!.delta).toHaveProperty('vllm:time_per_output_token_seconds_count');
    server.deprecatedMetrics = false;
  });

  it('memory: weights not available for an attached hub model, with the reason', async () => {
    const mem = await runner.memory();
    expect(mem.weights.bytes).toBeNull();
    expect(mem.weights.note).toMatch(/attached server/);
    expect(mem.processRss.note).toMatch(/not available/);
  });

  it('completions API sends the prompt text and reads choices[].text', async () => {
    const r = await createVllmRunner(vllmProfileSchema.parse({ kind: 'vllm', label: 'c', baseUrl: server.baseUrl, api: 'completions' }), { nvidiaSmi: new NvidiaSmi(null) });
    server.records.length = 0;
    server.script = () => ({ chunks: [{ delayMs: 0, content: '<think>\nhmm' }, { delayMs: 0, content: '</think>B' }] });
    const g = await r.generate({ messages: [{ role: 'user', content: 'Q?' }], sampling });
    expect(server.records[0]!.path).toBe('/v1/completions');
    expect(server.records[0]!.body.prompt).toBe('Q?');
    expect(g.reasoning).toBe('\nhmm');
    expect(g.rawText).toBe('<think>\nhmm</think>B');
    await r.close();
  });
});
