// The run settings (src/run/run-settings.ts) as command-line flags, written once: `medeval run` and
// `medeval compare` both take every one of them, and both build the settings object the same way.
import { Option, type Command } from 'commander';
import { InputError } from '../core/errors.js';
import { DATASET_FORMAT_NAMES } from '../datasets/formats.js';
import { parseRunSettings, type RunSettings } from '../run/run-settings.js';
import { ATTACHED_KINDS, RUNNER_FLAG_NAMES, type RunnerFlags } from '../runners/flag-profile.js';
import { intOption, numberOption } from './options.js';

interface RunFlag {
  flags: string;
  description: string;
  parse?: (value: string, previous?: unknown) => unknown;
  /** The setting it gives from commander's parsed values (default: the value under the flag's own name). */
  setting?: (o: Record<string, unknown>) => Partial<Record<keyof RunSettings, unknown>>;
}

const RUN_FLAGS: RunFlag[] = [
  { flags: '--dataset <path|name>', description: "a dataset file, or a known name from `medeval datasets list`: replaces the suite's dataset; without --suite, a suite of the default settings over it" },
  { flags: '--format <format>', description: `with --dataset: ${[...DATASET_FORMAT_NAMES, 'auto'].join(', ')} (default auto: detected)` },
  { flags: '--answer-constraint <none|letter>', description: 'letter: replies constrained to "Answer: <letter>" by a grammar (for tiny models that cannot follow the format); overrides the suite' },
  { flags: '-n, --limit <n>', description: 'only the first N valid items', parse: intOption },
  { flags: '--seed <n>', description: 'base seed, per-item seeds derive from it (default 1234)', parse: intOption },
  { flags: '--samples <n>', description: 'samples per question (pass@1 over samples)', parse: intOption },
  { flags: '--max-tokens <n>', description: "override the suite's max generated tokens", parse: intOption },
  { flags: '--temperature <t>', description: "override the suite's sampling temperature (0: greedy)", parse: numberOption },
  { flags: '--top-p <p>', description: "override the suite's nucleus sampling threshold", parse: numberOption },
  { flags: '--top-k <k>', description: "override the suite's top-k", parse: intOption },
  { flags: '--min-p <p>', description: "override the suite's min-p", parse: numberOption },
  { flags: '--stop <text>', description: "a stop string (repeat the flag for several); replaces the suite's list", parse: (v: string, prev?: unknown) => [...((prev as string[] | undefined) ?? []), v] },
  { flags: '--skip-invalid', description: 'skip invalid dataset lines (listed) instead of refusing to start' },
  {
    flags: '--no-cache', description: 'do not read or write the response cache (greedy generations only are ever cached)',
    setting: (o) => (o.cache === false ? { cacheDir: false } : {}),
  },
  { flags: '--cache-dir <dir>', description: 'response cache folder (default .cache/responses)', setting: (o) => (o.cache === false ? {} : { cacheDir: o.cacheDir }) },
  { flags: '--max-error-rate <fraction>', description: 'stop the run when more than this share of requests failed (e.g. 0.1)', parse: numberOption },
];

const options = () => RUN_FLAGS.map((f) => {
  const opt = new Option(f.flags, f.description);
  return { f, opt: f.parse ? opt.argParser(f.parse) : opt };
});

/** Adds every run-settings flag to a command. */
export function addRunFlags(cmd: Command): Command {
  for (const { opt } of options()) cmd.addOption(opt);
  return cmd;
}

/** The run settings from a command's parsed options, validated (the suite file, if any, comes from the caller). */
export function runSettingsFrom(o: Record<string, unknown>, suite: string | undefined, defaults: Partial<RunSettings> = {}): RunSettings {
  const values: Record<string, unknown> = { ...defaults, suite };
  for (const { f, opt } of options()) {
    const given = f.setting ? f.setting(o) : { [opt.attributeName()]: o[opt.attributeName()] };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) values[k] = v;
  }
  try {
    return parseRunSettings(values);
  } catch (e) {
    // Name the flag the user typed, not the setting's name inside medeval.
    const opt = e instanceof InputError ? options().find(({ opt }) => opt.attributeName() === e.place.field)?.opt : undefined;
    if (opt) throw new InputError(e instanceof Error ? e.message.replace(/^field "[^"]*": /, '') : String(e), { field: opt.long! });
    throw e;
  }
}

