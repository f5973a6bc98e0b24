// How full a run kept the server: the client's held share and the engine's own busy share, each over the
// measured requests' own span. Figures by hand from timelines drawn on paper.
import { describe, expect, it } from 'vitest';
import { occupancy } from '../../src/metrics/occupancy.js';
import { buildServerView } from '../../src/report/server-view.js';
import { SERVER_FIGURE_LABELS } from '../../src/metrics/table.js';
import { itemResult, manifest } from '../fixtures/runs/synthetic.js';

describe('occupancy', () => {
  it('two places in flight, always refilled: held 1.0; engine busy is the slot time over the same places', () => {
    // 0-100 and 100-200 on one place, 0-200 on the other: span 200 ms, Σ E2EL 400 ms.
    const o = occupancy([
      { startedAtEpochMs: 0, e2eMs: 100, engineMs: 90 },
      { startedAtEpochMs: 100, e2eMs: 100, engineMs: 80 },
      { startedAtEpochMs: 0, e2eMs: 200, engineMs: 190 },
    ], 2, 4)!;
    expect(o.wallMs).toBe(200);
    expect(o.held).toBeCloseTo(1, 12);
    // 4 server slots, but only 2 can be used by 2 in flight.
    expect(o.slotsInUse).toBe(2);
    expect(o.engineBusy).toBeCloseTo(360 / 400, 12);
  });

  it('a client gap between replies lowers held; a request without slot timings leaves engine busy unknown', () => {
    // one place: 0-100, gap 50 ms, 150-250
    const o = occupancy([
      { startedAtEpochMs: 0, e2eMs: 100, engineMs: 100 },
      { startedAtEpochMs: 150, e2eMs: 100, engineMs: null },
    ], 1, null)!;
    expect(o.held).toBeCloseTo(200 / 250, 12);
    expect(o.engineBusy).toBeNull();
    expect(occupancy([], 1, null)).toBeNull();
  });

  it('the server view shows both for a concurrency profile, with the formula, and neither for an arrival rate', () => {
    const results = [0, 1, 2, 3].map((i) => {
      const r = itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', startedAtEpochMs: 1_000 + (i % 2) * 500, e2eMs: 500 });
      r.timings!.engine = { prompt_ms: 100, predicted_ms: 300 };
      return r;
    });
    // two places, each 1000-1500 then 1500-2000 ... items 0,2 start at 1000; 1,3 at 1500: span 1000 ms
    const m = manifest('np4', { load: { profile: 'concurrency', concurrency: 2, warmup: 1 }, model: { runner: 'llama-server', label: 'np4', parameters: null, fileBytes: null, extra: { slots: 4 } } });
    const view = buildServerView(m, results)!;
    const held = view.figures.find((f) => f.label === SERVER_FIGURE_LABELS.held)!;
    const busy = view.figures.find((f) => f.label === SERVER_FIGURE_LABELS.engineBusy)!;
    expect(held.value).toBeCloseTo(2000 / (1000 * 2), 12);
    expect(busy.value).toBeCloseTo(1600 / (1000 * 2), 12);
    expect(busy.source).toMatch(/Σ \(prompt_ms \+ predicted_ms\) \/ \(wall × 2 slots in use\)/);
    // held 1.0, engine busy 0.8 below 0.95 with as many in flight as slots in use: the hint says what to change
    expect(busy.source).toMatch(/run more in flight than the server's 4 slots \(the wait for a slot then shows in TTFT\)/);
    const rate = manifest('rate', { load: { profile: 'rate', ratePerSecond: 2, warmup: 1 } });
    expect(buildServerView(rate, results)!.figures.some((f) => f.label === SERVER_FIGURE_LABELS.held)).toBe(false);
  });
});
