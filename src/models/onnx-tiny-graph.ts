// The graph of the tiny decoder-only test model, in the input/output contract transformers.js and
// Optimum use for llama-like decoders: input_ids, attention_mask, position_ids, past_key_values.N.key/value
// in; logits, present.N.key/value out. Weights are seeded random, so the text is gibberish by design:
// the model exists to exercise runners (KV cache, timing, quantised weights), not to answer questions.
// Differences from llama, kept on purpose for a small graph: learned position embeddings instead of RoPE,
// one K/V head per query head.
import {
  OnnxDataType,
  type AttrValue,
  type GraphInit,
  type NodeInit,
  type OnnxDataTypeId,
  type TensorInit,
} from './onnx-protobuf.js';

export interface TinyDims {
  vocabSize: number;
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  maxPositions: number;
  rmsEps: number;
}

/**
 * How linear-layer weights are stored: the variants transformers.js names fp32, fp16, q8 and q4, and
 * q8nbits, 8-bit MatMulNBits as the onnxruntime-genai model builder writes for int8.
 */
export type WeightFormat = 'fp32' | 'fp16' | 'q8' | 'q4' | 'q8nbits';

/** Float weights of one model, by name; the graph decides how each is stored. */
export interface TinyWeights {
  embed: Float32Array; // [vocab, hidden]
  positions: Float32Array; // [maxPositions, hidden]
  layers: {
    norm1: Float32Array;
    q: Float32Array; // [hidden, hidden] as [K, N]
    k: Float32Array;
    v: Float32Array;
    o: Float32Array;
    norm2: Float32Array;
    up: Float32Array; // [hidden, intermediate]
    down: Float32Array; // [intermediate, hidden]
  }[];
  finalNorm: Float32Array;
  lmHead: Float32Array; // [hidden, vocab]
  /** Added to the logits: keeps the untrained model's output printable (see onnx-tiny.ts). */
  lmBias: Float32Array; // [vocab]
}

const Q4_BLOCK = 32;

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function i64Bytes(values: readonly number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeBigInt64LE(BigInt(v), i * 8));
  return b;
}

/** IEEE 754 half precision, round to nearest even (for fp16 weights). */
export function toFloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** int8 per output column, symmetric: w = q * scale[n]. Returns DequantizeLinear's inputs. */
export function quantizeInt8PerColumn(w: Float32Array, K: number, N: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(N);
  const q = new Int8Array(K * N);
  for (let n = 0; n < N; n++) {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(w[k * N + n]));
    const s = max > 0 ? max / 127 : 1;
    scales[n] = s;
    for (let k = 0; k < K; k++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(w[k * N + n] / s)));
  }
  return { q, scales };
}

/**
 * MatMulNBits 8-bit layout (com.microsoft): B is uint8 [N, K/32, 32], one byte per value along K;
 * scales float [N * K/32]; no zero points, so the zero point is 128.
 */
export function quantizeQ8Blocks(w: Float32Array, K: number, N: number): { packed: Uint8Array; scales: Float32Array } {
  if (K % Q4_BLOCK !== 0) throw new Error(`K=${K} is not a multiple of the block size ${Q4_BLOCK}`);
  const blocks = K / Q4_BLOCK;
  const packed = new Uint8Array(N * blocks * Q4_BLOCK);
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < Q4_BLOCK; i++) max = Math.max(max, Math.abs(w[(b * Q4_BLOCK + i) * N + n]));
      const s = max > 0 ? max / 127 : 1;
      scales[n * blocks + b] = s;
      for (let i = 0; i < Q4_BLOCK; i++) {
        packed[(n * blocks + b) * Q4_BLOCK + i] = Math.max(0, Math.min(255, Math.round(w[(b * Q4_BLOCK + i) * N + n] / s) + 128));
      }
    }
  }
  return { packed, scales };
}

/**
 * MatMulNBits 4-bit layout (com.microsoft): B is uint8 [N, K/32, 16], each block of 32 values along K
 * packed two per byte, low nibble first; scales float [N * K/32]; no zero points, so the zero point is 8.
 */
export function quantizeQ4Blocks(w: Float32Array, K: number, N: number): { packed: Uint8Array; scales: Float32Array } {
  if (K % Q4_BLOCK !== 0) throw new Error(`K=${K} is not a multiple of the 4-bit block size ${Q4_BLOCK}`);
  const blocks = K / Q4_BLOCK;
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let i = 0; i < Q4_BLOCK; i++) max = Math.max(max, Math.abs(w[(b * Q4_BLOCK + i) * N + n]));
      const s = max > 0 ? max / 7 : 1;
      scales[n * blocks + b] = s;
      for (let i = 0; i < Q4_BLOCK; i++) {
        const q = Math.max(0, Math.min(15, Math.round(w[(b * Q4_BLOCK + i) * N + n] / s) + 8));
        const byte = (n * blocks + b) * (Q4_BLOCK / 2) + (i >> 1);
        packed[byte] |= i & 1 ? q << 4 : q;
      }
    }
  }
  return { packed, scales };
}

