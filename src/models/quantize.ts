// GGML weight formats, byte for byte: F32, F16, Q8_0 and Q4_0 with ggml's block layouts and type ids.
// The quantisers follow ggml's quantize_row_q8_0_ref / quantize_row_q4_0_ref, which is what
// llama-quantize uses when no importance matrix is given, including their float32 arithmetic
// (every intermediate goes through Math.fround) so the bytes match what ggml would write.

/** GGML tensor type ids as stored in GGUF tensor infos. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlTypeId = (typeof GgmlType)[GgmlTypeName];

/** Elements per block and bytes per block of each type. */
export const GGML_BLOCK: Record<GgmlTypeName, { elements: number; bytes: number }> = {
  F32: { elements: 1, bytes: 4 },
  F16: { elements: 1, bytes: 2 },
  // struct block_q4_0 { ggml_half d; uint8_t qs[16]; }
  Q4_0: { elements: 32, bytes: 2 + 16 },
  // struct block_q8_0 { ggml_half d; int8_t qs[32]; }
  Q8_0: { elements: 32, bytes: 2 + 32 },
};

export const QK4_0 = 32;
export const QK8_0 = 32;

export function ggmlTypeName(id: number): GgmlTypeName {
  for (const [name, value] of Object.entries(GgmlType)) if (value === id) return name as GgmlTypeName;
  throw new RangeError(`unsupported GGML type id ${id} (supported: F32=0, F16=1, Q4_0=2, Q8_0=8)`);
}

/**
 * Bytes of a tensor of `type` with ggml dims (dims[0] is the row length). Quantised types need a
 * row length that is a multiple of the block size, as ggml does.
 */
export function ggmlTensorBytes(type: GgmlTypeName, dims: readonly number[]): number {
  const block = GGML_BLOCK[type];
  const rowLength = dims[0] ?? 1;
  if (rowLength % block.elements !== 0) {
    throw new RangeError(`${type} needs a row length (dims[0]) that is a multiple of ${block.elements}, got ${rowLength}`);
  }
  const elements = dims.reduce((a, d) => a * d, 1);
  return (elements / block.elements) * block.bytes;
}

// ---------------------------------------------------------------------------------------------
// F16 (IEEE 754 binary16), round to nearest even as ggml's GGML_FP32_TO_FP16 (F16C / bit trick).

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The binary16 bit pattern nearest to `value` (ties to even; overflow to Inf; NaN stays NaN). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the full significand into place, then round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches Inf at the top).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

let f16Table: Float32Array | null = null;

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) table[h] = mant === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** The float value of a binary16 bit pattern (exact: every half is a float32). */
export function f16BitsToF32(bits: number): number {
  f16Table ??= buildF16Table();
  return f16Table[bits & 0xffff];
}

/** The value `x` becomes after a round trip through F16. */
export function roundToF16(x: number): number {
  return f16BitsToF32(f32ToF16Bits(x));
}

// ---------------------------------------------------------------------------------------------
// Row quantisers. Output is little-endian, as GGUF files are.

const fround = Math.fround;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function quantizeF32(x: Float32Array): Uint8Array {
  // A copy, so the result owns its bytes; GGUF is little-endian, like (almost) every host.
  if (LITTLE_ENDIAN) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength).slice();
  const out = new Uint8Array(x.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++) view.setFloat32(i * 4, x[i], true);
  return out;
}

function quantizeF16(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 2);
  for (let i = 0; i < x.length; i++) {
    const h = f32ToF16Bits(x[i]);
    out[i * 2] = h & 0xff;
    out[i * 2 + 1] = h >>> 8;
  }
  return out;
}

/** ggml quantize_row_q8_0_ref: d = amax/127, q = roundf(x/d) (half away from zero). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % QK8_0 !== 0) throw new RangeError(`Q8_0 needs a multiple of ${QK8_0} values, got ${x.length}`);
  const blocks = x.length / QK8_0;
  const out = new Uint8Array(blocks * GGML_BLOCK.Q8_0.bytes);
  for (let b = 0; b < blocks; b++) {
    const base = b * QK8_0;
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      const a = Math.abs(x[base + j]);
      if (a > amax) amax = a;
    }
    const d = fround(amax / 127);
    const id = d !== 0 ? fround(1 / d) : 0;
    const h = f32ToF16Bits(d);
    const o = b * GGML_BLOCK.Q8_0.bytes;
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < QK8_0; j++) {
      const v = fround(x[base + j] * id);
      const q = v < 0 ? -Math.round(-v) : Math.round(v); // roundf: halves away from zero
      out[o + 2 + j] = q & 0xff;
    }
  }
  return out;
}

/**
 * ggml quantize_row_q4_0_ref: d = max/-8 where max is the signed value of largest magnitude,
 * q = min(15, (int8)(x/d + 8.5)); byte j holds element j in its low nibble and j+16 in its high one.
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  if (x.length % QK4_0 !== 0) throw new RangeError(`Q4_0 needs a multiple of ${QK4_0} values, got ${x.length}`);
  const blocks = x.length / QK4_0;
  const out = new Uint8Array(blocks * GGML_BLOCK.Q4_0.bytes);
  const half = QK4_0 / 2;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK4_0;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4_0; j++) {
      const v = x[base + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d !== 0 ? fround(1 / d) : 0;
    const h = f32ToF16Bits(d);
    const o = b * GGML_BLOCK.Q4_0.bytes;
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < half; j++) {
      const x0 = fround(x[base + j] * id);
      const x1 = fround(x[base + half + j] * id);
      const q0 = Math.min(15, Math.trunc(fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(fround(x1 + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** Encode float32 values as `type`. Quantised types need a multiple of 32 values. */
export function quantize(x: Float32Array, type: GgmlTypeName): Uint8Array {
  switch (type) {
    case 'F32':
      return quantizeF32(x);
    case 'F16':
      return quantizeF16(x);
    case 'Q8_0':
      return quantizeQ8_0(x);
    case 'Q4_0':
      return quantizeQ4_0(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Dequantisers (ggml dequantize_row_*): what the engine computes with.

function readF16(bytes: Uint8Array, offset: number): number {
  return f16BitsToF32(bytes[offset] | (bytes[offset + 1] << 8));
}

/** Decode `count` values of `type` from `bytes`. */
export function dequantize(bytes: Uint8Array, type: GgmlTypeName, count: number): Float32Array {
  const needed = ggmlTensorBytes(type, [count]);
  if (bytes.length < needed) throw new RangeError(`${type}: ${count} values need ${needed} bytes, got ${bytes.length}`);
  const out = new Float32Array(count);
  switch (type) {
    case 'F32': {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = readF16(bytes, i * 2);
      return out;
    case 'Q8_0':
      for (let b = 0; b < count / QK8_0; b++) {
        const o = b * GGML_BLOCK.Q8_0.bytes;
        const d = readF16(bytes, o);
        for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = ((bytes[o + 2 + j] << 24) >> 24) * d;
      }
      return out;
    case 'Q4_0':
      for (let b = 0; b < count / QK4_0; b++) {
        const o = b * GGML_BLOCK.Q4_0.bytes;
        const d = readF16(bytes, o);
        for (let j = 0; j < QK4_0 / 2; j++) {
          const byte = bytes[o + 2 + j];
          out[b * QK4_0 + j] = ((byte & 0x0f) - 8) * d;
          out[b * QK4_0 + j + QK4_0 / 2] = ((byte >>> 4) - 8) * d;
        }
      }
      return out;
  }
}
