// The capacity throttle (manifest.load.throttle, src/runners/capacity-window.ts) in words, for the report
// writers: one row per run that was throttled, none when no run was.
import type { ReportModel } from './model.js';

export interface ThrottleRow {
  /** The run's id (unique within the report) and label. */
  id: string;
  label: string;
  /** Capacity episodes (each halved the requests in flight). */
  cuts: number;
  /** The window's path, e.g. "4 → 2 → 3 → 1" (the first steps when there were many). */
  path: string;
  changes: number;
  lowest: number;
  atEnd: number;
}

/** What a throttle row means, printed with the table. */
export const THROTTLE_DEFINITION = 'The server ran out of room (capacity errors such as a full KV cache), so medeval cut the requests in flight ' +
  '(halved on each capacity episode, grown back by one after answers): latency and throughput of these runs are not at the load profile throughout.';

const PATH_STEPS = 12;

export function throttleRows(model: ReportModel): ThrottleRow[] {
  const rows: ThrottleRow[] = [];
  for (const r of model.runs) {
    const th = r.latency.load.throttle;
    if (!th) continue;
    const steps = [th.before, ...th.changes.map((c) => c.to)];
    const shown = steps.slice(0, PATH_STEPS + 1).join(' → ');
    const more = th.changesTotal + 1 - Math.min(steps.length, PATH_STEPS + 1);
    rows.push({
      id: r.id,
      label: r.label,
      cuts: th.cuts,
      path: more > 0 ? `${shown} → … (${more} more)` : shown,
      changes: th.changesTotal,
      lowest: th.lowest,
      atEnd: th.atEnd,
    });
  }
  return rows;
}
