// The runner registry is one list of definitions: the profile union, the factory map, the editor JSON
// Schema and every capability check come from it. These tests fail when a kind is defined in one place
// and missing in another (the factory map's exhaustiveness is checked by the compiler, below).
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMAS, configJsonSchema } from '../../src/run/json-schema.js';
import { contextSetting } from '../../src/run/plan-budget.js';
import { likelihoodRunnerError } from '../../src/run/run-likelihood.js';
import { onnxRunner } from '../../src/runners/in-process-kinds.js';
import {
  createRunner,
  LIKELIHOOD_RUNNER_KINDS,
  RUNNER_DEFINITIONS,
  RUNNER_KINDS,
  runnerDefinition,
  runnerProfileSchema,
  SERVER_METRICS,
  type RunnerFactories,
  type RunnerProfile,
} from '../../src/runners/registry.js';
import { SERVER_METRIC_NAMES } from '../../src/runners/server-metric-names.js';
import { VLLM_HISTOGRAMS } from '../../src/runners/vllm.js';

// Compile-time: a factory map that leaves out a kind does not type-check (`npm test` runs tsc first). If
// RunnerFactories stopped being exhaustive, this directive would be unused and tsc would fail.
// @ts-expect-error every kind needs a factory
const incomplete: RunnerFactories = { onnx: onnxRunner.create };
void incomplete;

describe('runner registry', () => {
  it('lists each kind once, each definition owning a schema whose kind literal is its own kind', () => {
    expect(new Set(RUNNER_KINDS).size).toBe(RUNNER_KINDS.length);
    expect(RUNNER_KINDS).toEqual(['llama-cpp-embedded', 'onnx', 'llama-server', 'vllm', 'scripted']);
    for (const d of RUNNER_DEFINITIONS) {
      const accepted = d.profileSchema.safeParse({ kind: 'not-a-kind', label: 'x' });
      expect(accepted.success, d.kind).toBe(false);
      expect(typeof d.create, d.kind).toBe('function');
      expect(runnerDefinition(d.kind)).toBe(d);
    }
    expect(runnerProfileSchema.options.map((o) => o.shape.kind.value)).toEqual(RUNNER_KINDS);
  });

  it("the JSON Schema's kinds are exactly the registry's, in its order, and its description names each", () => {
    const runner = CONFIG_SCHEMAS.find((c) => c.file === 'runner-profile.schema.json')!;
    const json = configJsonSchema(runner) as { oneOf: Array<{ properties: { kind: { const: string } } }>; description: string };
    expect(json.oneOf.map((b) => b.properties.kind.const)).toEqual(RUNNER_KINDS);
    for (const d of RUNNER_DEFINITIONS) expect(json.description).toContain(`${d.kind}: ${d.description}`);
  });

  it('capability checks read the definitions: likelihood kinds, context hints, server metrics', () => {
    expect([...LIKELIHOOD_RUNNER_KINDS]).toEqual(RUNNER_DEFINITIONS.filter((d) => d.capabilities.likelihood).map((d) => d.kind));
    expect(likelihoodRunnerError('vllm').hint).toContain([...LIKELIHOOD_RUNNER_KINDS].join(' or '));
    for (const d of RUNNER_DEFINITIONS) expect(contextSetting(d.kind)).toBe(d.capabilities.contextSetting);
    expect(contextSetting('no-such-kind')).toBe("the runner's context size");
    // Server kinds declare their /metrics names; the vLLM runner scrapes the histograms its definition names.
    const serverKinds = RUNNER_DEFINITIONS.filter((d) => d.capabilities.modes.includes('managed')).map((d) => d.kind);
    expect(serverKinds).toEqual(['llama-server', 'vllm']);
    expect(SERVER_METRICS).toHaveLength(2);
    // The report reads the leaf module's copy of the list (no runner loaded): the same entries, same order.
    expect(SERVER_METRIC_NAMES).toEqual(SERVER_METRICS);
    expect(VLLM_HISTOGRAMS).toEqual(runnerDefinition('vllm')!.capabilities.serverMetrics!.histograms!.map((h) => h.names));
  });

  it('createRunner refuses a kind no definition has, naming the kinds it knows', async () => {
    await expect(createRunner({ kind: 'tgi', label: 'x' } as unknown as RunnerProfile)).rejects.toThrow(/unknown runner kind tgi/);
  });
});