/** The run-settings flags the user gave, as words of a command line (for the command that resumes). */
export function runFlagWords(o: Record<string, unknown>): string[] {
  const words: string[] = [];
  for (const { opt } of options()) {
    const v = o[opt.attributeName()];
    if (opt.negate) {
      if (v === false) words.push(opt.long!);
    } else if (v === true) words.push(opt.long!);
    else if (Array.isArray(v)) for (const x of v) words.push(opt.long!, String(x));
    else if (v !== undefined && v !== false) words.push(opt.long!, String(v));
  }
  return words;
}

/** --help's note on mixing flags and files. */
export const FLAGS_OVER_FILES = `
Flags and files mix: a flag given replaces that setting of the suite or runner profile file (--dataset its
dataset, --temperature its sampling, --threads the profile's threads); without a file the flags make the
suite (--dataset, default settings) or the profile (--model, --base-url), recorded in manifest.json as a
file's would be, with its source "flags".`;

// Runner flags: a profile made on the fly (runners/flag-profile.ts). `medeval compare` takes the
// per-model ones once per side (--baseline-model, --compressed-base-url) and the others for both.
interface RunnerFlag {
  key: keyof RunnerFlags;
  arg: string;
  description: string;
  parse?: (value: string) => unknown;
  /** One per model in compare (its --baseline-/--compressed- form). */
  perModel?: boolean;
  choices?: readonly string[];
}

const RUNNER_FLAGS: RunnerFlag[] = [
  { key: 'model', arg: '<file.gguf>', description: 'a GGUF file, run in process by llama.cpp (no runner profile needed); with a profile: its model', perModel: true },
  { key: 'baseUrl', arg: '<url>', description: 'a server you started (llama-server or vLLM, no /v1 at the end); its kind is asked of it unless --kind', perModel: true },
  { key: 'modelName', arg: '<name>', description: "the run's label; for vLLM also the served model name", perModel: true },
  { key: 'kind', arg: '<kind>', description: 'with a base URL: the server kind, instead of asking /props and /v1/models', choices: ATTACHED_KINDS },
  { key: 'apiKeyEnv', arg: '<VAR>', description: "the environment variable holding the server's API key (the key is never stored or printed)" },
  { key: 'contextSize', arg: '<n>', description: 'in process: context size in tokens (default 2048; prompt + reply must fit)', parse: intOption },
  { key: 'threads', arg: '<n>', description: 'in process: CPU threads (default 2)', parse: intOption },
];

const long = (key: keyof RunnerFlags, side?: string) => `--${side ? `${side}-` : ''}${RUNNER_FLAG_NAMES[key].slice(2)}`;
const attr = (key: keyof RunnerFlags, side?: string) => (side ? `${side}${key[0]!.toUpperCase()}${key.slice(1)}` : key);

/** Adds the runner flags: for `run` (no sides) each once; for compare the per-model ones once per side. */
export function addRunnerFlags(cmd: Command, sides: readonly string[] = []): Command {
  for (const f of RUNNER_FLAGS) {
    for (const side of f.perModel && sides.length > 0 ? sides : [undefined]) {
      const opt = new Option(`${long(f.key, side)} ${f.arg}`, side ? `${side} model: ${f.description}` : f.description);
      if (f.parse) opt.argParser(f.parse);
      if (f.choices) opt.choices(f.choices);
      cmd.addOption(opt);
    }
  }
  return cmd;
}

/** The runner flags given for one side (compare) or the one model (run), and their names as typed. */
export function runnerFlagsFrom(o: Record<string, unknown>, side?: string): { flags: RunnerFlags; names: Record<keyof RunnerFlags, string> } {
  const flags: Record<string, unknown> = {};
  const names = {} as Record<keyof RunnerFlags, string>;
  for (const f of RUNNER_FLAGS) {
    const s = f.perModel ? side : undefined;
    if (o[attr(f.key, s)] !== undefined) flags[f.key] = o[attr(f.key, s)];
    names[f.key] = long(f.key, s);
  }
  return { flags: flags as RunnerFlags, names };
}

/** The runner flags the user gave, as command-line words (for the command that resumes). */
export function runnerFlagWords(o: Record<string, unknown>, sides: readonly string[] = []): string[] {
  const words: string[] = [];
  for (const f of RUNNER_FLAGS) {
    for (const side of f.perModel && sides.length > 0 ? sides : [undefined]) {
      const v = o[attr(f.key, side)];
      if (v !== undefined) words.push(long(f.key, side), String(v));
    }
  }
  return words;
}
