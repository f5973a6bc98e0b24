// Runner profiles (YAML under runners/) name a `kind`. RUNNER_DEFINITIONS is the one list of kinds: the
// profile union, the factory map, the JSON Schema (core/json-schema.ts) and every capability check
// (likelihood, server metrics, context hints, path fields) come from it. A new kind: one module exporting
// a defineRunner(...) definition (see runners/definition.ts) and one line here.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { Runner } from '../core/types.js';
import { readYamlFile } from '../core/yaml-config.js';
import type { RunnerCapabilities, RunnerDefinition, ServerMetricNames } from './definition.js';
import { llamaServerRunner } from './llama-server.js';
import { llamaEmbeddedRunner, onnxRunner, scriptedRunner } from './in-process-kinds.js';
import { vllmRunner } from './vllm.js';

/** Every runner kind, in the order the JSON Schema lists them. */
export const RUNNER_DEFINITIONS = [
  llamaEmbeddedRunner,
  onnxRunner,
  llamaServerRunner,
  vllmRunner,
  scriptedRunner,
] as const;

type Definitions = (typeof RUNNER_DEFINITIONS)[number];
export type RunnerKind = Definitions['kind'];
export const RUNNER_KINDS: readonly RunnerKind[] = RUNNER_DEFINITIONS.map((d) => d.kind);

type SchemasOf<T extends readonly unknown[]> = { -readonly [I in keyof T]: T[I] extends { profileSchema: infer S } ? S : never };
type Schemas = SchemasOf<typeof RUNNER_DEFINITIONS>;
export const runnerProfileSchema = z.discriminatedUnion('kind', RUNNER_DEFINITIONS.map((d) => d.profileSchema) as unknown as Schemas);
export type RunnerProfile = z.infer<typeof runnerProfileSchema>;
type ProfileOf<K extends RunnerKind> = Extract<RunnerProfile, { kind: K }>;

/**
 * Kind -> factory. Exhaustive over RunnerKind: a kind in the union without a factory here does not compile
 * (and a definition's own `create` is what fills it, so the two cannot drift).
 */
export type RunnerFactories = { [K in RunnerKind]: (profile: ProfileOf<K>) => Promise<Runner> };
const FACTORIES: RunnerFactories = {
  'llama-cpp-embedded': llamaEmbeddedRunner.create,
  onnx: onnxRunner.create,
  'llama-server': llamaServerRunner.create,
  vllm: vllmRunner.create,
  scripted: scriptedRunner.create,
};

const BY_KIND = new Map<string, RunnerDefinition>(RUNNER_DEFINITIONS.map((d) => [d.kind, d as unknown as RunnerDefinition]));

/** A kind's definition; undefined for a kind no module defines (e.g. a manifest from another version). */
export function runnerDefinition(kind: string): RunnerDefinition | undefined {
  return BY_KIND.get(kind);
}

export function runnerCapabilities(kind: string): RunnerCapabilities | undefined {
  return BY_KIND.get(kind)?.capabilities;
}

export interface LoadedRunnerProfile {
  profile: RunnerProfile;
  file: string | null;
  /** "flags": made by run/compare flags; "file+flags": a profile file with flags over it (absent: the file as written). */
  source?: 'file' | 'flags' | 'file+flags';
}

/**
 * Paths written `./x` or `../x` in a profile resolve against the profile file's folder; anything else stays
 * as written (an absolute path, a binary on PATH, a vLLM hub id such as `deepseek-ai/...`). Which fields
 * are paths is each kind's own `pathFields`.
 */
export async function loadRunnerProfile(file: string): Promise<LoadedRunnerProfile> {
  const profile = await readYamlFile(file, runnerProfileSchema, 'runner profile');
  const base = dirname(resolve(file));
  const rec = profile as Record<string, unknown>;
  for (const key of BY_KIND.get(profile.kind)!.capabilities.pathFields) {
    const v = rec[key];
    if (typeof v === 'string' && !isAbsolute(v) && /^\.\.?\//.test(v)) rec[key] = resolve(base, v);
  }
  return { profile, file };
}

/** Kinds whose runners give answer-letter log-probabilities (Runner.letterLogprobs), known before any model loads. */
export const LIKELIHOOD_RUNNER_KINDS: ReadonlySet<RunnerKind> = new Set(RUNNER_DEFINITIONS.filter((d) => d.capabilities.likelihood).map((d) => d.kind));

/** Where a kind's usable context is set, for messages that say what to change. */
export function contextSettingOf(kind: string): string {
  return BY_KIND.get(kind)?.capabilities.contextSetting ?? "the runner's context size";
}

/** The /metrics names of every server kind, for the report's server view (a run has one kind's). */
export const SERVER_METRICS: readonly ServerMetricNames[] = RUNNER_DEFINITIONS.flatMap((d) => {
  const m = (d.capabilities as RunnerCapabilities).serverMetrics;
  return m ? [m] : [];
});

export async function createRunner(profile: RunnerProfile): Promise<Runner> {
  const factory = FACTORIES[profile.kind] as ((p: RunnerProfile) => Promise<Runner>) | undefined;
  if (!factory) throw new InputError(`unknown runner kind ${(profile as { kind: string }).kind}`, { field: 'kind' }, `use one of ${RUNNER_KINDS.join(', ')}`);
  return factory(profile);
}
