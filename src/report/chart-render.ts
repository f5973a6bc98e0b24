// Turns a chart specification (a JSON-serialisable Chart.js configuration plus a size) into PNG or
// SVG bytes, using Chart.js 4 on @napi-rs/canvas: prebuilt Skia binaries, nothing compiled on install.
// The SVG comes from Skia's SVG canvas with text converted to paths, so it looks the same without
// the fonts installed.

import { mkdir } from 'node:fs/promises';
import { writeRedactedAsync } from '../core/redact.js';
import { join } from 'node:path';
import { importOptional } from '../core/optional-package.js';
import { Chart, registerables, type ChartConfiguration, type ChartItem } from 'chart.js';
import { loadChartPlugins } from './chart-plugins.js';
import { CHART_FONT_FAMILY, reportCharts, type ChartSpec } from './charts.js';
import type { ReportModel } from './model.js';
import type { ReportWriter } from './writer.js';

export type ChartFormat = 'png' | 'svg';

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
  const { createCanvas, SvgExportFlag } = await loadCanvas();
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
  formats?: ChartFormat[];
  pixelRatio?: number;
}

/** Writes every report chart as <id>.<format> into outDir; returns the written paths in order. */
export async function renderCharts(model: ReportModel, outDir: string, options: RenderChartsOptions = {}): Promise<string[]> {
  const formats = options.formats ?? ['png', 'svg'];
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const spec of reportCharts(model)) {
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
  description: 'the charts as PNG and SVG under charts/',
  files: ['charts/'],
  skippable: true,
  async *render(model) {
    for (const spec of reportCharts(model)) {
      for (const format of ['png', 'svg'] as const) yield { name: `charts/${spec.id}.${format}`, content: await renderChart(spec, { format }) };
    }
  },
};
