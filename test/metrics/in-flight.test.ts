// Requests in flight over a run: the timeline a load profile is checked on.
import { describe, expect, it } from 'vitest';
import { inFlightTimeline } from '../../src/metrics/in-flight.js';
import { buildReport } from '../../src/report/build.js';
import { reportCharts } from '../../src/report/charts.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { itemResult, loadedRun, manifest } from '../fixtures/runs/synthetic.js';
import { mulberry32 } from '../../src/stats/prng.js';

describe('inFlightTimeline', () => {
  it('back-to-back requests stay at 1 (an end and the next start at the same instant are not 2)', () => {
    const t = inFlightTimeline([{ startMs: 1000, endMs: 1100 }, { startMs: 1100, endMs: 1250 }, { startMs: 1300, endMs: 1400 }]);
    expect(t.peak).toBe(1);
    expect(t.points).toEqual([{ tS: 0, inFlight: 1 }, { tS: 0.25, inFlight: 0 }, { tS: 0.3, inFlight: 1 }, { tS: 0.4, inFlight: 0 }]);
    expect(t.durationS).toBeCloseTo(0.4, 12);
  });

  it('overlapping requests stack up and come down', () => {
    const t = inFlightTimeline([{ startMs: 0, endMs: 30 }, { startMs: 10, endMs: 40 }, { startMs: 20, endMs: 25 }, { startMs: 20, endMs: 50 }]);
    expect(t.peak).toBe(4);
    expect(t.points.map((p) => [p.tS * 1000, p.inFlight])).toEqual([[0, 1], [10, 2], [20, 4], [25, 3], [30, 2], [40, 1], [50, 0]]);
  });

  it('thins a long run to at most maxPoints steps and never loses a peak', () => {
    const random = mulberry32(7);
    const spans = Array.from({ length: 5000 }, (_, i) => ({ startMs: i * 10, endMs: i * 10 + 5 + random() * 30 }));
    // a burst of 40 short requests in the middle
    for (let k = 0; k < 40; k++) spans.push({ startMs: 25_000.5, endMs: 25_001 });
    const t = inFlightTimeline(spans, 300);
    expect(t.points.length).toBeLessThanOrEqual(300);
    expect(Math.max(...t.points.map((p) => p.inFlight))).toBe(t.peak);
    expect(t.peak).toBeGreaterThanOrEqual(41);
    expect(t.points.at(-1)).toEqual({ tS: t.durationS, inFlight: 0 });
    for (let i = 1; i < t.points.length; i++) expect(t.points[i]!.tS).toBeGreaterThan(t.points[i - 1]!.tS);
  });

  it('is empty without valid spans', () => {
    expect(inFlightTimeline([])).toEqual({ points: [], peak: 0, durationS: 0 });
    expect(inFlightTimeline([{ startMs: 10, endMs: 5 }, { startMs: NaN, endMs: 1 }]).points).toEqual([]);
  });
});

describe('requests in flight in reports', () => {
  const results = (overlap: boolean) =>
    Array.from({ length: 8 }, (_, i) => itemResult({ itemId: `q${i}`, gold: 'A', letter: 'A', e2eMs: 1000, ttftMs: 100, startedAtEpochMs: 1_700_000_000_000 + i * (overlap ? 250 : 1000) }));

  it('the peak is in the throughput table; the chart is drawn only when some run was not sequential', () => {
    const seq = loadedRun(manifest('seq'), results(false));
    const conc = loadedRun(manifest('conc', { load: { profile: 'concurrency', concurrency: 4, warmup: 0 } }), results(true));
    const both = buildReport({ runs: [seq, conc], resamples: 50 });
    expect(both.runs.map((r) => r.latency.inFlight!.peak)).toEqual([1, 4]);
    expect(renderMarkdown(both)).toMatch(/\| conc \| 8\/8 \| [\d.]+ \| [\d.]+ \| 4 \|/);
    const chart = reportCharts(both).find((c) => c.id === 'requests-in-flight');
    expect(chart).toBeDefined();
    const datasets = (chart!.config.data as { datasets: Array<{ label: string; data: Array<{ x: number; y: number }> }> }).datasets;
    expect(datasets.map((d) => d.label)).toEqual(['seq (sequential)', 'conc (concurrency 4)']);
    expect(Math.max(...datasets[1]!.data.map((p) => p.y))).toBe(4);

    const onlySeq = buildReport({ runs: [seq], resamples: 50 });
    expect(reportCharts(onlySeq).some((c) => c.id === 'requests-in-flight')).toBe(false);
  });
});

describe('in-flight timeline: typed, merged events give the tuple sort\'s timeline', () => {
  /** The event list as it was: [time, +1/-1] tuples sorted by time, ends first at an instant. */
  function tupleSteps(spans: Array<{ startMs: number; endMs: number }>): Array<[number, number]> {
    const t0 = Math.min(...spans.map((s) => s.startMs));
    const events: Array<[number, number]> = [];
    for (const s of spans) events.push([s.startMs - t0, 1], [s.endMs - t0, -1]);
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const steps: Array<[number, number]> = [];
    let level = 0;
    for (let i = 0; i < events.length; i++) {
      level += events[i]![1];
      if (i + 1 < events.length && events[i + 1]![0] === events[i]![0]) continue;
      if (steps.length && steps[steps.length - 1]![1] === level) continue;
      steps.push([events[i]![0], level]);
    }
    return steps;
  }

  it('the same steps and peak, with ties between starts and ends (whole-ms clocks)', () => {
    let x = 7;
    const rand = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (const n of [1, 5, 120, 280]) {
      const spans = Array.from({ length: n }, () => {
        const start = 1000 + Math.floor(rand() * 50);
        return { startMs: start, endMs: start + Math.floor(rand() * 8) };
      });
      const steps = tupleSteps(spans);
      const got = inFlightTimeline(spans, 10_000);
      expect(got.points).toStrictEqual(steps.map(([t, k]) => ({ tS: t / 1000, inFlight: k })));
      expect(got.peak).toBe(Math.max(...steps.map((s) => s[1])));
    }
  });
});
