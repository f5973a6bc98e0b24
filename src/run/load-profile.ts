// Load profiles for a run: sequential (batch size 1, the paper's latency), a fixed number of requests in
// flight (continuous batching), or a request rate with Poisson/gamma arrivals as in vLLM `bench serve`
// (gamma shape = burstiness, mean gap 1/rate, seeded, rescaled so the last arrival lands on n/rate).
// Time waiting for a client slot is recorded as queueMs, apart from the request's own latency
// [vllm#54101]; warm-up tasks run first, one at a time, and are left out of the measured duration.
import { seededRandom } from '../stats/prng.js';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';

export type LoadProfile =
  | { kind: 'sequential' }
  | { kind: 'concurrency'; n: number }
  /** `maxConcurrency` caps requests in flight (vLLM --max-concurrency); unlimited when absent. */
  | { kind: 'rate'; perSecond: number; burstiness?: number; seed: number; maxConcurrency?: number };

export interface LoadOptions {
  /** The first `warmup` tasks are warm-up: run before the measured part, one at a time. */
  warmup?: number;
  /** Stops launching tasks; tasks in flight get the signal too. Unstarted tasks come back as skipped. */
  signal?: AbortSignal;
  /** Called as each task ends (progress bars, journals). */
  onSettled?: (r: LoadTaskResult<unknown>) => void;
  /** For tests: the clock and the arrival timer (default performance.now and setTimeout). */
  clock?: { now(): number; sleep(ms: number, signal: AbortSignal): Promise<void> };
  /**
   * Keep every task's result in `results` (default true). A long run passes false: its results go to
   * onSettled and are not held (100,000 of them were most of a run's memory); warm-up results and the
   * first measured task that threw are kept either way.
   */
  keepResults?: boolean;
}

/** One task: started with the run's abort signal. */
export type LoadTask<T> = (signal: AbortSignal) => Promise<T>;

/**
 * The tasks, asked for one at a time as each is started (an array is one): a run of 100,000 items builds
 * each task when its turn comes instead of 100,000 closures up front.
 */
export interface LoadTaskList<T> {
  readonly length: number;
  at(index: number): LoadTask<T> | undefined;
}

export interface LoadTaskResult<T> {
  index: number;
  warmup: boolean;
  /** ms from the measured start (warm-up: from the warm-up start): when the task was due. */
  arrivalMs: number;
  /** When it got a client slot and started. */
  startMs: number;
  endMs: number;
  /** startMs - arrivalMs: waiting for a slot (and timer lag), not latency. */
  queueMs: number;
  latencyMs: number;
  status: 'ok' | 'error' | 'skipped';
  value?: T;
  error?: unknown;
}

export interface LoadRunResult<T> {
  /** In task order, warm-up tasks included (flagged); empty when keepResults is false. */
  results: Array<LoadTaskResult<T>>;
  /** The warm-up tasks' results, in order (always kept). */
  warmupResults: Array<LoadTaskResult<T>>;
  /** The first measured task that threw, if any (always kept). */
  firstError: LoadTaskResult<T> | null;
  /** From the first measured start to the last measured end (warm-up excluded). */
  durationMs: number;
  /** performance.now() of the measured start, to align with other clocks. */
  t0: number;
  completed: number;
  failed: number;
  skipped: number;
  aborted: boolean;
}

/** A small seeded generator (sfc32): the same seed gives the same arrivals on every machine. */

function standardNormal(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Gamma(shape, scale) by Marsaglia-Tsang; shape < 1 via the U^(1/shape) boost. */
export function sampleGamma(shape: number, scale: number, rand: () => number): number {
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rand();
    return sampleGamma(shape + 1, scale, rand) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = standardNormal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v * scale;
  }
}

/**
 * Arrival offsets (ms from the start) for `n` requests at `perSecond`, vLLM's way: gaps from
 * Gamma(burstiness, 1/(rate*burstiness)) (burstiness 1 = Poisson), summed, then rescaled so the last
 * arrival is at n/rate. Infinity rate: all at 0. Infinity burstiness: evenly spaced.
 */
export function arrivalTimes(n: number, perSecond: number, burstiness: number, seed: number): number[] {
  if (!(perSecond > 0)) throw new RangeError(`request rate must be > 0, got ${perSecond}`);
  if (!(burstiness > 0)) throw new RangeError(`burstiness must be > 0, got ${burstiness}`);
  if (n === 0) return [];
  if (perSecond === Infinity) return new Array<number>(n).fill(0);
  const rand = seededRandom(seed);
  const gaps = Array.from({ length: n }, () =>
    burstiness === Infinity ? 1 / perSecond : sampleGamma(burstiness, 1 / (perSecond * burstiness), rand));
  const cum: number[] = [];
  let s = 0;
  for (const g of gaps) cum.push((s += g));
  const factor = n / perSecond / cum[n - 1]!;
  return cum.map((t) => t * factor * 1000);
}

