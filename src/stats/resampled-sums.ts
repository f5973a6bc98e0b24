// The paired latency bootstrap's inner work (stats/reduction.ts): per replicate, how often each pair was
// drawn, and each column of terms summed with those counts. Replicates are independent (mulberry32's state
// after k draws is seed + k x step, so a replicate's draws can start anywhere), so blocks of replicates are
// shared out between this thread and one helper thread; each sum is computed whole by one of them in the
// same order, so the figures are the same to the bit whoever computed them, and with or without the helper.
// The helper is waited on a slice at a time beside its heartbeat: one that dies or stalls mid-block loses
// the block to this thread.
import { Worker } from 'node:worker_threads';
import { seedState } from './prng.js';

/** Replicates whose draws are counted before their sums are taken (a block: 32 x 2 bytes per pair). */
const BLOCK = 32;
/** Pairs summed at a time: a tile of every column and of the block's counts stays in a core's cache. */
const TILE = 2048;
/** Below this many pair draws (n x resamples) a helper thread costs more than it saves. */
const PARALLEL_DRAWS = 1 << 24;
/** How long the helper may show no progress (no tile summed) before this thread takes its block back. */
const STALL_MS = 2000;
/** The longest single wait on a block's state before the heartbeat is looked at again. */
const WAIT_SLICE_MS = 50;

// The control array's slots, and a block's states.
const NEXT = 0, BEAT = 1, FIRST_STATE = 2;
const PENDING = 0, DONE_HERE = 1, GIVEN_BACK = 2, DONE_BY_HELPER = 3, TAKEN_BACK = 4, PUBLISHING = 5;

export interface ResampledSumsOptions {
  /** Counts above this are taken again with 32-bit counts (default 65,535). */
  narrowLimit?: number;
  /** false: no helper thread. */
  parallel?: boolean;
  /** Told how many blocks the helper summed and how many this thread took back from it. */
  counted?: { byHelper: number; takenBack?: number };
  /** No heartbeat from the helper for this long (ms) and its block is taken back (default 2,000). */
  stallMs?: number;
  /** Tests: the helper takes block 0, then exits (killed mid-block) or stalls (3 x stallMs) before summing it. */
  fault?: 'helper-exits' | 'helper-stalls';
}

/**
 * For each replicate (the draws of seededRandom(seed), n per replicate, as the other bootstraps), the sum
 * of each term column weighted by how often each pair was drawn: sums[r * terms.length + s] =
 * sum over i, in pair order, of count_r(i) x terms[s][i]. Each sum is one running total over the pairs
 * in order (the terms and their order of the plain loop, so the same number to the last bit); the work is
 * tiled so that a block of replicates reads a tile of the columns while it is in the cache, four
 * replicates at a time (the columns are read once per four, and eight running totals are in flight).
 * Counts are 16-bit (half the cache of 32): a block where a count would pass narrowLimit (65,535; only
 * when n does) is taken again with 32-bit counts. Large inputs share the blocks with a helper thread
 * (`parallel`: false keeps them on this thread); a helper killed or stuck mid-block costs stallMs, not a hang.
 */
