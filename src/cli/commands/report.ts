import type { Command } from 'commander';
import { parseSlo, SLO_KEYS } from '../../metrics/goodput.js';
import { publishReport } from '../../report/publish.js';
import { printReportSummary } from '../console-summary.js';
import { intOption } from '../options.js';
import { printErr } from '../terminal.js';
import { checkOutDir } from '../out-path.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('build every report from finished run folders (never runs a model): JSON, Markdown, CSV, LaTeX, HTML, PNG/SVG charts')
    .argument('<runs...>', 'run folders; the first is the baseline, the second the compressed model')
    .requiredOption('-o, --out <dir>', 'folder for the reports')
    .option('--claims <file>', "claims to check (YAML with a claims: list); default: the paper's three claims (suites/paper.yaml)")
    .option('--seed <n>', 'bootstrap seed (reports are reproducible)', intOption)
    .option('--goodput <slo>', `service-level objectives in ms for goodput, as vLLM bench serve: e.g. ttft:2000,tpot:50 (keys ${SLO_KEYS.join(', ')})`)
    .option('--no-charts', 'skip the PNG/SVG charts')
    .option('--no-html', 'skip report.html')
    .action(async (runs: string[], o) => {
      checkOutDir(o.out, 'report');
      const t0 = Date.now();
      const goodput = o.goodput === undefined ? undefined : parseSlo(o.goodput);
      const { model } = await publishReport(runs, o.out, { claimsFile: o.claims, seed: o.seed, charts: o.charts, html: o.html, ...(goodput ? { goodput } : {}) });
      printReportSummary(model, o.out);
      printErr(`report built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