/** Accumulates nodes and initializers with unique value names. */
class GraphBuilder {
  readonly nodes: NodeInit[] = [];
  readonly initializers: TensorInit[] = [];
  private counter = 0;

  constructor(private readonly externalWeights: boolean) {}

  op(opType: string, inputs: string[], attributes?: Record<string, AttrValue>, opts: { output?: string; domain?: string } = {}): string {
    const output = opts.output ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ opType, inputs, outputs: [output], attributes, ...(opts.domain ? { domain: opts.domain } : {}) });
    return output;
  }

  tensor(name: string, dataType: OnnxDataTypeId, dims: number[], raw: Uint8Array, weight = true): string {
    // Big weights go to the external data file when asked; small constants always stay inline.
    this.initializers.push({ name, dataType, dims, raw, external: weight && this.externalWeights && raw.byteLength >= 1024 });
    return name;
  }

  floatConst(name: string, values: number[], dims: number[] = []): string {
    return this.tensor(name, OnnxDataType.FLOAT, dims, f32Bytes(new Float32Array(values)), false);
  }

  intConst(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.tensor(name, OnnxDataType.INT64, dims, i64Bytes(values), false);
  }
}

/**
 * The KV cache contract: none; per layer (past_key_values.N.key/value in, present.N.key/value out, what
 * Optimum and onnxruntime-genai write today); or stacked (past_N in, present_N out, key and value in one
 * [2, batch, kv_heads, seq, head_dim] tensor per layer, onnxruntime-genai's older combined layout).
 */
export type TinyCacheLayout = 'none' | 'per-layer' | 'stacked';

export interface TinyGraphOptions {
  format: WeightFormat;
  /** false: a graph without past_key_values inputs / present outputs (recomputes the whole sequence). */
  withPast: boolean;
  externalWeights: boolean;
  /** Overrides withPast when given. */
  cache?: TinyCacheLayout;
  /** Element type of input_ids, attention_mask and position_ids (genai exports often use int32). */
  idType?: 'int64' | 'int32';
  /** false: no position_ids input; positions follow from the attention mask's length (default true). */
  positionIds?: boolean;
  /** Extra graph inputs the model reads but no runner knows how to feed (for refusal tests). */
  extraInputs?: { name: string; elemType: OnnxDataTypeId; shape: (number | string)[] }[];
}

