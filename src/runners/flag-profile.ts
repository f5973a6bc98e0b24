// Runner profiles from command-line flags, so a run needs no YAML: `--model x.gguf` (llama.cpp in process)
// or `--base-url URL` (a server you started; its kind from --kind or asked of the server). The result is
// the same validated profile object a file with those fields would give (same defaults, same config hash);
// with a profile file too, each flag given replaces that field of the file's profile.
import { basename, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { keysAt } from '../core/schema-keys.js';
import { loadRunnerProfile, runnerDefinition, runnerProfileSchema, RUNNER_DEFINITIONS, type LoadedRunnerProfile } from './registry.js';
import { resolveApiKey } from './openai-stream.js';
import { detectServerKind } from './server-kind.js';

export interface RunnerFlags {
  /** A GGUF file, run in process (kind llama-cpp-embedded); with a profile file: its `model`. */
  model?: string;
  /** An attached server (no /v1 at the end). */
  baseUrl?: string;
  /** The server's kind; default: asked of the server (/props, /v1/models). */
  kind?: string;
  /** The run's label; for vLLM also the served model name sent with every request. */
  modelName?: string;
  /** The environment variable holding the server's API key (the key is never stored). */
  apiKeyEnv?: string;
  contextSize?: number;
  threads?: number;
}

/** Each flag's profile field, and its name on the command line (compare prefixes them: --baseline-model). */
const FIELD: Record<Exclude<keyof RunnerFlags, 'kind' | 'modelName'>, string> = {
  model: 'model', baseUrl: 'baseUrl', apiKeyEnv: 'apiKeyEnv', contextSize: 'contextSize', threads: 'threads',
};
export const RUNNER_FLAG_NAMES: Record<keyof RunnerFlags, string> = {
  model: '--model', baseUrl: '--base-url', kind: '--kind', modelName: '--model-name', apiKeyEnv: '--api-key-env', contextSize: '--context-size', threads: '--threads',
};

/** The kinds an attached server may be (the registry's kinds with an attached mode). */
export const ATTACHED_KINDS: readonly string[] = RUNNER_DEFINITIONS.filter((d) => (d.capabilities.modes as readonly string[]).includes('attached')).map((d) => d.kind);

export function anyRunnerFlag(f: RunnerFlags): boolean {
  return Object.values(f).some((v) => v !== undefined);
}

export interface RunnerChoiceOptions {
  /** Flag names as the user typed them (default RUNNER_FLAG_NAMES). */
  names?: Partial<Record<keyof RunnerFlags, string>>;
  /** A line for the terminal (how a server's kind was found). */
  say?: (line: string) => void;
}

/**
 * The runner profile of a run: the file, the file with flags over it, or the flags alone. Refuses a flag
 * that the profile's kind has no field for (e.g. --threads on a server) rather than ignoring it.
 */
export async function runnerForRun(file: string | undefined, f: RunnerFlags, o: RunnerChoiceOptions = {}): Promise<LoadedRunnerProfile> {
  const name = (k: keyof RunnerFlags) => o.names?.[k] ?? RUNNER_FLAG_NAMES[k];
  if (file && !anyRunnerFlag(f)) return loadRunnerProfile(file);
  let raw: Record<string, unknown>;
  let servedModel: string | null = null;
  if (file) {
    if (f.kind !== undefined) throw new InputError(`${name('kind')} goes with ${name('baseUrl')}, not with a runner profile file (its kind is set there)`, { field: name('kind') });
    raw = { ...(await loadRunnerProfile(file)).profile };
  } else if (f.model !== undefined && f.baseUrl !== undefined) {
    throw new InputError(`give ${name('model')} (a GGUF run in process) or ${name('baseUrl')} (a server), not both`, { field: `${name('model')} / ${name('baseUrl')}` });
  } else if (f.model !== undefined) {
    if (f.kind !== undefined) throw new InputError(`${name('kind')} goes with ${name('baseUrl')}; ${name('model')} runs a GGUF file in process`, { field: name('kind') });
    raw = { kind: 'llama-cpp-embedded', label: basename(f.model).replace(/\.gguf$/i, '') };
  } else if (f.baseUrl !== undefined) {
    const server = await serverKind(f, name, o.say);
    servedModel = server.modelId;
    raw = { kind: server.kind, mode: 'attached' };
  } else {
    throw new InputError('no runner: give a runner profile file, or a model', { field: `--runner / ${name('model')} / ${name('baseUrl')}` },
      `pass ${name('model')} path/to/model.gguf (in process), ${name('baseUrl')} http://127.0.0.1:8080 (a server you started), or --runner FILE`);
  }
  const kind = String(raw.kind);
  const fields = new Set(keysAt(runnerProfileSchema, [], { kind }));
  const setBy: Record<string, string> = {};
  for (const [flag, field] of Object.entries(FIELD) as Array<[keyof typeof FIELD, string]>) {
    const v = f[flag];
    if (v === undefined) continue;
    if (!fields.has(field)) {
      throw new InputError(`${name(flag)} does not apply to a ${kind} runner`, { field: name(flag) },
        kind === 'llama-server' || kind === 'vllm' ? "an attached server's context and threads are set where it was started (-c, -t)" : undefined);
    }
    // A path typed on the command line is relative to the current folder (a profile's `./x` to its file's).
    raw[field] = flag === 'model' && kind === 'llama-cpp-embedded' ? resolve(String(v)) : v;
    setBy[field] = name(flag);
  }
  if (f.modelName !== undefined) {
    raw.label = f.modelName;
    setBy.label = name('modelName');
    if (kind === 'vllm') raw.model = f.modelName;
  } else if (file && f.model !== undefined && kind === 'llama-cpp-embedded') {
    // Another model under the file's label would put the wrong name on every figure.
    raw.label = basename(f.model).replace(/\.gguf$/i, '');
  } else if (f.baseUrl !== undefined && !file) {
    raw.label = serverLabel(servedModel, f.baseUrl);
  }
  const parsed = runnerProfileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new InputError(issue.message, { field: setBy[field] ?? (field || 'runner') });
  }
  return { profile: parsed.data, file: file ?? null, source: file ? 'file+flags' : 'flags' };
}

/** The kind given, or the one the server's answers show (with its model's name, for the label). */
async function serverKind(f: RunnerFlags, name: (k: keyof RunnerFlags) => string, say?: (line: string) => void): Promise<{ kind: string; modelId: string | null }> {
  if (f.kind !== undefined) {
    if (!ATTACHED_KINDS.includes(f.kind)) {
      throw new InputError(`${name('kind')} ${f.kind}: not a server kind`, { field: name('kind') }, `use one of ${ATTACHED_KINDS.join(', ')}`);
    }
    return { kind: f.kind, modelId: null };
  }
  const apiKey = resolveApiKey(f.apiKeyEnv, name('apiKeyEnv'));
  const d = await detectServerKind(f.baseUrl!, { apiKey });
  say?.(`${f.baseUrl}: ${d.kind} (${d.evidence}); ${name('kind')} sets it without asking`);
  if (!runnerDefinition(d.kind)) throw new InputError(`${d.kind} is not a runner kind of this medeval`, { field: name('baseUrl') });
  return { kind: d.kind, modelId: d.modelId };
}

/** A server run's label: the served model's file or id without folders and .gguf, else host and port. */
function serverLabel(modelId: string | null, baseUrl: string): string {
  const m = modelId ? basename(modelId).replace(/\.gguf$/i, '') : '';
  if (m) return m;
  try {
    const u = new URL(baseUrl);
    return `server-${u.hostname}-${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return 'server';
  }
}
