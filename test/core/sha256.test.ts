// The one-call sha256 (crypto.hash where Node has it) gives createHash's digest, so per-request seeds stay
// what they were: any text, ASCII or not, the empty one.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Bytes, sha256Hex } from '../../src/core/sha256.js';
import { itemSeed } from '../../src/run/run.js';

const reference = (text: string) => createHash('sha256').update(text).digest();

describe('sha256Hex / sha256Bytes', () => {
  it('equal createHash on any text', () => {
    for (const t of ['', 'abc', 'é∑ 😀', 'x'.repeat(100_000)]) {
      expect(sha256Hex(t)).toBe(reference(t).toString('hex'));
      expect(sha256Bytes(t).equals(reference(t))).toBe(true);
    }
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (t) => sha256Hex(t) === reference(t).toString('hex') && sha256Bytes(t).equals(reference(t))), { numRuns: 500 });
  });

  it('keep per-item seeds as createHash made them', () => {
    fc.assert(fc.property(fc.integer(), fc.string(), fc.nat(20), (seed, id, sample) =>
      itemSeed(seed, id, sample) === (reference(`${seed}:${id}:${sample}`).readUInt32LE(0) & 0x7fffffff)), { numRuns: 300 });
  });
});