export async function runWithLoad<T>(
  tasks: LoadTaskList<T>,
  profile: LoadProfile,
  opts: LoadOptions = {},
): Promise<LoadRunResult<T>> {
  const now = opts.clock ? () => opts.clock!.now() : () => performance.now();
  const sleep = opts.clock ? (ms: number, sig: AbortSignal) => opts.clock!.sleep(ms, sig) : sleepUntil;
  const warmup = Math.min(Math.max(0, opts.warmup ?? 0), tasks.length);
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const keep = opts.keepResults !== false;
  const results: Array<LoadTaskResult<T>> = keep ? new Array(tasks.length) : [];
  const warmupResults: Array<LoadTaskResult<T>> = [];
  let firstError: LoadTaskResult<T> | null = null;
  // Running figures over the measured tasks: nothing per task is needed to report them.
  let first = Infinity;
  let last = -Infinity;
  let completed = 0;
  let failed = 0;
  let skippedCount = 0;
  const settle = (r: LoadTaskResult<T>): void => {
    if (keep) results[r.index] = r;
    if (r.warmup) warmupResults.push(r);
    if (r.status === 'skipped') {
      skippedCount++;
      return;
    }
    if (r.warmup) return;
    if (r.startMs < first) first = r.startMs;
    if (r.endMs > last) last = r.endMs;
    if (r.status === 'ok') completed++;
    else {
      failed++;
      firstError ??= r;
    }
  };

  const skipped = (index: number, isWarm: boolean, arrivalMs: number): LoadTaskResult<T> => ({
    index, warmup: isWarm, arrivalMs, startMs: arrivalMs, endMs: arrivalMs, queueMs: 0, latencyMs: 0, status: 'skipped',
  });

  /** One task on the clock of `base`; a task that finds the run aborted when its turn comes is skipped. */
  const measureOne = async (index: number, base: number, arrivalMs: number, isWarm: boolean): Promise<void> => {
    if (signal.aborted) {
      settle(skipped(index, isWarm, arrivalMs));
      return;
    }
    const start = now() - base;
    let r: LoadTaskResult<T>;
    try {
      const value = await tasks.at(index)!(signal);
      const end = now() - base;
      r = { index, warmup: isWarm, arrivalMs, startMs: start, endMs: end, queueMs: Math.max(0, start - arrivalMs), latencyMs: end - start, status: 'ok', value };
    } catch (error) {
      const end = now() - base;
      r = { index, warmup: isWarm, arrivalMs, startMs: start, endMs: end, queueMs: Math.max(0, start - arrivalMs), latencyMs: end - start, status: 'error', error };
    }
    settle(r);
    opts.onSettled?.(r as LoadTaskResult<unknown>);
  };

  try {
    // Warm-up: one at a time, on its own clock.
    const warmBase = now();
    for (let i = 0; i < warmup; i++) await measureOne(i, warmBase, now() - warmBase, true);

    const measured = tasks.length - warmup;
    const limit =
      profile.kind === 'sequential' ? 1
        : profile.kind === 'concurrency' ? checkN(profile.n)
          : profile.maxConcurrency !== undefined ? checkN(profile.maxConcurrency) : Infinity;
    // The client's slots (FIFO). An abort empties the queue at once: those tasks come back skipped.
    const slots = pLimit({ concurrency: limit, rejectOnClear: true });
    signal.addEventListener('abort', () => slots.clearQueue(), { once: true });
    const t0 = now();
    const inSlot = (i: number, due: number): Promise<void> =>
      slots(() => measureOne(i, t0, due, false)).catch((e: unknown) => {
        if (!(e instanceof DOMException && e.name === 'AbortError')) throw e;
        settle(skipped(i, false, due));
      });
    if (profile.kind === 'rate') {
      // Only the tasks still going (or queued for a slot) are held: a finished one leaves the set.
      const running = new Set<Promise<void>>();
      const offsets = arrivalTimes(measured, profile.perSecond, profile.burstiness ?? 1, profile.seed);
      for (let k = 0; k < measured; k++) {
        const i = warmup + k;
        const due = offsets[k]!;
        const wait = due - (now() - t0);
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) {
          settle(skipped(i, false, due));
          continue;
        }
        const p = inSlot(i, due).finally(() => running.delete(p));
        running.add(p);
      }
      await Promise.all(running);
    } else {
      // Closed loop: every request is due at t0; queueMs is the wait for one of the client's slots. `limit`
      // lanes take the tasks in order, so at most `limit` exist at once (not one pending promise per task).
      let next = warmup;
      const lane = async (): Promise<void> => {
        while (next < tasks.length) await measureOne(next++, t0, 0, false);
      };
      await Promise.all(Array.from({ length: Math.min(limit, measured) }, lane));
    }

    return {
      results,
      warmupResults,
      firstError,
      durationMs: completed + failed > 0 ? last - first : 0,
      t0,
      completed,
      failed,
      skipped: skippedCount,
      aborted: signal.aborted,
    };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function checkN(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${n}`);
  return n;
}

function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
