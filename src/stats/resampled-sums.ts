// The paired latency bootstrap's inner work (stats/reduction.ts): per replicate, how often each pair was
// drawn, and each column of terms summed with those counts. Replicates are independent (mulberry32's state
// after k draws is seed + k x step, so a replicate's draws can start anywhere), so blocks of replicates are
// shared out between this thread and one helper thread; each sum is computed whole by one of them in the
// same order, so the figures are the same to the bit whoever computed them, and with or without the helper.
import { Worker } from 'node:worker_threads';
import { seedState } from './prng.js';

/** Replicates whose draws are counted before their sums are taken (a block: 32 x 2 bytes per pair). */
const BLOCK = 32;
/** Pairs summed at a time: a tile of every column and of the block's counts stays in a core's cache. */
const TILE = 2048;
/** Below this many pair draws (n x resamples) a helper thread costs more than it saves. */
const PARALLEL_DRAWS = 1 << 24;

/**
 * For each replicate (the draws of seededRandom(seed), n per replicate, as the other bootstraps), the sum
 * of each term column weighted by how often each pair was drawn: sums[r * terms.length + s] =
 * sum over i, in pair order, of count_r(i) x terms[s][i]. Each sum is one running total over the pairs
 * in order (the terms and their order of the plain loop, so the same number to the last bit); the work is
 * tiled so that a block of replicates reads a tile of the columns while it is in the cache, four
 * replicates at a time (the columns are read once per four, and eight running totals are in flight).
 * Counts are 16-bit (half the cache of 32): a block where a count would pass narrowLimit (65,535; only
 * when n does) is taken again with 32-bit counts. Large inputs share the blocks with a helper thread
 * (`parallel`: false keeps them on this thread; `counted` is told how many blocks it took).
 */
export function resampledSums(terms: readonly Float64Array[], n: number, resamples: number, seed: number, o: { narrowLimit?: number; parallel?: boolean; counted?: { byHelper: number } } = {}): Float64Array {
  const width = terms.length;
  const state = seedState(seed);
  const narrowLimit = o.narrowLimit ?? 0xffff;
  const blocks = Math.ceil(resamples / BLOCK);
  const shared = (o.parallel ?? true) && blocks > 1 && n * resamples >= PARALLEL_DRAWS && width > 0;
  const sums = new Float64Array(shared ? new SharedArrayBuffer(8 * resamples * width) : new ArrayBuffer(8 * resamples * width));
  let cols = terms;
  // control[0]: the next block to take; control[1 + b]: 0 pending, 1 done here, 2 given back by the helper,
  // 3 done by the helper.
  const control = new Int32Array(shared ? new SharedArrayBuffer(4 * (1 + blocks)) : new ArrayBuffer(4 * (1 + blocks)));
  if (shared) {
    const buf = new SharedArrayBuffer(8 * width * n);
    cols = terms.map((t, s) => {
      const col = new Float64Array(buf, 8 * s * n, n);
      col.set(t);
      return col;
    });
    startHelper({ buf, width, n, resamples, state, narrowLimit, sums: sums.buffer as SharedArrayBuffer, control: control.buffer as SharedArrayBuffer });
  }
  const narrow = new Uint16Array(BLOCK * n);
  let wide: Uint32Array | null = null;
  const run = (b: number) => {
    if (!sumBlock(cols, n, state, b, resamples, sums, narrow, n > narrowLimit ? narrowLimit : Infinity)) {
      sumBlock(cols, n, state, b, resamples, sums, (wide ??= new Uint32Array(BLOCK * n)), Infinity);
    }
  };
  for (let b = Atomics.add(control, 0, 1); b < blocks; b = Atomics.add(control, 0, 1)) {
    run(b);
    Atomics.store(control, 1 + b, 1);
  }
  // Blocks the helper took: wait for each (it is counting, or has given it back after a failure).
  let byHelper = 0;
  for (let b = 0; b < blocks; b++) {
    while (Atomics.load(control, 1 + b) === 0) Atomics.wait(control, 1 + b, 0);
    if (Atomics.load(control, 1 + b) === 2) run(b);
    else if (Atomics.load(control, 1 + b) === 3) byHelper++;
  }
  if (o.counted) o.counted.byHelper = byHelper;
  return sums;
}

/**
 * One block of replicates (b x BLOCK onwards; `state`: seedState(seed)) into sums, zeroed first; false when a count would pass `most`
 * (the block is then to be taken again with wider counts). Self-contained (no imports, the PRNG step
 * written out: prng.ts's nextState and stateOutput), because the helper thread runs its source.
 */
