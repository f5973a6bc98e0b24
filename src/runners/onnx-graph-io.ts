// What a decoder graph asks to be fed, read from the graph itself (onnxruntime's input/output metadata:
// names, element types, shapes) and, where the folder has one, genai_config.json's names. The runner
// feeds exactly this plan; a graph with an input no plan covers is refused at load, before any request.
import type { InferenceSession } from 'onnxruntime-node';
import { InputError } from '../core/errors.js';
import type { GenaiConfig } from './onnx-genai-config.js';

export type IdType = 'int32' | 'int64';
export type FloatType = 'float32' | 'float16';

export interface FedInput {
  name: string;
  type: IdType;
}

export interface KvEntry {
  past: string;
  present: string;
  layer: number;
}

export interface KvPlan {
  /** per-layer: a key and a value tensor per layer; stacked: one [2, batch, heads, seq, dim] tensor per layer. */
  layout: 'per-layer' | 'stacked';
  entries: KvEntry[];
  layers: number;
  heads: number;
  headDim: number;
  type: FloatType;
  /** Bytes one more position adds to the whole cache. */
  bytesPerToken: number;
}

export interface GraphIoPlan {
  inputIds: FedInput;
  attentionMask: FedInput | null;
  positionIds: FedInput | null;
  /** Optimum's merged decoders choose their branch with this bool. */
  useCacheBranch: string | null;
  /** transformers' num_logits_to_keep / logits_to_keep scalar: 1 (only the last position is read). */
  logitsToKeep: FedInput | null;
  logits: { name: string; type: FloatType; vocab: number | null };
  kv: KvPlan | null;
  /** For reports, e.g. "stacked past_N -> present_N (onnxruntime-genai), int32 ids, position_ids". */
  description: string;
}

export const SUPPORTED_LAYOUTS =
  'medeval feeds input_ids (int32 or int64), attention_mask and position_ids (int32 or int64, each optional), ' +
  'use_cache_branch (bool) and num_logits_to_keep / logits_to_keep, and a KV cache in one of two layouts: ' +
  'per layer, past_key_values.N.key/value -> present.N.key/value, [batch, kv_heads, seq, head_dim] ' +
  '(Optimum / transformers.js, onnxruntime-genai today), or stacked, past_N -> present_N, [2, batch, kv_heads, seq, head_dim] ' +
  '(older onnxruntime-genai exports); other names are read from genai_config.json (model.decoder.inputs / outputs)';

type Meta = InferenceSession.ValueMetadata;

function describeMeta(m: Meta): string {
  if (!m.isTensor) return `${m.name} (not a tensor)`;
  return `${m.name} (${m.type} [${m.shape.join(', ')}])`;
}

