// The ONNX runner on every graph contract the tiny maker writes: the Optimum folder (int64 ids, per-layer
// cache) and onnxruntime-genai folders (genai_config.json; int32 or int64 ids, with or without
// position_ids, stacked past_N or per-layer caches, fp32 / fp16 / MatMulNBits 4- and 8-bit, external
// data). Each is checked against a full-sequence onnxruntime pass written here, apart from the runner:
// the graph fed in its own declared types over the whole sequence with empty caches, every step.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { SamplingParams } from '../../src/core/types.js';
import { ensureTinyLayoutModel, TINY_LAYOUTS, type TinyLayoutName, type TinyLayoutPlan } from '../../src/models/onnx-tiny-layouts.js';
import { splitContinuation } from '../../src/runners/likelihood.js';
import { createOnnxRunner, type OnnxProfileInput, type OnnxRunner } from '../../src/runners/onnx.js';
import { float16ToFloat32, loadLocalTokenizer, type LocalTokenizer } from '../../src/runners/onnx-tokenizer.js';
import { REPO, tempDir, writeSuite } from '../helpers/tiny-run.js';
import { tinyOnnxModel, TINY_ONNX_DIR, USER_TURN } from './helpers.js';

const LAYOUT_ROOT = fileURLToPath(new URL('../../.cache/test-onnx/layouts-seed-7', import.meta.url));
const layoutDir = (name: TinyLayoutName) => join(LAYOUT_ROOT, name);
const GREEDY: SamplingParams = { temperature: 0, topP: 1, maxTokens: 12 };
const LETTERS = ['A', 'B', 'C', 'D', 'E'];

interface Case {
  name: string;
  dir: string;
  /** The graph file the reference runs. */
  file: string;
  plan: Pick<TinyLayoutPlan, 'cache' | 'idType' | 'positionIds' | 'format'>;
  /** Expected words in describe().extra.graphInputs. */
  describes: string[];
}

const OPTIMUM: Case = {
  name: 'optimum per-layer int64 (onnx/model.onnx + model.onnx_data)',
  dir: TINY_ONNX_DIR,
  file: join(TINY_ONNX_DIR, 'onnx/model.onnx'),
  plan: { cache: 'per-layer', idType: 'int64', positionIds: true, format: 'fp32' },
  describes: ['per-layer past_key_values.0.key -> present.0.key', 'int64 ids', 'position_ids'],
};
const GENAI_CASES: Case[] = ([
  ['genai-stacked-int32', ['stacked past_0 -> present_0', 'int32 ids', 'position_ids', 'float32']],
  ['genai-per-layer-int32-fp16', ['per-layer past_key_values.0.key', 'int32 ids', 'no position_ids', 'float16']],
  ['genai-stacked-int64-q4', ['stacked past_0', 'int64 ids', 'no position_ids']],
  ['genai-per-layer-int64-q8', ['per-layer', 'int64 ids', 'position_ids']],
] as const).map(([name, describes]) => ({
  name, dir: layoutDir(name), file: join(layoutDir(name), 'model.onnx'), plan: TINY_LAYOUTS[name], describes: [...describes],
}));

type Ort = typeof import('onnxruntime-node');

/** Every position's logits for `ids`, in one pass, fed exactly as the maker declared the graph. */
async function fullPass(ort: Ort, session: import('onnxruntime-node').InferenceSession, plan: Case['plan'], ids: number[]): Promise<Float32Array[]> {
  const T = ids.length;
  const ints = (values: number[]) => plan.idType === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(values, (x) => BigInt(x)), [1, values.length])
    : new ort.Tensor('int32', Int32Array.from(values), [1, values.length]);
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
    input_ids: ints(ids),
    attention_mask: ints(new Array(T).fill(1)),
  };
  if (plan.positionIds) feeds.position_ids = ints(Array.from({ length: T }, (_, i) => i));
  const half = plan.format === 'fp16';
  const empty = (dims: number[]) => new ort.Tensor(half ? 'float16' : 'float32', half ? new Uint16Array(0) : new Float32Array(0), dims);
  for (let layer = 0; layer < 2; layer++) {
    if (plan.cache === 'stacked') feeds[`past_${layer}`] = empty([2, 1, 4, 0, 16]);
    if (plan.cache === 'per-layer') {
      feeds[`past_key_values.${layer}.key`] = empty([1, 4, 0, 16]);
      feeds[`past_key_values.${layer}.value`] = empty([1, 4, 0, 16]);
    }
  }
  const out = await session.run(feeds);
  const logits = out.logits;
  expect(logits.dims.slice(0, 2)).toEqual([1, T]);
  const V = logits.dims[2];
  const all = half ? float16ToFloat32(logits.data as Uint16Array) : (logits.data as Float32Array);
  return Array.from({ length: T }, (_, i) => all.slice(i * V, (i + 1) * V));
}

