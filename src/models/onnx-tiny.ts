// Makes (once, cached) a tiny decoder-only ONNX model folder in the layout Hugging Face Optimum and
// transformers.js use: config.json, generation_config.json, tokenizer.json, tokenizer_config.json and
// onnx/model.onnx (+ onnx/model.onnx_data external weights), onnx/model_fp16.onnx (fp16 cache and logits), onnx/model_quantized.onnx (int8),
// onnx/model_q4.onnx (MatMulNBits 4-bit), onnx/model_no_past.onnx (no KV cache inputs). Seeded random
// weights: the same seed always gives the same files. Nothing here downloads anything.
import { mulberry32 } from '../stats/prng.js';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel } from './onnx-protobuf.js';
import { buildTinyGraph, type TinyDims, type TinyWeights, type WeightFormat } from './onnx-tiny-graph.js';
import { buildTinyTokenizer } from './onnx-tiny-tokenizer.js';

/** Bump when the files' contents change, so cached folders are rebuilt. */
export const MAKER_VERSION = 5; // 5: present outputs through Identity nodes (graph layouts of onnx-tiny-layouts.ts)
const STAMP_FILE = 'medeval-tiny-onnx.json';

export interface TinyOnnxVariant {
  /** transformers.js dtype name ("fp32", "fp16", "q8", "q4") or "no-past" for the graph without a KV cache. */
  name: string;
  /** Path relative to the model folder, e.g. "onnx/model_q4.onnx". */
  file: string;
  /** Bytes of the model file plus its external data file, if any. */
  bytes: number;
}

export interface TinyOnnxModel {
  dir: string;
  variants: TinyOnnxVariant[];
}

export interface TinyOnnxOptions {
  dir: string;
  seed?: number;
}

interface VariantPlan {
  name: string;
  file: string;
  format: WeightFormat;
  withPast: boolean;
  externalWeights: boolean;
}

const VARIANTS: VariantPlan[] = [
  // The fp32 weights live in an external data file, as Optimum does for big models, so runners count both files.
  { name: 'fp32', file: 'onnx/model.onnx', format: 'fp32', withPast: true, externalWeights: true },
  { name: 'fp16', file: 'onnx/model_fp16.onnx', format: 'fp16', withPast: true, externalWeights: false },
  { name: 'q8', file: 'onnx/model_quantized.onnx', format: 'q8', withPast: true, externalWeights: false },
  { name: 'q4', file: 'onnx/model_q4.onnx', format: 'q4', withPast: true, externalWeights: false },
  { name: 'no-past', file: 'onnx/model_no_past.onnx', format: 'fp32', withPast: false, externalWeights: false },
];


/**
 * Logit bias of the untrained model: control and non-ASCII byte tokens and BOS are pushed far down so
 * every generated token decodes to printable text on its own (one token, one text chunk, as with a real
 * model's usual output); EOS is pushed down a little so runs usually reach their token budget; </think>
 * is pushed up so the reasoning usually ends and an answer follows.
 */
export function makeLogitBias(vocabSize: number, ids: { bos: number; eos: number; thinkClose: number }): Float32Array {
  const bias = new Float32Array(vocabSize);
  for (let b = 0; b < 256; b++) if ((b < 0x20 && b !== 0x0a) || b >= 0x7f) bias[b] = -20;
  bias[ids.bos] = -20;
  bias[ids.eos] = -3;
  bias[ids.thinkClose] = 2;
  return bias;
}

export function makeWeights(dims: TinyDims, seed: number, lmBias: Float32Array): TinyWeights {
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const matrix = (rows: number, cols: number, std: number) => Float32Array.from({ length: rows * cols }, () => normal() * std);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const { hidden: H, intermediate: I, vocabSize: V } = dims;
  return {
    embed: matrix(V, H, 1),
    positions: matrix(dims.maxPositions, H, 0.5),
    layers: Array.from({ length: dims.layers }, () => ({
      norm1: ones(H),
      q: matrix(H, H, 1 / Math.sqrt(H)),
      k: matrix(H, H, 1 / Math.sqrt(H)),
      v: matrix(H, H, 1 / Math.sqrt(H)),
      o: matrix(H, H, 1 / Math.sqrt(H)),
      norm2: ones(H),
      up: matrix(H, I, 1 / Math.sqrt(H)),
      down: matrix(I, H, 1 / Math.sqrt(I)),
    })),
    finalNorm: ones(H),
    // Larger than 1/sqrt(H) so the next-token distribution is peaked, like a trained model's.
    lmHead: matrix(H, V, 3 / Math.sqrt(H)),
    lmBias,
  };
}

