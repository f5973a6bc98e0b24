// The tiny decoder in the other graph contracts ONNX exports come in, each as its own model folder: the
// onnxruntime-genai layout (genai_config.json instead of config.json, model.onnx + model.onnx.data at the
// top of the folder, int32 or int64 ids, with or without position_ids, stacked past_N / present_N or
// per-layer past_key_values.N.key/value caches, fp32 / fp16 / MatMulNBits 4- and 8-bit weights), and
// graphs a runner must refuse (an input nobody can feed, a vocabulary smaller than the tokenizer's).
// Same seed, same weights as onnx-tiny.ts: layouts of one format give the same logits.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxDataType, encodeModel, type OnnxDataTypeId } from './onnx-protobuf.js';
import { buildTinyGraph, type TinyCacheLayout, type WeightFormat } from './onnx-tiny-graph.js';
import { MAKER_VERSION, makeLogitBias, makeWeights, tinyDims, writeAtomic } from './onnx-tiny.js';
import { buildTinyTokenizer } from './onnx-tiny-tokenizer.js';

export interface TinyLayoutPlan {
  format: WeightFormat;
  cache: TinyCacheLayout;
  idType: 'int32' | 'int64';
  positionIds: boolean;
  /** Weights in model.onnx.data (the name onnxruntime-genai's builder gives it). */
  externalWeights: boolean;
  /** A vocabulary (embedding and logits) smaller than the tokenizer's: for the load-time check. */
  vocabSize?: number;
  extraInputs?: { name: string; elemType: OnnxDataTypeId; shape: (number | string)[] }[];
}

export const TINY_LAYOUTS = {
  /** The DeepSeek-R1-Distill onnxruntime-genai export's contract: int32 ids, stacked past_N. */
  'genai-stacked-int32': { format: 'fp32', cache: 'stacked', idType: 'int32', positionIds: true, externalWeights: true },
  'genai-per-layer-int32-fp16': { format: 'fp16', cache: 'per-layer', idType: 'int32', positionIds: false, externalWeights: false },
  'genai-stacked-int64-q4': { format: 'q4', cache: 'stacked', idType: 'int64', positionIds: false, externalWeights: false },
  'genai-per-layer-int64-q8': { format: 'q8nbits', cache: 'per-layer', idType: 'int64', positionIds: true, externalWeights: true },
  /** Refused: inputs no runner feeds (OpenVINO's beam_idx, a cache_indirection). */
  'unsupported-inputs': {
    format: 'fp32', cache: 'per-layer', idType: 'int64', positionIds: true, externalWeights: false,
    extraInputs: [
      { name: 'beam_idx', elemType: OnnxDataType.INT32, shape: ['batch_size'] },
      { name: 'cache_indirection', elemType: OnnxDataType.INT32, shape: ['batch_size', 1, 'max_sequence_length'] },
    ],
  },
  /** Refused: 200 logits for a tokenizer of several hundred ids. */
  'vocab-mismatch': { format: 'fp32', cache: 'per-layer', idType: 'int64', positionIds: true, externalWeights: false, vocabSize: 200 },
} as const satisfies Record<string, TinyLayoutPlan>;
export type TinyLayoutName = keyof typeof TINY_LAYOUTS;
export const TINY_LAYOUT_NAMES = Object.keys(TINY_LAYOUTS) as TinyLayoutName[];

const STAMP_FILE = 'medeval-tiny-onnx-layout.json';

export interface TinyLayoutModel {
  dir: string;
  layout: TinyLayoutName;
  plan: TinyLayoutPlan;
  /** Absolute path of model.onnx. */
  modelFile: string;
}

