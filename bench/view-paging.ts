// `medeval view` on large runs: how long the first listing takes (the journal index: one streaming pass
// that validates every line), how long a page takes after it (first page, a filtered page near the end,
// "load more"), and what the index costs in memory. Demo-shaped records (about 2 KB a line), one run
// folder per size, a fresh viewer (new catalog) per round, in this process over real loopback HTTP.
// No target in the issue: figures only. Run: npm run bench -- view-paging
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Catalog, checkRoots, runId } from '../src/view/catalog.js';
import { startViewServer } from '../src/view/server.js';
import { writeDemoShapedPair } from './lib/run-folders.js';
import { median, round } from './lib/stats.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const SIZES = [10_000, 100_000];
// A heap figure needs a collection before each reading.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const ROUNDS = 2;

interface Timed { wallMs: number; cpuMs: number; linesParsed: number }

async function timedGet(url: string): Promise<Timed> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - t0, cpuMs: (used.user + used.system) / 1000, linesParsed: Number(res.headers.get('x-medeval-lines-parsed') ?? -1) };
}

interface Row { items: number; journalMb: number; list: Timed[]; first: Timed[]; filtered: Timed[]; more: Timed[]; heapMb: number[] }

async function run(): Promise<BenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'medeval-bench-view-'));
  try {
    const rows: Row[] = [];
    for (const items of SIZES) {
      const [dir] = writeDemoShapedPair(items, join(root, `n${items}`)) as [string];
      rmSync(join(root, `n${items}`, 'compressed'), { recursive: true, force: true });
      const row: Row = { items, journalMb: round(statSync(join(dir, 'results.jsonl')).size / 1e6, 1), list: [], first: [], filtered: [], more: [], heapMb: [] };
      for (let k = 0; k < ROUNDS; k++) {
        gc();
        const heap0 = process.memoryUsage().heapUsed;
        const view = await startViewServer(new Catalog(checkRoots([join(root, `n${items}`)])), { port: 0 });
        try {
          const id = runId(dir);
          row.list.push(await timedGet(`${view.url}api/runs`));
          gc();
          row.heapMb.push((process.memoryUsage().heapUsed - heap0) / 1e6);
          row.first.push(await timedGet(`${view.url}run/${id}`));
          row.filtered.push(await timedGet(`${view.url}run/${id}?outcome=wrong&type=diagnosis&offset=${items / 1000}`));
          row.more.push(await timedGet(`${view.url}run/${id}/items?offset=${items - 100}&limit=50`));
        } finally {
          await view.close();
        }
      }
      rows.push(row);
      rmSync(join(root, `n${items}`), { recursive: true, force: true });
    }
    const m = (xs: Timed[], k: keyof Timed) => round(median(xs.map((x) => x[k])), 0);
    return {
      tables: [{
        title: `one run folder per size, demo-shaped records, medians of ${ROUNDS} rounds (a fresh viewer each)`,
        head: ['items', 'journal MB', 'first listing ms (index)', 'cpu ms', 'index heap MB', 'first page ms', 'cpu ms', 'lines parsed', 'filtered page ms', 'lines parsed', 'load more ms', 'lines parsed'],
        rows: rows.map((r) => [r.items.toLocaleString('en'), r.journalMb, m(r.list, 'wallMs'), m(r.list, 'cpuMs'), round(median(r.heapMb), 1),
          m(r.first, 'wallMs'), m(r.first, 'cpuMs'), m(r.first, 'linesParsed'), m(r.filtered, 'wallMs'), m(r.filtered, 'linesParsed'), m(r.more, 'wallMs'), m(r.more, 'linesParsed')]),
      }],
      notes: [
        'The first listing builds each run\'s index: every line read and validated once (one at a time), only offsets and filter fields kept. Pages after it read only their own lines.',
        'cpu ms is this process\'s user+sys during the request (server and client share the process). index heap MB is heapUsed after the listing minus before (each after a full collection).',
      ],
      data: { rounds: ROUNDS, rows },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const viewPaging: Benchmark = {
  name: 'view-paging',
  description: 'medeval view on 10k and 100k-item runs: first listing (index), first page, filtered page, load more; lines parsed, heap',
  run,
};
