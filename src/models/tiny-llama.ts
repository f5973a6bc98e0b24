// A llama-architecture model with seeded random weights, laid out exactly as llama.cpp expects,
// so the whole pipeline (load, tokenise, chat template, generate, measure) runs without any
// downloaded model. Its answers are noise: it exists to exercise the machinery, never to score.
import { mulberry32 } from '../stats/prng.js';
import type { GgufFile, GgufTensor, GgufValue } from './gguf-writer.js';
import { kv } from './gguf-writer.js';
import { type GgmlTypeName, quantize } from './quantize.js';
import { buildTinyVocab, TokenType, type TinyVocab } from './tiny-vocab.js';

export const TINY_MODEL_FORMATS = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;
export type TinyModelFormat = (typeof TINY_MODEL_FORMATS)[number];

/** llama_ftype values written to general.file_type. */
export const FILE_TYPE: Record<TinyModelFormat, number> = {
  F32: 0, // LLAMA_FTYPE_ALL_F32
  F16: 1, // LLAMA_FTYPE_MOSTLY_F16
  Q4_0: 2, // LLAMA_FTYPE_MOSTLY_Q4_0
  Q8_0: 7, // LLAMA_FTYPE_MOSTLY_Q8_0
};

export interface TinyLlamaShape {
  /** Upper bound; the vocabulary builder stops at the last whole word that fits. */
  maxVocab: number;
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
}

export const TINY_MODEL_PRESETS = ['test', 'demo'] as const;
export type TinyModelPreset = (typeof TINY_MODEL_PRESETS)[number];

export const MODEL_PRESETS: Record<TinyModelPreset, { description: string; shape: TinyLlamaShape }> = {
  test: {
    description: 'about 1 MB in F32 (2 layers, width 64, ~1k vocabulary): loads and generates in milliseconds, for tests',
    shape: {
      maxVocab: 1024,
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 2,
      feedForwardLength: 192,
      headCount: 4,
      headCountKv: 2,
    },
  },
  demo: {
    description: 'about 60 MB in F32 (4 layers, width 512, ~2k vocabulary), so Q4_0 is visibly smaller and faster: for the demo',
    shape: {
      maxVocab: 4096,
      contextLength: 4096,
      embeddingLength: 512,
      blockCount: 4,
      feedForwardLength: 1536,
      headCount: 8,
      headCountKv: 4,
    },
  },
};

const RMS_EPSILON = 1e-5;
const ROPE_FREQ_BASE = 10000;
/** Std of the 2-D weights: small, so activations stay tame through the layers. */
const WEIGHT_STD = 0.02;
/** Logit spread of the output head: large enough that sampling is not uniform noise. */
const OUTPUT_LOGIT_STD = 3;
/** Answer-shaped pieces get larger output rows, so they win often enough to look like an answer. */
const FAVOURED_ROW_SCALE = 1.6;
const QUIET_ROW_SCALE = 0.3;

/**
 * DeepSeek-R1-Distill's chat template (the revision that drops earlier turns' reasoning). node-llama-cpp
 * recognises it as its DeepSeekChatWrapper; llama.cpp's own template code renders it too.
 */
export const DEEPSEEK_R1_CHAT_TEMPLATE =
  "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is none %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls']%}{%- if not ns.is_first %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}{% endif %}";

// ---------------------------------------------------------------------------------------------
// Seeded randomness: one independent stream per tensor, so a tensor's values depend only on
// (seed, name) and every format of a preset holds the same underlying weights.


