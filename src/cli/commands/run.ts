import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.js';
import { errorCount, runSuite } from '../../run/run.js';
import { loadRunnerProfile } from '../../runners/registry.js';
import { parseShard, SHARD_COUNT_VAR, SHARD_INDEX_VARS } from '../../run/shard.js';
import { progressReporter } from '../progress.js';
import { intOption, numberOption, withSigint } from '../options.js';
import { runOutcomeLines, shellLine } from '../run-outcome.js';

/** The command that continues this run: the same settings (they must match to resume) plus --resume. */
function resumeCommand(o: Record<string, unknown>, out: string): string {
  const words = ['medeval', 'run', '--suite', String(o.suite), '--runner', String(o.runner), '--out', out];
  if (o.limit !== undefined) words.push('--limit', String(o.limit));
  if (o.seed !== undefined && o.seed !== 1234) words.push('--seed', String(o.seed));
  if (o.samples !== undefined) words.push('--samples', String(o.samples));
  if (o.maxTokens !== undefined) words.push('--max-tokens', String(o.maxTokens));
  if (o.skipInvalid) words.push('--skip-invalid');
  if (o.maxErrorRate !== undefined) words.push('--max-error-rate', String(o.maxErrorRate));
  if (o.shard !== undefined) words.push('--shard', String(o.shard));
  if (o.shardCount !== undefined) words.push('--shard-count', String(o.shardCount));
  return shellLine([...words, '--resume']);
}
import { printErr, printOut } from '../terminal.js';
import { checkOutDir } from '../out-path.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('evaluate one model (runner profile) on one suite; writes results.jsonl, summary.json, summary.md')
    .requiredOption('-s, --suite <file>', 'suite YAML (dataset, prompt templates, sampling), e.g. suites/usmle-sample.yaml')
    .requiredOption('-r, --runner <file>', 'runner profile YAML, e.g. runners/demo-f32.yaml')
    .option('-o, --out <dir>', 'run folder to write (default runs/<suite>-<label>-<time>)')
    .option('-n, --limit <n>', 'only the first N valid items', intOption)
    .option('--seed <n>', 'base seed (per-item seeds derive from it)', intOption, 1234)
    .option('--samples <n>', 'samples per question (pass@1 over samples)', intOption)
    .option('--max-tokens <n>', "override the suite's max generated tokens", intOption)
    .option('--skip-invalid', 'skip invalid dataset lines (listed) instead of refusing to start')
    .option('--resume', 'continue the run in --out: no item lost, none duplicated; refuses if config or dataset changed')
    .option('--no-cache', 'do not read or write the response cache (greedy generations only are ever cached)')
    .option('--cache-dir <dir>', 'response cache folder', '.cache/responses')
    .option('--max-error-rate <fraction>', 'stop the run when more than this share of requests failed (e.g. 0.1)', numberOption)
    .option('--shard <I/N|env>', `run only shard I (0-based) of N of the items, after --limit (medeval merge joins the shards); "env": I from ${SHARD_INDEX_VARS.join(' or ')}, N from --shard-count or ${SHARD_COUNT_VAR}`)
    .option('--shard-count <n>', 'with --shard env: the number of shards (a Job\'s completions, a matrix\'s size)', intOption)
    .action(async (o) => {
      checkOutDir(o.out, 'run');
      if (o.shardCount !== undefined && o.shard === undefined) throw new InputError('--shard-count needs --shard env', { field: '--shard-count' });
      const shard = o.shard === undefined ? undefined : parseShard(o.shard, process.env, o.shardCount);
      const runner = await loadRunnerProfile(o.runner);
      const out = o.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}-${runner.profile.label}${shard ? `-shard-${shard.index}-of-${shard.count}` : ''}`;
      const progress = progressReporter(runner.profile.label);
      await withSigint(async (signal) => {
        let asked = 0;
        const { dir, manifest, results } = await runSuite({
          suite: o.suite,
          runner,
          out,
          limit: o.limit,
          seed: o.seed,
          samples: o.samples,
          maxTokens: o.maxTokens,
          skipInvalid: o.skipInvalid,
          resume: o.resume,
          cacheDir: o.cache === false ? false : o.cacheDir,
          maxErrorRate: o.maxErrorRate,
          ...(shard ? { shard } : {}),
          signal,
          onEvent: (e) => {
            if (e.type === 'finished') asked = e.total;
            progress.onEvent(e);
          },
        });
        printOut(`${dir}/summary.md\n`);
        const counts = { status: manifest.status, errors: errorCount(results), records: results.length, total: asked, ...(manifest.stopReason ? { stopReason: manifest.stopReason } : {}) };
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
