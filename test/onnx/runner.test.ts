import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { SamplingParams } from '../../src/core/types.js';
import { cudaProviderStatus } from '../../src/runners/onnx-files.js';
import { createOnnxRunner, onnxProfileSchema, type OnnxProfileInput, type OnnxRunner } from '../../src/runners/onnx.js';
import { tinyOnnxModel, TINY_ONNX_DIR, USER_TURN } from './helpers.js';

const GREEDY: SamplingParams = { temperature: 0, topP: 1, maxTokens: 24 };

function profile(extra: Partial<OnnxProfileInput> = {}): OnnxProfileInput {
  return { kind: 'onnx', label: 'tiny', modelDir: TINY_ONNX_DIR, threads: 1, ...extra };
}

async function generateWith(runner: OnnxRunner, sampling: SamplingParams) {
  return runner.generate({ messages: USER_TURN, sampling });
}

describe('OnnxRunner on the tiny model', () => {
  let fp32: OnnxRunner;
  let q4: OnnxRunner;

  beforeAll(async () => {
    await tinyOnnxModel();
    fp32 = await createOnnxRunner(profile({ variant: 'fp32' }));
    q4 = await createOnnxRunner(profile({ variant: 'q4' }));
  });
  afterAll(async () => {
    await fp32?.close();
    await q4?.close();
  });

  it('gives the same greedy tokens with and without the KV cache', async () => {
    // fp16 also covers half-precision cache inputs and logits outputs.
    for (const variant of ['fp32', 'q4', 'fp16'] as const) {
      const cached = await createOnnxRunner(profile({ variant, useKvCache: true }));
      const uncached = await createOnnxRunner(profile({ variant, useKvCache: false }));
      expect(cached.usesKvCache).toBe(true);
      expect(uncached.usesKvCache).toBe(false);
      const a = await generateWith(cached, GREEDY);
      const b = await generateWith(uncached, GREEDY);
      expect(a.outputTokens).toBe(GREEDY.maxTokens);
      expect(b.rawText).toBe(a.rawText);
      expect(b.outputTokens).toBe(a.outputTokens);
      // Half-precision cache: 2 layers x (key + value) x 4 heads x 16 dims x 2 bytes per token.
      const perToken = variant === 'fp16' ? 512 : 1024;
      expect((await cached.memory()).context?.note).toContain(`${perToken} bytes per token`);
      await cached.close();
      await uncached.close();
    }
  });

  it('a graph without KV cache inputs generates the same greedy text as the cached fp32 graph', async () => {
    const noPast = await createOnnxRunner(profile({ file: 'onnx/model_no_past.onnx' }));
    expect(noPast.usesKvCache).toBe(false);
    const a = await generateWith(fp32, GREEDY);
    const b = await generateWith(noPast, GREEDY);
    expect(b.rawText).toBe(a.rawText);
    await noPast.close();
  });

  it('reports sane timings: ttft <= ttfo <= e2e, one gap per token after the first, engine token counts', async () => {
    const g = await generateWith(fp32, GREEDY);
    const t = g.timings;
    expect(g.tokenSource).toBe('engine');
    expect(g.finishReason).toBe('length');
    expect(g.outputTokens).toBe(24);
    expect(g.promptTokens).toBeGreaterThan(10);
    expect(t.ttftMs).not.toBeNull();
    expect(t.ttftMs!).toBeGreaterThan(0);
    expect(t.ttftMs!).toBeLessThanOrEqual(t.e2eMs);
    if (t.ttfoMs !== null) {
      expect(t.ttfoMs).toBeGreaterThanOrEqual(t.ttftMs!);
      expect(t.ttfoMs).toBeLessThanOrEqual(t.e2eMs);
    }
    // Every token of the tiny model decodes to printable text on its own: one chunk per token.
    expect(t.itlMs).toHaveLength(g.outputTokens! - 1);
    expect(t.itlMs.every((x) => x >= 0)).toBe(true);
    expect(t.tpotMs).toBeCloseTo((t.e2eMs - t.ttftMs!) / (g.outputTokens! - 1), 6);
    expect(t.engine?.promptTokens).toBe(g.promptTokens);
    expect(t.engine?.decodeTokensPerSecond).toBeGreaterThan(0);
  });

  it('keeps the DeepSeek-style prefilled <think> in rawText and splits reasoning from the answer', async () => {
    const prompt = fp32.encodePrompt(USER_TURN);
    expect(prompt.text.endsWith('<｜Assistant｜><think>\n')).toBe(true);
    expect(prompt.startsInReasoning).toBe(true);
    const g = await generateWith(fp32, { ...GREEDY, maxTokens: 64 });
    expect(g.rawText.startsWith('<think>\n')).toBe(true);
    expect(g.reasoning).not.toBeNull();
    const close = g.rawText.indexOf('</think>');
    if (close >= 0) {
      expect(g.reasoning).toBe(g.rawText.slice(prompt.prefill.length, close)); // the prefill is prompt, not output
    } else {
      expect(g.timings.ttfoMs).toBeNull();
    }
  });

  it('reproduces a sampled generation from its seed, and another seed changes it', async () => {
    const sampled: SamplingParams = { temperature: 1.2, topP: 0.95, topK: 50, maxTokens: 32, seed: 1234 };
    const a = await generateWith(q4, sampled);
    const b = await generateWith(q4, sampled);
    expect(b.rawText).toBe(a.rawText);
    expect(a.timings.engine?.seed).toBe(1234);
    const others = await Promise.all([1, 2, 3].map((seed) => generateWith(q4, { ...sampled, seed })));
    expect(others.some((o) => o.rawText !== a.rawText)).toBe(true);
    const greedy = await generateWith(q4, { ...GREEDY, maxTokens: 32 });
    expect(a.rawText).not.toBe(greedy.rawText);
  });

  it('stops at a stop string and leaves it out of the text', async () => {
    const full = await generateWith(fp32, { ...GREEDY, maxTokens: 40 });
    const generated = full.rawText.slice('<think>\n'.length);
    const stop = generated.slice(10, 13); // a string the model is known to write
    const cutAt = generated.indexOf(stop);
    const g = await generateWith(fp32, { ...GREEDY, maxTokens: 40, stop: [stop] });
    expect(g.finishReason).toBe('stop');
    expect(g.rawText).toBe('<think>\n' + generated.slice(0, cutAt));
    expect(g.outputTokens!).toBeLessThan(40);
  });

  it('ends with finishReason abort when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const g = await fp32.generate({ messages: USER_TURN, sampling: GREEDY, signal: ac.signal });
    expect(g.finishReason).toBe('abort');
    expect(g.outputTokens).toBe(0);
    expect(g.timings.ttftMs).toBeNull();
  });

  it('describes the model and its memory: weights from files incl. external data, same parameters in every variant', async () => {
    const model = await tinyOnnxModel();
    const d32 = await fp32.describe();
    const d4 = await q4.describe();
    const fp32Bytes = model.variants.find((v) => v.name === 'fp32')!.bytes;
    expect(d32.runner).toBe('onnx');
    expect(d32.fileBytes).toBe(fp32Bytes);
    expect(d32.extra?.externalDataFiles).toEqual(['model.onnx_data']);
    expect(d32.quantization).toBe('F32');
    expect(d4.quantization).toBe('Q4 (MatMulNBits, block 32)');
    expect(d4.parameters).toBe(d32.parameters);
    expect(d32.parameters).toBeGreaterThan(100_000);
    expect(d32.threads).toBe(1);
    expect(d32.extra?.executionProvider).toBe('cpu');
    expect(d32.extra?.chatTemplate).toBe('tokenizer_config.json');
    const m32 = await fp32.memory();
    const m4 = await q4.memory();
    expect(m32.weights.bytes).toBe(fp32Bytes);
    expect(m4.weights.bytes!).toBeLessThan(m32.weights.bytes!);
    expect(m32.processRss.bytes!).toBeGreaterThan(10 * 1024 * 1024);
    expect(m32.processPeak.bytes!).toBeGreaterThanOrEqual(m32.processRss.bytes! * 0.5);
    expect(m32.gpuProcessPeak?.bytes).toBeNull();
    // 2 layers x (key + value) x 4 heads x 16 dims x 4 bytes per token.
    expect(m32.context?.note).toContain('1024 bytes per token');
  });
});

