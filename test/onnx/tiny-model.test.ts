import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTinyOnnxModel } from '../../src/models/onnx-tiny.js';
import { quantizeInt8PerColumn, quantizeQ4Blocks, toFloat16Bits } from '../../src/models/onnx-tiny-graph.js';
import { inspectOnnxFile } from '../../src/runners/onnx-inspect.js';
import { float16ToFloat32 } from '../../src/runners/onnx-tokenizer.js';
import { tinyOnnxModel } from './helpers.js';

describe('ensureTinyOnnxModel', () => {
  it('writes every variant in the transformers.js layout, quantised weights smaller than fp32', async () => {
    const m = await tinyOnnxModel();
    const bytes = Object.fromEntries(m.variants.map((v) => [v.name, v.bytes]));
    expect(m.variants.map((v) => v.file)).toEqual([
      'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx', 'onnx/model_no_past.onnx',
    ]);
    // fp32 = graph + external data file, both counted.
    const graph = (await stat(join(m.dir, 'onnx/model.onnx'))).size;
    const data = (await stat(join(m.dir, 'onnx/model.onnx_data'))).size;
    expect(bytes.fp32).toBe(graph + data);
    expect(data).toBeGreaterThan(graph);
    // Only linear layers change format; the embedding and position tables stay fp32 in every variant.
    expect(bytes.fp16).toBeLessThan(bytes.fp32 * 0.85);
    expect(bytes.q8).toBeLessThan(bytes.fp16);
    expect(bytes.q4).toBeLessThan(bytes.q8);
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) {
      expect(typeof JSON.parse(await readFile(join(m.dir, f), 'utf8'))).toBe('object');
    }
    const cfg = JSON.parse(await readFile(join(m.dir, 'tokenizer_config.json'), 'utf8'));
    expect(cfg.chat_template).toContain('<｜Assistant｜><think>');
  });

  it('the graphs hold the same logical parameters in every weight format', async () => {
    const m = await tinyOnnxModel();
    const params = m.variants.map((v) => inspectOnnxFile(join(m.dir, v.file)).parameters);
    expect(new Set(params).size).toBe(1);
    // vocab x hidden (embedding) + positions x hidden + lm_head + 2 layers of 4 x 64 x 64 + 2 x 64 x 192.
    const cfg = JSON.parse(await readFile(join(m.dir, 'config.json'), 'utf8'));
    const V = cfg.vocab_size as number;
    const P = cfg.max_position_embeddings as number;
    expect(P).toBe(2048);
    const expected = V * 64 + P * 64 + 64 * V + V + 2 * (4 * 64 * 64 + 2 * 64 * 192 + 2 * 64) + 64;
    expect(params[0]).toBe(expected);
  });

  it('is cached by seed: a second call rewrites nothing, another seed gives other weights', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medeval-tiny-onnx-'));
    try {
      const a = await ensureTinyOnnxModel({ dir, seed: 1 });
      const before = (await stat(join(dir, 'onnx/model_q4.onnx'))).mtimeMs;
      const firstBytes = await readFile(join(dir, 'onnx/model_q4.onnx'));
      const again = await ensureTinyOnnxModel({ dir, seed: 1 });
      expect(again.variants).toEqual(a.variants);
      expect((await stat(join(dir, 'onnx/model_q4.onnx'))).mtimeMs).toBe(before);
      await ensureTinyOnnxModel({ dir, seed: 2 });
      const otherBytes = await readFile(join(dir, 'onnx/model_q4.onnx'));
      expect(otherBytes.equals(firstBytes)).toBe(false);
      await ensureTinyOnnxModel({ dir, seed: 1 });
      expect((await readFile(join(dir, 'onnx/model_q4.onnx'))).equals(firstBytes)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('weight formats', () => {
  const K = 64;
  const N = 3;
  const w = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 5)));

  it('4-bit blocks: nibbles low-first, error within half a step of each block', () => {
    const { packed, scales } = quantizeQ4Blocks(w, K, N);
    expect(packed.length).toBe(N * (K / 32) * 16);
    expect(scales.length).toBe(N * (K / 32));
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const block = Math.floor(k / 32);
        const i = k % 32;
        const byte = packed[(n * (K / 32) + block) * 16 + (i >> 1)];
        const q = i & 1 ? byte >> 4 : byte & 0x0f;
        const s = scales[n * (K / 32) + block];
        expect(Math.abs((q - 8) * s - w[k * N + n])).toBeLessThanOrEqual(s / 2 + 1e-6);
      }
    }
  });

  it('int8 per column: error within half a step', () => {
    const { q, scales } = quantizeInt8PerColumn(w, K, N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) {
      expect(Math.abs(q[k * N + n] * scales[n] - w[k * N + n])).toBeLessThanOrEqual(scales[n] / 2 + 1e-6);
    }
  });

  it('float16 bits round-trip through the runner\'s decoder', () => {
    const values = [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 0.1, 3.14159, Infinity, -Infinity];
    const back = float16ToFloat32(Uint16Array.from(values.map(toFloat16Bits)));
    values.forEach((v, i) => {
      if (!Number.isFinite(v)) expect(back[i]).toBe(v);
      else expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 6e-8);
    });
    expect(Number.isNaN(float16ToFloat32(Uint16Array.from([toFloat16Bits(NaN)]))[0])).toBe(true);
  });
});
