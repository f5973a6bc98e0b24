import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_FORMATS, renderChart, renderChartFormats, renderCharts } from '../../src/report/chart-render.js';
import {
  accuracyChart,
  paretoChart,
  chooseByteUnit,
  empiricalCdf,
  intervalLabel,
  latencyCdfChart,
  memoryChart,
  reportCharts,
  type ChartSpec,
} from '../../src/report/charts.js';
import { fixtureReportModel } from './fixtures/report-model.js';
import { buildReport } from '../../src/report/build.js';
import { PAPER_CLAIMS } from '../../src/report/claims.js';
import { syntheticPair } from '../fixtures/runs/synthetic.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Decodes a PNG and counts its distinct colours (a blank or background-only image has one or two). */
async function pngStats(png: Buffer): Promise<{ width: number; height: number; colours: number; nonWhite: number }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  const colours = new Set<number>();
  let nonWhite = 0;
  for (let i = 0; i < data.length; i += 4) {
    colours.add((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]);
    if (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250) nonWhite++;
  }
  return { width: image.width, height: image.height, colours: colours.size, nonWhite };
}

const accuracySpec = (): ChartSpec =>
  accuracyChart({
    title: 'Accuracy per step',
    groups: ['Overall', 'step1'],
    series: [
      { label: 'baseline', points: [{ value: 0.7, low: 0.6, high: 0.8, n: 100 }, { value: 0.65, low: 0.5, high: 0.78, n: 50 }] },
      { label: 'compressed', points: [{ value: 0.6, low: 0.5, high: 0.7, n: 100 }, { value: null, low: null, high: null, n: 0 }] },
    ],
  });

