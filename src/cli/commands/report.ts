import type { Command } from 'commander';
import { parseSlo, SLO_KEYS } from '../../metrics/goodput.js';
import { publishedFormats, publishReport } from '../../report/publish.js';
import { REPORT_WRITERS } from '../../report/writers.js';
import { printReportSummary } from '../console-summary.js';
import { intOption } from '../options.js';
import { printErr } from '../terminal.js';
import { checkOutDir } from '../out-path.js';

export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description(`build every report from finished run folders (never runs a model): ${REPORT_WRITERS.map((w) => w.name).join(', ')}`)
    .argument('<runs...>', 'run folders; the first is the baseline, the second the compressed model')
    .requiredOption('-o, --out <dir>', 'folder for the reports')
    .option('--claims <file>', "claims to check (YAML with a claims: list); default: the paper's three claims (suites/paper.yaml)")
    .option('--seed <n>', 'bootstrap seed (reports are reproducible)', intOption)
    .option('--goodput <slo>', `service-level objectives in ms for goodput, as vLLM bench serve: e.g. ttft:2000,tpot:50 (keys ${SLO_KEYS.join(', ')})`);
  // One --no-<name> flag per skippable format (--no-html, --no-charts), from the format list.
  for (const w of REPORT_WRITERS.filter((x) => x.skippable)) command.option(`--no-${w.name}`, `skip ${w.description}`);
  command
    .action(async (runs: string[], o) => {
      checkOutDir(o.out, 'report');
      const t0 = Date.now();
      const goodput = o.goodput === undefined ? undefined : parseSlo(o.goodput);
      const skip = REPORT_WRITERS.filter((w) => w.skippable && o[w.name] === false).map((w) => w.name);
      const formats = publishedFormats({ skip });
      const { model, skipped } = await publishReport(runs, o.out, { claimsFile: o.claims, seed: o.seed, skip, ...(goodput ? { goodput } : {}) });
      printReportSummary(model, o.out, process.stdout, formats, skipped);
      printErr(`report built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
