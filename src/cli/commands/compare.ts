import { Option, type Command } from 'commander';
import { runComparison } from '../../core/compare.js';
import { publishReport } from '../../report/publish.js';
import { printReportSummary } from '../console-summary.js';
import { intOption, withSigint } from '../options.js';

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run a baseline and a compressed model on the same items (same seed and settings, one process each), then report')
    .requiredOption('-s, --suite <file>', 'suite YAML')
    .requiredOption('-b, --baseline <file>', 'runner profile of the baseline model')
    .requiredOption('-c, --compressed <file>', 'runner profile of the compressed model')
    .requiredOption('-o, --out <dir>', 'folder for both run folders (runs/) and the reports')
    .addOption(new Option('--order <order>', 'back-to-back, or alternating turns of --chunk items so machine drift hits both alike')
      .choices(['back-to-back', 'alternating']).default('back-to-back'))
    .option('--chunk <n>', 'items per turn with --order alternating', intOption, 10)
    .option('-n, --limit <n>', 'only the first N valid items', intOption)
    .option('--seed <n>', 'base seed', intOption, 1234)
    .option('--samples <n>', 'samples per question', intOption)
    .option('--max-tokens <n>', "override the suite's max generated tokens", intOption)
    .option('--claims <file>', 'claims to check (default: the paper\'s three claims)')
    .option('--fresh', 'delete existing run folders under --out first (otherwise they are resumed)')
    .option('--skip-invalid', 'skip invalid dataset lines instead of refusing to start')
    .action(async (o) => {
      await withSigint(async (signal) => {
        const runs = await runComparison({
          suite: o.suite, baseline: o.baseline, compressed: o.compressed, out: o.out, order: o.order, chunk: o.chunk,
          limit: o.limit, seed: o.seed, samples: o.samples, maxTokens: o.maxTokens, skipInvalid: o.skipInvalid, fresh: o.fresh,
          signal, log: (l) => process.stderr.write(l + '\n'),
        });
        const { model } = await publishReport([runs.baselineDir, runs.compressedDir], o.out, { claimsFile: o.claims, seed: o.seed });
        printReportSummary(model, o.out);
      });
    });
}
