import type { Command } from 'commander';
import { parseSlo, SLO_KEYS } from '../../metrics/goodput.js';
import { publishedFormats, publishReport } from '../../report/publish.js';
import { REPORT_WRITERS } from '../../report/writers.js';
import { printReportSummary } from '../console-summary.js';
import { intOption } from '../options.js';
import { printErr } from '../terminal.js';
import { checkOutDir } from '../out-path.js';
import { resolve } from 'node:path';
import { Option } from 'commander';
import { InputError } from '../../core/errors.js';

/** `--chart-titles on|off`: off keeps titles and subtitles out of the chart images (the paper's caption says it). */
export function chartTitlesOption(): Option {
  return new Option('--chart-titles <on|off>', 'titles in the chart images; off for a paper, whose caption says what the chart is').choices(['on', 'off']).default('on');
}

/** The run folders with the baseline first: --baseline names it (moved to the front, or added there). */
export function baselineFirst(runs: string[], baseline: string | undefined): string[] {
  if (baseline === undefined) return runs;
  const others = runs.filter((r) => resolve(r) !== resolve(baseline));
  if (!others.length) throw new InputError('the baseline is the only run: a report needs at least one run to pair with it', { field: '--baseline' }, 'name the compressed run folders as well');
  return [baseline, ...others];
}

export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description(`build every report from finished run folders (never runs a model): ${REPORT_WRITERS.map((w) => w.name).join(', ')}`)
    .argument('<runs...>', 'run folders: the baseline (the first, or --baseline), then one or more compressed models, each paired with the baseline')
    .requiredOption('-o, --out <dir>', 'folder for the reports')
    .option('--claims <file>', "claims to check (YAML with a claims: list); default: the paper's three claims (suites/paper.yaml)")
    .option('-b, --baseline <dir>', 'the baseline run folder, when it is not the first (it may be one of the runs or not)')
    .option('--seed <n>', 'bootstrap seed (reports are reproducible)', intOption)
    .addOption(chartTitlesOption())
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
      const ordered = baselineFirst(runs, o.baseline);
      const { model, skipped } = await publishReport(ordered, o.out, { claimsFile: o.claims, seed: o.seed, skip, chartTitles: o.chartTitles !== 'off', ...(goodput ? { goodput } : {}) });
      printReportSummary(model, o.out, process.stdout, formats, skipped);
      printErr(`report built in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    });
}