describe('chart specifications', () => {
  it('puts accuracy in percent with the interval as error bars, and n under each group', () => {
    const spec = accuracySpec();
    const datasets = spec.config.data.datasets as unknown as Array<{ label: string; data: (number | null)[]; errorBars: unknown[] }>;
    expect(datasets.map((d) => d.label)).toEqual(['baseline', 'compressed']);
    expect(datasets[0].data).toEqual([70, 65]);
    expect(datasets[0].errorBars).toEqual([[60, 80], [50, 78]]);
    expect(datasets[1].errorBars[1]).toBeNull();
    // step1 has different n per model, so no "n =" line there
    expect(spec.config.data.labels).toEqual([['Overall', 'n = 100'], 'step1']);
    const y = (spec.config.options as { scales: { y: { title: { text: string } } } }).scales.y;
    expect(y.title.text).toBe('Accuracy (%)');
  });

  it('is JSON-serialisable (the HTML page reuses it), with no functions inside', () => {
    const model = fixtureReportModel();
    for (const spec of reportCharts(model)) expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('picks the byte unit from the largest value and names it on the axis', () => {
    expect(chooseByteUnit(5 * 2 ** 30).name).toBe('GiB');
    expect(chooseByteUnit(900 * 2 ** 20).name).toBe('MiB');
    expect(chooseByteUnit(2048).name).toBe('KiB');
    const spec = memoryChart({ models: [{ label: 'a', weightsBytes: 300 * 2 ** 20, peakProcessBytes: 500 * 2 ** 20 }] });
    const scales = (spec.config.options as { scales: { y: { title: { text: string } } } }).scales;
    expect(scales.y.title.text).toBe('Memory (MiB)');
    const data = (spec.config.data.datasets as unknown as Array<{ data: number[] }>).map((d) => d.data[0]);
    expect(data).toEqual([300, 200]);
  });

  it('never draws a negative memory part when the peak is below the weights, and says why', () => {
    const spec = memoryChart({ models: [{ label: 'mmap', weightsBytes: 4e9, peakProcessBytes: 3e9 }] });
    const other = (spec.config.data.datasets as unknown as Array<{ data: number[] }>)[1].data[0];
    expect(other).toBe(0);
    const subtitle = (spec.config.options as { plugins: { subtitle: { text: string } } }).plugins.subtitle.text;
    expect(subtitle).toContain('below the weights');
  });

  it('lists runs whose memory is not available instead of plotting them at zero', () => {
    const spec = paretoChart({
      id: 'accuracy-vs-peak-memory',
      costLabel: 'peak process memory',
      unit: 'bytes',
      points: [
        { label: 'local', cost: 2 ** 31, accuracy: { value: 0.5, low: 0.4, high: 0.6 }, frontier: true },
        { label: 'remote', cost: null, accuracy: { value: 0.6, low: 0.5, high: 0.7 }, frontier: false },
      ],
    });
    expect(spec.config.data.datasets.map((d) => d.label)).toEqual(['local']);
    const subtitle = (spec.config.options as { plugins: { subtitle: { text: string } } }).plugins.subtitle.text;
    expect(subtitle).toContain('remote');
  });

  it('builds an empirical CDF that ends at 100% on the largest value', () => {
    const curve = empiricalCdf([30, 10, 20, 40]);
    expect(curve).toEqual([[0, 10], [25, 10], [50, 20], [75, 30], [100, 40]]);
    const thinned = empiricalCdf(Array.from({ length: 1001 }, (_, i) => i), 100);
    expect(thinned.length).toBeLessThanOrEqual(102);
    expect(thinned.at(-1)).toEqual([100, 1000]);
  });

  it('names the interval from the intervals present', () => {
    expect(intervalLabel([{ estimate: 0.5, lower: 0.4, upper: 0.6, confidence: 0.95, method: 'wilson' }])).toBe('95% Wilson interval');
    expect(intervalLabel([null])).toBe('95% interval');
  });

  it('derives the report charts from the model, leaving out charts with no data', () => {
    const model = fixtureReportModel();
    expect(reportCharts(model).map((s) => s.id)).toEqual([
      'accuracy-by-step',
      'accuracy-by-question-type',
      'memory',
      'latency-cdf-e2el',
      'latency-cdf-ttft',
      'latency-percentiles-tpot',
      'latency-percentiles-itl',
      'accuracy-vs-weights',
      'accuracy-vs-peak-memory',
      'accuracy-vs-e2el',
    ]);
    model.runs.forEach((r) => {
      r.latency.ttftMs = null;
      r.accuracy.byQuestionType = [];
    });
    const ids = reportCharts(model).map((s) => s.id);
    expect(ids).not.toContain('latency-cdf-ttft');
    expect(ids).not.toContain('accuracy-by-question-type');
    expect(reportCharts({ ...model, runs: [], accuracyVsMemory: [] })).toEqual([]);
  });
});

describe('rendering', () => {
  it('draws a PNG at twice the logical size that is not blank', async () => {
    const spec = accuracySpec();
    const png = await renderChart(spec, { format: 'png' });
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const stats = await pngStats(png);
    expect([stats.width, stats.height]).toEqual([spec.width * 2, spec.height * 2]);
    expect(stats.colours).toBeGreaterThan(50);
    expect(stats.nonWhite / (stats.width * stats.height)).toBeGreaterThan(0.05);
  });

  it('fills the background white (no transparent corners)', async () => {
    const png = await renderChart(accuracySpec(), { format: 'png', pixelRatio: 1 });
    const image = await loadImage(png);
    const canvas = createCanvas(image.width, image.height);
    canvas.getContext('2d').drawImage(image, 0, 0);
    expect([...canvas.getContext('2d').getImageData(0, 0, 1, 1).data]).toEqual([255, 255, 255, 255]);
  });

  it('draws an SVG with text as paths that decodes to a non-blank image', async () => {
    const spec = latencyCdfChart({ metric: 'E2EL', series: [{ label: 'a', n: 4, curve: empiricalCdf([100, 200, 300, 400]), stepped: true }] });
    const svg = await renderChart(spec, { format: 'svg' });
    const text = svg.toString('utf8');
    expect(text).toMatch(/^<\?xml[^>]*>\s*<svg[^>]*width="800" height="460"/);
    expect(text).not.toContain('<text');
    expect(text.match(/<path/g)!.length).toBeGreaterThan(50);
    const image = await loadImage(svg);
    const canvas = createCanvas(image.width, image.height);
    canvas.getContext('2d').drawImage(image, 0, 0);
    const png = await canvas.encode('png');
    expect((await pngStats(png)).colours).toBeGreaterThan(20);
  });

  it('renderChartFormats (the PDF replayed from the SVG\'s Chart.js layout) gives renderChart\'s bytes for every report chart, in every format', async () => {
    // Skia numbers an SVG's clip paths from one counter for the whole process (every device's clips move
    // it), so two renders in one process differ in those numbers only: renumbered from 0 in order of
    // appearance here. The files `medeval report` writes were compared whole against the old code's.
    const clipIds = (svg: Buffer) => {
      const ids = new Map<string, string>();
      return svg.toString('utf8').replace(/cl_[0-9a-f]+/g, (id) => ids.get(id) ?? (ids.set(id, `cl#${ids.size}`), ids.get(id)!));
    };
    const synthetic = buildReport({ runs: syntheticPair(400), claims: PAPER_CLAIMS, seed: 2, resamples: 20 });
    const specs = [...reportCharts(fixtureReportModel({ hostile: true })), ...reportCharts(synthetic), ...reportCharts(synthetic, { titles: false })];
    expect(specs.length).toBeGreaterThan(15);
    for (const spec of specs) {
      const together = await Promise.all(renderChartFormats(spec, CHART_FORMATS));
      for (const [k, format] of CHART_FORMATS.entries()) {
        const alone = await renderChart(spec, { format });
        if (format === 'svg') {
          expect(alone.toString('utf8')).toMatch(/cl_[0-9a-f]+/);
          expect(clipIds(together[k]!), `${spec.id}.svg`).toBe(clipIds(alone));
        } else expect(together[k]!.equals(alone), `${spec.id}.${format}`).toBe(true);
      }
      // Asked for the vector formats alone, in another order: the same.
      const [pdf, svg] = await Promise.all(renderChartFormats(spec, ['pdf', 'svg']));
      expect(pdf!.equals(together[2]!)).toBe(true);
      expect(clipIds(svg!)).toBe(clipIds(together[1]!));
    }
  });

  describe('renderCharts', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'medeval-charts-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes every report chart in every format asked for', async () => {
      const model = fixtureReportModel({ hostile: true });
      const files = await renderCharts(model, dir, { formats: ['png', 'svg'], pixelRatio: 1 });
      const ids = reportCharts(model).map((s) => s.id);
      expect(files).toEqual(ids.flatMap((id) => [join(dir, `${id}.png`), join(dir, `${id}.svg`)]));
      for (const file of files.filter((f) => f.endsWith('.png'))) {
        const stats = await pngStats(await readFile(file));
        expect(stats.colours, file).toBeGreaterThan(20);
      }
    });
  });
});

