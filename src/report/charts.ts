// The report's charts as JSON-serialisable Chart.js configurations, built from plain data.
// Each builder returns a ChartSpec that chart-render.ts draws to PNG/SVG and report.html draws in
// the browser; nothing here touches a canvas.

import type { ChartConfiguration } from 'chart.js';
import type { AccuracyCell, Interval, LatencyMetric, MemoryPartName, ReportModel, RunReport } from './model.js';
import { LATENCY_TABLE, MEMORY_TABLE } from '../metrics/table.js';
import { leaderboardOf } from './leaderboard.js';
import { chooseByteUnit, type ByteUnit } from '../metrics/units.js';

/** One chart, independent of where it is drawn (Node canvas or the HTML page). */
export interface ChartSpec {
  /** File-name-safe id, e.g. "accuracy-by-step". */
  id: string;
  /** Short description for alt text and captions. */
  description: string;
  /** Logical size in CSS pixels. */
  width: number;
  height: number;
  /** A Chart.js configuration holding only JSON data (no functions), so the HTML page can reuse it. */
  config: ChartConfiguration;
}

/** Fonts tried in order; DejaVu Sans ships with most Linux images, the rest cover macOS/Windows. */
export const CHART_FONT_FAMILY = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif";

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies and in greyscale print. */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length];
}

/** A proportion with its interval, all in [0, 1]. null value: nothing scored for that group. */
export interface ProportionPoint {
  value: number | null;
  low: number | null;
  high: number | null;
  /** Scored items behind the value. */
  n?: number;
}

export interface AccuracySeries {
  /** Model / run label. */
  label: string;
  /** One entry per group, parallel to `groups`. */
  points: ProportionPoint[];
}

export interface AccuracyChartInput {
  id?: string;
  title: string;
  /** Group names on the x axis, e.g. ["Overall"], ["step1", "step2&3"], question types. */
  groups: string[];
  series: AccuracySeries[];
  /** Interval name for the axis and caption, e.g. "95% Wilson interval". */
  intervalLabel?: string;
  /** The chance level (fraction) to draw as a dashed line; null or absent: none. */
  chance?: number | null;
}

const TITLE_FONT = { size: 17, weight: 'bold' as const };
const SUBTITLE_FONT = { size: 12 };
const AXIS_TITLE_FONT = { size: 14 };
const TICK_FONT = { size: 13 };
const LEGEND_FONT = { size: 13 };

function baseOptions(title: string, subtitle?: string): NonNullable<ChartConfiguration['options']> {
  return {
    font: { family: CHART_FONT_FAMILY },
    layout: { padding: { top: 4, right: 28, bottom: 8, left: 8 } },
    plugins: {
      title: { display: true, text: title, font: TITLE_FONT, padding: { top: 6, bottom: subtitle ? 2 : 10 } },
      subtitle: { display: Boolean(subtitle), text: subtitle ?? '', font: SUBTITLE_FONT, padding: { bottom: 8 } },
      legend: { display: true, position: 'top', labels: { font: LEGEND_FONT, boxWidth: 18 } },
      // Tooltips only matter in the browser; the HTML page shows the exact figures in tables.
      tooltip: { enabled: true },
    },
  } as NonNullable<ChartConfiguration['options']>;
}

/** Chart labels are cut at this many characters (the tables show the full text). */
export const MAX_CHART_LABEL = 32;

export function chartLabel(text: string): string {
  const chars = [...text];
  return chars.length <= MAX_CHART_LABEL ? text : `${chars.slice(0, MAX_CHART_LABEL - 1).join('')}…`;
}

function percent(value: number | null): number | null {
  return value == null ? null : Math.round(value * 10000) / 100;
}

