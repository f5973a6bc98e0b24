// How long `medeval report` takes for 10,000 items per model (a baseline/compressed pair, 2,000 bootstrap
// resamples). Two measurements:
//   phases:      buildReport and each writer on in-memory runs (where the time goes);
//   end to end:  publishReport on run folders written to a temporary folder (read + validate the journals,
//                build, JSON/MD/CSV/TeX, the HTML page and the PNG/SVG charts): what a user waits for.
// Run: npm run bench -- report-scale
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildReport } from '../src/report/build.js';
import { renderCharts } from '../src/report/chart-render.js';
import { PAPER_CLAIMS } from '../src/report/claims.js';
import { writeHtml } from '../src/report/html.js';
import { publishReport } from '../src/report/publish.js';
import type { LoadedRun } from '../src/core/run-folder.js';
import { writeReports } from '../src/report/write.js';
import { syntheticPair } from '../test/fixtures/runs/synthetic.js';
import { round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const ITEMS = 10_000;
const RESAMPLES = 2000;
const SEED = 1;

/** Writes runs as run folders (manifest.json + results.jsonl), as `medeval run` leaves them. */
function writeRunFolders(runs: LoadedRun[], root: string): string[] {
  return runs.map((r) => {
    const dir = join(root, r.manifest.label);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(r.manifest, null, 2) + '\n');
    writeFileSync(join(dir, 'results.jsonl'), r.results.map((x) => JSON.stringify(x)).join('\n') + '\n');
    return dir;
  });
}

const mb = (bytes: number) => round(bytes / 1e6, 2);

async function run(): Promise<BenchResult> {
  const runs = syntheticPair(ITEMS);
  const root = mkdtempSync(join(tmpdir(), 'medeval-bench-report-'));
  try {
    const phases: Array<{ phase: string; ms: number; files: number; mb: number }> = [];
    const time = async (phase: string, fn: () => Promise<string[]> | string[]) => {
      const t0 = performance.now();
      const files = await fn();
      phases.push({ phase, ms: round(performance.now() - t0, 0), files: files.length, mb: mb(files.reduce((s, f) => s + statSync(f).size, 0)) });
    };
    let model!: ReturnType<typeof buildReport>;
    await time('buildReport (statistics, bootstrap)', () => {
      model = buildReport({ runs, claims: PAPER_CLAIMS, seed: SEED, resamples: RESAMPLES });
      return [];
    });
    const phaseDir = join(root, 'phases');
    await time('JSON + Markdown + CSV + TeX', () => writeReports(model, phaseDir));
    await time('HTML page', async () => [await writeHtml(model, join(phaseDir, 'report.html'))]);
    await time('charts (PNG + SVG)', () => renderCharts(model, join(phaseDir, 'charts'), { formats: ['png', 'svg'] }));

    const dirs = writeRunFolders(runs, join(root, 'runs'));
    const journalMb = mb(dirs.reduce((s, d) => s + statSync(join(d, 'results.jsonl')).size, 0));
    const t0 = performance.now();
    const { files } = await publishReport(dirs, join(root, 'report'), { seed: SEED });
    const endToEndMs = round(performance.now() - t0, 0);
    const outMb = mb(files.reduce((s, f) => s + statSync(f).size, 0));
    const largest = files
      .map((f) => ({ file: f.slice(join(root, 'report').length + 1), mb: mb(statSync(f).size) }))
      .sort((a, b) => b.mb - a.mb)
      .slice(0, 4);
    return {
      tables: [{
        title: `${ITEMS.toLocaleString('en')} items per model x 2 models, ${RESAMPLES} bootstrap resamples`,
        head: ['step', 'ms', 'files', 'MB written'],
        rows: [
          ...phases.map((p) => [p.phase, p.ms, p.files || '-', p.files ? p.mb : '-']),
          [`end to end: publishReport on 2 run folders (${journalMb} MB of journals)`, endToEndMs, files.length, outMb],
        ],
      }],
      notes: [
        `largest outputs: ${largest.map((l) => `${l.file} ${l.mb} MB`).join(', ')}`,
        'The phase rows run on in-memory runs; the end-to-end row is one publishReport call (read and validate the journals, then every phase above) on folders in a temporary directory, removed afterwards.',
      ],
      data: { itemsPerModel: ITEMS, resamples: RESAMPLES, phases, endToEnd: { ms: endToEndMs, files: files.length, mbWritten: outMb, journalMbRead: journalMb, largest } },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const reportScale: Benchmark = {
  name: 'report-scale',
  description: '`medeval report` for 10,000 items per model: build, JSON/MD/CSV/TeX, HTML and charts',
  run,
};