function sumBlock(terms: readonly Float64Array[], n: number, state: number, b: number, resamples: number, sums: Float64Array, counts: Uint16Array | Uint32Array, most: number): boolean {
  const width = terms.length;
  const first = b * BLOCK;
  const block = Math.min(BLOCK, resamples - first);
  sums.fill(0, first * width, (first + block) * width);
  counts.fill(0, 0, block * n);
  // The start state (seedState(seed)) advanced by first x n draws: mulberry32 adds 0x6d2b79f5 a draw, mod 2^32.
  let a = (state + Math.imul((first * n) >>> 0, 0x6d2b79f5)) >>> 0;
  for (let r = 0; r < block; r++) {
    const base = r * n;
    for (let k = 0; k < n; k++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const j = base + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
      if (counts[j] === most) return false;
      counts[j]!++;
    }
  }
  for (let start = 0; start < n; start += TILE) {
    const end = Math.min(n, start + TILE);
    let r = 0;
    for (; r + 4 <= block; r += 4) {
      for (let s = 0; s < width; s += 2) sumFour(counts, r * n, n, terms[s]!, terms[s + 1]!, start, end, sums, (first + r) * width + s, width);
    }
    for (; r < block; r++) {
      for (let s = 0; s < width; s += 2) sumOne(counts, r * n, terms[s]!, terms[s + 1]!, start, end, sums, (first + r) * width + s);
    }
  }
  return true;
}

/** Four replicates' running totals of x and y over pairs start..end (counts at o, o + n, o + 2n, o + 3n). */
function sumFour(counts: Uint16Array | Uint32Array, o: number, n: number, x: Float64Array, y: Float64Array, start: number, end: number, sums: Float64Array, at: number, width: number): void {
  const o1 = o + n, o2 = o1 + n, o3 = o2 + n;
  let x0 = sums[at]!, y0 = sums[at + 1]!;
  let x1 = sums[at + width]!, y1 = sums[at + width + 1]!;
  let x2 = sums[at + 2 * width]!, y2 = sums[at + 2 * width + 1]!;
  let x3 = sums[at + 3 * width]!, y3 = sums[at + 3 * width + 1]!;
  for (let i = start; i < end; i++) {
    const xi = x[i]!, yi = y[i]!;
    const c0 = counts[o + i]!, c1 = counts[o1 + i]!, c2 = counts[o2 + i]!, c3 = counts[o3 + i]!;
    x0 += c0 * xi;
    y0 += c0 * yi;
    x1 += c1 * xi;
    y1 += c1 * yi;
    x2 += c2 * xi;
    y2 += c2 * yi;
    x3 += c3 * xi;
    y3 += c3 * yi;
  }
  sums[at] = x0;
  sums[at + 1] = y0;
  sums[at + width] = x1;
  sums[at + width + 1] = y1;
  sums[at + 2 * width] = x2;
  sums[at + 2 * width + 1] = y2;
  sums[at + 3 * width] = x3;
  sums[at + 3 * width + 1] = y3;
}

/** One replicate's running totals of x and y over pairs start..end. */
function sumOne(counts: Uint16Array | Uint32Array, o: number, x: Float64Array, y: Float64Array, start: number, end: number, sums: Float64Array, at: number): void {
  let sx = sums[at]!, sy = sums[at + 1]!;
  for (let i = start; i < end; i++) {
    const c = counts[o + i]!;
    sx += c * x[i]!;
    sy += c * y[i]!;
  }
  sums[at] = sx;
  sums[at + 1] = sy;
}

interface HelperData {
  buf: SharedArrayBuffer;
  width: number;
  n: number;
  resamples: number;
  /** seedState(seed). */
  state: number;
  narrowLimit: number;
  sums: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/**
 * The helper thread: the kernel's own source (so it runs as written here, compiled or not), taking blocks
 * until none is left. A block it fails on is given back (2); if it never starts, this thread takes every
 * block, so nothing waits on a helper that is not there.
 */
function startHelper(data: HelperData): void {
  const source = `
const { workerData: d } = require('node:worker_threads');
const BLOCK = ${BLOCK}, TILE = ${TILE};
${sumFour.toString()}
${sumOne.toString()}
${sumBlock.toString()}
const terms = Array.from({ length: d.width }, (_, s) => new Float64Array(d.buf, 8 * s * d.n, d.n));
const sums = new Float64Array(d.sums), control = new Int32Array(d.control);
const blocks = Math.ceil(d.resamples / BLOCK);
const narrow = new Uint16Array(BLOCK * d.n);
let wide = null;
for (let b = Atomics.add(control, 0, 1); b < blocks; b = Atomics.add(control, 0, 1)) {
  let state = 3;
  try {
    if (!sumBlock(terms, d.n, d.state, b, d.resamples, sums, narrow, d.n > d.narrowLimit ? d.narrowLimit : Infinity)) {
      sumBlock(terms, d.n, d.state, b, d.resamples, sums, (wide ??= new Uint32Array(BLOCK * d.n)), Infinity);
    }
  } catch {
    state = 2;
  }
  Atomics.store(control, 1 + b, state);
  Atomics.notify(control, 1 + b);
}
`;
  try {
    const worker = new Worker(source, { eval: true, workerData: data });
    worker.on('error', () => {});
    worker.unref();
  } catch {
    // No helper thread here: this thread takes every block.
  }
}
