import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dequantize,
  f16BitsToF32,
  f32ToF16Bits,
  ggmlTensorBytes,
  GgmlType,
  quantize,
  roundToF16,
} from '../../src/models/quantize.js';

/** A deterministic spread of values with some blocks of very different scales. */
function sampleValues(count: number, seed: number): Float32Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const scale = [1e-3, 0.02, 1, 50][Math.floor(i / 32) % 4];
    out[i] = (rand() * 2 - 1) * scale;
  }
  return out;
}

describe('GGML type ids and sizes', () => {
  it('uses ggml type ids and block sizes', () => {
    expect(GgmlType).toEqual({ F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 });
    expect(ggmlTensorBytes('F32', [64, 3])).toBe(64 * 3 * 4);
    expect(ggmlTensorBytes('F16', [64, 3])).toBe(64 * 3 * 2);
    expect(ggmlTensorBytes('Q8_0', [64, 3])).toBe(2 * 3 * 34);
    expect(ggmlTensorBytes('Q4_0', [64, 3])).toBe(2 * 3 * 18);
  });

  it('refuses quantised rows that are not whole blocks', () => {
    expect(() => ggmlTensorBytes('Q4_0', [48, 2])).toThrow(/multiple of 32/);
    expect(() => quantize(new Float32Array(40), 'Q8_0')).toThrow(/multiple of 32/);
  });
});

