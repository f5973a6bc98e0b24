// The capacity throttle (manifest.load.throttle) shown per model in the HTML and Markdown reports and kept
// in report.json, beside the load settings; a report of runs that were never throttled shows nothing of it.
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { parseReportJson, renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { throttleRows } from '../../src/report/throttle.js';
import type { ThrottleReport } from '../../src/core/record.js';
import { itemResult, loadedRun, manifest } from '../fixtures/runs/synthetic.js';

const results = [itemResult({ itemId: 'q1', gold: 'A', letter: 'A' }), itemResult({ itemId: 'q2', gold: 'B', letter: 'C' })];
const load = { profile: 'concurrency' as const, concurrency: 4, warmup: 1 };

/** The lead's measured episode on a real llama-server (-c 2048 -np 4): 4 -> 2 -> 3 -> 1. */
const measured: ThrottleReport = {
  cuts: 2, before: 4, lowest: 1, atEnd: 1, changesTotal: 3,
  changes: [{ atMs: 1200, from: 4, to: 2, why: 'capacity' }, { atMs: 5100, from: 2, to: 3, why: 'recovered' }, { atMs: 9000, from: 3, to: 1, why: 'capacity' }],
};

function model(throttle: ThrottleReport | null) {
  return buildReport({
    runs: [
      loadedRun(manifest('calm', { load }), results),
      loadedRun(manifest('squeezed', { load: { ...load, ...(throttle ? { throttle } : {}) } }), results),
    ],
    resamples: 50,
  });
}

describe('the capacity throttle in the reports', () => {
  it('HTML: a row for the throttled model only, with its capacity episodes, the window\'s path and the final window', () => {
    const html = renderHtml(model(measured));
    const table = html.slice(html.indexOf('<table id="throttle">'), html.indexOf('</table>', html.indexOf('<table id="throttle">')));
    expect(table).toContain('Capacity episodes');
    expect(table).toContain('<tr><td>squeezed</td><td class="num">2</td><td>4 → 2 → 3 → 1</td><td class="num">3</td><td class="num">1</td><td class="num">1</td></tr>');
    expect(table).not.toContain('calm');
    // Beside the load settings, in the latency section, with what it means.
    const latency = html.slice(html.indexOf('id="latency"'));
    expect(latency.indexOf('<table id="throttle">')).toBeGreaterThan(latency.indexOf('Load and throughput'));
    expect(html).toContain('capacity errors such as a full KV cache');
  });

  it('Markdown: the same row under the throughput table, and its definition', () => {
    const md = renderMarkdown(model(measured));
    expect(md).toContain('| squeezed | 2 | 4 → 2 → 3 → 1 | 3 | 1 | 1 |');
    expect(md).toMatch(/\*\*Throttled\.\*\* The server ran out of room/);
    expect(md.indexOf('**Throttled.**')).toBeGreaterThan(md.indexOf('| Run | Completed/requests |'));
    const table = md.slice(md.indexOf('| Run | Capacity episodes |')).split('\n\n')[0]!;
    expect(table.split('\n')).toHaveLength(3); // header, rule, the one throttled run
    expect(table).not.toContain('calm');
  });

  it('report.json keeps every change of the window per model', () => {
    const back = parseReportJson(renderJson(model(measured)));
    expect(back.runs.find((r) => r.label === 'squeezed')!.latency.load.throttle).toEqual(measured);
    expect(back.runs.find((r) => r.label === 'calm')!.latency.load.throttle).toBeUndefined();
  });

  it('no run throttled: no throttle table, no throttle words', () => {
    const m = model(null);
    expect(throttleRows(m)).toEqual([]);
    const html = renderHtml(m);
    expect(html).not.toContain('id="throttle"');
    expect(html).not.toContain('Throttled');
    expect(renderMarkdown(m)).not.toMatch(/throttl/i);
  });

  it('a long path is cut after 12 steps and says how many more changes there were', () => {
    const changes = Array.from({ length: 30 }, (_, i) => ({ atMs: i, from: i % 2 ? 1 : 2, to: i % 2 ? 2 : 1, why: (i % 2 ? 'recovered' : 'capacity') as 'recovered' | 'capacity' }));
    const [row] = throttleRows(model({ cuts: 15, before: 2, lowest: 1, atEnd: 2, changesTotal: 250, changes }));
    expect(row!.path.split(' → ')).toHaveLength(14);
    expect(row!.path).toMatch(/ → … \(238 more\)$/);
    expect(row!.changes).toBe(250);
  });
});