/** Accuracy (%) with interval error bars, grouped bars: one bar per model in each group. */
export function accuracyChart(input: AccuracyChartInput): ChartSpec {
  const interval = input.intervalLabel ?? '95% Wilson interval';
  const groupLabels = input.groups.map((group, g) => {
    const ns = new Set(input.series.map((s) => s.points[g]?.n).filter((n): n is number => n != null));
    // Show n under the group when every model scored the same number of items.
    return ns.size === 1 ? [chartLabel(group), `n = ${[...ns][0]}`] : chartLabel(group);
  });
  const datasets = input.series.map((series, i) => ({
    label: chartLabel(series.label),
    data: series.points.map((p) => percent(p.value)),
    backgroundColor: seriesColor(i) + 'cc',
    borderColor: seriesColor(i),
    borderWidth: 1,
    errorBars: series.points.map((p) => (p.low == null || p.high == null ? null : [percent(p.low), percent(p.high)])),
  }));
  const options = baseOptions(input.title, `Bars: accuracy; whiskers: ${interval}${input.chance != null ? '; dashed: chance level' : ''}`);
  withChanceLine(options, input.chance);
  options.scales = {
    x: { ticks: { font: TICK_FONT }, grid: { display: false } },
    y: {
      min: 0,
      max: 100,
      title: { display: true, text: 'Accuracy (%)', font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT, stepSize: 10 },
    },
  };
  const width = Math.max(640, Math.min(1200, 160 + input.groups.length * (60 + 50 * input.series.length)));
  return {
    id: input.id ?? 'accuracy',
    description: `${input.title}: accuracy in percent per ${input.groups.length > 1 ? 'group' : 'model'} with ${interval}.`,
    width,
    height: 460,
    config: { type: 'bar', data: { labels: groupLabels, datasets } as never, options } as ChartConfiguration,
  };
}

/** The chance level as a dashed line across the plot (chart-plugins.ts medevalHLines), labelled with its value. */
function withChanceLine(options: NonNullable<ChartConfiguration['options']>, chance: number | null | undefined): void {
  if (chance == null) return;
  (options.plugins as Record<string, unknown>).medevalHLines = { lines: [{ y: percent(chance), label: `chance ${(chance * 100).toFixed(1)}%` }] };
}

/** Byte units for an axis: the largest unit in which the biggest value is at least 1 (the one policy, metrics/units.ts). */
export { chooseByteUnit, type ByteUnit };

function inUnit(bytes: number | null, unit: ByteUnit): number | null {
  return bytes == null ? null : Math.round((bytes / unit.bytes) * 1000) / 1000;
}

export interface MemoryBarInput {
  label: string;
  /** Bytes of the weights (model files). null: not available. */
  weightsBytes: number | null;
  /** Peak resident memory of the process holding the model. null: not available. */
  peakProcessBytes: number | null;
  /** Peak GPU memory of the process tree; null/undefined: no GPU figure. */
  gpuPeakBytes?: number | null;
}

export interface MemoryChartInput {
  id?: string;
  title?: string;
  models: MemoryBarInput[];
}

/**
 * Memory parts per model as stacked bars: the weights, then the rest of the process's peak resident
 * memory above them (KV cache, buffers, runtime). GPU peak, where measured, is its own bar.
 */