function logSoftmax(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return row[id] - max - Math.log(sum);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function profile(dir: string, extra: Partial<OnnxProfileInput> = {}): OnnxProfileInput {
  return { kind: 'onnx', label: 'tiny', modelDir: dir, threads: 1, ...extra };
}

beforeAll(async () => {
  await tinyOnnxModel();
  for (const name of Object.keys(TINY_LAYOUTS) as TinyLayoutName[]) await ensureTinyLayoutModel({ dir: layoutDir(name), layout: name, seed: 7 });
});

describe.each([OPTIMUM, ...GENAI_CASES])('ONNX layout $name', (c) => {
  let runner: OnnxRunner;
  let ort: Ort;
  let session: import('onnxruntime-node').InferenceSession;
  let tok: LocalTokenizer;
  beforeAll(async () => {
    runner = await createOnnxRunner(profile(c.dir));
    ort = await import('onnxruntime-node');
    session = await ort.InferenceSession.create(c.file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
    tok = await loadLocalTokenizer(c.dir);
  });
  afterAll(async () => {
    await runner?.close();
    await session?.release();
  });

  it('reads the graph\'s own contract and uses its KV cache', async () => {
    expect(runner.usesKvCache).toBe(true);
    const d = await runner.describe();
    for (const w of c.describes) expect(String(d.extra?.graphInputs)).toContain(w);
    expect(d.contextSize).toBe(2048); // max_position_embeddings, or genai_config.json's context_length
    if (c.dir !== TINY_ONNX_DIR) {
      expect(d.extra?.config).toBe('genai_config.json');
      expect(d.extra?.variant).toBe('genai');
      expect(d.extra?.genaiSearchDefaults).toMatchObject({ doSample: true, temperature: 0.6, topK: 1, topP: 0.95, maxLength: 2048 });
    }
  });

  it('greedy tokens equal a full-sequence pass recomputed every step', async () => {
    const prompt = runner.encodePrompt(USER_TURN);
    const seq = [...prompt.ids];
    const ref: number[] = [];
    for (let step = 0; step < GREEDY.maxTokens; step++) {
      const rows = await fullPass(ort, session, c.plan, seq);
      const next = argmax(rows[rows.length - 1]);
      if (next === tok.eosTokenId) break;
      ref.push(next);
      seq.push(next);
    }
    const g = await runner.generate({ messages: USER_TURN, sampling: GREEDY });
    expect(g.outputTokens).toBe(ref.length);
    expect(g.rawText).toBe(prompt.prefill + tok.decode(ref));
  });

  it('letter log-probabilities equal the full-sequence pass (within 1e-5)', async () => {
    const contextText = runner.encodePrompt(USER_TURN).text + 'Answer:';
    const ctx = tok.encode(contextText, false);
    const got = await runner.letterLogprobs({ messages: USER_TURN, prefix: 'Answer:', letters: LETTERS });
    for (const l of LETTERS) {
      const { whole, contextLength } = splitContinuation(ctx, tok.encode(`${contextText} ${l}`, false), l);
      const rows = await fullPass(ort, session, c.plan, whole.slice(0, -1));
      let ref = 0;
      for (let i = contextLength; i < whole.length; i++) ref += logSoftmax(rows[i - 1], whole[i]);
      expect(Math.abs(got.logprobs[l] - ref)).toBeLessThan(1e-5);
    }
  });

  it('reports the KV cache figure only while the cache is used', async () => {
    const mem = await runner.memory();
    expect(mem.context?.source).toContain('KV cache computed');
    const fp16 = c.plan.format === 'fp16';
    expect(mem.context?.note).toContain(`${fp16 ? 512 : 1024} bytes per token`);
    const uncached = await createOnnxRunner(profile(c.dir, { useKvCache: false }));
    try {
      await uncached.generate({ messages: USER_TURN, sampling: { ...GREEDY, maxTokens: 2 } });
      expect(uncached.usesKvCache).toBe(false);
      expect((await uncached.memory()).context).toBeUndefined();
    } finally {
      await uncached.close();
    }
  });
});

describe('ONNX graphs medeval refuses at load', () => {
  it('a graph with inputs no layout covers names each one and the supported layouts', async () => {
    const err = await createOnnxRunner(profile(layoutDir('unsupported-inputs'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    expect(msg).toContain('medeval cannot feed this graph');
    expect(msg).toContain('beam_idx (int32 [batch_size]): not an input medeval knows how to feed');
    expect(msg).toContain('cache_indirection (int32 [batch_size, 1, max_sequence_length])');
    expect(msg).not.toContain('past_key_values.0.key (');
    expect((err as InputError).hint).toContain('stacked, past_N -> present_N');
    expect((err as InputError).hint).toContain('past_key_values.N.key/value -> present.N.key/value');
  });

  it('a tokenizer with more ids than the model has logits is refused, with both sizes', async () => {
    const err = await createOnnxRunner(profile(layoutDir('vocab-mismatch'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const msg = (err as InputError).message;
    const tok = await loadLocalTokenizer(layoutDir('vocab-mismatch'));
    expect(msg).toContain(`has ${tok.idCount} token ids`);
    expect(msg).toContain('has 200 logits');
    expect((err as InputError).hint).toContain('tokenizer.json');
  });

  it('`medeval run` on such a graph exits 2 with the message, before any request', () => {
    const dir = tempDir();
    const runnerFile = join(dir, 'runner.yaml');
    writeFileSync(runnerFile, `kind: onnx\nlabel: bad\nmodelDir: ${layoutDir('unsupported-inputs')}\nthreads: 1\n`);
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'run', '--suite', writeSuite(dir), '--runner', runnerFile, '--out', out, '--no-cache'],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('beam_idx');
    expect(r.stderr).toContain('medeval cannot feed this graph');
  });
});