describe('F16', () => {
  it('encodes special and boundary values exactly', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [1 / 3, 0x3555],
      [65504, 0x7bff], // largest finite half
      [65519, 0x7bff], // just below the rounding midpoint to Inf
      [65520, 0x7c00], // midpoint rounds (to even) to Inf
      [1e6, 0x7c00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: to even (0)
      [1.5 * 2 ** -25, 0x0001],
      [1 + 2 ** -11, 0x3c00], // tie: to even
      [1 + 3 * 2 ** -11, 0x3c02], // tie: to even (up)
      [-(1 + 2 ** -10), 0xbc01],
    ];
    for (const [value, bits] of cases) {
      expect(f32ToF16Bits(value), `f32ToF16Bits(${value})`).toBe(bits);
    }
    const nan = f32ToF16Bits(NaN);
    expect((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0).toBe(true);
    expect(Number.isNaN(f16BitsToF32(nan))).toBe(true);
  });

  it('round-trips every non-NaN half bit pattern', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (!isNaN && f32ToF16Bits(f16BitsToF32(h)) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
  });

  it('rounds every float to the nearest half', () => {
    fc.assert(
      fc.property(fc.float({ min: -65000, max: 65000, noNaN: true }), (x) => {
        const bits = f32ToF16Bits(x);
        const r = f16BitsToF32(bits);
        // The neighbours of r in the half grid cannot be closer to x.
        for (const n of [bits - 1, bits + 1]) {
          if (n < 0 || (n & 0x7fff) >= 0x7c00 || ((n ^ bits) & 0x8000) !== 0) continue;
          expect(Math.abs(x - r)).toBeLessThanOrEqual(Math.abs(x - f16BitsToF32(n)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes tensors little-endian, two bytes per value', () => {
    const bytes = quantize(new Float32Array([1, -2]), 'F16');
    expect([...bytes]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect([...dequantize(bytes, 'F16', 2)]).toEqual([1, -2]);
  });
});

describe('Q8_0', () => {
  it('lays out one hand-computed block as ggml does', () => {
    // amax = 127 so d = 1 exactly: q = roundf(x), halves rounding away from zero.
    const x = new Float32Array(32);
    x.set([127, -127, 2.5, -2.5, 0.49, -0.5, 1.5, 0, 3.2, -100.7]);
    const bytes = quantize(x, 'Q8_0');
    expect(bytes.length).toBe(34);
    expect([bytes[0], bytes[1]]).toEqual([0x00, 0x3c]); // d = 1.0 as F16, little-endian
    const q = [...bytes.subarray(2)].map((b) => (b << 24) >> 24);
    expect(q.slice(0, 10)).toEqual([127, -127, 3, -3, 0, -1, 2, 0, 3, -101]);
    expect(q.slice(10).every((v) => v === 0)).toBe(true);
  });

  it('stays within d/2 plus the scale rounding of every element', () => {
    const x = sampleValues(32 * 64, 7);
    const y = dequantize(quantize(x, 'Q8_0'), 'Q8_0', x.length);
    for (let b = 0; b < x.length / 32; b++) {
      const block = x.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...block.map(Math.abs));
      const d = amax / 127;
      const d16 = roundToF16(d);
      const bound = d / 2 + 127 * Math.abs(d - d16) + amax * 1e-6;
      for (let j = 0; j < 32; j++) expect(Math.abs(block[j] - y[b * 32 + j])).toBeLessThanOrEqual(bound);
    }
  });

  it('quantises an all-zero block to zeros', () => {
    const bytes = quantize(new Float32Array(32), 'Q8_0');
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(dequantize(bytes, 'Q8_0', 32).every((v) => v === 0)).toBe(true);
  });
});

describe('Q4_0', () => {
  it('lays out one hand-computed block as quantize_row_q4_0_ref does', () => {
    // The value of largest magnitude is -8, so d = max / -8 = 1: q = min(15, trunc(x + 8.5)).
    const x = new Float32Array(32);
    x.set([-8, 7, 7.6, 0, -0.5, 0.5, -3.2, 2.49], 0); // elements 0..7: low nibbles
    x.set([1, -1, 6.5, -7.5], 16); // elements 16..19: high nibbles
    const expectedQ = new Array(32).fill(8); // x = 0 -> 8
    [0, 15, 15, 8, 8, 9, 5, 10].forEach((q, j) => (expectedQ[j] = q)); // 7.6 -> 16 clamps to 15
    [9, 7, 15, 1].forEach((q, j) => (expectedQ[16 + j] = q));
    const bytes = quantize(x, 'Q4_0');
    expect(bytes.length).toBe(18);
    expect([bytes[0], bytes[1]]).toEqual([0x00, 0x3c]); // d = 1.0
    const expectedBytes = Array.from({ length: 16 }, (_, j) => expectedQ[j] | (expectedQ[j + 16] << 4));
    expect([...bytes.subarray(2)]).toEqual(expectedBytes);
    // Dequantised: (q - 8) * d.
    const y = dequantize(bytes, 'Q4_0', 32);
    expect(y[0]).toBe(-8);
    expect(y[2]).toBe(7); // clamped
    expect(y[16]).toBe(1);
    expect(y[18]).toBe(7);
  });

  it('takes the scale from the signed value of largest magnitude', () => {
    // Largest magnitude is +8: d = -1, so +8 maps to q = 0 and -7 to q = 15.
    const x = new Float32Array(32);
    x[0] = 8;
    x[1] = -7;
    const bytes = quantize(x, 'Q4_0');
    expect([bytes[0], bytes[1]]).toEqual([0x00, 0xbc]); // -1.0 as F16
    expect(bytes[2] & 0x0f).toBe(0);
    expect(bytes[3] & 0x0f).toBe(15);
    const y = dequantize(bytes, 'Q4_0', 32);
    expect(y[0]).toBe(8);
    expect(y[1]).toBe(-7);
  });

  it('stays within |d|/2 (|d| where it clamps at 15) plus the scale rounding', () => {
    const x = sampleValues(32 * 64, 11);
    const y = dequantize(quantize(x, 'Q4_0'), 'Q4_0', x.length);
    let clamped = 0;
    for (let b = 0; b < x.length / 32; b++) {
      const block = x.subarray(b * 32, b * 32 + 32);
      let max = 0;
      for (const v of block) if (Math.abs(v) > Math.abs(max)) max = v;
      const d = max / -8;
      const scaleSlack = 8 * Math.abs(d - roundToF16(d)) + Math.abs(max) * 1e-6;
      for (let j = 0; j < 32; j++) {
        const clamps = block[j] / d + 8.5 >= 16;
        if (clamps) clamped++;
        const bound = Math.abs(d) * (clamps ? 1 : 0.5) + scaleSlack;
        expect(Math.abs(block[j] - y[b * 32 + j])).toBeLessThanOrEqual(bound);
      }
    }
    expect(clamped, "the sample should exercise the clamp at 15").toBeGreaterThan(0);
  });
});