/** "past_key_values.%d.key" -> a RegExp capturing the layer number. */
function templateRegExp(template: string): RegExp {
  const parts = template.split('%d').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('(\\d+)')}$`);
}

function fill(template: string, layer: number): string {
  return template.replace('%d', String(layer));
}

const numberOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);

export interface GraphFacts {
  /** The graph file, for messages. */
  file: string;
  /** config.json (or genai_config.json restated): num_key_value_heads, head_dim, ... for symbolic cache shapes. */
  config: Record<string, unknown>;
  genai: GenaiConfig | null;
}

/** The feeding plan for a graph, or an InputError naming every input it cannot feed. */
export function planGraphIo(session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>, facts: GraphFacts): GraphIoPlan {
  const gi = facts.genai?.model.decoder.inputs ?? {};
  const go = facts.genai?.model.decoder.outputs ?? {};
  const names = {
    inputIds: gi.input_ids ?? 'input_ids',
    attentionMask: gi.attention_mask ?? 'attention_mask',
    positionIds: gi.position_ids ?? 'position_ids',
    logits: go.logits ?? 'logits',
  };
  // Per-layer and stacked cache names: genai_config.json's templates where given, and the usual ones.
  const perLayer = [
    { key: 'past_key_values.%d.key', value: 'past_key_values.%d.value', presentKey: 'present.%d.key', presentValue: 'present.%d.value' },
  ];
  if (gi.past_key_names && gi.past_value_names) {
    perLayer.unshift({
      key: gi.past_key_names, value: gi.past_value_names,
      presentKey: go.present_key_names ?? 'present.%d.key', presentValue: go.present_value_names ?? 'present.%d.value',
    });
  }
  const stacked = [{ past: 'past_%d', present: 'present_%d' }];
  if (gi.past_names) stacked.unshift({ past: gi.past_names, present: go.present_names ?? 'present_%d' });

  const outputs = new Map(session.outputMetadata.map((m) => [m.name, m]));
  const problems: string[] = [];
  let inputIds: FedInput | null = null;
  let attentionMask: FedInput | null = null;
  let positionIds: FedInput | null = null;
  let useCacheBranch: string | null = null;
  let logitsToKeep: FedInput | null = null;
  const perLayerPast = new Map<number, { key?: { meta: Meta; present: string }; value?: { meta: Meta; present: string } }>();
  const stackedPast = new Map<number, { meta: Meta; present: string }>();

  const idInput = (m: Meta, what: string): FedInput | null => {
    if (m.isTensor && (m.type === 'int32' || m.type === 'int64')) return { name: m.name, type: m.type };
    problems.push(`${describeMeta(m)}: ${what} must be int32 or int64`);
    return null;
  };

  for (const m of session.inputMetadata) {
    if (m.name === names.inputIds) inputIds = idInput(m, 'token ids');
    else if (m.name === names.attentionMask) attentionMask = idInput(m, 'an attention mask');
    else if (m.name === names.positionIds) positionIds = idInput(m, 'position ids');
    else if (m.name === 'use_cache_branch') {
      if (m.isTensor && m.type === 'bool') useCacheBranch = m.name;
      else problems.push(`${describeMeta(m)}: use_cache_branch must be bool`);
    } else if (m.name === 'num_logits_to_keep' || m.name === 'logits_to_keep') logitsToKeep = idInput(m, m.name);
    else {
      let matched = false;
      for (const t of perLayer) {
        for (const part of ['key', 'value'] as const) {
          const hit = templateRegExp(part === 'key' ? t.key : t.value).exec(m.name);
          if (!hit || matched) continue;
          const layer = Number(hit[1]);
          const entry = perLayerPast.get(layer) ?? {};
          entry[part] = { meta: m, present: fill(part === 'key' ? t.presentKey : t.presentValue, layer) };
          perLayerPast.set(layer, entry);
          matched = true;
        }
      }
      for (const t of stacked) {
        const hit = matched ? null : templateRegExp(t.past).exec(m.name);
        if (!hit) continue;
        stackedPast.set(Number(hit[1]), { meta: m, present: fill(t.present, Number(hit[1])) });
        matched = true;
      }
      if (!matched) problems.push(`${describeMeta(m)}: not an input medeval knows how to feed`);
    }
  }
  if (!session.inputMetadata.some((m) => m.name === names.inputIds)) {
    problems.push(`no ${names.inputIds} input (inputs: ${session.inputMetadata.map((m) => m.name).join(', ')}): medeval feeds token ids, not embeddings`);
  }
  const logitsMeta = outputs.get(names.logits);
  let logits: GraphIoPlan['logits'] | null = null;
  if (!logitsMeta) problems.push(`no ${names.logits} output (outputs: ${[...outputs.keys()].join(', ')})`);
  else if (!logitsMeta.isTensor || (logitsMeta.type !== 'float32' && logitsMeta.type !== 'float16')) {
    problems.push(`output ${describeMeta(logitsMeta)}: logits must be float32 or float16`);
  } else {
    const last = logitsMeta.shape[logitsMeta.shape.length - 1];
    logits = { name: logitsMeta.name, type: logitsMeta.type, vocab: typeof last === 'number' && last > 0 ? last : null };
  }

  let kv: KvPlan | null = null;
  if (perLayerPast.size > 0 && stackedPast.size > 0) {
    problems.push(`the graph mixes per-layer (${[...perLayerPast.keys()].length} layers) and stacked (${stackedPast.size} layers) cache inputs`);
  } else if (perLayerPast.size > 0 || stackedPast.size > 0) {
    kv = planKv(perLayerPast, stackedPast, outputs, facts, problems);
  }

  if (problems.length > 0 || !inputIds || !logits) {
    throw new InputError(`${facts.file}: medeval cannot feed this graph:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { field: 'modelDir' }, SUPPORTED_LAYOUTS);
  }
  const layoutText = kv === null ? 'no KV cache'
    : kv.layout === 'stacked' ? `stacked ${kv.entries[0].past} -> ${kv.entries[0].present} cache (key and value in one tensor per layer)`
      : `per-layer ${kv.entries[0].past} -> ${kv.entries[0].present} cache`;
  const description = [layoutText, `${inputIds.type} ids`, positionIds ? 'position_ids' : 'no position_ids', `${kv?.type ?? logits.type} cache/logits`]
    .join(', ');
  return { inputIds, attentionMask, positionIds, useCacheBranch, logitsToKeep, logits, kv, description };
}