export function memoryChart(input: MemoryChartInput): ChartSpec {
  const all = input.models.flatMap((m) => [m.weightsBytes, m.peakProcessBytes, m.gpuPeakBytes ?? null]);
  const unit = chooseByteUnit(Math.max(0, ...all.filter((b): b is number => b != null)));
  const notes: string[] = [];
  const labels = input.models.map((m) => {
    const missing: string[] = [];
    if (m.weightsBytes == null) missing.push('weights n/a');
    if (m.peakProcessBytes == null) missing.push('peak n/a');
    return missing.length ? [chartLabel(m.label), `(${missing.join(', ')})`] : chartLabel(m.label);
  });
  const other = input.models.map((m) => {
    if (m.weightsBytes == null || m.peakProcessBytes == null) return null;
    if (m.peakProcessBytes < m.weightsBytes) {
      // mmap'd weights need not all be resident; say so rather than draw a negative part.
      notes.push(`${chartLabel(m.label)}: peak resident memory is below the weights' size (weights not fully resident)`);
      return 0;
    }
    return m.peakProcessBytes - m.weightsBytes;
  });
  const hasGpu = input.models.some((m) => m.gpuPeakBytes != null);
  const datasets: object[] = [
    {
      label: 'Weights (model files)',
      data: input.models.map((m) => inUnit(m.weightsBytes, unit)),
      backgroundColor: '#0072B2cc',
      borderColor: '#0072B2',
      borderWidth: 1,
      stack: 'process',
    },
    {
      label: 'Other process memory, up to peak RSS',
      data: other.map((b) => inUnit(b, unit)),
      backgroundColor: '#E69F00cc',
      borderColor: '#E69F00',
      borderWidth: 1,
      stack: 'process',
    },
  ];
  // Where the weights are unknown but the peak is known, still show the peak.
  if (input.models.some((m) => m.weightsBytes == null && m.peakProcessBytes != null)) {
    datasets.push({
      label: 'Peak RSS (weights not separated)',
      data: input.models.map((m) => (m.weightsBytes == null ? inUnit(m.peakProcessBytes, unit) : null)),
      backgroundColor: '#999999cc',
      borderColor: '#666666',
      borderWidth: 1,
      stack: 'process',
    });
  }
  if (hasGpu) {
    datasets.push({
      label: 'GPU memory, peak',
      data: input.models.map((m) => inUnit(m.gpuPeakBytes ?? null, unit)),
      backgroundColor: '#009E73cc',
      borderColor: '#009E73',
      borderWidth: 1,
      stack: 'gpu',
    });
  }
  const title = input.title ?? 'Memory per model';
  const options = baseOptions(title, notes.length ? notes.join('; ') : 'Stacked: weights + other resident memory = peak process RSS');
  options.scales = {
    x: { stacked: true, ticks: { font: TICK_FONT }, grid: { display: false } },
    y: {
      stacked: true,
      beginAtZero: true,
      title: { display: true, text: `Memory (${unit.name})`, font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT },
    },
  };
  return {
    id: input.id ?? 'memory',
    description: `${title}: weights and other process memory up to peak resident memory, in ${unit.name}.`,
    width: Math.max(640, Math.min(1100, 240 + input.models.length * 150)),
    height: 460,
    config: { type: 'bar', data: { labels, datasets } as never, options } as ChartConfiguration,
  };
}

export interface LatencySeries {
  label: string;
  /** Requests (or ITL gaps) behind the curve, for the legend. */
  n: number;
  /** The distribution as [percent 0..100, ms] pairs in increasing order. */
  curve: Array<[number, number]>;
  /** Draw as steps (a raw empirical CDF) rather than straight segments (an interpolated quantile curve). */
  stepped?: boolean;
}

export interface LatencyCdfInput {
  id?: string;
  /** Metric name for title and axis, e.g. "E2EL" or "TTFT". */
  metric: string;
  /** Longer explanation for the subtitle, e.g. "end-to-end latency per request". */
  metricDescription?: string;
  series: LatencySeries[];
}

/** Empirical CDF of raw values as [percent, value] pairs, thinned to at most maxPoints. */
export function empiricalCdf(values: number[], maxPoints = 400): Array<[number, number]> {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const curve: Array<[number, number]> = [[0, sorted[0]]];
  for (let i = 0; i < n; i += step) curve.push([Math.round(((i + 1) / n) * 10000) / 100, sorted[i]]);
  if ((n - 1) % step !== 0) curve.push([100, sorted[n - 1]]);
  return curve;
}

/** Latency distribution as one CDF curve per model; x in milliseconds, y the share of requests. */
export function latencyCdfChart(input: LatencyCdfInput): ChartSpec {
  const datasets = input.series.map((s, i) => ({
    label: `${chartLabel(s.label)} (n = ${s.n})`,
    data: s.curve.map(([p, ms]) => ({ x: Math.round(ms * 100) / 100, y: p })),
    borderColor: seriesColor(i),
    backgroundColor: seriesColor(i),
    borderWidth: 2,
    pointRadius: s.stepped ? 0 : 1.5,
    stepped: s.stepped ? 'after' : false,
    fill: false,
  }));
  const title = `${input.metric} distribution`;
  const options = baseOptions(title, input.metricDescription ? `Cumulative distribution of ${input.metricDescription}` : 'Cumulative distribution');
  options.scales = {
    x: {
      type: 'linear',
      // Not from zero: the shapes and the gap between models are what a CDF is read for.
      title: { display: true, text: `${input.metric} (ms)`, font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT },
    },
    y: {
      min: 0,
      max: 100,
      title: { display: true, text: 'Requests at or below (%)', font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT, stepSize: 20 },
    },
  };
  return {
    id: input.id ?? `latency-cdf-${slug(input.metric)}`,
    description: `${title}: share of requests (%) finished within a given ${input.metric} in milliseconds, per model.`,
    width: 800,
    height: 460,
    config: { type: 'line', data: { datasets } as never, options } as ChartConfiguration,
  };
}

