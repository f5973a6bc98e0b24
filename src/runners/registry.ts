// Runner profiles (YAML under runners/) name a `kind`; this table maps each kind to its schema and factory.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { Runner } from '../core/types.js';
import { readYamlFile } from '../core/yaml-config.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema } from './llama-embedded.js';
import { createLlamaServerRunner, llamaServerProfileSchema } from './llama-server.js';
import { createOnnxRunner, onnxProfileSchema } from './onnx.js';
import { createScriptedRunner, scriptedProfileSchema } from './scripted.js';
import { createVllmRunner, vllmProfileSchema } from './vllm.js';

export const runnerProfileSchema = z.discriminatedUnion('kind', [
  llamaEmbeddedProfileSchema,
  onnxProfileSchema,
  llamaServerProfileSchema,
  vllmProfileSchema,
  scriptedProfileSchema,
]);
export type RunnerProfile = z.infer<typeof runnerProfileSchema>;

export interface LoadedRunnerProfile {
  profile: RunnerProfile;
  file: string | null;
}

/**
 * Paths written `./x` or `../x` in a profile resolve against the profile file's folder; anything else stays
 * as written (an absolute path, a binary on PATH, a vLLM hub id such as `deepseek-ai/...`).
 */
const PATH_FIELDS = ['model', 'modelDir', 'binary', 'script'] as const;

export async function loadRunnerProfile(file: string): Promise<LoadedRunnerProfile> {
  const profile = await readYamlFile(file, runnerProfileSchema, 'runner profile');
  const base = dirname(resolve(file));
  const rec = profile as Record<string, unknown>;
  for (const key of PATH_FIELDS) {
    const v = rec[key];
    if (typeof v === 'string' && !isAbsolute(v) && /^\.\.?\//.test(v)) rec[key] = resolve(base, v);
  }
  return { profile, file };
}

/** Kinds whose runners give answer-letter log-probabilities (Runner.letterLogprobs), known before any model loads. */
export const LIKELIHOOD_RUNNER_KINDS: ReadonlySet<RunnerProfile['kind']> = new Set(['llama-cpp-embedded', 'onnx', 'scripted']);

export async function createRunner(profile: RunnerProfile): Promise<Runner> {
  switch (profile.kind) {
    case 'llama-cpp-embedded':
      return createLlamaEmbeddedRunner(profile);
    case 'onnx':
      return createOnnxRunner(profile);
    case 'llama-server':
      return createLlamaServerRunner(profile);
    case 'vllm':
      return createVllmRunner(profile);
    case 'scripted':
      return createScriptedRunner(profile);
    default:
      throw new InputError(`unknown runner kind ${(profile as { kind: string }).kind}`, { field: 'kind' });
  }
}
