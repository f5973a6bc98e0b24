import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, type Llama, LlamaCompletion, type LlamaModel, resolveChatWrapper } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import {
  ensureTinyModels,
  makeTinyModel,
  MODEL_PRESETS,
  sidecarPath,
  TINY_MODEL_FORMATS,
  type TinyModelFormat,
  type TinyModelInfo,
} from '../../src/models/make-models.js';
import { buildTinyLlama, DEEPSEEK_R1_CHAT_TEMPLATE, FILE_TYPE } from '../../src/models/tiny-llama.js';
import { SPACE_MARKER, TokenType } from '../../src/models/tiny-vocab.js';
import { parseGguf } from './gguf-reader.js';

// One thread: on a shared 2-core machine ggml's two spinning threads stall each other whenever
// another process holds a core (measured 4x slower), and these models are too small to gain from two.
const THREADS = 1;

let dir: string;
let models: TinyModelInfo[];
const byFormat = (format: TinyModelFormat) => models.find((m) => m.format === format)!;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medeval-tiny-'));
  models = await ensureTinyModels({ dir, preset: 'test', seed: 7 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tiny llama GGUF files', () => {
  it('makes every format of the test preset, smaller as the format narrows', () => {
    expect(models.map((m) => m.format)).toEqual([...TINY_MODEL_FORMATS]);
    const params = models[0].parameters;
    expect(models.every((m) => m.parameters === params && m.preset === 'test' && m.seed === 7)).toBe(true);
    const f32 = byFormat('F32').bytes;
    // About 1 MB in F32, and each narrower format is proportionally smaller.
    expect(f32).toBeGreaterThan(0.6e6);
    expect(f32).toBeLessThan(1.5e6);
    expect(byFormat('F16').bytes).toBeLessThan(0.55 * f32);
    expect(byFormat('Q8_0').bytes).toBeLessThan(0.6 * byFormat('F16').bytes);
    expect(byFormat('Q4_0').bytes).toBeLessThan(0.65 * byFormat('Q8_0').bytes);
  });

  it('carries the metadata and tensor layout llama.cpp expects', async () => {
    for (const m of models) {
      const gguf = parseGguf(await readFile(m.file));
      const meta = (key: string) => gguf.metadata.get(key)?.value;
      const shape = MODEL_PRESETS.test.shape;
      expect(meta('general.architecture')).toBe('llama');
      expect(meta('general.file_type')).toBe(FILE_TYPE[m.format]);
      expect(meta('general.alignment')).toBe(32);
      expect(meta('llama.embedding_length')).toBe(shape.embeddingLength);
      expect(meta('llama.block_count')).toBe(shape.blockCount);
      expect(meta('llama.rope.dimension_count')).toBe(shape.embeddingLength / shape.headCount);
      expect(meta('tokenizer.ggml.model')).toBe('llama');
      expect(meta('tokenizer.chat_template')).toBe(DEEPSEEK_R1_CHAT_TEMPLATE);

      const tokens = meta('tokenizer.ggml.tokens') as string[];
      const types = meta('tokenizer.ggml.token_type') as number[];
      expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
      expect(tokens[3]).toBe('<0x00>');
      expect(tokens[3 + 0xc3]).toBe('<0xC3>');
      expect(types.slice(3, 259).every((t) => t === TokenType.BYTE)).toBe(true);
      for (const piece of ['<think>', '</think>', `${SPACE_MARKER}Answer`, ':', `${SPACE_MARKER}E`, 'E']) {
        expect(tokens, piece).toContain(piece);
      }
      expect((meta('tokenizer.ggml.scores') as number[]).length).toBe(tokens.length);
      expect(meta('tokenizer.ggml.bos_token_id')).toBe(1);
      expect(meta('tokenizer.ggml.eos_token_id')).toBe(2);

      const names = gguf.tensors.map((t) => t.name);
      expect(names[0]).toBe('token_embd.weight');
      expect(names).toContain('blk.1.ffn_down.weight');
      expect(names.slice(-2)).toEqual(['output_norm.weight', 'output.weight']);
      const formatId = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 }[m.format];
      for (const t of gguf.tensors) {
        // Norms stay F32 in every format; every 2-D weight takes the file's format.
        expect(t.type, t.name).toBe(t.dims.length === 1 ? 0 : formatId);
        expect(t.dims[0] % 32, t.name).toBe(0);
      }
      const count = gguf.tensors.reduce((sum, t) => sum + t.dims.reduce((a, d) => a * d, 1), 0);
      expect(count).toBe(m.parameters);
    }
  });

  it('gives the same weights for the same seed and different ones for another seed', async () => {
    const again = await makeTinyModel({ preset: 'test', format: 'Q4_0', seed: 7, outFile: join(dir, 'again.gguf') });
    const other = await makeTinyModel({ preset: 'test', format: 'Q4_0', seed: 8, outFile: join(dir, 'other.gguf') });
    const a = await readFile(byFormat('Q4_0').file);
    expect(Buffer.compare(a, await readFile(again.file))).toBe(0);
    const b = await readFile(other.file);
    // Only the description (which names the seed) and the weights differ; the data must not match.
    const { dataOffset } = parseGguf(a);
    expect(Buffer.compare(a.subarray(dataOffset), b.subarray(parseGguf(b).dataOffset))).not.toBe(0);
  });

  it('reuses a cached model only when its sidecar matches', async () => {
    // A folder of its own: the loading tests below use the shared models as made.
    const cacheDir = join(dir, 'cache');
    const [q4] = await ensureTinyModels({ dir: cacheDir, preset: 'test', formats: ['Q4_0'], seed: 7 });
    expect(q4.cached).toBe(false);
    const mtime = (await stat(q4.file)).mtimeMs;
    const [cached] = await ensureTinyModels({ dir: cacheDir, preset: 'test', formats: ['Q4_0'], seed: 7 });
    expect(cached.cached).toBe(true);
    expect(cached.bytes).toBe(q4.bytes);
    expect((await stat(q4.file)).mtimeMs).toBe(mtime);

    const [reseeded] = await ensureTinyModels({ dir: cacheDir, preset: 'test', formats: ['Q4_0'], seed: 9 });
    expect(reseeded.cached).toBe(false);
    expect(JSON.parse(await readFile(sidecarPath(q4.file), 'utf8')).seed).toBe(9);

    await writeFile(sidecarPath(q4.file), '{ not json');
    const [remade] = await ensureTinyModels({ dir: cacheDir, preset: 'test', formats: ['Q4_0'], seed: 9 });
    expect(remade.cached).toBe(false);

    await writeFile(q4.file, 'truncated'); // sidecar matches, file does not
    const [repaired] = await ensureTinyModels({ dir: cacheDir, preset: 'test', formats: ['Q4_0'], seed: 9 });
    expect(repaired.cached).toBe(false);
    expect((await stat(q4.file)).size).toBe(repaired.bytes);
  });

  it('rejects an unknown preset, format or seed with an input error naming the field', async () => {
    const call = (o: Record<string, unknown>) =>
      makeTinyModel({ preset: 'test', format: 'F32', outFile: join(dir, 'x.gguf'), ...o } as never);
    await expect(call({ preset: 'huge' })).rejects.toThrow(InputError);
    await expect(call({ preset: 'huge' })).rejects.toThrow(/preset.*use one of: test, demo/s);
    await expect(call({ format: 'Q4_K_M' })).rejects.toThrow(/field "format"/);
    await expect(call({ seed: -1 })).rejects.toThrow(/field "seed"/);
  });

  it('keeps the demo preset large enough that quantisation shows (without writing it)', () => {
    const demo = buildTinyLlama({ preset: 'demo', format: 'F32', seed: 1 });
    expect(demo.parameters * 4).toBeGreaterThan(50e6);
    expect(MODEL_PRESETS.demo.description).toMatch(/demo/);
  });
});