export interface LatencyPercentileSeries {
  label: string;
  /** Milliseconds per percentile, parallel to `percentiles`; null where not measured. */
  valuesMs: (number | null)[];
}

export interface LatencyPercentileInput {
  id?: string;
  metric: string;
  metricDescription?: string;
  /** Percentile names, e.g. ["p50", "p90", "p95", "p99"]. */
  percentiles: string[];
  series: LatencyPercentileSeries[];
}

/** Latency percentiles as grouped bars (for when only summaries, not raw values, are at hand). */
export function latencyPercentileChart(input: LatencyPercentileInput): ChartSpec {
  const datasets = input.series.map((s, i) => ({
    label: chartLabel(s.label),
    data: s.valuesMs.map((v) => (v == null ? null : Math.round(v * 100) / 100)),
    backgroundColor: seriesColor(i) + 'cc',
    borderColor: seriesColor(i),
    borderWidth: 1,
  }));
  const title = `${input.metric} percentiles`;
  const options = baseOptions(title, input.metricDescription ? `Percentiles of ${input.metricDescription}` : undefined);
  options.scales = {
    x: { title: { display: true, text: 'Percentile', font: AXIS_TITLE_FONT }, ticks: { font: TICK_FONT }, grid: { display: false } },
    y: { beginAtZero: true, title: { display: true, text: `${input.metric} (ms)`, font: AXIS_TITLE_FONT }, ticks: { font: TICK_FONT } },
  };
  return {
    id: input.id ?? `latency-percentiles-${slug(input.metric)}`,
    description: `${title} in milliseconds per model.`,
    width: 800,
    height: 460,
    config: { type: 'bar', data: { labels: input.percentiles, datasets } as never, options } as ChartConfiguration,
  };
}

export interface InFlightSeries {
  label: string;
  /** Load profile in words, for the legend ("concurrency 16"). */
  load: string;
  points: Array<{ tS: number; inFlight: number }>;
}

/** Requests in flight over each run (stepped lines): does the load profile do what it says? */
export function inFlightChart(series: InFlightSeries[]): ChartSpec {
  const datasets = series.map((s, i) => ({
    label: `${chartLabel(s.label)} (${s.load})`,
    data: s.points.map((p) => ({ x: Math.round(p.tS * 1000) / 1000, y: p.inFlight })),
    borderColor: seriesColor(i),
    backgroundColor: seriesColor(i),
    borderWidth: 2,
    pointRadius: 0,
    stepped: 'after',
    fill: false,
  }));
  const title = 'Requests in flight';
  const options = baseOptions(title, 'Requests sent and not yet finished, over each run (warm-up and cached results left out)');
  options.scales = {
    x: { type: 'linear', min: 0, title: { display: true, text: 'Time since the first request (s)', font: AXIS_TITLE_FONT }, ticks: { font: TICK_FONT } },
    y: { beginAtZero: true, title: { display: true, text: 'Requests in flight', font: AXIS_TITLE_FONT }, ticks: { font: TICK_FONT, precision: 0 } },
  };
  return {
    id: 'requests-in-flight',
    description: `${title} over time per model: the load each run actually put on the server.`,
    width: 800,
    height: 400,
    config: { type: 'line', data: { datasets } as never, options } as ChartConfiguration,
  };
}

export interface ParetoPoint {
  label: string;
  /** The cost on the x axis: bytes or ms; null: not available (the point is left out, and named). */
  cost: number | null;
  accuracy: ProportionPoint;
  /** On the Pareto frontier (computed by report/pareto.ts, never here). */
  frontier: boolean;
}

