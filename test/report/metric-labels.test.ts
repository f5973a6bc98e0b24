// Every renderer names metrics and prints bytes the way the metric table (metrics/table.ts) and the one
// byte policy (metrics/units.ts) say: the table's short names appear, and no stray spelling (E2E,
// e2e_, e2eMs in text, GB, MB, a byte figure not in binary units with two decimals) does.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRunFolder } from '../../src/core/run-folder.js';
import { claimsTable, comparisonLine, sideBySide } from '../../src/cli/console-summary.js';
import { pctInterval } from '../../src/report/format.js';
import { describeSlo } from '../../src/metrics/goodput.js';
import { ALL_METRICS, LATENCY_METRICS, LATENCY_TABLE, MEMORY_TABLE, statName } from '../../src/metrics/table.js';
import { BYTE_UNIT_POLICY, chooseByteUnit, formatBytes } from '../../src/metrics/units.js';
import { buildReport } from '../../src/report/build.js';
import { renderSummaryCsv } from '../../src/report/csv.js';
import { renderHtml } from '../../src/report/html.js';
import { renderLatex } from '../../src/report/latex.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { reportCharts } from '../../src/report/charts.js';
import { buildRunSummary, summaryMarkdown } from '../../src/run/summary.js';
import { PAPER_CLAIMS } from '../../src/report/claims.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/runs');
const runs = ['baseline-f16', 'compressed-q4'].map((d) => readRunFolder(join(FIXTURES, d)));
const model = buildReport({ runs, claims: PAPER_CLAIMS, seed: 1, resamples: 200, generatedAt: null, goodput: { ttftMs: 500, e2eMs: 5000 } });

/** What a reader sees: the HTML page without its scripts (the chart data there is JSON with the model's keys). */
const visibleHtml = renderHtml(model).replace(/<script[\s\S]*?<\/script>/g, '').replace(/&nbsp;/g, ' ');
const summary = buildRunSummary(join(FIXTURES, 'baseline-f16'), runs[0]!.manifest, runs[0]!.results);
const outputs: Record<string, string> = {
  markdown: renderMarkdown(model),
  html: visibleHtml,
  latex: renderLatex(model),
  terminal: `${sideBySide(model)}\n${claimsTable(model)}`,
  'summary.md': summaryMarkdown(summary),
};

const STRAY = [/\bE2E\b/, /\be2e_/, /\be2eMs\b/, /\bttftMs\b/, /\btpotMs\b/, /\bGB\b/, /\bMB\b/, /\bprocessPeak\b/];

describe('metric names and units come from the one table', () => {
  it('the table has one short name and one stat stem per metric', () => {
    expect(new Set(ALL_METRICS.map((m) => m.short)).size).toBe(ALL_METRICS.length);
    expect(new Set(ALL_METRICS.map((m) => m.stem)).size).toBe(ALL_METRICS.length);
    expect(statName('mean', LATENCY_TABLE.e2eMs)).toBe('mean_e2el_ms');
    expect(statName('p99', LATENCY_TABLE.ttftMs)).toBe('p99_ttft_ms');
  });

  it.each(Object.keys(outputs))('%s: the latency names are the table short names, no stray spelling', (name) => {
    const text = outputs[name]!;
    const expected = name === 'terminal' ? (['e2eMs', 'ttftMs', 'tpotMs'] as const) : LATENCY_METRICS;
    for (const m of expected) expect(text, `${name} names ${m}`).toMatch(new RegExp(`\\b${LATENCY_TABLE[m].short}\\b`));
    for (const re of STRAY) expect(text, `${name} has ${re}`).not.toMatch(re);
  });

  it.each(Object.keys(outputs))('%s: every byte figure is in binary units with two decimals', (name) => {
    // The policy's own statement ("1 KiB = 1024 bytes") is not a figure.
    const text = outputs[name]!.replaceAll(BYTE_UNIT_POLICY, '');
    const figures = [...text.matchAll(/(\d[\d.,]*)\s?(KiB|MiB|GiB|TiB|KB|kB|GB|MB)\b/g)];
    expect(figures.length, `${name} prints memory`).toBeGreaterThan(0);
    for (const [whole, number, unit] of figures) {
      expect(unit, whole).toMatch(/^(KiB|MiB|GiB|TiB)$/);
      // Sources quote the engine's own log (llama.cpp prints "6.75 MiB"), which is already two decimals.
      expect(number, whole).toMatch(/^\d+\.\d\d$/);
    }
  });

  it.each(['markdown', 'html', 'latex', 'terminal'])('%s: an accuracy difference is in percentage points, never a percentage', (name) => {
    const text = name === 'terminal' ? comparisonLine(model) : outputs[name]!;
    const d = model.comparisons[0]!.accuracyDifference!;
    expect(d.estimate).not.toBe(0);
    const magnitude = Math.abs(d.estimate * 100).toFixed(1);
    expect(text, `${name} prints the difference in pp`).toMatch(new RegExp(`(?:[-+−]|\\$-\\$)${magnitude.replace('.', '\\.')}\\s?pp`));
    expect(text, `${name} prints the difference as a percentage`).not.toContain(pctInterval(d));
  });

  it("memory part names are the table's long names wherever a part is named", () => {
    for (const name of ['markdown', 'summary.md'] as const) expect(outputs[name]).toContain(MEMORY_TABLE.processPeak.long);
    expect(outputs.html).toContain('Peak process memory');
    expect(outputs.terminal).toContain(MEMORY_TABLE.weights.long);
  });

  it('summary.csv names latency columns {stat}_{metric}_{unit}', () => {
    const header = renderSummaryCsv(model).split('\r\n')[0]!.split(',');
    expect(header).toEqual(expect.arrayContaining(['mean_e2el_ms', 'p50_e2el_ms', 'p99_e2el_ms', 'mean_ttft_ms', 'mean_tpot_ms', 'mean_itl_ms', 'weights_bytes']));
    expect(header.filter((h) => /e2e_|_mean_ms$/.test(h))).toEqual([]);
  });

  it("charts and goodput take the table's names; chart axes the byte policy's unit", () => {
    const titles = reportCharts(model).map((c) => JSON.stringify(c.config.options?.plugins?.title ?? ''));
    expect(titles.some((t) => t.includes(LATENCY_TABLE.e2eMs.short))).toBe(true);
    expect(describeSlo({ ttftMs: 500, e2eMs: 5000 })).toBe('TTFT <= 500 ms, E2EL <= 5000 ms');
    expect(formatBytes(14.66 * 2 ** 20)).toBe('14.66 MiB');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.50 GiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(chooseByteUnit(900 * 2 ** 20).name).toBe('MiB');
  });
});
