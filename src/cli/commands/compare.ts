import { Option, type Command } from 'commander';
import { runComparison } from '../../run/compare.js';
import { InputError } from '../../core/errors.js';
import { loadExperiment } from '../../run/experiment.js';
import { parseSlo } from '../../metrics/goodput.js';
import { publishReport } from '../../report/publish.js';
import { printReportSummary } from '../console-summary.js';
import { intOption, withSigint } from '../options.js';
import { compareProgress } from '../compare-progress.js';
import { addRunFlags, addRunnerFlags, FLAGS_OVER_FILES, runFlagWords, runnerFlagsFrom, runnerFlagWords, runSettingsFrom } from '../run-flags.js';
import { runnerForRun } from '../../runners/flag-profile.js';

const SIDES = ['baseline', 'compressed'] as const;
import { WorkerDied } from '../../run/compare-workers.js';
import { runOutcomeLines, shellLine } from '../run-outcome.js';

/** This compare command again, without --fresh, so it resumes both run folders. */
function compareCommand(o: Record<string, unknown>): string {
  const words = ['medeval', 'compare'];
  const flags: Array<[string, string]> = [['experiment', '--experiment'], ['suite', '--suite'], ['baseline', '--baseline'], ['compressed', '--compressed'],
    ['out', '--out'], ['order', '--order'], ['chunk', '--chunk'], ['claims', '--claims'], ['goodput', '--goodput']];
  for (const [key, flag] of flags) {
    const v = o[key];
    if (v !== undefined) words.push(flag, ...(Array.isArray(v) ? v.map(String) : [String(v)]));
  }
  return shellLine([...words, ...runnerFlagWords(o, SIDES), ...runFlagWords(o)]);
}
import { printErr } from '../terminal.js';
import { checkOutDir } from '../out-path.js';
import { chartTitlesOption } from './report.js';

export function registerCompare(program: Command): void {
  const compare = program
    .command('compare')
    .description('run a baseline and one or more compressed models on the same items (same seed and settings, one process each), each paired with the baseline, then report')
    .option('-e, --experiment <file>', 'experiment file (suite, baseline, compressed, claims), e.g. suites/paper.yaml')
    .option('-s, --suite <file>', 'suite YAML (overrides the experiment\'s)')
    .option('-b, --baseline <file>', 'runner profile of the baseline model (overrides the experiment\'s)')
    .option('-c, --compressed <files...>', 'runner profile(s) of the compressed model(s), each paired with the baseline: a ladder with several (overrides the experiment\'s)')
    .requiredOption('-o, --out <dir>', 'folder for both run folders (runs/) and the reports')
    .addOption(new Option('--order <order>', 'back-to-back, or alternating turns of --chunk items so machine drift hits both alike')
      .choices(['back-to-back', 'alternating']))
    .option('--chunk <n>', 'items per turn with --order alternating (default 10)', intOption)
    .option('--claims <file>', 'claims to check (default: the paper\'s three claims)')
    .option('--goodput <slo>', "service-level objectives in ms for goodput, e.g. ttft:2000,tpot:50 (overrides the experiment's)")
    .option('--fresh', 'delete existing run folders under --out first (otherwise they are resumed)')
    .addOption(chartTitlesOption());
  // Every `medeval run` setting, given to both models' workers as one validated object; the runner flags once per model.
  addRunnerFlags(addRunFlags(compare), SIDES)
    .addHelpText('after', FLAGS_OVER_FILES)
    .action(async (o) => {
      checkOutDir(o.out, 'compare');
      const exp = o.experiment ? await loadExperiment(o.experiment) : null;
      const suite = o.suite ?? exp?.suite;
      // Each side: profile file(s) and/or the runner flags (--baseline-model ...); a ladder has several compressed files.
      const sides = async (role: (typeof SIDES)[number]) => {
        const { flags, names } = runnerFlagsFrom(o, role);
        const given = o[role] ?? exp?.[role];
        const files: Array<string | undefined> = Array.isArray(given) ? given : given === undefined ? [undefined] : [given];
        if (files.length === 1 && files[0] === undefined && flags.model === undefined && flags.baseUrl === undefined) return [];
        return Promise.all(files.map((file) => runnerForRun(file, flags, { names, say: (l) => printErr(`medeval: ${role}: ${l}\n`) })));
      };
      const [[baseline], compressed] = suite || o.dataset ? [await sides('baseline'), await sides('compressed')] : [[], []];
      if (!baseline || !compressed.length) {
        throw new InputError('compare needs a suite (or --dataset), a baseline and a compressed model', { field: '--experiment / --suite --baseline --compressed' },
          'pass --experiment suites/paper.yaml, or --suite (or --dataset) with --baseline and --compressed profiles (or --baseline-model and --compressed-model GGUF files)');
      }
      const seed = o.seed ?? exp?.seed ?? 1234;
      const settings = runSettingsFrom(o, suite, { seed });
      // Checked before any model runs, so a typo does not cost a whole comparison.
      const goodput = o.goodput !== undefined ? parseSlo(o.goodput) : exp?.goodput;
      await withSigint(async (signal) => {
        const again = { command: compareCommand(o), what: 'running the same compare again (without --fresh: it resumes both run folders)' };
        let runs;
        try {
          runs = await runComparison({
            ...settings, baseline, compressed, out: o.out, order: o.order ?? exp?.order, chunk: o.chunk ?? exp?.chunk, fresh: o.fresh,
            signal, log: (l) => printErr(l + '\n'), onEvent: compareProgress(),
          });
        } catch (e) {
          // A worker that died or was stopped: the comparison is incomplete, its folders resumable.
          if (!(e instanceof WorkerDied)) throw e;
          printErr(`medeval: ${e.message}\nmedeval: compare incomplete; to finish it (nothing answered is lost or run twice), run: ${again.command}\n`);
          process.exitCode = 1;
          return;
        }
        const claims = o.claims ? undefined : exp?.claims;
        const { model, skipped } = await publishReport([runs.baselineDir, ...runs.compressedDirs], o.out, { claimsFile: o.claims, claims, seed, chartTitles: o.chartTitles !== 'off', ...(goodput ? { goodput } : {}) });
        printReportSummary(model, o.out, process.stdout, undefined, skipped);
        // Items in error in either run: the report covers what was answered, the command says so and fails.
        for (const { role, label, outcome: out } of runs.sides) {
          if (!out || out.status === 'finished') continue;
          for (const l of runOutcomeLines(runs.sides.length > 2 ? `${role} [${label}]` : role, { status: out.status, errors: out.errors, records: out.records, total: runs.total }, again)) printErr(l + '\n');
          process.exitCode = 1;
        }
      });
    });
}