// mutool (MuPDF) reads a PDF's text back where it is installed; the structural checks run everywhere.
const hasMutool = spawnSync('mutool', ['-v'], { stdio: 'ignore' }).error === undefined;
const pdfText = async (pdf: Buffer): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'medeval-pdf-'));
  await writeFile(join(dir, 'c.pdf'), pdf);
  const r = spawnSync('mutool', ['draw', '-F', 'txt', join(dir, 'c.pdf')], { encoding: 'utf8' });
  await rm(dir, { recursive: true, force: true });
  return r.stdout;
};

describe('charts as PDF, titles on request, the chance line', () => {
  const chanceModel = () => {
    const model = fixtureReportModel();
    for (const r of model.runs) r.chanceAccuracy = 0.25;
    return model;
  };

  it('writes a vector PDF whose text is text: embedded fonts, text operators, no bitmap', async () => {
    const pdf = await renderChart(accuracySpec(), { format: 'pdf' });
    const raw = pdf.toString('latin1');
    expect(raw.startsWith('%PDF-')).toBe(true);
    expect(raw).toMatch(/\/Type\s*\/Font/);
    expect(raw).toMatch(/\/FontFile2/);
    expect(raw).toMatch(/\/ToUnicode/);
    expect(raw).not.toMatch(/\/Subtype\s*\/Image/);
    // Content streams are deflated: inflate them and look for text-showing operators.
    const streams = [...raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)].map((m) => {
      try { return inflateSync(Buffer.from(m[1]!, 'latin1')).toString('latin1'); } catch { return ''; }
    });
    expect(streams.some((s) => /\bBT\b[\s\S]*\bT[jJ]\b/.test(s))).toBe(true);
  });

  it.runIf(hasMutool)(`${hasMutool ? '' : '(skipped: mutool not installed) '}the PDF\'s title, axis and legend words read back as text; --chart-titles off leaves the title out`, async () => {
    const [withTitle] = reportCharts(chanceModel());
    const text = await pdfText(await renderChart(withTitle!, { format: 'pdf' }));
    for (const words of ['Accuracy overall and per USMLE step', 'Accuracy (%)', 'chance 25.0%']) expect(text).toContain(words);
    const [untitled] = reportCharts(chanceModel(), { titles: false });
    const bare = await pdfText(await renderChart(untitled!, { format: 'pdf' }));
    expect(bare).not.toContain('Accuracy overall and per USMLE step');
    expect(bare).not.toContain('whiskers');
    expect(bare).toContain('Accuracy (%)');
  });

  it('draws the chance line on accuracy charts and Pareto charts when every run has the same chance level', () => {
    const specs = reportCharts(chanceModel());
    const lines = (id: string) => (specs.find((s) => s.id === id)!.config.options!.plugins as Record<string, { lines?: Array<{ y: number }> }>).medevalHLines?.lines;
    for (const id of ['accuracy-by-step', 'accuracy-by-question-type', 'accuracy-vs-weights', 'accuracy-vs-e2el']) expect(lines(id), id).toEqual([{ y: 25, label: 'chance 25.0%' }]);
    const mixed = chanceModel();
    mixed.runs[1]!.chanceAccuracy = 0.2;
    expect((reportCharts(mixed)[0]!.config.options!.plugins as Record<string, unknown>).medevalHLines).toBeUndefined();
    expect((reportCharts(fixtureReportModel())[0]!.config.options!.plugins as Record<string, unknown>).medevalHLines).toBeUndefined();
  });
});
