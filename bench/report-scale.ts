// Times buildReport and every writer on synthetic runs: `npx tsx bench/report-scale.ts [items] [resamples]`
// (default 10,000 items per model, 2,000 bootstrap resamples). Reports are pure functions of the
// journal, so this is the whole cost of `medeval report` after reading the files.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildReport } from '../src/report/build.js';
import { PAPER_CLAIMS } from '../src/report/claims.js';
import { writeReports } from '../src/report/write.js';
import { syntheticPair } from '../test/fixtures/runs/synthetic.js';

async function main(): Promise<void> {
  const items = Number(process.argv[2] ?? 10_000);
  const resamples = Number(process.argv[3] ?? 2000);
  const runs = syntheticPair(items);
  const t0 = performance.now();
  const model = buildReport({ runs, claims: PAPER_CLAIMS, seed: 1, resamples });
  const t1 = performance.now();
  const out = mkdtempSync(join(tmpdir(), 'medeval-bench-report-'));
  const files = await writeReports(model, out);
  const t2 = performance.now();
  const sizes = files.map((f) => `${f.slice(out.length + 1)} ${(statSync(f).size / 1e6).toFixed(2)} MB`).join(', ');
  rmSync(out, { recursive: true, force: true });
  console.log(`items per model: ${items}, resamples: ${resamples}, ITL gaps per run: ${model.runs[0]!.latency.itlMs!.n}`);
  console.log(`buildReport: ${(t1 - t0).toFixed(0)} ms; writers (json, md, csv, tex): ${(t2 - t1).toFixed(0)} ms; total ${(t2 - t0).toFixed(0)} ms`);
  console.log(`files: ${sizes}`);
}

await main();
