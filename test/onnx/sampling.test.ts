import { describe, expect, it } from 'vitest';
import { argmax, sampleToken, seededRng } from '../../src/runners/onnx-sampling.js';
import { IncrementalDetokenizer } from '../../src/runners/onnx-tokenizer.js';

const logits = Float32Array.from([1, 4, 3.5, -2, 0, 3.9]);

describe('sampleToken', () => {
  it('is greedy at temperature 0 and with topK 1', () => {
    const rand = seededRng(1);
    expect(sampleToken(logits, { temperature: 0, topP: 1 }, rand)).toBe(1);
    expect(sampleToken(logits, { temperature: 2, topP: 1, topK: 1 }, rand)).toBe(1);
    expect(argmax(logits)).toBe(1);
  });

  it('draws only inside top_k and the top_p nucleus', () => {
    const rand = seededRng(2);
    const seenK = new Set<number>();
    const seenP = new Set<number>();
    for (let i = 0; i < 400; i++) {
      seenK.add(sampleToken(logits, { temperature: 5, topP: 1, topK: 3 }, rand));
      // p(1) ~ 0.39, p(5) ~ 0.32, p(2) ~ 0.24 at temperature 1: top_p 0.6 keeps ids 1 and 5.
      seenP.add(sampleToken(logits, { temperature: 1, topP: 0.6 }, rand));
    }
    expect([...seenK].sort()).toEqual([1, 2, 5]);
    expect([...seenP].sort()).toEqual([1, 5]);
  });

  it('min_p drops tokens below a fraction of the best probability', () => {
    const rand = seededRng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 1, minP: 0.5 }, rand));
    expect([...seen].sort()).toEqual([1, 2, 5]);
  });

  it('follows the softmax distribution at temperature 1', () => {
    const two = Float32Array.from([0, Math.log(3)]); // p = 0.25, 0.75
    const rand = seededRng(4);
    let ones = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) ones += sampleToken(two, { temperature: 1, topP: 1 }, rand);
    expect(ones / n).toBeGreaterThan(0.72);
    expect(ones / n).toBeLessThan(0.78);
  });

  it('a seed reproduces the draws; another seed does not', () => {
    const draw = (seed: number) => {
      const r = seededRng(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 3, topP: 1 }, r));
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
  });
});

describe('IncrementalDetokenizer', () => {
  // A byte tokenizer: each id is one byte of UTF-8.
  const bytes = { decode: (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids)) };

  it('holds back a multi-byte character until its last byte arrives', () => {
    const d = new IncrementalDetokenizer(bytes);
    const out = [...Buffer.from('aé€b', 'utf8')].map((b) => d.push(b));
    expect(out).toEqual(['a', '', 'é', '', '', '€', 'b']);
    expect(out.join('') + d.flush()).toBe('aé€b');
  });

  it('flushes an unfinished character as U+FFFD at the end', () => {
    const d = new IncrementalDetokenizer(bytes);
    expect(d.push(0x61)).toBe('a');
    expect(d.push(0xe2)).toBe('');
    expect(d.flush()).toBe('\uFFFD');
  });
});
