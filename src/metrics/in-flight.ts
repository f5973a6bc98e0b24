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
  const events: Array<[number, number]> = [];
  for (const s of valid) events.push([s.startMs - t0, 1], [s.endMs - t0, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

  const steps: Array<[number, number]> = [];
  let level = 0;
  let peak = 0;
  for (let i = 0; i < events.length; i++) {
    level += events[i]![1];
    const t = events[i]![0];
    if (i + 1 < events.length && events[i + 1]![0] === t) continue; // settle every event at this instant first
    peak = Math.max(peak, level);
    if (steps.length && steps[steps.length - 1]![1] === level) continue;
    steps.push([t, level]);
  }
  const endMs = events[events.length - 1]![0];
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