export interface ParetoChartInput {
  id: string;
  /** What is on the x axis, e.g. "Weights file" or "E2EL p50". */
  costLabel: string;
  unit: 'bytes' | 'ms';
  points: ParetoPoint[];
  intervalLabel?: string;
  chance?: number | null;
}

/**
 * Accuracy against a cost (memory or latency), one labelled point per model with its interval as
 * whiskers, the Pareto frontier joined by a line (lower cost and higher accuracy is better), and the
 * chance level dashed across.
 */
export function paretoChart(input: ParetoChartInput): ChartSpec {
  const usable = input.points.filter((p) => p.cost != null && p.accuracy.value != null);
  const left = input.points.filter((p) => !usable.includes(p)).map((p) => p.label);
  const byteUnit = input.unit === 'bytes' ? chooseByteUnit(Math.max(0, ...usable.map((p) => p.cost as number))) : null;
  const x = (cost: number | null) => (byteUnit ? inUnit(cost, byteUnit) : cost == null ? null : Math.round(cost * 100) / 100);
  const datasets: object[] = usable.map((p, i) => ({
    label: chartLabel(p.label),
    data: [{ x: x(p.cost), y: percent(p.accuracy.value) }],
    backgroundColor: seriesColor(i),
    borderColor: seriesColor(i),
    pointRadius: 6,
    pointHoverRadius: 8,
    pointStyle: p.frontier ? 'circle' : 'rectRot',
    errorBars: [p.accuracy.low == null || p.accuracy.high == null ? null : [percent(p.accuracy.low), percent(p.accuracy.high)]],
    pointLabels: [chartLabel(p.label)],
  }));
  const frontier = usable.filter((p) => p.frontier).sort((a, b) => (a.cost as number) - (b.cost as number));
  if (frontier.length > 1) {
    datasets.push({
      label: 'Pareto frontier',
      data: frontier.map((p) => ({ x: x(p.cost), y: percent(p.accuracy.value) })),
      showLine: true,
      borderColor: '#444444',
      backgroundColor: '#444444',
      borderWidth: 1.5,
      pointRadius: 0,
      fill: false,
    });
  }
  const interval = input.intervalLabel ?? '95% Wilson interval';
  const unitName = byteUnit ? byteUnit.name : 'ms';
  const notPlotted = left.length ? ` Not plotted (figure not available): ${left.map(chartLabel).join(', ')}.` : '';
  const subtitle = `Whiskers: ${interval}; circles: on the Pareto frontier (no other model has both lower cost and higher accuracy), joined by the line; diamonds: dominated` +
    `${input.chance != null ? '; dashed: chance level' : ''}. Up and to the left is better.${notPlotted}`;
  const title = `Accuracy vs ${input.costLabel}`;
  const options = baseOptions(title, subtitle);
  withChanceLine(options, input.chance);
  const maxX = Math.max(0, ...usable.map((p) => x(p.cost) as number));
  options.scales = {
    x: {
      type: 'linear',
      beginAtZero: true,
      // Head-room on the right so the last point's label is not cut off.
      suggestedMax: maxX * 1.25,
      // A label that already holds brackets gets its unit as words: "weights file (tensor bytes on disk) in GiB".
      title: { display: true, text: input.costLabel.includes('(') ? `${input.costLabel} in ${unitName}` : `${input.costLabel} (${unitName})`, font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT },
    },
    y: {
      min: 0,
      max: 100,
      title: { display: true, text: 'Accuracy (%)', font: AXIS_TITLE_FONT },
      ticks: { font: TICK_FONT, stepSize: 10 },
    },
  };
  return {
    id: input.id,
    description: `${title}: one point per model; x in ${unitName}, y accuracy in percent with ${interval}; the Pareto frontier joined.`,
    width: 820,
    height: 520,
    config: { type: 'scatter', data: { datasets } as never, options } as ChartConfiguration,
  };
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';
}

// ---- The report's charts, from the report model -------------------------------------------------

