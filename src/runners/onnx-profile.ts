// The onnx kind's profile (runners/*.yaml) and variant names, apart from the runner (onnx.ts): what the
// registry needs of the kind (in-process-kinds.ts) without loading the runner and its tokenizer, graph and
// sampling modules (start-up of every command that reads a profile).
import { z } from 'zod';

/** transformers.js's dtype names and the file-name suffix each one uses (model{suffix}.onnx). */
export const ONNX_VARIANT_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const;
export type OnnxVariantName = keyof typeof ONNX_VARIANT_SUFFIX;
export const ONNX_VARIANT_NAMES = Object.keys(ONNX_VARIANT_SUFFIX) as OnnxVariantName[];

export const onnxProfileSchema = z.strictObject({
  kind: z.literal('onnx'),
  label: z.string().min(1),
  /** A folder in the Optimum / transformers.js layout (config.json, tokenizer.json, onnx/model*.onnx) or an onnxruntime-genai folder (genai_config.json, tokenizer.json, model.onnx). */
  modelDir: z.string().min(1),
  /** transformers.js dtype name: fp32 (model.onnx), fp16, q8 (model_quantized.onnx), q4 (model_q4.onnx), ... */
  variant: z.enum(ONNX_VARIANT_NAMES as [OnnxVariantName, ...OnnxVariantName[]]).optional(),
  /** Or an explicit .onnx file, relative to modelDir; overrides `variant`. */
  file: z.string().min(1).optional(),
  /** onnxruntime intra-op threads; set explicitly (the default takes every core, which other work shares). */
  threads: z.number().int().positive().default(2),
  /** "cuda" needs onnxruntime-node's CUDA provider (installed with ONNXRUNTIME_NODE_INSTALL=cuda12) and a GPU. */
  executionProvider: z.enum(['cpu', 'cuda']).default('cpu'),
  /** false: recompute the whole sequence every token (slow; for checking the cache, or graphs without one). */
  useKvCache: z.boolean().default(true),
  notes: z.string().optional(),
});
export type OnnxProfile = z.infer<typeof onnxProfileSchema>;
/** The profile as a caller may write it (defaults not yet applied). */
export type OnnxProfileInput = z.input<typeof onnxProfileSchema>;