function planKv(
  perLayerPast: Map<number, { key?: { meta: Meta; present: string }; value?: { meta: Meta; present: string } }>,
  stackedPast: Map<number, { meta: Meta; present: string }>,
  outputs: Map<string, Meta>,
  facts: GraphFacts,
  problems: string[],
): KvPlan | null {
  const layout = perLayerPast.size > 0 ? 'per-layer' : 'stacked';
  const entries: KvEntry[] = [];
  const metas: Meta[] = [];
  const layerNumbers = [...(layout === 'per-layer' ? perLayerPast.keys() : stackedPast.keys())].sort((a, b) => a - b);
  const layers = layerNumbers.length;
  if (layerNumbers.some((n, i) => n !== i)) problems.push(`cache inputs for layers ${layerNumbers.join(', ')}: expected layers 0..${layers - 1}`);
  const addEntry = (layer: number, item: { meta: Meta; present: string }) => {
    if (!outputs.has(item.present)) problems.push(`${describeMeta(item.meta)}: the graph has no ${item.present} output to carry it to the next step`);
    entries.push({ past: item.meta.name, present: item.present, layer });
    metas.push(item.meta);
  };
  for (const layer of layerNumbers) {
    if (layout === 'per-layer') {
      const e = perLayerPast.get(layer)!;
      if (!e.key || !e.value) {
        const have = (e.key ?? e.value)!.meta.name;
        problems.push(`${have}: layer ${layer} has ${e.key ? 'a key' : 'a value'} cache input but no ${e.key ? 'value' : 'key'} one`);
      }
      if (e.key) addEntry(layer, e.key);
      if (e.value) addEntry(layer, e.value);
    } else {
      addEntry(layer, stackedPast.get(layer)!);
    }
  }
  const first = metas[0];
  if (!first.isTensor || (first.type !== 'float32' && first.type !== 'float16')) {
    problems.push(`${describeMeta(first)}: cache tensors must be float32 or float16`);
    return null;
  }
  const rank = layout === 'stacked' ? 5 : 4;
  const shape = first.shape;
  if (shape.length !== 0 && shape.length !== rank) {
    problems.push(`${describeMeta(first)}: a ${layout} cache tensor has ${rank} dimensions (${layout === 'stacked' ? '[2, batch, kv_heads, seq, head_dim]' : '[batch, kv_heads, seq, head_dim]'})`);
    return null;
  }
  if (layout === 'stacked' && typeof shape[0] === 'number' && shape[0] !== 2) {
    problems.push(`${describeMeta(first)}: a stacked cache holds key and value along its first dimension, which must be 2`);
  }
  const off = layout === 'stacked' ? 1 : 0;
  const c = facts.config;
  const hidden = numberOf(c.hidden_size);
  const attnHeads = numberOf(c.num_attention_heads);
  const heads = (typeof shape[off + 1] === 'number' ? shape[off + 1] as number : undefined)
    ?? numberOf(c.num_key_value_heads) ?? attnHeads;
  const headDim = (typeof shape[off + 3] === 'number' ? shape[off + 3] as number : undefined)
    ?? numberOf(c.head_dim) ?? (hidden && attnHeads ? hidden / attnHeads : undefined);
  if (!heads || !headDim) {
    problems.push(`${describeMeta(first)}: the cache shape is symbolic and neither config.json nor genai_config.json gives num_key_value_heads and head_dim / head_size`);
    return null;
  }
  const bytes = first.type === 'float16' ? 2 : 4;
  return { layout, entries, layers, heads, headDim, type: first.type, bytesPerToken: layers * 2 * heads * headDim * bytes };
}
