// One whole process timed from outside, with its peak RSS and CPU time: the child writes
// process.resourceUsage() as it exits (a preloaded module), so what is measured is the real command,
// start-up included. CPU time is what to judge on a loaded machine, where wall time waits for a core.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ProcessFigures {
  wallS: number;
  peakRssMb: number;
  /** user + system CPU seconds of the child. */
  cpuS: number;
  code: number | null;
  stderr: string;
}

const PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('exit', () => { try { const u = process.resourceUsage(); writeFileSync(process.env.MEDEVAL_BENCH_RSS_FILE, JSON.stringify({ maxRSS: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime })); } catch {} });
`;

export function runWholeProcess(args: string[], cwd = process.cwd()): ProcessFigures {
  const dir = mkdtempSync(join(tmpdir(), 'medeval-bench-proc-'));
  try {
    const preload = join(dir, 'rss.mjs');
    const rssFile = join(dir, 'rss');
    writeFileSync(preload, PRELOAD);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--import', preload, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MEDEVAL_BENCH_RSS_FILE: rssFile }, maxBuffer: 64 << 20 });
    const wallS = (performance.now() - t0) / 1000;
    let peakRssMb = NaN, cpuS = NaN;
    try {
      const u = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRSS: number; cpuUs: number };
      peakRssMb = u.maxRSS / 1024;
      cpuS = u.cpuUs / 1e6;
    } catch { /* the child died before its exit handler */ }
    return { wallS, peakRssMb, cpuS, code: r.status, stderr: r.stderr ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