async function fileBytes(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function variantBytes(dir: string, file: string): Promise<number> {
  return (await fileBytes(join(dir, file))) + (await fileBytes(join(dir, `${file}_data`)));
}

/** Writes via a temporary name and a rename, so an interrupted run never leaves a half-written file in place. */
export async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Returns the tiny model folder, making it first when it is missing or was made by another seed or
 * maker version. Safe to call from every test: a second call only reads a stamp file.
 */
export async function ensureTinyOnnxModel(opts: TinyOnnxOptions): Promise<TinyOnnxModel> {
  const seed = opts.seed ?? 42;
  const dir = opts.dir;
  const stampPath = join(dir, STAMP_FILE);
  const wanted = { maker: MAKER_VERSION, seed };
  let current: unknown = null;
  try {
    current = JSON.parse(await readFile(stampPath, 'utf8'));
  } catch {
    current = null;
  }
  const fresh = JSON.stringify(current) === JSON.stringify(wanted);
  if (!fresh) await writeTinyOnnxModel(dir, seed);
  if (!fresh) await writeAtomic(stampPath, JSON.stringify(wanted));
  const variants: TinyOnnxVariant[] = [];
  for (const v of VARIANTS) variants.push({ name: v.name, file: v.file, bytes: await variantBytes(dir, v.file) });
  return { dir, variants };
}

/** The tiny model's sizes: the vocabulary is the tiny tokenizer's unless a test asks for a smaller one. */
export function tinyDims(vocabSize: number): TinyDims {
  return { vocabSize, hidden: 64, heads: 4, layers: 2, intermediate: 192, maxPositions: 2048, rmsEps: 1e-5 };
}

async function writeTinyOnnxModel(dir: string, seed: number): Promise<void> {
  const tok = buildTinyTokenizer();
  const dims = tinyDims(tok.vocabSize);
  const weights = makeWeights(dims, seed, makeLogitBias(dims.vocabSize, tok));
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const config = {
    _comment: 'medeval tiny test model: seeded random weights, learned positions instead of RoPE; not a real llama',
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: dims.hidden,
    num_attention_heads: dims.heads,
    num_key_value_heads: dims.heads,
    head_dim: dims.hidden / dims.heads,
    num_hidden_layers: dims.layers,
    intermediate_size: dims.intermediate,
    max_position_embeddings: dims.maxPositions,
    vocab_size: dims.vocabSize,
    rms_norm_eps: dims.rmsEps,
    bos_token_id: tok.bos,
    eos_token_id: tok.eos,
    torch_dtype: 'float32',
    use_cache: true,
    medeval_seed: seed,
  };
  await writeAtomic(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeAtomic(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: tok.bos, eos_token_id: tok.eos }, null, 2));
  await writeAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig, null, 2));
  for (const v of VARIANTS) {
    const graph = buildTinyGraph(dims, weights, { format: v.format, withPast: v.withPast, externalWeights: v.externalWeights });
    const dataName = `${v.file.split('/').pop()}_data`;
    const { model, externalData } = encodeModel({
      graph,
      opsets: v.format === 'q4' ? { '': 17, 'com.microsoft': 1 } : { '': 17 },
      irVersion: 8,
      producer: 'medeval-tiny-onnx',
      ...(v.externalWeights ? { externalDataFile: dataName } : {}),
    });
    // External data first: the model file's rename is what makes a variant visible.
    if (externalData) await writeAtomic(join(dir, 'onnx', dataName), externalData);
    await writeAtomic(join(dir, v.file), model);
  }
}
