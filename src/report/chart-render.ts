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

/** Renders one chart to PNG or SVG bytes. */
export async function renderChart(spec: ChartSpec, options: RenderOptions): Promise<Buffer> {
  const { createCanvas, PDFDocument, SvgExportFlag } = await loadCanvas();
  ensureRegistered();
  plugins ??= loadChartPlugins();
  const svg = options.format === 'svg';
  // Chart.js accepts any 2D context; @napi-rs/canvas's is API-compatible but typed separately (ChartItem casts).
  const pixelRatio = svg ? 1 : (options.pixelRatio ?? 2);
  // structuredClone: Chart.js writes resolved state into the config objects it is given.
  const config = structuredClone(spec.config);
  config.options = {
    ...config.options,
    responsive: false,
    animation: false,
    devicePixelRatio: pixelRatio,
  };
  config.plugins = [...(plugins as NonNullable<ChartConfiguration['plugins']>), ...(config.plugins ?? [])];
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
    for (const format of formats) {
      const file = join(outDir, `${spec.id}.${format}`);
      await writeRedactedAsync(file, await renderChart(spec, { format, pixelRatio: options.pixelRatio }));
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
      // and the PDF are drawn here; each file is handed on in the same order.
      const rendered = CHART_FORMATS.map((format) => renderChart(spec, { format }));
      // A failure (no @napi-rs/canvas) is thrown by the first await; the others are not left unhandled.
      for (const r of rendered) r.catch(() => {});
      for (const [k, format] of CHART_FORMATS.entries()) yield { name: `charts/${spec.id}.${format}`, content: await rendered[k]! };
    }
  },
};