describe('tiny llama in node-llama-cpp', () => {
  let llama: Llama;
  const loaded = new Map<TinyModelFormat, LlamaModel>();
  beforeAll(async () => {
    llama = await getLlama({ gpu: false, logLevel: 'error' as never });
    for (const m of models) loaded.set(m.format, await llama.loadModel({ modelPath: m.file }));
  });
  afterAll(async () => {
    for (const model of loaded.values()) await model.dispose();
  });

  /** Next-token distributions for the first few generated positions (greedy). */
  async function nextTokenDistributions(model: LlamaModel, text: string, steps: number) {
    const context = await model.createContext({ contextSize: 256, threads: THREADS });
    try {
      const out: Map<number, number>[] = [];
      const sequence = context.getSequence();
      for await (const step of sequence.evaluateWithMetadata(model.tokenize(text), { probabilities: true }, { temperature: 0 })) {
        out.push(step.probabilities);
        if (out.length >= steps) break;
      }
      return out;
    } finally {
      await context.dispose();
    }
  }

  const totalVariation = (a: Map<number, number>, b: Map<number, number>) => {
    let sum = 0;
    for (const k of new Set([...a.keys(), ...b.keys()])) sum += Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0));
    return sum / 2;
  };

  it('loads every format and generates text', async () => {
    for (const [format, model] of loaded) {
      const context = await model.createContext({ contextSize: 256, threads: THREADS });
      try {
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        const text = await completion.generateCompletion('The patient presents with fever. Answer:', { maxTokens: 8, temperature: 0 });
        expect(text.length, format).toBeGreaterThan(0);
      } finally {
        await context.dispose();
      }
    }
  });

  it('computes what the weights say: quantised formats stay close to F32, another seed does not', async () => {
    const prompt = 'The patient presents with fever. Answer:';
    const [ref] = await nextTokenDistributions(loaded.get('F32')!, prompt, 1);
    const tv = async (format: TinyModelFormat) => totalVariation(ref, (await nextTokenDistributions(loaded.get(format)!, prompt, 1))[0]);
    // Measured: F16 ~0.001, Q8_0 ~0.01, Q4_0 ~0.2, a different seed ~0.9. A wrong block layout
    // would scramble the weights and land with the different seed.
    expect(await tv('F16')).toBeLessThan(0.01);
    expect(await tv('Q8_0')).toBeLessThan(0.06);
    expect(await tv('Q4_0')).toBeLessThan(0.45);
    const other = await makeTinyModel({ preset: 'test', format: 'F32', seed: 12345, outFile: join(dir, 'seed-12345.gguf') });
    const otherModel = await llama.loadModel({ modelPath: other.file });
    try {
      const [otherDist] = await nextTokenDistributions(otherModel, prompt, 1);
      expect(totalVariation(ref, otherDist)).toBeGreaterThan(0.6);
    } finally {
      await otherModel.dispose();
    }
  });

  it('tokenises non-ASCII text through byte fallback and detokenises it back', () => {
    const model = loaded.get('Q4_0')!;
    const text = 'fièvre: Answer B';
    const tokens = model.tokenize(text);
    // "è" is not a piece: it must come out as its UTF-8 bytes C3 A8 (token ids 3 + byte).
    const eIndex = tokens.indexOf((3 + 0xc3) as never);
    expect(eIndex).toBeGreaterThanOrEqual(0);
    expect(tokens[eIndex + 1]).toBe(3 + 0xa8);
    expect(model.detokenize(tokens)).toBe(text);
    // Known words are single pieces, not spelled out.
    expect(model.tokenize('Answer').length).toBe(1); // SPM adds the leading "▁"
  });

  it('matches the chat template to node-llama-cpp\'s DeepSeek wrapper and its markers to single tokens', () => {
    const model = loaded.get('F32')!;
    expect(resolveChatWrapper(model).wrapperName).toBe('DeepSeek');
    for (const marker of ['<｜User｜>', '<｜Assistant｜>', '<think>', '</think>']) {
      expect(model.tokenize(marker, true), marker).toHaveLength(1);
    }
  });
});