export function resampledSums(terms: readonly Float64Array[], n: number, resamples: number, seed: number, o: ResampledSumsOptions = {}): Float64Array {
  const width = terms.length;
  const state = seedState(seed);
  const narrowLimit = o.narrowLimit ?? 0xffff;
  const blocks = Math.ceil(resamples / BLOCK);
  const shared = (o.parallel ?? true) && blocks > 1 && n * resamples >= PARALLEL_DRAWS && width > 0;
  const sums = new Float64Array(shared ? new SharedArrayBuffer(8 * resamples * width) : new ArrayBuffer(8 * resamples * width));
  let cols = terms;
  // control[NEXT]: the next block to take; control[BEAT]: the helper's heartbeat (one a tile);
  // control[FIRST_STATE + b]: block b's state (PENDING ... PUBLISHING below).
  const control = new Int32Array(shared ? new SharedArrayBuffer(4 * (FIRST_STATE + blocks)) : new ArrayBuffer(4 * (FIRST_STATE + blocks)));
  if (shared) {
    const buf = new SharedArrayBuffer(8 * width * n);
    cols = terms.map((t, s) => {
      const col = new Float64Array(buf, 8 * s * n, n);
      col.set(t);
      return col;
    });
    // A test's helper that dies: block 0 is left for it, so it is sure to hold one when it goes.
    if (o.fault) control[NEXT] = 1;
    startHelper({ buf, width, n, resamples, state, narrowLimit, sums: sums.buffer as SharedArrayBuffer, control: control.buffer as SharedArrayBuffer, fault: o.fault ?? null, stallMs: o.stallMs ?? STALL_MS });
  }
  const narrow = new Uint16Array(BLOCK * n);
  const local = new Float64Array(BLOCK * width);
  let wide: Uint32Array | null = null;
  const run = (b: number) => {
    if (!sumBlock(cols, n, state, b, resamples, local, narrow, n > narrowLimit ? narrowLimit : Infinity, null)) {
      sumBlock(cols, n, state, b, resamples, local, (wide ??= new Uint32Array(BLOCK * n)), Infinity, null);
    }
    const first = b * BLOCK;
    sums.set(local.subarray(0, (Math.min(resamples, first + BLOCK) - first) * width), first * width);
  };
  for (let b = Atomics.add(control, NEXT, 1); b < blocks; b = Atomics.add(control, NEXT, 1)) {
    run(b);
    Atomics.store(control, FIRST_STATE + b, DONE_HERE);
  }
  // Blocks the helper took: wait for each (it is summing it, or has given it back after a failure), a
  // slice at a time; a helper that shows no progress for stallMs (killed, or stuck) loses its block to
  // this thread, so nothing waits on a helper that is gone. Either thread's sums of a block are the same
  // bits, so a late helper that still publishes writes what is there already.
  const stallMs = o.stallMs ?? STALL_MS;
  let byHelper = 0, takenBack = 0;
  for (let b = 0; b < blocks; b++) {
    const at = FIRST_STATE + b;
    let beat = Atomics.load(control, BEAT), since = performance.now();
    for (;;) {
      const now = Atomics.load(control, at);
      if (now === DONE_HERE) break;
      if (now === DONE_BY_HELPER) {
        byHelper++;
        break;
      }
      if (now === GIVEN_BACK) {
        run(b);
        break;
      }
      Atomics.wait(control, at, now, WAIT_SLICE_MS);
      const latest = Atomics.load(control, BEAT);
      if (latest !== beat) {
        beat = latest;
        since = performance.now();
        continue;
      }
      if (performance.now() - since < stallMs) continue;
      // Pending: claimed here unless the helper has just started publishing (then wait on). Publishing
      // and stalled: the helper died mid-copy, and the block is summed again here.
      if (now === PENDING && Atomics.compareExchange(control, at, PENDING, TAKEN_BACK) !== PENDING) continue;
      run(b);
      takenBack++;
      break;
    }
  }
  if (o.counted) {
    o.counted.byHelper = byHelper;
    o.counted.takenBack = takenBack;
  }
  return sums;
}

/**
 * One block of replicates (b x BLOCK onwards; `state`: seedState(seed)) into out (replicate r of the
 * block at r x width), zeroed first; false when a count would pass `most` (the block is then to be taken
 * again with wider counts). `beat`: the helper's control array, whose heartbeat goes up a tile.
 * Self-contained (no imports, the PRNG step written out: prng.ts's nextState and stateOutput), because the
 * helper thread runs its source.
 */
