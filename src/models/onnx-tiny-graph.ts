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

/** How linear-layer weights are stored: the variants transformers.js names fp32, fp16, q8 and q4. */
export type WeightFormat = 'fp32' | 'fp16' | 'q8' | 'q4';

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

export interface TinyGraphOptions {
  format: WeightFormat;
  /** false: a graph without past_key_values inputs / present outputs (recomputes the whole sequence). */
  withPast: boolean;
  externalWeights: boolean;
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

  const tok = g.op('Gather', [g.tensor('embed_tokens', OnnxDataType.FLOAT, [V, H], f32Bytes(w.embed)), 'input_ids'], { axis: { kind: 'int', value: 0 } });
  const pos = g.op('Gather', [g.tensor('embed_positions', OnnxDataType.FLOAT, [dims.maxPositions, H], f32Bytes(w.positions)), 'position_ids'], { axis: { kind: 'int', value: 0 } });
  let x = g.op('Add', [tok, pos]);

  const inputs: GraphInit['inputs'] = [
    { name: 'input_ids', elemType: OnnxDataType.INT64, shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: OnnxDataType.INT64, shape: ['batch_size', 'total_sequence_length'] },
    { name: 'position_ids', elemType: OnnxDataType.INT64, shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: GraphInit['outputs'] = [{ name: 'logits', elemType: ioType, shape: ['batch_size', 'sequence_length', V] }];

  w.layers.forEach((L, i) => {
    const p = `layers.${i}`;
    const h = rmsNorm(x, L.norm1, `${p}.input_layernorm.weight`);
    const toHeads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], perm([0, 2, 1, 3]));
    const q = toHeads(linear(h, L.q, H, H, `${p}.self_attn.q_proj.weight`));
    let k = toHeads(linear(h, L.k, H, H, `${p}.self_attn.k_proj.weight`));
    let v = toHeads(linear(h, L.v, H, H, `${p}.self_attn.v_proj.weight`));
    if (opts.withPast) {
      for (const kind of ['key', 'value'] as const) {
        inputs.push({ name: `past_key_values.${i}.${kind}`, elemType: ioType, shape: ['batch_size', heads, 'past_sequence_length', headDim] });
        outputs.push({ name: `present.${i}.${kind}`, elemType: ioType, shape: ['batch_size', heads, 'total_sequence_length', headDim] });
      }
      const withCache = (fresh: string, kind: 'key' | 'value'): string => {
        const past = `past_key_values.${i}.${kind}`;
        const present = `present.${i}.${kind}`;
        if (!half) return g.op('Concat', [past, fresh], { axis: { kind: 'int', value: 2 } }, { output: present });
        // fp16 cache, as in real fp16 exports: new K/V are rounded to half before use, so the cached
        // and recomputed paths see identical values.
        const all = g.op('Concat', [toFloat(past), toFloat(toHalf(fresh))], { axis: { kind: 'int', value: 2 } });
        g.op('Cast', [all], { to: { kind: 'int', value: OnnxDataType.FLOAT16 } }, { output: present });
        return all;
      };
      k = withCache(k, 'key');
      v = withCache(v, 'value');
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
  g.op('Cast', [biased], { to: { kind: 'int', value: ioType } }, { output: 'logits' });

  return { name: 'medeval_tiny_decoder', nodes: g.nodes, initializers: g.initializers, inputs, outputs };
}
