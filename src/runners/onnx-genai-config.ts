// genai_config.json, the model description onnxruntime-genai's model builder writes next to model.onnx
// (in place of Hugging Face's config.json). Only the fields medeval uses are read; the rest is allowed.
// Field names follow onnxruntime-genai's src/config.h and its configuration reference.
import { z } from 'zod';
import { InputError } from '../core/errors.js';

const idOrIds = z.union([z.number().int(), z.array(z.number().int())]);

const decoderSchema = z.looseObject({
  filename: z.string().min(1).optional(),
  head_size: z.number().int().positive().optional(),
  hidden_size: z.number().int().positive().optional(),
  num_attention_heads: z.number().int().positive().optional(),
  num_hidden_layers: z.number().int().positive().optional(),
  num_key_value_heads: z.number().int().positive().optional(),
  inputs: z.looseObject({
    input_ids: z.string().optional(),
    attention_mask: z.string().optional(),
    position_ids: z.string().optional(),
    past_key_names: z.string().optional(),
    past_value_names: z.string().optional(),
    /** Key and value stacked in one tensor per layer. */
    past_names: z.string().optional(),
  }).optional(),
  outputs: z.looseObject({
    logits: z.string().optional(),
    present_key_names: z.string().optional(),
    present_value_names: z.string().optional(),
    present_names: z.string().optional(),
  }).optional(),
});

export const genaiConfigSchema = z.looseObject({
  model: z.looseObject({
    type: z.string().optional(),
    bos_token_id: z.number().int().optional(),
    eos_token_id: idOrIds.optional(),
    pad_token_id: z.number().int().optional(),
    vocab_size: z.number().int().positive().optional(),
    context_length: z.number().int().positive().optional(),
    decoder: decoderSchema,
  }),
  search: z.looseObject({
    do_sample: z.boolean().optional(),
    max_length: z.number().int().nonnegative().optional(),
    min_length: z.number().int().nonnegative().optional(),
    num_beams: z.number().int().positive().optional(),
    temperature: z.number().optional(),
    top_k: z.number().int().nonnegative().optional(),
    top_p: z.number().optional(),
    repetition_penalty: z.number().optional(),
  }).optional(),
});
export type GenaiConfig = z.infer<typeof genaiConfigSchema>;

/** The export's own generation defaults, recorded (medeval's suite decides the sampling it uses). */
export interface GenaiSearchDefaults {
  doSample?: boolean;
  maxLength?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  numBeams?: number;
}

export function parseGenaiConfig(value: unknown, file: string): GenaiConfig {
  const parsed = genaiConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.');
    throw new InputError(`${file}: ${field || '(top level)'}: ${issue.message}`, { file, field },
      'use the genai_config.json that onnxruntime-genai\'s model builder wrote with this model.onnx');
  }
  return parsed.data;
}

export function genaiSearchDefaults(c: GenaiConfig): GenaiSearchDefaults {
  const s = c.search ?? {};
  const out: GenaiSearchDefaults = {};
  if (s.do_sample !== undefined) out.doSample = s.do_sample;
  if (s.max_length !== undefined) out.maxLength = s.max_length;
  if (s.temperature !== undefined) out.temperature = s.temperature;
  if (s.top_k !== undefined) out.topK = s.top_k;
  if (s.top_p !== undefined) out.topP = s.top_p;
  if (s.repetition_penalty !== undefined) out.repetitionPenalty = s.repetition_penalty;
  if (s.num_beams !== undefined) out.numBeams = s.num_beams;
  return out;
}

/**
 * genai_config.json restated in config.json's field names (num_hidden_layers, num_key_value_heads,
 * head_dim, max_position_embeddings, eos_token_id, ...), so the rest of the runner reads one shape.
 */
export function configFromGenai(c: GenaiConfig): Record<string, unknown> {
  const m = c.model;
  const d = m.decoder;
  const out: Record<string, unknown> = {};
  const put = (key: string, v: unknown) => {
    if (v !== undefined) out[key] = v;
  };
  put('model_type', m.type);
  put('bos_token_id', m.bos_token_id);
  put('eos_token_id', m.eos_token_id);
  put('pad_token_id', m.pad_token_id);
  put('vocab_size', m.vocab_size);
  put('max_position_embeddings', m.context_length);
  put('hidden_size', d.hidden_size);
  put('num_attention_heads', d.num_attention_heads);
  put('num_key_value_heads', d.num_key_value_heads);
  put('num_hidden_layers', d.num_hidden_layers);
  put('head_dim', d.head_size);
  return out;
}