function sumBlock(terms: readonly Float64Array[], n: number, state: number, b: number, resamples: number, out: Float64Array, counts: Uint16Array | Uint32Array, most: number, beat: Int32Array | null): boolean {
  const width = terms.length;
  const first = b * BLOCK;
  const block = Math.min(BLOCK, resamples - first);
  out.fill(0, 0, block * width);
  counts.fill(0, 0, block * n);
  // The start state (seedState(seed)) advanced by first x n draws: mulberry32 adds 0x6d2b79f5 a draw, mod 2^32.
  // The state is kept as an int32 (`| 0`: the same 32 bits as prng.ts's `>>> 0`, without leaving the
  // small-integer range), and (x / 2^32) x n as x x (n / 2^32): the same product scaled by a power of two,
  // so the same double and the same index.
  let a = (state + Math.imul((first * n) >>> 0, 0x6d2b79f5)) | 0;
  const scale = n / 4294967296;
  for (let r = 0; r < block; r++) {
    const base = r * n;
    for (let k = 0; k < n; k++) {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const j = base + Math.floor(((t ^ (t >>> 14)) >>> 0) * scale);
      const c = counts[j]!;
      if (c === most) return false;
      counts[j] = c + 1;
    }
  }
  for (let start = 0; start < n; start += TILE) {
    const end = Math.min(n, start + TILE);
    let r = 0;
    for (; r + 4 <= block; r += 4) {
      for (let s = 0; s < width; s += 2) sumFour(counts, r * n, n, terms[s]!, terms[s + 1]!, start, end, out, r * width + s, width);
    }
    for (; r < block; r++) {
      for (let s = 0; s < width; s += 2) sumOne(counts, r * n, terms[s]!, terms[s + 1]!, start, end, out, r * width + s);
    }
    if (beat) Atomics.add(beat, 1, 1);
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
  fault: ResampledSumsOptions['fault'] | null;
  stallMs: number;
}

/**
 * The helper thread: the kernel's own source (so it runs as written here, compiled or not), taking blocks
 * until none is left. Each block is summed into its own buffer and published only if this thread has not
 * taken it back (PENDING -> PUBLISHING -> DONE_BY_HELPER); a block it fails on is given back. If it never
 * starts, this thread takes every block.
 */
function startHelper(data: HelperData): void {
  const source = `
const { workerData: d } = require('node:worker_threads');
const BLOCK = ${BLOCK}, TILE = ${TILE}, NEXT = ${NEXT}, BEAT = ${BEAT}, FIRST_STATE = ${FIRST_STATE};
const PENDING = ${PENDING}, GIVEN_BACK = ${GIVEN_BACK}, DONE_BY_HELPER = ${DONE_BY_HELPER}, PUBLISHING = ${PUBLISHING};
${sumFour.toString()}
${sumOne.toString()}
${sumBlock.toString()}
const terms = Array.from({ length: d.width }, (_, s) => new Float64Array(d.buf, 8 * s * d.n, d.n));
const sums = new Float64Array(d.sums), control = new Int32Array(d.control);
const blocks = Math.ceil(d.resamples / BLOCK);
const narrow = new Uint16Array(BLOCK * d.n);
const local = new Float64Array(BLOCK * d.width);
let wide = null;
for (let b = d.fault ? 0 : Atomics.add(control, NEXT, 1); b < blocks; b = Atomics.add(control, NEXT, 1)) {
  if (d.fault === 'helper-exits') {
    Atomics.add(control, BEAT, 1);
    process.exit(1);
  }
  if (d.fault === 'helper-stalls' && b === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3 * d.stallMs);
  const at = FIRST_STATE + b;
  try {
    if (!sumBlock(terms, d.n, d.state, b, d.resamples, local, narrow, d.n > d.narrowLimit ? d.narrowLimit : Infinity, control)) {
      sumBlock(terms, d.n, d.state, b, d.resamples, local, (wide ??= new Uint32Array(BLOCK * d.n)), Infinity, control);
    }
    if (Atomics.compareExchange(control, at, PENDING, PUBLISHING) === PENDING) {
      const first = b * BLOCK;
      sums.set(local.subarray(0, (Math.min(d.resamples, first + BLOCK) - first) * d.width), first * d.width);
      Atomics.store(control, at, DONE_BY_HELPER);
    }
  } catch {
    Atomics.compareExchange(control, at, PENDING, GIVEN_BACK);
  }
  Atomics.notify(control, at);
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
