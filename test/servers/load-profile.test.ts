// Load profiles: slot limits, queue time apart from latency, warm-up excluded, seeded gamma arrivals.
import { describe, expect, it } from 'vitest';
import { arrivalTimes, runWithLoad, sampleGamma } from '../../src/run/load-profile.js';
import { seededRandom } from '../../src/stats/prng.js';

/** Tasks that end when the test says so, recording how many run at once. */
function gatedTasks(n: number) {
  let running = 0;
  let maxRunning = 0;
  const gates: Array<() => void> = [];
  const started: number[] = [];
  const tasks = Array.from({ length: n }, (_, i) => async () => {
    started.push(i);
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise<void>((r) => (gates[i] = r));
    running--;
    return i;
  });
  return { tasks, gates, started, get maxRunning() { return maxRunning; } };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('runWithLoad', () => {
  it('concurrency n keeps n in flight; queue time is the wait for a slot, not latency', async () => {
    const g = gatedTasks(6);
    const run = runWithLoad(g.tasks, { kind: 'concurrency', n: 2 });
    await tick();
    expect(g.started).toEqual([0, 1]);
    g.gates[0]!();
    await tick();
    expect(g.started).toEqual([0, 1, 2]);
    for (const i of [1, 2, 3, 4, 5]) {
      await tick();
      g.gates[i]?.();
    }
    await tick();
    for (const i of [3, 4, 5]) g.gates[i]?.();
    const r = await run;
    expect(g.maxRunning).toBe(2);
    expect(r.completed).toBe(6);
    expect(r.results.map((x) => x.value)).toEqual([0, 1, 2, 3, 4, 5]);
    const third = r.results[2]!;
    expect(third.queueMs).toBeCloseTo(third.startMs - third.arrivalMs, 9);
    expect(third.queueMs).toBeGreaterThanOrEqual(r.results[0]!.latencyMs - 1);
    expect(third.latencyMs).toBeCloseTo(third.endMs - third.startMs, 9);
  });

  it('sequential runs one at a time; warm-up tasks run first and are excluded from the duration', async () => {
    const order: string[] = [];
    const tasks = Array.from({ length: 4 }, (_, i) => async () => {
      order.push(`start${i}`);
      await tick();
      order.push(`end${i}`);
      if (i === 3) throw new Error('boom');
      return i;
    });
    const r = await runWithLoad(tasks, { kind: 'sequential' }, { warmup: 1 });
    expect(order).toEqual(['start0', 'end0', 'start1', 'end1', 'start2', 'end2', 'start3', 'end3']);
    expect(r.results[0]!.warmup).toBe(true);
    expect(r.results.slice(1).every((x) => !x.warmup)).toBe(true);
    expect(r.completed).toBe(2);
    expect(r.failed).toBe(1);
    expect(r.results[3]!.error).toBeInstanceOf(Error);
    const measured = r.results.slice(1);
    expect(r.durationMs).toBeCloseTo(Math.max(...measured.map((x) => x.endMs)) - Math.min(...measured.map((x) => x.startMs)), 9);
  });

  it('keepResults false holds no task result: counts, the warm-up results and the first failure only', async () => {
    const made: number[] = [];
    // A task list that makes each task when asked (a long run does not build them up front).
    const tasks = {
      length: 5,
      at: (i: number) => {
        made.push(i);
        return async () => {
          await tick();
          if (i === 3) throw new Error(`boom ${i}`);
          return i;
        };
      },
    };
    const settled: number[] = [];
    const r = await runWithLoad(tasks, { kind: 'concurrency', n: 2 }, { warmup: 1, keepResults: false, onSettled: (t) => settled.push(t.index) });
    expect(r.results).toEqual([]);
    expect(r.warmupResults.map((x) => [x.index, x.status])).toEqual([[0, 'ok']]);
    expect(r.firstError?.index).toBe(3);
    expect(r.completed).toBe(3);
    expect(r.failed).toBe(1);
    expect(made).toEqual([0, 1, 2, 3, 4]);
    expect(settled.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('an abort stops launching; unstarted tasks come back skipped', async () => {
    const ctl = new AbortController();
    const g = gatedTasks(4);
    const run = runWithLoad(g.tasks, { kind: 'concurrency', n: 1 }, { signal: ctl.signal });
    await tick();
    ctl.abort();
    g.gates[0]!();
    const r = await run;
    expect(r.aborted).toBe(true);
    expect(r.results.map((x) => x.status)).toEqual(['ok', 'skipped', 'skipped', 'skipped']);
    expect(g.started).toEqual([0]);
  });

  /**
   * The test's clock: time moves only when the scheduler's timer fires, by what it asked plus `lateMs` (timer
   * lag). Like a real timer it fires after the work already started has had its turn.
   */
  const testClock = (lateMs: number) => {
    let t = 5000;
    const sleep = async (ms: number) => {
      await new Promise((r) => setImmediate(r));
      t += ms + lateMs;
    };
    return { now: () => t, sleep };
  };

  it('rate profile starts tasks at their arrival times', async () => {
    const tasks = Array.from({ length: 5 }, () => async () => undefined);
    const r = await runWithLoad(tasks, { kind: 'rate', perSecond: 100, seed: 7 }, { clock: testClock(0) });
    const due = arrivalTimes(5, 100, 1, 7);
    r.results.forEach((x, i) => {
      expect(x.arrivalMs).toBeCloseTo(due[i]!, 9);
      expect(x.startMs).toBeCloseTo(due[i]!, 9);
      expect(x.queueMs).toBeCloseTo(0, 9);
    });
  });

  it('a timer that fires late counts its lag as queue time, and later tasks are not delayed further', async () => {
    const tasks = Array.from({ length: 5 }, () => async () => undefined);
    const r = await runWithLoad(tasks, { kind: 'rate', perSecond: 100, seed: 7 }, { clock: testClock(40) });
    const due = arrivalTimes(5, 100, 1, 7);
    expect(r.results[0]!.queueMs).toBeCloseTo(40, 9);
    r.results.forEach((x, i) => {
      expect(x.arrivalMs).toBeCloseTo(due[i]!, 9);
      expect(x.queueMs).toBeCloseTo(x.startMs - due[i]!, 9);
      expect(x.queueMs).toBeGreaterThan(0);
      expect(x.queueMs).toBeLessThanOrEqual(40 + 1e-9); // each wait is planned from the due time, so lag does not pile up
    });
  });
});

describe('arrivals', () => {
  it('are seeded, end at n/rate, and burstiness shapes the gaps', () => {
    const a = arrivalTimes(200, 10, 1, 42);
    expect(arrivalTimes(200, 10, 1, 42)).toEqual(a);
    expect(arrivalTimes(200, 10, 1, 43)).not.toEqual(a);
    expect(a[199]).toBeCloseTo(20_000, 6);
    const cv = (xs: number[]) => {
      const gaps = xs.map((t, i) => t - (xs[i - 1] ?? 0));
      const m = gaps.reduce((s, g) => s + g, 0) / gaps.length;
      return Math.sqrt(gaps.reduce((s, g) => s + (g - m) ** 2, 0) / gaps.length) / m;
    };
    expect(cv(a)).toBeGreaterThan(0.8); // Poisson: coefficient of variation about 1
    expect(cv(a)).toBeLessThan(1.2);
    expect(cv(arrivalTimes(200, 10, 8, 42))).toBeLessThan(0.5); // less bursty
    arrivalTimes(3, 10, Infinity, 1).forEach((t, i) => expect(t).toBeCloseTo(100 * (i + 1), 9));
    expect(arrivalTimes(3, Infinity, 1, 1)).toEqual([0, 0, 0]);
  });
  it('gamma samples have the right mean', () => {
    const rand = seededRandom(1);
    for (const shape of [0.5, 1, 4]) {
      const xs = Array.from({ length: 20_000 }, () => sampleGamma(shape, 2, rand));
      expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(shape * 2, 0);
    }
  });
});
