import type { Command } from 'commander';
import { join } from 'node:path';
import { runComparison } from '../../run/compare.js';
import { PACKAGE_ROOT } from '../../core/package-root.js';
import { ensureTinyModels } from '../../models/make-models.js';
import { publishReport } from '../../report/publish.js';
import { printReportSummary } from '../console-summary.js';
import { compareProgress } from '../compare-progress.js';
import { intOption, withSigint } from '../options.js';
import { printErr } from '../terminal.js';
import { checkOutDir } from '../out-path.js';
import { formatBytes } from '../../metrics/units.js';

const DISCLAIMER = [
  'medeval demo: two TINY RANDOM llama models made by medeval (F32 "baseline", Q4_0 "compressed"),',
  'evaluated in process by llama.cpp on the bundled smoke-test questions. Replies are constrained to',
  '"Answer: <letter>", so accuracy is CHANCE LEVEL (about 20%) by construction. Latency and memory are',
  'real measurements of these tiny files on this machine. None of this says anything about the paper.',
].join('\n');

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('make two tiny demo models (cached), evaluate both on the sample suite, write reports/demo/')
    .option('-o, --out <dir>', 'report folder', join(PACKAGE_ROOT, 'reports', 'demo'))
    .option('-n, --limit <n>', 'only the first N sample questions', intOption)
    .action(async (o) => {
      checkOutDir(o.out, 'compare');
      printErr(`${DISCLAIMER}\n\n`);
      const t0 = Date.now();
      const models = await ensureTinyModels({ dir: join(PACKAGE_ROOT, 'models', 'demo'), preset: 'demo', formats: ['F32', 'Q4_0'], seed: 42 });
      for (const m of models) printErr(`model ${m.file}: ${m.format}, ${formatBytes(m.bytes)}\n`);
      await withSigint(async (signal) => {
        const runs = await runComparison({
          suite: join(PACKAGE_ROOT, 'suites', 'demo.yaml'),
          baseline: join(PACKAGE_ROOT, 'runners', 'demo-f32.yaml'),
          compressed: join(PACKAGE_ROOT, 'runners', 'demo-q4_0.yaml'),
          out: o.out,
          limit: o.limit,
          seed: 1234,
          fresh: true,
          signal,
          log: (l) => printErr(l + '\n'),
          onEvent: compareProgress(),
        });
        const { model, skipped } = await publishReport([runs.baselineDir, runs.compressedDir], o.out, { seed: 1234 });
        printReportSummary(model, o.out, process.stdout, undefined, skipped);
        // The demo never claims a result it does not have: items in error make it exit 1 (it always starts fresh).
        for (const [role, out] of Object.entries(runs.outcomes)) {
          if (out && out.status !== 'finished') {
            printErr(`medeval: demo ${role} run ${out.status}: ${out.errors} of ${runs.total} records ended in error (not scored)\n`);
            process.exitCode = 1;
          }
        }
      });
      printErr(`\n${DISCLAIMER}\ndemo wall time: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    });
}