const INTERVAL_METHOD_NAMES: Record<string, string> = {
  wilson: 'Wilson interval',
  'bootstrap-percentile': 'bootstrap interval',
  exact: 'exact (no sampling error)',
};

/** "95% Wilson interval", from the intervals actually present (mixed methods are named as such). */
export function intervalLabel(intervals: (Interval | null)[]): string {
  const present = intervals.filter((i): i is Interval => i != null);
  if (present.length === 0) return '95% interval';
  const confidences = new Set(present.map((i) => Math.round(i.confidence * 100)));
  const methods = new Set(present.map((i) => INTERVAL_METHOD_NAMES[i.method] ?? `${i.method} interval`));
  const level = confidences.size === 1 ? `${[...confidences][0]}% ` : '';
  return methods.size === 1 ? `${level}${[...methods][0]}` : `${level}intervals (${[...methods].join(' / ')})`;
}

function proportion(cell: AccuracyCell | undefined): ProportionPoint {
  if (!cell || !cell.accuracy) return { value: null, low: null, high: null, n: cell?.scored };
  return { value: cell.accuracy.estimate, low: cell.accuracy.lower, high: cell.accuracy.upper, n: cell.scored };
}

/** Keys in first-seen order across runs (the model's order, so charts and tables agree). */
export function unionKeys(lists: AccuracyCell[][]): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const cell of list) seen.add(cell.key);
  return [...seen];
}

/** Chart titles and subtitles: each metric's short name and description from the metric table. */
const LATENCY_NAMES: Record<LatencyMetric, { short: string; description: string }> = LATENCY_TABLE;

/** Every chart the report shows, in page order; charts with no data behind them are left out. */
function loadWords(r: RunReport): string {
  const l = r.latency.load;
  if (r.latency.batchSizeOne) return 'sequential';
  if (l.profile === 'rate') return `${l.ratePerSecond ?? '?'} req/s${l.concurrency ? `, at most ${l.concurrency}` : ''}`;
  return `concurrency ${l.concurrency ?? '?'}`;
}

export interface ReportChartOptions {
  /** false: no title or subtitle in the image (`--chart-titles off`: the paper's caption says it). */
  titles?: boolean;
}

/** One chance line for the report's charts: the runs' common chance level, or none when they differ or one is unknown. */
export function commonChance(runs: readonly RunReport[]): number | null {
  const levels = runs.map((r) => r.chanceAccuracy ?? null);
  if (!levels.length || levels.some((c) => c === null)) return null;
  const first = levels[0]!;
  return levels.every((c) => Math.abs(c! - first) < 0.0005) ? first : null;
}

/** Title and subtitle left out of the image; the axes, legend and labels stay. */
function withoutTitles(spec: ChartSpec): void {
  const plugins = (spec.config.options?.plugins ?? {}) as Record<string, { display?: boolean } | undefined>;
  for (const key of ['title', 'subtitle']) if (plugins[key]) plugins[key]!.display = false;
}