function streamSeed(seed: number, name: string): number {
  // FNV-1a over the name, mixed with the seed.
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `count` normal values (Box-Muller) with mean `mean` and standard deviation `std`. */
export function seededNormals(seed: number, name: string, count: number, mean: number, std: number): Float32Array {
  const next = mulberry32(streamSeed(seed, name));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - next(); // (0, 1]: log stays finite
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface TinyLlamaOptions {
  preset: TinyModelPreset;
  format: TinyModelFormat;
  seed: number;
}

export interface TinyLlama {
  gguf: GgufFile;
  parameters: number;
  vocab: TinyVocab;
  shape: TinyLlamaShape;
}

interface TensorPlan {
  name: string;
  dims: number[];
  /** 1-D norms stay F32 in every format, as llama.cpp's converters and quantiser keep them. */
  isNorm: boolean;
  values: () => Float32Array;
}

function tensorPlans(shape: TinyLlamaShape, vocab: TinyVocab, seed: number): TensorPlan[] {
  const e = shape.embeddingLength;
  const headDim = e / shape.headCount;
  const kvWidth = headDim * shape.headCountKv;
  const nVocab = vocab.tokens.length;
  const weight = (name: string, dims: number[]): TensorPlan => ({
    name,
    dims,
    isNorm: false,
    values: () => seededNormals(seed, name, dims[0] * dims[1], 0, WEIGHT_STD),
  });
  const norm = (name: string): TensorPlan => ({
    name,
    dims: [e],
    isNorm: true,
    values: () => seededNormals(seed, name, e, 1, 0.02),
  });

  const plans: TensorPlan[] = [weight('token_embd.weight', [e, nVocab])];
  for (let b = 0; b < shape.blockCount; b++) {
    const p = `blk.${b}.`;
    plans.push(
      norm(p + 'attn_norm.weight'),
      weight(p + 'attn_q.weight', [e, e]),
      weight(p + 'attn_k.weight', [e, kvWidth]),
      weight(p + 'attn_v.weight', [e, kvWidth]),
      weight(p + 'attn_output.weight', [e, e]),
      norm(p + 'ffn_norm.weight'),
      weight(p + 'ffn_gate.weight', [e, shape.feedForwardLength]),
      weight(p + 'ffn_up.weight', [e, shape.feedForwardLength]),
      weight(p + 'ffn_down.weight', [shape.feedForwardLength, e]),
    );
  }
  plans.push(norm('output_norm.weight'), {
    name: 'output.weight',
    dims: [e, nVocab],
    isNorm: false,
    values: () => {
      const values = seededNormals(seed, 'output.weight', e * nVocab, 0, OUTPUT_LOGIT_STD / Math.sqrt(e));
      const scaleRow = (id: number, scale: number): void => {
        for (let i = id * e; i < (id + 1) * e; i++) values[i] *= scale;
      };
      for (const id of vocab.favouredIds) scaleRow(id, FAVOURED_ROW_SCALE);
      // Byte tokens and <unk>/<s> rarely win, so output reads as word pieces, not control bytes.
      vocab.tokenTypes.forEach((type, id) => {
        if (type === TokenType.BYTE || id === vocab.unkId || id === vocab.bosId) scaleRow(id, QUIET_ROW_SCALE);
      });
      return values;
    },
  });
  return plans;
}

function checkShape(preset: string, s: TinyLlamaShape): void {
  const problems: string[] = [];
  if (s.embeddingLength % s.headCount !== 0) problems.push('embeddingLength must divide by headCount');
  if (s.headCount % s.headCountKv !== 0) problems.push('headCount must divide by headCountKv');
  // Every quantised row (length embeddingLength or feedForwardLength) must hold whole 32-blocks.
  if (s.embeddingLength % 32 !== 0 || s.feedForwardLength % 32 !== 0) {
    problems.push('embeddingLength and feedForwardLength must be multiples of 32');
  }
  if (problems.length) throw new RangeError(`tiny model preset "${preset}": ${problems.join('; ')}`);
}

/** The GGUF (metadata and lazily encoded tensors) of a tiny llama model. */
export function buildTinyLlama({ preset, format, seed }: TinyLlamaOptions): TinyLlama {
  const { shape } = MODEL_PRESETS[preset];
  checkShape(preset, shape);
  const vocab = buildTinyVocab(shape.maxVocab);
  const headDim = shape.embeddingLength / shape.headCount;

  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str(`medeval-tiny-llama-${preset}`)],
    ['general.description', kv.str(`Random weights (seed ${seed}) made by medeval for testing; not a trained model.`)],
    ['general.file_type', kv.u32(FILE_TYPE[format])],
    ['general.quantization_version', kv.u32(2)],
    ['llama.context_length', kv.u32(shape.contextLength)],
    ['llama.embedding_length', kv.u32(shape.embeddingLength)],
    ['llama.block_count', kv.u32(shape.blockCount)],
    ['llama.feed_forward_length', kv.u32(shape.feedForwardLength)],
    ['llama.attention.head_count', kv.u32(shape.headCount)],
    ['llama.attention.head_count_kv', kv.u32(shape.headCountKv)],
    ['llama.rope.dimension_count', kv.u32(headDim)],
    ['llama.rope.freq_base', kv.f32(ROPE_FREQ_BASE)],
    ['llama.attention.layer_norm_rms_epsilon', kv.f32(RMS_EPSILON)],
    ['llama.vocab_size', kv.u32(vocab.tokens.length)],
    ['tokenizer.ggml.model', kv.str('llama')],
    ['tokenizer.ggml.tokens', kv.array('string', vocab.tokens)],
    ['tokenizer.ggml.scores', kv.array('float32', vocab.scores)],
    ['tokenizer.ggml.token_type', kv.array('int32', vocab.tokenTypes)],
    ['tokenizer.ggml.bos_token_id', kv.u32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', kv.u32(vocab.eosId)],
    ['tokenizer.ggml.unknown_token_id', kv.u32(vocab.unkId)],
    ['tokenizer.ggml.add_bos_token', kv.bool(true)],
    ['tokenizer.ggml.add_eos_token', kv.bool(false)],
    ['tokenizer.chat_template', kv.str(DEEPSEEK_R1_CHAT_TEMPLATE)],
  ];

  const plans = tensorPlans(shape, vocab, seed);
  const tensors: GgufTensor[] = plans.map((plan) => {
    const type: GgmlTypeName = plan.isNorm ? 'F32' : format;
    return { name: plan.name, dims: plan.dims, type, data: () => quantize(plan.values(), type) };
  });
  const parameters = plans.reduce((sum, p) => sum + p.dims.reduce((a, d) => a * d, 1), 0);
  return { gguf: { metadata, tensors, alignment: 32 }, parameters, vocab, shape };
}
