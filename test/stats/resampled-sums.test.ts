// The blocked, tiled sums of the paired latency bootstrap (stats/reduction.ts) against the plain loop they
// replaced: per replicate, count the draws, then one running total per column in pair order. Same draws,
// same terms, same order: the same numbers to the last bit, whatever the block, tile and remainder sizes.
import { describe, expect, it } from 'vitest';
import { latencyReductionsPaired } from '../../src/stats/reduction.js';
import { resampledSums } from '../../src/stats/resampled-sums.js';
import { seededRandom } from '../../src/stats/prng.js';
import { percentileInterval } from '../../src/stats/bootstrap.js';

/** The loop before blocking: Float64 counts per replicate, then each column summed as count x term. */
function plainSums(terms: Float64Array[], n: number, resamples: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(resamples * terms.length);
  const counts = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[Math.floor(random() * n)]!++;
    terms.forEach((col, s) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += counts[i]! * col[i]!;
      out[r * terms.length + s] = sum;
    });
  }
  return out;
}

const column = (n: number, k: number) => Float64Array.from({ length: n }, (_, i) => (i % 7 === k % 7 ? 0 : ((i * 7919 + k * 31) % 997) / 7.3 + 0.01 * k));

describe('resampled sums: blocked and tiled, bit-identical to the plain loop', () => {
  // n across the tile size (2,048) and resamples across the block (32) and the group of four.
  for (const [n, resamples] of [[1, 5], [37, 3], [2048, 33], [2049, 70], [5001, 37]] as const) {
    it(`n ${n}, ${resamples} resamples, 6 columns`, () => {
      const terms = [0, 1, 2, 3, 4, 5].map((k) => column(n, k));
      expect(resampledSums(terms, n, resamples, 42)).toStrictEqual(plainSums(terms, n, resamples, 42));
    });
  }

  it('a count past the narrow counts\' limit: taken again with wide counts, still the same figures', () => {
    const n = 300, terms = [column(n, 1), column(n, 2)];
    // With a limit of 2, some pair is drawn a third time in the first replicate of 300 draws.
    expect(resampledSums(terms, n, 40, 7, { narrowLimit: 2 })).toStrictEqual(plainSums(terms, n, 40, 7));
  });

  it('latency reductions through it: the figures of count x term sums in pair order', () => {
    const n = 3000, resamples = 101;
    const b = Array.from(column(n, 3)), c = Array.from(column(n, 4)).map((x) => x * 0.9);
    const wb = b.map((_, i) => (i % 5 === 0 ? 0 : 1 + (i % 11))), wc = c.map((_, i) => (i % 5 === 0 ? 0 : 2 + (i % 5)));
    const got = latencyReductionsPaired([{ baseline: { values: b }, compressed: { values: c } }, { baseline: { values: b, weights: wb }, compressed: { values: c, weights: wc } }], { seed: 9, resamples });
    const vw = (v: number[], w: number[]) => Float64Array.from(v, (x, i) => (w[i] === 0 ? 0 : x * w[i]!));
    const sums = plainSums([Float64Array.from(b), Float64Array.from(c), vw(b, wb), vw(c, wc), Float64Array.from(wb), Float64Array.from(wc)], n, resamples, 9);
    const reps = (m: number) => Array.from({ length: resamples }, (_, r) => {
      const t = sums.subarray(r * 6, r * 6 + 6);
      return m === 0 ? 1 - (t[1]! / n) / (t[0]! / n) : 1 - (t[3]! / t[5]!) / (t[2]! / t[4]!);
    });
    for (const m of [0, 1]) expect(got[m]).toStrictEqual(percentileInterval(got[m]!.estimate, reps(m), 0.95));
  });
});

describe('repeated columns summed once', () => {
  it('a figure whose columns repeat another\'s (TTFO = TTFT), and an odd number left: the figures of each figure alone', () => {
    const n = 2500, resamples = 67;
    const b = Array.from(column(n, 1)), c = Array.from(column(n, 2)), d = Array.from(column(n, 3));
    const a = { baseline: { values: b }, compressed: { values: c } };
    const same = { baseline: { values: [...b] }, compressed: { values: [...b] } };
    const other = { baseline: { values: [...c] }, compressed: { values: d } };
    const together = latencyReductionsPaired([a, same, other], { seed: 4, resamples });
    const alone = [a, same, other].map((s) => latencyReductionsPaired([s], { seed: 4, resamples })[0]);
    expect(together).toStrictEqual(alone);
  });
});

describe('resampled sums shared with a helper thread', () => {
  it('blocks taken by the helper give the figures of this thread alone, to the bit', () => {
    // 10,000 pairs x 2,000 resamples: above the size where the helper thread is used.
    const n = 10_000, resamples = 2000, terms = [column(n, 1), column(n, 2)];
    const counted = { byHelper: -1 };
    const shared = resampledSums(terms, n, resamples, 3, { counted });
    const alone = resampledSums(terms, n, resamples, 3, { parallel: false });
    expect(Array.from(shared)).toStrictEqual(Array.from(alone));
    // The blocks were shared out (this thread takes them all if the helper is slow to start: then 0).
    expect(counted.byHelper).toBeGreaterThanOrEqual(0);
    expect(counted.byHelper).toBeLessThanOrEqual(Math.ceil(resamples / 32));
    expect(Array.from(alone.subarray(0, 4 * terms.length))).toStrictEqual(Array.from(plainSums(terms, n, 4, 3)));
  });
});

describe('a helper thread that dies or stalls mid-block', () => {
  // Above the helper's threshold; the fault leaves block 0 to the helper, so it surely holds a block.
  const n = 10_000, resamples = 2000, terms = [column(n, 1), column(n, 2), column(n, 5), column(n, 6)];
  const alone = resampledSums(terms, n, resamples, 5, { parallel: false });

  it('killed after taking a block: this thread takes it back after the stall time, the same figures to the bit', () => {
    const counted = { byHelper: -1, takenBack: -1 };
    const got = resampledSums(terms, n, resamples, 5, { fault: 'helper-exits', stallMs: 200, counted });
    expect(counted.takenBack).toBe(1);
    expect(counted.byHelper).toBe(0);
    expect(Array.from(got)).toStrictEqual(Array.from(alone));
  });

  it('stuck, then publishing late: the figures are the same whichever thread summed the block', () => {
    const counted = { byHelper: -1, takenBack: -1 };
    const got = resampledSums(terms, n, resamples, 5, { fault: 'helper-stalls', stallMs: 100, counted });
    expect(counted.takenBack! + counted.byHelper).toBeGreaterThanOrEqual(1);
    expect(Array.from(got)).toStrictEqual(Array.from(alone));
  });
});