export function reportCharts(model: ReportModel, opts: ReportChartOptions = {}): ChartSpec[] {
  const runs = model.runs;
  if (runs.length === 0) return [];
  const specs: ChartSpec[] = [];
  const chance = commonChance(runs);

  const stepKeys = unionKeys(runs.map((r) => r.accuracy.byStep));
  const stepGroups = ['overall', ...stepKeys];
  const stepCells = (r: RunReport) => [r.accuracy.overall, ...r.accuracy.byStep];
  specs.push(
    accuracyChart({
      id: 'accuracy-by-step',
      title: stepKeys.length ? 'Accuracy overall and per USMLE step' : 'Accuracy per model',
      groups: stepGroups.map((k) => (k === 'overall' ? 'Overall' : k)),
      series: runs.map((r) => ({ label: r.label, points: stepGroups.map((k) => proportion(stepCells(r).find((c) => c.key === k))) })),
      intervalLabel: intervalLabel(runs.flatMap((r) => stepCells(r).map((c) => c.accuracy))),
      chance,
    }),
  );

  const typeKeys = unionKeys(runs.map((r) => r.accuracy.byQuestionType));
  if (typeKeys.length) {
    specs.push(
      accuracyChart({
        id: 'accuracy-by-question-type',
        title: 'Accuracy per question type',
        groups: typeKeys.map((k) => k.replace(/_/g, ' ')),
        series: runs.map((r) => ({ label: r.label, points: typeKeys.map((k) => proportion(r.accuracy.byQuestionType.find((c) => c.key === k))) })),
        intervalLabel: intervalLabel(runs.flatMap((r) => r.accuracy.byQuestionType.map((c) => c.accuracy))),
        chance,
      }),
    );
  }

  const figure = (r: RunReport, part: MemoryPartName) => r.memory.find((m) => m.part === part)?.bytes ?? null;
  if (runs.some((r) => r.memory.some((m) => m.bytes != null))) {
    specs.push(
      memoryChart({
        models: runs.map((r) => ({
          label: r.label,
          weightsBytes: figure(r, 'weights'),
          peakProcessBytes: figure(r, 'processPeak'),
          gpuPeakBytes: figure(r, 'gpuProcessPeak'),
        })),
      }),
    );
  }

  for (const metric of ['e2eMs', 'ttftMs'] as const) {
    const withData = runs.filter((r) => r.latency[metric] != null);
    if (!withData.length) continue;
    specs.push(
      latencyCdfChart({
        metric: LATENCY_NAMES[metric].short,
        metricDescription: LATENCY_NAMES[metric].description,
        series: withData.map((r) => ({ label: r.label, n: r.latency[metric]!.n, curve: r.latency[metric]!.curve })),
      }),
    );
  }
  for (const metric of ['tpotMs', 'itlMs'] as const) {
    if (!runs.some((r) => r.latency[metric] != null)) continue;
    const percentiles = ['p50', 'p90', 'p95', 'p99'] as const;
    specs.push(
      latencyPercentileChart({
        metric: LATENCY_NAMES[metric].short,
        metricDescription: LATENCY_NAMES[metric].description,
        percentiles: [...percentiles],
        series: runs.map((r) => ({ label: r.label, valuesMs: percentiles.map((p) => r.latency[metric]?.[p] ?? null) })),
      }),
    );
  }

  // Only worth a chart when some run was not one request at a time.
  const loaded = runs.filter((r) => r.latency.inFlight?.points.length);
  if (loaded.some((r) => !r.latency.batchSizeOne)) {
    specs.push(inFlightChart(loaded.map((r) => ({ label: r.label, load: loadWords(r), points: r.latency.inFlight!.points }))));
  }

  // The ladder's Pareto charts: accuracy against weights, peak memory and median E2EL, frontier joined.
  const board = leaderboardOf(model);
  if (board.rows.length) {
    const accuracyOf = (i: Interval | null): ProportionPoint => (i ? { value: i.estimate, low: i.lower, high: i.upper } : { value: null, low: null, high: null });
    const axes = [
      { id: 'accuracy-vs-weights', axis: 'weights', costLabel: MEMORY_TABLE.weights.long, unit: 'bytes' },
      { id: 'accuracy-vs-peak-memory', axis: 'processPeak', costLabel: MEMORY_TABLE.processPeak.long, unit: 'bytes' },
      { id: 'accuracy-vs-e2el', axis: 'e2eMs', costLabel: `${LATENCY_TABLE.e2eMs.short} p50`, unit: 'ms' },
    ] as const;
    for (const a of axes) {
      const cost = (r: (typeof board.rows)[number]) => (a.axis === 'e2eMs' ? r.latencyP50Ms.e2eMs : r.memory[a.axis]);
      if (!board.rows.some((r) => cost(r) != null)) continue;
      specs.push(paretoChart({
        id: a.id, costLabel: a.costLabel, unit: a.unit, chance,
        points: board.rows.map((r) => ({ label: r.label, cost: cost(r), accuracy: accuracyOf(r.accuracy), frontier: r.frontier[a.axis] })),
        intervalLabel: intervalLabel(board.rows.map((r) => r.accuracy)),
      }));
    }
  }
  if (opts.titles === false) for (const spec of specs) withoutTitles(spec);
  return specs;
}
