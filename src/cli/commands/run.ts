import type { Command } from 'commander';
import { runSuite } from '../../core/run.js';
import { loadRunnerProfile } from '../../runners/registry.js';
import { progressReporter } from '../progress.js';
import { intOption, numberOption, withSigint } from '../options.js';

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
    .action(async (o) => {
      const runner = await loadRunnerProfile(o.runner);
      const out = o.out ?? `runs/${new Date().toISOString().replace(/[:.]/g, '-')}-${runner.profile.label}`;
      const progress = progressReporter(runner.profile.label);
      await withSigint(async (signal) => {
        const { dir, manifest } = await runSuite({
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
          signal,
          onEvent: progress.onEvent,
        });
        process.stdout.write(`${dir}/summary.md\n`);
        if (manifest.status !== 'finished') process.exitCode = 1;
      });
    });
}
