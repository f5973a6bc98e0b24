// Requests in flight over a run, from each request's start and end (the timeline the load profiles are
// checked on: a concurrency-N run should sit at N, a Poisson-rate run should rise and fall).
// Kept small for reports: at most `maxPoints` steps, each the highest level in its time slice, so a
// brief peak is never thinned away.

export interface RequestSpan {
  /** Epoch or any common clock, ms. */
  startMs: number;
  endMs: number;
}

export interface InFlightTimeline {
  /** Steps: from tS (seconds since the first start) the level is inFlight, until the next point. */
  points: Array<{ tS: number; inFlight: number }>;
  /** Most requests in flight at once. */
  peak: number;
  /** First start to last end, seconds. */
  durationS: number;
}

export function inFlightTimeline(spans: readonly RequestSpan[], maxPoints = 300): InFlightTimeline {
  const valid = spans.filter((s) => Number.isFinite(s.startMs) && Number.isFinite(s.endMs) && s.endMs >= s.startMs);
  if (valid.length === 0) return { points: [], peak: 0, durationS: 0 };
  let t0 = Infinity;
  for (const s of valid) t0 = Math.min(t0, s.startMs);
  // +1 at a start, -1 at an end; at the same instant ends go first (a slot handed on is not two requests).
  // Starts and ends sorted apart and merged (typed arrays: 100,000 requests are 200,000 events).
  const starts = new Float64Array(valid.length), ends = new Float64Array(valid.length);
  valid.forEach((s, i) => {
    starts[i] = s.startMs - t0;
    ends[i] = s.endMs - t0;
  });
  starts.sort();
  ends.sort();
  const times = new Float64Array(2 * valid.length), deltas = new Int8Array(2 * valid.length);
  for (let i = 0, a = 0, b = 0; i < times.length; i++) {
    if (b < ends.length && (a >= starts.length || ends[b]! <= starts[a]!)) {
      times[i] = ends[b++]!;
      deltas[i] = -1;
    } else {
      times[i] = starts[a++]!;
      deltas[i] = 1;
    }
  }

  const steps: Array<[number, number]> = [];
  let level = 0;
  let peak = 0;
  for (let i = 0; i < times.length; i++) {
    level += deltas[i]!;
    const t = times[i]!;
    if (i + 1 < times.length && times[i + 1] === t) continue; // settle every event at this instant first
    peak = Math.max(peak, level);
    if (steps.length && steps[steps.length - 1]![1] === level) continue;
    steps.push([t, level]);
  }
  const endMs = times[times.length - 1]!;
  const toPoint = ([t, n]: [number, number]) => ({ tS: t / 1000, inFlight: n });
  if (steps.length <= maxPoints) return { points: steps.map(toPoint), peak, durationS: endMs / 1000 };

  // Too many steps: one point per time slice, at the slice's highest level.
  const slices = maxPoints - 1;
  const width = endMs / slices;
  const highest = new Array<number>(slices).fill(0);
  for (let i = 0; i < steps.length; i++) {
    const [from, n] = steps[i]!;
    const to = i + 1 < steps.length ? steps[i + 1]![0] : endMs;
    const first = Math.min(slices - 1, Math.floor(from / width));
    const last = Math.min(slices - 1, Math.max(first, Math.ceil(to / width) - 1));
    for (let k = first; k <= last; k++) highest[k] = Math.max(highest[k]!, n);
  }
  const points = highest.map((n, k) => ({ tS: (k * width) / 1000, inFlight: n }));
  points.push({ tS: endMs / 1000, inFlight: 0 });
  return { points, peak, durationS: endMs / 1000 };
}
