import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import type { RunReport } from '../../report/model.js';
import { InputError } from '../../core/errors.js';
import { runSuite } from '../../run/run.js';
import { runnerForRun } from '../../runners/flag-profile.js';
import { parseShard, SHARD_COUNT_VAR, SHARD_INDEX_VARS } from '../../run/shard.js';
import { progressReporter } from '../progress.js';
import { intOption, withSigint } from '../options.js';
import { addRunFlags, addRunnerFlags, FLAGS_OVER_FILES, runFlagWords, runnerFlagsFrom, runnerFlagWords, runSettingsFrom } from '../run-flags.js';
import { runOutcomeLines, shellLine } from '../run-outcome.js';

/** The command that continues this run: the same settings (they must match to resume) plus --resume. */
function resumeCommand(o: Record<string, unknown>, out: string): string {
  const words = ['medeval', 'run'];
  for (const [key, flag] of [['suite', '--suite'], ['runner', '--runner']] as const) if (o[key] !== undefined) words.push(flag, String(o[key]));
  words.push(...runnerFlagWords(o), '--out', out, ...runFlagWords(o));
  if (o.shard !== undefined) words.push('--shard', String(o.shard));
  if (o.shardCount !== undefined) words.push('--shard-count', String(o.shardCount));
  return shellLine([...words, '--resume']);
}
import { printErr, printOut } from '../terminal.js';
import { checkOutDir } from '../out-path.js';

/** The run's console table: from its summary's report when the run built it from its totals (the same table). */
async function runTable(dir: string, tallied: RunReport | undefined): Promise<string> {
  const { sideBySide, sideBySideRuns } = await import('../console-summary.js');
  if (tallied) return sideBySideRuns([tallied]);
  const [{ readRunFolder }, { buildReport }] = await Promise.all([import('../../core/run-folder.js'), import('../../report/build.js')]);
  return sideBySide(buildReport({ runs: [readRunFolder(dir)], includeItems: false }));
}

/** The old generation's growth between full collections, percent (V8's default: chosen per collection, up to 300). */
const HEAP_GROWING_PERCENT = 100;

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('evaluate one model on one suite; writes results.jsonl, summary.json, summary.md, and prints the results table')
    .option('-s, --suite <file>', 'suite YAML (dataset, prompt templates, sampling), e.g. suites/usmle-sample.yaml; or --dataset alone')
    .option('-r, --runner <file>', 'runner profile YAML, e.g. runners/demo-f32.yaml; or --model / --base-url alone')
    .option('-o, --out <dir>', 'run folder to write (default runs/<suite>-<label>-<time>)')
    .option('--resume', 'continue the run in --out: no item lost, none duplicated; refuses if config or dataset changed')
    .option('--shard <I/N|env>', `run only shard I (0-based) of N of the items, after --limit (medeval merge joins the shards); "env": I from ${SHARD_INDEX_VARS.join(' or ')}, N from --shard-count or ${SHARD_COUNT_VAR}`)
    .option('--shard-count <n>', 'with --shard env: the number of shards (a Job\'s completions, a matrix\'s size)', intOption);
  addRunnerFlags(addRunFlags(run))
    .addHelpText('after', FLAGS_OVER_FILES)
    .action(async (o) => {
      // V8 lets the old generation grow to up to 4x what was live at the last full collection before the
      // next one: a long run's ~30 MB of live heap became 120-160 MB of heap between collections (the
      // garbage each request promotes), most of the run's RSS. Growing by 2x at most keeps the same
      // collections, a little more often: 100,000 requests at the same CPU, peak RSS about 200 MB instead
      // of 220-270 (README, run-memory). Read by V8 at each full collection, so setting it now applies.
      setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
      checkOutDir(o.out, 'run');
      const settings = runSettingsFrom(o, o.suite);
      if (o.shardCount !== undefined && o.shard === undefined) throw new InputError('--shard-count needs --shard env', { field: '--shard-count' });
      const shard = o.shard === undefined ? undefined : parseShard(o.shard, process.env, o.shardCount);
      const { flags, names } = runnerFlagsFrom(o);
      const runner = await runnerForRun(o.runner, flags, { names, say: (l) => printErr(`medeval: ${l}\n`) });
      const out = o.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}-${runner.profile.label}${shard ? `-shard-${shard.index}-of-${shard.count}` : ''}`;
      const progress = progressReporter(runner.profile.label);
      await withSigint(async (signal) => {
        let asked = 0;
        const { dir, manifest, counts: written, talliedRun } = await runSuite({
          ...settings,
          runner,
          out,
          resume: o.resume,
          ...(shard ? { shard } : {}),
          signal,
          onEvent: (e) => {
            if (e.type === 'finished') asked = e.total;
            progress.onEvent(e);
          },
        });
        // The table compare prints, this run as its one column: from the report its summary was built from,
        // else read back from the journal (the run holds no records). The report layer is loaded now, after
        // the last request: it is no part of a run's start-up.
        printOut(`\n${await runTable(dir, talliedRun)}\n\n${dir}/summary.md\n`);
        const counts = { status: manifest.status, errors: written.errors, records: written.records, total: asked, ...(manifest.stopReason ? { stopReason: manifest.stopReason } : {}) };
        for (const l of runOutcomeLines(runner.profile.label, counts, { command: resumeCommand(o, dir), what: 'resuming' })) printErr(l + '\n');
        if (manifest.status !== 'finished') process.exitCode = 1;
      }).catch((e) => {
        // A run that crashed after its folder was made (e.g. the warm-up request failed) can be resumed too.
        if (!(e instanceof InputError) && existsSync(join(out, 'manifest.json'))) {
          printErr(`medeval: ${runner.profile.label}: run failed; once the cause below is fixed, resume it: ${resumeCommand(o, out)}\n`);
        }
        throw e;
      });
    });
}
