// Turns a chart specification (a JSON-serialisable Chart.js configuration plus a size) into PNG or
// SVG bytes, using Chart.js 4 on @napi-rs/canvas: prebuilt Skia binaries, nothing compiled on install.
// The SVG comes from Skia's SVG canvas with text converted to paths, so it looks the same without
// the fonts installed. The PDF comes from Skia's PDF backend (@napi-rs/canvas PDFDocument): vector, its
// text kept as text (embedded font subsets), for a paper's \includegraphics.

import { mkdir } from 'node:fs/promises';
import { writeRedactedAsync } from '../core/redact.js';
import { join } from 'node:path';
import { importOptional } from '../core/optional-package.js';
import { Chart, registerables, type ChartConfiguration, type ChartItem } from 'chart.js';
import { loadChartPlugins } from './chart-plugins.js';
import { CHART_FONT_FAMILY, reportCharts, type ChartSpec } from './charts.js';
import type { ReportModel } from './model.js';
import type { ReportWriter } from './writer.js';

export type ChartFormat = 'png' | 'svg' | 'pdf';

/** What the charts writer writes for every chart. */
export const CHART_FORMATS: readonly ChartFormat[] = ['png', 'svg', 'pdf'];

export interface RenderOptions {
  format: ChartFormat;
  /** Device pixels per CSS pixel for PNG (2 = print quality). Ignored for SVG. */
  pixelRatio?: number;
}

let registered = false;
function ensureRegistered(): void {
  if (registered) return;
  Chart.register(...registerables);
  Chart.defaults.font.family = CHART_FONT_FAMILY;
  Chart.defaults.color = '#222222';
  registered = true;
}

let plugins: object[] | undefined;

// @napi-rs/canvas is an optional package (a native Skia build): imported the first time a chart is drawn.
let canvasLib: Promise<typeof import('@napi-rs/canvas')> | undefined;
const loadCanvas = () => (canvasLib ??= importOptional('@napi-rs/canvas', () => import('@napi-rs/canvas')));

/** The Chart.js configuration drawn in Node: the spec's, not animated, at this pixel ratio, with medeval's plugins. */
async function prepared(spec: ChartSpec, pixelRatio: number) {
  const lib = await loadCanvas();
  ensureRegistered();
  plugins ??= loadChartPlugins();
  // structuredClone: Chart.js writes resolved state into the config objects it is given.
  const config = structuredClone(spec.config);
  config.options = {
    ...config.options,
    responsive: false,
    animation: false,
    devicePixelRatio: pixelRatio,
  };
  config.plugins = [...(plugins as NonNullable<ChartConfiguration['plugins']>), ...(config.plugins ?? [])];
  return { lib, config };
}