/** Returns the folder of one layout, making it when missing or made by another seed or maker version. */
export async function ensureTinyLayoutModel(opts: { dir: string; layout: TinyLayoutName; seed?: number }): Promise<TinyLayoutModel> {
  const seed = opts.seed ?? 42;
  const plan: TinyLayoutPlan = TINY_LAYOUTS[opts.layout];
  const wanted = JSON.stringify({ maker: MAKER_VERSION, seed, layout: opts.layout });
  let current = '';
  try {
    current = JSON.stringify(JSON.parse(await readFile(join(opts.dir, STAMP_FILE), 'utf8')));
  } catch {
    current = '';
  }
  if (current !== wanted) {
    await writeLayoutModel(opts.dir, seed, plan);
    await writeAtomic(join(opts.dir, STAMP_FILE), wanted);
  }
  return { dir: opts.dir, layout: opts.layout, plan, modelFile: join(opts.dir, 'model.onnx') };
}

async function writeLayoutModel(dir: string, seed: number, plan: TinyLayoutPlan): Promise<void> {
  const tok = buildTinyTokenizer();
  const dims = tinyDims(plan.vocabSize ?? tok.vocabSize);
  const weights = makeWeights(dims, seed, makeLogitBias(dims.vocabSize, tok));
  await mkdir(dir, { recursive: true });
  const graph = buildTinyGraph(dims, weights, {
    format: plan.format,
    withPast: plan.cache !== 'none',
    cache: plan.cache,
    idType: plan.idType,
    positionIds: plan.positionIds,
    externalWeights: plan.externalWeights,
    extraInputs: plan.extraInputs ? [...plan.extraInputs] : undefined,
  });
  const nbits = plan.format === 'q4' || plan.format === 'q8nbits';
  const { model, externalData } = encodeModel({
    graph,
    opsets: nbits ? { '': 17, 'com.microsoft': 1 } : { '': 17 },
    irVersion: 8,
    producer: 'medeval-tiny-onnx',
    ...(plan.externalWeights ? { externalDataFile: 'model.onnx.data' } : {}),
  });
  const headDim = dims.hidden / dims.heads;
  // genai_config.json in the shape onnxruntime-genai's model builder writes (see docs/onnx.md).
  const names = plan.cache === 'stacked'
    ? { inputs: { past_names: 'past_%d' }, outputs: { present_names: 'present_%d' } }
    : {
      inputs: { past_key_names: 'past_key_values.%d.key', past_value_names: 'past_key_values.%d.value' },
      outputs: { present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
    };
  const genaiConfig = {
    model: {
      bos_token_id: tok.bos,
      context_length: dims.maxPositions,
      decoder: {
        session_options: { log_id: 'onnxruntime-genai', provider_options: [] },
        filename: 'model.onnx',
        head_size: headDim,
        hidden_size: dims.hidden,
        inputs: {
          input_ids: 'input_ids',
          attention_mask: 'attention_mask',
          ...(plan.positionIds ? { position_ids: 'position_ids' } : {}),
          ...names.inputs,
        },
        outputs: { logits: 'logits', ...names.outputs },
        num_attention_heads: dims.heads,
        num_hidden_layers: dims.layers,
        num_key_value_heads: dims.heads,
      },
      eos_token_id: [tok.eos],
      pad_token_id: tok.eos,
      type: 'llama',
      vocab_size: dims.vocabSize,
    },
    search: {
      diversity_penalty: 0.0,
      do_sample: true,
      early_stopping: true,
      length_penalty: 1.0,
      max_length: dims.maxPositions,
      min_length: 0,
      no_repeat_ngram_size: 0,
      num_beams: 1,
      num_return_sequences: 1,
      past_present_share_buffer: false,
      repetition_penalty: 1.0,
      temperature: 0.6,
      top_k: 1,
      top_p: 0.95,
    },
  };
  await writeAtomic(join(dir, 'genai_config.json'), JSON.stringify(genaiConfig, null, 4));
  await writeAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig, null, 2));
  if (externalData) await writeAtomic(join(dir, 'model.onnx.data'), externalData);
  await writeAtomic(join(dir, 'model.onnx'), model);
}