export function buildTinyGraph(dims: TinyDims, w: TinyWeights, opts: TinyGraphOptions): GraphInit {
  const g = new GraphBuilder(opts.externalWeights);
  const { hidden: H, heads, vocabSize: V, intermediate: I } = dims;
  const headDim = H / heads;

  const linear = (x: string, weight: Float32Array, K: number, N: number, name: string): string => {
    switch (opts.format) {
      case 'fp32':
        return g.op('MatMul', [x, g.tensor(name, OnnxDataType.FLOAT, [K, N], f32Bytes(weight))]);
      case 'fp16': {
        const half = new Uint16Array(weight.length);
        for (let i = 0; i < weight.length; i++) half[i] = toFloat16Bits(weight[i]);
        const t = g.tensor(name, OnnxDataType.FLOAT16, [K, N], new Uint8Array(half.buffer));
        return g.op('MatMul', [x, g.op('Cast', [t], { to: { kind: 'int', value: OnnxDataType.FLOAT } })]);
      }
      case 'q8': {
        const { q, scales } = quantizeInt8PerColumn(weight, K, N);
        const qt = g.tensor(`${name}_quantized`, OnnxDataType.INT8, [K, N], new Uint8Array(q.buffer));
        const st = g.tensor(`${name}_scale`, OnnxDataType.FLOAT, [N], f32Bytes(scales));
        const zt = g.tensor(`${name}_zero_point`, OnnxDataType.INT8, [N], new Uint8Array(N));
        const deq = g.op('DequantizeLinear', [qt, st, zt], { axis: { kind: 'int', value: 1 } });
        return g.op('MatMul', [x, deq]);
      }
      case 'q4': {
        const { packed, scales } = quantizeQ4Blocks(weight, K, N);
        const bt = g.tensor(`${name}_Q4`, OnnxDataType.UINT8, [N, K / Q4_BLOCK, Q4_BLOCK / 2], packed);
        const st = g.tensor(`${name}_scales`, OnnxDataType.FLOAT, [N * (K / Q4_BLOCK)], f32Bytes(scales));
        return g.op('MatMulNBits', [x, bt, st], {
          K: { kind: 'int', value: K },
          N: { kind: 'int', value: N },
          bits: { kind: 'int', value: 4 },
          block_size: { kind: 'int', value: Q4_BLOCK },
        }, { domain: 'com.microsoft' });
      }
      case 'q8nbits': {
        const { packed, scales } = quantizeQ8Blocks(weight, K, N);
        const bt = g.tensor(`${name}_Q8`, OnnxDataType.UINT8, [N, K / Q4_BLOCK, Q4_BLOCK], packed);
        const st = g.tensor(`${name}_scales`, OnnxDataType.FLOAT, [N * (K / Q4_BLOCK)], f32Bytes(scales));
        return g.op('MatMulNBits', [x, bt, st], {
          K: { kind: 'int', value: K },
          N: { kind: 'int', value: N },
          bits: { kind: 'int', value: 8 },
          block_size: { kind: 'int', value: Q4_BLOCK },
        }, { domain: 'com.microsoft' });
      }
    }
  };

  const eps = g.floatConst('rms_eps', [dims.rmsEps]);
  const rmsNorm = (x: string, gamma: Float32Array, name: string): string => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: { kind: 'ints', value: [-1] }, keepdims: { kind: 'int', value: 1 } });
    const y = g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, eps])])]);
    return g.op('Mul', [y, g.tensor(name, OnnxDataType.FLOAT, [H], f32Bytes(gamma))]);
  };

  // Additive attention bias [batch, 1, seq, total]: causal (key position <= query position) and attention_mask.
  const one = g.intConst('one_i64', [1], []);
  const zeroI = g.intConst('zero_i64', [0], []);
  const seqLen = g.op('Gather', [g.op('Shape', ['input_ids']), one], { axis: { kind: 'int', value: 0 } });
  const totalLen = g.op('Gather', [g.op('Shape', ['attention_mask']), one], { axis: { kind: 'int', value: 0 } });
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const keyPos = g.op('Range', [zeroI, totalLen, one]);
  const queryPos = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), g.intConst('axes_1', [1])]);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]);
  const maskBool = g.op('Cast', ['attention_mask'], { to: { kind: 'int', value: OnnxDataType.BOOL } });
  const mask4d = g.op('Unsqueeze', [maskBool, g.intConst('axes_1_2', [1, 2])]);
  const allowed = g.op('And', [causal, mask4d]);
  const attnBias = g.op('Where', [allowed, g.floatConst('zero_f32', [0]), g.floatConst('neg_inf_f32', [-1e9])]);

  // fp16 graphs take and return half-precision cache and logits, as fp16 Optimum exports do.
  const half = opts.format === 'fp16';
  const ioType = half ? OnnxDataType.FLOAT16 : OnnxDataType.FLOAT;
  const toFloat = (t: string) => g.op('Cast', [t], { to: { kind: 'int', value: OnnxDataType.FLOAT } });
  const toHalf = (t: string) => g.op('Cast', [t], { to: { kind: 'int', value: OnnxDataType.FLOAT16 } });

  const splitHeads = g.intConst('shape_split_heads', [0, 0, heads, headDim]);
  const mergeHeads = g.intConst('shape_merge_heads', [0, 0, H]);
  const scale = g.floatConst('attn_scale', [1 / Math.sqrt(headDim)]);
  const perm = (p: number[]): Record<string, AttrValue> => ({ perm: { kind: 'ints', value: p } });

  const cache: TinyCacheLayout = opts.cache ?? (opts.withPast ? 'per-layer' : 'none');
  const idType = opts.idType === 'int32' ? OnnxDataType.INT32 : OnnxDataType.INT64;
  const withPositionIds = opts.positionIds ?? true;
  // Without a position_ids input, the new tokens sit at past length .. total length - 1.
  const positions = withPositionIds ? 'position_ids' : g.op('Range', [pastLen, totalLen, one]);
  const tok = g.op('Gather', [g.tensor('embed_tokens', OnnxDataType.FLOAT, [V, H], f32Bytes(w.embed)), 'input_ids'], { axis: { kind: 'int', value: 0 } });
  const pos = g.op('Gather', [g.tensor('embed_positions', OnnxDataType.FLOAT, [dims.maxPositions, H], f32Bytes(w.positions)), positions], { axis: { kind: 'int', value: 0 } });
  let x = g.op('Add', [tok, pos]);

  const inputs: GraphInit['inputs'] = [
    { name: 'input_ids', elemType: idType, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: idType, shape: ['batch_size', 'total_sequence_length'] },
    ...(withPositionIds ? [{ name: 'position_ids', elemType: idType, shape: ['batch_size', 'sequence_length'] }] : []),
  ];
  const outputs: GraphInit['outputs'] = [{ name: 'logits', elemType: ioType, shape: ['batch_size', 'sequence_length', V] }];
  const axis = (value: number): Record<string, AttrValue> => ({ axis: { kind: 'int', value } });
  const stackIndex = cache === 'stacked' ? [g.intConst('stack_index_0', [0], []), g.intConst('stack_index_1', [1], [])] : [];
  const axes0 = cache === 'stacked' ? g.intConst('axes_0', [0]) : '';
  const pick = (stacked: string, index: 0 | 1) => g.op('Gather', [stacked, stackIndex[index]], axis(0));

  w.layers.forEach((L, i) => {
    const p = `layers.${i}`;
    const h = rmsNorm(x, L.norm1, `${p}.input_layernorm.weight`);
    const toHeads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], perm([0, 2, 1, 3]));
    const q = toHeads(linear(h, L.q, H, H, `${p}.self_attn.q_proj.weight`));
    let k = toHeads(linear(h, L.k, H, H, `${p}.self_attn.k_proj.weight`));
    let v = toHeads(linear(h, L.v, H, H, `${p}.self_attn.v_proj.weight`));
    // The cache step: past (io type) + fresh -> everything attended to (float) and the present (io type).
    // fp16 cache, as in real fp16 exports: new K/V are rounded to half before use, so the cached and
    // recomputed paths see identical values.
    const withCache = (past: string, fresh: string): { all: string; present: string } => {
      if (!half) {
        const all = g.op('Concat', [past, fresh], axis(2));
        return { all, present: all };
      }
      const all = g.op('Concat', [toFloat(past), toFloat(toHalf(fresh))], axis(2));
      return { all, present: toHalf(all) };
    };
    if (cache === 'per-layer') {
      for (const kind of ['key', 'value'] as const) {
        inputs.push({ name: `past_key_values.${i}.${kind}`, elemType: ioType, shape: ['batch_size', heads, 'past_sequence_length', headDim] });
        outputs.push({ name: `present.${i}.${kind}`, elemType: ioType, shape: ['batch_size', heads, 'total_sequence_length', headDim] });
      }
      const kc = withCache(`past_key_values.${i}.key`, k);
      const vc = withCache(`past_key_values.${i}.value`, v);
      g.op('Identity', [kc.present], undefined, { output: `present.${i}.key` });
      g.op('Identity', [vc.present], undefined, { output: `present.${i}.value` });
      k = kc.all;
      v = vc.all;
    } else if (cache === 'stacked') {
      inputs.push({ name: `past_${i}`, elemType: ioType, shape: [2, 'batch_size', heads, 'past_sequence_length', headDim] });
      outputs.push({ name: `present_${i}`, elemType: ioType, shape: [2, 'batch_size', heads, 'total_sequence_length', headDim] });
      const kc = withCache(pick(`past_${i}`, 0), k);
      const vc = withCache(pick(`past_${i}`, 1), v);
      const unsq = (t: string) => g.op('Unsqueeze', [t, axes0]);
      g.op('Concat', [unsq(kc.present), unsq(vc.present)], axis(0), { output: `present_${i}` });
      k = kc.all;
      v = vc.all;
    }
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], perm([0, 1, 3, 2]))]), scale]), attnBias]);
    const probs = g.op('Softmax', [scores], { axis: { kind: 'int', value: -1 } });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], perm([0, 2, 1, 3])), mergeHeads]);
    x = g.op('Add', [x, linear(ctx, L.o, H, H, `${p}.self_attn.o_proj.weight`)]);
    const h2 = rmsNorm(x, L.norm2, `${p}.post_attention_layernorm.weight`);
    const up = linear(h2, L.up, H, I, `${p}.mlp.up_proj.weight`);
    const act = g.op('Mul', [up, g.op('Sigmoid', [up])]); // SiLU
    x = g.op('Add', [x, linear(act, L.down, I, H, `${p}.mlp.down_proj.weight`)]);
  });

  const final = rmsNorm(x, w.finalNorm, 'norm.weight');
  const logits = linear(final, w.lmHead, H, V, 'lm_head.weight');
  const biased = g.op('Add', [logits, g.tensor('lm_head.bias', OnnxDataType.FLOAT, [V], f32Bytes(w.lmBias))]);
  // Extra inputs take part in the logits (times zero), so onnxruntime really needs them fed.
  let scored = biased;
  for (const extra of opts.extraInputs ?? []) {
    inputs.push({ name: extra.name, elemType: extra.elemType, shape: extra.shape });
    const zero = g.op('Mul', [g.op('ReduceSum', [toFloat(extra.name)], { keepdims: { kind: 'int', value: 0 } }), g.floatConst(`zero_${extra.name}`, [0])]);
    scored = g.op('Add', [scored, zero]);
  }
  g.op('Cast', [scored], { to: { kind: 'int', value: ioType } }, { output: 'logits' });

  return { name: 'medeval_tiny_decoder', nodes: g.nodes, initializers: g.initializers, inputs, outputs };
}