/** Renders one chart to PNG, SVG or PDF bytes. */
export async function renderChart(spec: ChartSpec, options: RenderOptions): Promise<Buffer> {
  const svg = options.format === 'svg';
  // Chart.js accepts any 2D context; @napi-rs/canvas's is API-compatible but typed separately (ChartItem casts).
  const pixelRatio = svg ? 1 : (options.pixelRatio ?? 2);
  const { lib: { createCanvas, PDFDocument, SvgExportFlag }, config } = await prepared(spec, pixelRatio);
  if (options.format === 'pdf') {
    const doc = new PDFDocument({ title: spec.description, creator: 'medeval' });
    const ctx = doc.beginPage(spec.width, spec.height);
    // Chart.js sizes itself from ctx.canvas, which a PDF page's context has not: give it one of the page's size.
    Object.defineProperty(ctx, 'canvas', { value: { width: spec.width, height: spec.height, style: {}, getContext: () => ctx } });
    const chart = new Chart(ctx as unknown as ChartItem, { ...config, options: { ...config.options, devicePixelRatio: 1 } });
    try {
      doc.endPage();
      return doc.close();
    } finally {
      chart.destroy();
    }
  }
  if (svg) {
    const canvas = createCanvas(spec.width, spec.height, SvgExportFlag.ConvertTextToPaths);
    const chart = new Chart(canvas.getContext('2d') as unknown as ChartItem, config);
    try {
      return canvas.getContent();
    } finally {
      chart.destroy();
    }
  }
  const canvas = createCanvas(spec.width, spec.height);
  const chart = new Chart(canvas.getContext('2d') as unknown as ChartItem, config);
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

type Context2D = Record<string | symbol, unknown>;

type Op = { key: string | symbol; call: true; args: unknown[] } | { key: string | symbol; call: false; value: unknown };

/** Strings, numbers, booleans, null and arrays of them: what a call can be replayed with on another context. */
const replayable = (x: unknown): boolean =>
  x === null || x === undefined || ['string', 'number', 'boolean'].includes(typeof x) || (Array.isArray(x) && x.every((y) => y === null || ['string', 'number', 'boolean'].includes(typeof y)));

/**
 * A 2D context that draws on `target` and keeps each call and property set, so the same drawing can be
 * replayed on another context afterwards (Chart.js lays a chart out and draws it once for the SVG and the
 * PDF: both measure text alike and share a pixel ratio, so Chart.js would make the PDF page the same calls;
 * test/report/charts.test.ts compares the bytes). A call with an object argument (a gradient, a path made
 * on this context) cannot be replayed: `replayable` turns false and the caller draws the other one itself.
 */
function recordingContext(target: Context2D, canvas: object): { ctx: Context2D; ops: Op[]; replayable: () => boolean } {
  const ops: Op[] = [];
  let ok = true;
  const calls = new Map<string | symbol, (...args: unknown[]) => unknown>();
  const ctx = new Proxy(target, {
    get(t, key) {
      if (key === 'canvas') return canvas;
      const v = t[key];
      if (typeof v !== 'function') return v;
      let call = calls.get(key);
      if (!call) {
        call = (...args: unknown[]) => {
          if (!args.every(replayable)) ok = false;
          ops.push({ key, call: true, args: args.map((a) => (Array.isArray(a) ? a.slice() : a)) });
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
        calls.set(key, call);
      }
      return call;
    },
    set(t, key, value) {
      if (!replayable(value)) ok = false;
      ops.push({ key, call: false, value: Array.isArray(value) ? value.slice() : value });
      t[key] = value;
      return true;
    },
  });
  return { ctx, ops, replayable: () => ok };
}

function replay(ops: readonly Op[], on: Context2D): void {
  for (const op of ops) {
    if (op.call) (on[op.key] as (...a: unknown[]) => unknown).apply(on, op.args);
    else on[op.key] = op.value;
  }
}

/**
 * The chart in each of `formats`, in that order: what renderChart gives for each, with the PDF drawn from
 * the SVG's layout (recordingContext) instead of a second one, the PNG drawn and its encoding started first
 * (it runs off this thread). The devices draw in renderChart's order (PNG, SVG, then PDF): Skia numbers the
 * SVG's clip paths from a counter every device's clips advance.
 */
export function renderChartFormats(spec: ChartSpec, formats: readonly ChartFormat[], pixelRatio?: number): Promise<Buffer>[] {
  if (!(formats.includes('svg') && formats.includes('pdf'))) return formats.map((format) => renderChart(spec, { format, pixelRatio }));
  const png = formats.includes('png') ? renderChart(spec, { format: 'png', pixelRatio }) : null;
  const vector = (async () => {
    const { lib: { createCanvas, PDFDocument, SvgExportFlag }, config } = await prepared(spec, 1);
    const canvas = createCanvas(spec.width, spec.height, SvgExportFlag.ConvertTextToPaths);
    // Chart.js sees the SVG canvas through a context that records what it draws.
    let recorder!: ReturnType<typeof recordingContext>;
    const seen = new Proxy(canvas as unknown as Context2D, {
      get: (t, key) => (key === 'getContext' ? () => recorder.ctx : typeof t[key] === 'function' ? (t[key] as (...a: unknown[]) => unknown).bind(t) : t[key]),
      set: (t, key, value) => ((t[key] = value), true),
    });
    recorder = recordingContext(canvas.getContext('2d') as unknown as Context2D, seen);
    const chart = new Chart(recorder.ctx as unknown as ChartItem, config);
    const drawn = recorder.ops.length;
    let svg: Buffer;
    try {
      svg = canvas.getContent();
    } finally {
      chart.destroy();
    }
    // chart.destroy() only clears the canvas it drew on: the PDF page gets what was drawn before it.
    if (!recorder.replayable()) return { svg, pdf: await renderChart(spec, { format: 'pdf' }) };
    const doc = new PDFDocument({ title: spec.description, creator: 'medeval' });
    const page = doc.beginPage(spec.width, spec.height);
    replay(recorder.ops.slice(0, drawn), page as unknown as Context2D);
    doc.endPage();
    return { svg, pdf: doc.close() };
  })();
  return formats.map((format) => (format === 'png' ? png! : vector.then((v) => v[format as 'svg' | 'pdf'])));
}

export interface RenderChartsOptions {
  formats?: readonly ChartFormat[];
  pixelRatio?: number;
  /** false: no titles in the images. */
  titles?: boolean;
}

/** Writes every report chart as <id>.<format> into outDir; returns the written paths in order. */
export async function renderCharts(model: ReportModel, outDir: string, options: RenderChartsOptions = {}): Promise<string[]> {
  const formats = options.formats ?? CHART_FORMATS;
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const spec of reportCharts(model, { titles: options.titles })) {
    const rendered = renderChartFormats(spec, formats, options.pixelRatio);
    for (const r of rendered) r.catch(() => {});
    for (const [k, format] of formats.entries()) {
      const file = join(outDir, `${spec.id}.${format}`);
      await writeRedactedAsync(file, await rendered[k]!);
      written.push(file);
    }
  }
  return written;
}

export const chartsWriter: ReportWriter = {
  name: 'charts',
  description: 'the charts as PNG, SVG and PDF under charts/',
  files: ['charts/'],
  skippable: true,
  async *render(model, settings) {
    for (const spec of reportCharts(model, { titles: settings?.chartTitles !== false })) {
      // Every format started at once: the PNG is encoded off this thread (@napi-rs/canvas) while the SVG
      // and the PDF are drawn here, by one layout; each file is handed on in the same order.
      const rendered = renderChartFormats(spec, CHART_FORMATS);
      // A failure (no @napi-rs/canvas) is thrown by the first await; the others are not left unhandled.
      for (const r of rendered) r.catch(() => {});
      for (const [k, format] of CHART_FORMATS.entries()) yield { name: `charts/${spec.id}.${format}`, content: await rendered[k]! };
    }
  },
};
