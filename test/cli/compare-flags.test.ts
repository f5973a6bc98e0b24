// Every `medeval run` option works in `medeval compare` (it used to drop --max-error-rate, --no-cache
// and --cache-dir silently): compare accepts each one, unless listed here as run-only with the reason,
// and both commands turn them into the same validated settings object.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { runFlagWords, runSettingsFrom } from '../../src/cli/run-flags.js';
import { InputError } from '../../src/core/errors.js';

const RUN_ONLY: Record<string, string> = {
  '--runner': 'compare takes two profiles, --baseline and --compressed',
  '--resume': 'compare resumes its run folders whenever it is run again, unless --fresh',
  '--shard': 'a shard is one model\'s share of the items, joined by medeval merge; compare runs both models on the same whole set',
  '--shard-count': 'goes with --shard',
  '--model': 'compare takes one per model: --baseline-model and --compressed-model',
  '--base-url': 'compare takes one per model: --baseline-base-url and --compressed-base-url',
  '--model-name': 'compare takes one per model: --baseline-model-name and --compressed-model-name',
};

const command = (name: string): Command => buildProgram().commands.find((c) => c.name() === name)!;

/** A command's options as parsed from `argv`, actions not run. */
function parsed(name: string, argv: string[]): Record<string, unknown> {
  const cmd = command(name);
  cmd.exitOverride();
  cmd.parseOptions(argv);
  return cmd.opts();
}

describe('run options in compare', () => {
  it('compare accepts every option of run, with the same argument, unless it is run-only', () => {
    const compare = new Map(command('compare').options.map((o) => [o.long!, o]));
    const missing: string[] = [];
    for (const o of command('run').options) {
      if (RUN_ONLY[o.long!]) continue;
      const c = compare.get(o.long!);
      if (!c) missing.push(o.long!);
      else {
        expect(c.required || c.optional, o.long).toBe(o.required || o.optional);
        expect(c.short, o.long).toBe(o.short);
      }
    }
    expect(missing).toEqual([]);
    for (const flag of ['--max-error-rate', '--no-cache', '--cache-dir', '--dataset', '--temperature', '--top-p', '--threads', '--context-size']) expect(compare.has(flag), flag).toBe(true);
    // The per-model runner flags, once per side.
    for (const side of ['baseline', 'compressed']) for (const f of ['model', 'base-url', 'model-name']) expect(compare.has(`--${side}-${f}`), `--${side}-${f}`).toBe(true);
  });

  it('run and compare give the same settings object for the same flags', () => {
    const flags = ['--limit', '5', '--seed', '9', '--samples', '2', '--max-tokens', '64', '--skip-invalid', '--cache-dir', '/tmp/c', '--max-error-rate', '0.25',
      '--dataset', 'd.jsonl', '--format', 'medqa', '--answer-constraint', 'letter', '--temperature', '0', '--top-p', '0.5', '--top-k', '40', '--min-p', '0.05', '--stop', 'END', '--stop', '###'];
    const fromRun = runSettingsFrom(parsed('run', flags), 's.yaml');
    const fromCompare = runSettingsFrom(parsed('compare', flags), 's.yaml');
    expect(fromCompare).toEqual(fromRun);
    expect(fromRun).toEqual({ suite: 's.yaml', limit: 5, seed: 9, samples: 2, maxTokens: 64, skipInvalid: true, cacheDir: '/tmp/c', maxErrorRate: 0.25,
      dataset: 'd.jsonl', format: 'medqa', answerConstraint: 'letter', temperature: 0, topP: 0.5, topK: 40, minP: 0.05, stop: ['END', '###'] });
    expect(runFlagWords(parsed('run', ['--stop', 'a', '--stop', 'b']))).toEqual(['--stop', 'a', '--stop', 'b']);
    expect(runSettingsFrom(parsed('compare', ['--no-cache', '--cache-dir', '/tmp/c']), 's.yaml').cacheDir).toBe(false);
    expect(runSettingsFrom(parsed('compare', []), 's.yaml')).toEqual({ suite: 's.yaml' });
    // The command that resumes repeats them.
    expect(runFlagWords(parsed('compare', ['--no-cache', '--max-error-rate', '0.1', '-n', '3']))).toEqual(['--limit', '3', '--no-cache', '--max-error-rate', '0.1']);
  });

  it('a setting out of range is bad input naming the flag', () => {
    const e = (() => {
      try {
        return runSettingsFrom(parsed('compare', ['--max-error-rate', '2']), 's.yaml');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(/^field "--max-error-rate": /);
  });
});