describe('OnnxRunner input errors', () => {
  let empty: string;
  beforeAll(async () => {
    await tinyOnnxModel();
    empty = await mkdtemp(join(tmpdir(), 'medeval-onnx-'));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  it('a missing model folder is an InputError naming the path and what to do', async () => {
    const missing = join(empty, 'no-such-model');
    const err = await createOnnxRunner(profile({ modelDir: missing })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(missing);
    expect((err as InputError).place.field).toBe('modelDir');
    expect((err as InputError).hint).toMatch(/optimum-cli export onnx/);
  });

  it('a folder without config.json says which file is missing', async () => {
    const err = await createOnnxRunner(profile({ modelDir: empty })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain('neither config.json nor genai_config.json found');
  });

  it('a missing variant is an InputError listing the variants that are there', async () => {
    const err = await createOnnxRunner(profile({ variant: 'q4f16' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect(msg).toContain('variant "q4f16" not found');
    expect(msg).toContain('onnx/model_q4f16.onnx');
    expect(msg).toContain('onnx/model_q4.onnx (q4)');
    expect((err as InputError).place.field).toBe('variant');
  });

  it('a missing file is an InputError naming it', async () => {
    const err = await createOnnxRunner(profile({ file: 'onnx/nope.onnx' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(join(TINY_ONNX_DIR, 'onnx/nope.onnx'));
    expect((err as InputError).place.field).toBe('file');
  });

  it.skipIf(cudaProviderStatus().available)('asking for CUDA without the CUDA provider installed says it is unavailable and how to get it', async () => {
    const err = await createOnnxRunner(profile({ executionProvider: 'cuda' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain('CUDA execution provider unavailable');
    expect((err as InputError).hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
  });

  it('the profile schema applies defaults and rejects unknown variants', () => {
    const p = onnxProfileSchema.parse({ kind: 'onnx', label: 'x', modelDir: 'm' });
    expect(p).toMatchObject({ threads: 2, executionProvider: 'cpu', useKvCache: true });
    expect(onnxProfileSchema.safeParse({ kind: 'onnx', label: 'x', modelDir: 'm', variant: 'q3' }).success).toBe(false);
  });
});

describe('runners/onnx-*.yaml', () => {
  it('every ONNX runner profile in the repository passes the schema', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    const dir = new URL('../../runners/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.startsWith('onnx-') && f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['onnx-tiny-fp32.yaml', 'onnx-tiny-q4.yaml']));
    for (const f of files) {
      const parsed = onnxProfileSchema.safeParse(parse(await readFile(new URL(f, dir), 'utf8')));
      expect(parsed.success, `${f}: ${parsed.error?.message}`).toBe(true);
    }
  });
});
