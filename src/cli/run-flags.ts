// The run settings (src/run/run-settings.ts) as command-line flags, written once: `medeval run` and
// `medeval compare` both take every one of them, and both build the settings object the same way.
import { Option, type Command } from 'commander';
import { InputError } from '../core/errors.js';
import { parseRunSettings, type RunSettings } from '../run/run-settings.js';
import { intOption, numberOption } from './options.js';

interface RunFlag {
  flags: string;
  description: string;
  parse?: (value: string) => unknown;
  /** The setting it gives from commander's parsed values (default: the value under the flag's own name). */
  setting?: (o: Record<string, unknown>) => Partial<Record<keyof RunSettings, unknown>>;
}

const RUN_FLAGS: RunFlag[] = [
  { flags: '-n, --limit <n>', description: 'only the first N valid items', parse: intOption },
  { flags: '--seed <n>', description: 'base seed, per-item seeds derive from it (default 1234)', parse: intOption },
  { flags: '--samples <n>', description: 'samples per question (pass@1 over samples)', parse: intOption },
  { flags: '--max-tokens <n>', description: "override the suite's max generated tokens", parse: intOption },
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

/** The run settings from a command's parsed options, validated (the suite comes from the caller). */
export function runSettingsFrom(o: Record<string, unknown>, suite: string, defaults: Partial<RunSettings> = {}): RunSettings {
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
    else if (v !== undefined && v !== false) words.push(opt.long!, String(v));
  }
  return words;
}
