// Likelihood scoring on llama-server, against the llama-server double made from the recorded answers
// (test/fixtures/servers/llama-completion-nprobs.json, llama-v1-completions-echo.json) with a real model
// behind its numbers: node-llama-cpp on the same tiny GGUF the in-process runner loads. The server path
// (its chat template, its token ids, top-N next-token log-probabilities) must give the in-process path's
// letter log-probabilities; letters outside the top N get no figure, never probability 0.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, LlamaLogLevel, type LlamaContextSequence, type LlamaModel } from 'node-llama-cpp';
import type { DatasetItem } from '../../src/core/types.js';
import { InputError } from '../../src/core/errors.js';
import { runLikelihoodItem } from '../../src/run/run-likelihood.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema, type LlamaEmbeddedRunner } from '../../src/runners/llama-embedded.js';
import { createLlamaServerRunner, llamaServerProfileSchema, type LlamaServerRunner } from '../../src/runners/llama-server.js';
import { LIKELIHOOD_RUNNER_KINDS } from '../../src/runners/registry.js';
import { createVllmRunner, vllmProfileSchema } from '../../src/runners/vllm.js';
import { NvidiaSmi } from '../../src/metrics/nvidia-smi.js';
import { LlamaServerDouble, type DoubleLogprobModel } from '../doubles/llama-server-double.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { REPO, tinyModel } from '../helpers/tiny-run.js';

const QUESTION = 'A 45-year-old man has crushing chest pain for 1 hour. Which is the best next step? A) ECG B) CT C) MRI D) X-ray E) Wait';
const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const MESSAGES = [{ role: 'user' as const, content: QUESTION }];
const noGpu = { nvidiaSmi: { query: async () => null } } as never;

/** The tiny GGUF's chat template (DeepSeek-R1's shape), as the real llama-server applies it to this model. */
function ggufTemplate(messages: Array<{ role: string; content: string }>): string {
  return messages.map((m) => (m.role === 'user' ? `<｜User｜>${m.content}` : m.role === 'assistant' ? `<｜Assistant｜>${m.content}<｜end▁of▁sentence｜>` : m.content)).join('') + '<｜Assistant｜>';
}

async function nodeLlamaModel(file: string): Promise<{ model: LlamaModel; sequence: LlamaContextSequence; logprob: DoubleLogprobModel; dispose(): Promise<void> }> {
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  const sequence = context.getSequence();
  const bos = model.tokens.bos;
  const logprob: DoubleLogprobModel = {
    template: ggufTemplate,
    tokenize: (text, addSpecial) => [...(addSpecial && bos !== null ? [bos] : []), ...(model.tokenize(text, true) as number[])],
    piece: (id) => model.detokenize([id as never], true),
    detokenize: (ids) => model.detokenize(ids as never[], true),
    async nextLogprobs(ids) {
      await sequence.clearHistory();
      const out = await sequence.controlledEvaluate(ids.map((t, i) => (i === ids.length - 1
        ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : t)) as never);
      const probs = out[ids.length - 1]!.next.probabilities as Map<number, number>;
      return [...probs].filter(([, p]) => p > 0).map(([id, p]) => ({ id, logprob: Math.log(p) }));
    },
  };
  return { model, sequence, logprob, dispose: async () => { await context.dispose(); await model.dispose(); } };
}

/**
 * log P(" " + letter | prompt) evaluated directly on the engine over the server's own token ids, every
 * token from scratch. (The in-process runner tokenises the template text piece by piece and llama-server
 * the whole text, which adds a space after special tokens on this GGUF: other ids, other prompt; see
 * docs/likelihood-servers.md for the figures.)
 */
async function direct(engine: DoubleLogprobModel, prompt: string, letter: string): Promise<number> {
  const ctx = engine.tokenize(prompt, true);
  const whole = engine.tokenize(`${prompt} ${letter}`, true);
  let n = 0;
  while (n < ctx.length && whole[n] === ctx[n]) n++;
  let lp = 0;
  for (let i = n; i < whole.length; i++) {
    const dist = await engine.nextLogprobs(whole.slice(0, i));
    lp += dist.find((d) => d.id === whole[i])!.logprob;
  }
  return lp;
}

describe('likelihood scoring on llama-server (double with the tiny GGUF behind it)', () => {
  let file: string;
  let server: LlamaServerDouble;
  let engine: Awaited<ReturnType<typeof nodeLlamaModel>>;
  let inProcess: LlamaEmbeddedRunner;
  const runners: LlamaServerRunner[] = [];
  const serverRunner = async (extra: Record<string, unknown> = {}) => {
    const r = await createLlamaServerRunner(llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'double', baseUrl: server.baseUrl, ...extra }), noGpu);
    runners.push(r);
    return r;
  };

  beforeAll(async () => {
    file = await tinyModel('F32');
    engine = await nodeLlamaModel(file);
    server = await new LlamaServerDouble().start();
    server.logprobModel = engine.logprob;
    inProcess = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({ kind: 'llama-cpp-embedded', label: 't', model: file, threads: 1 }));
  });
  afterAll(async () => {
    for (const r of runners) await r.close();
    await inProcess?.close();
    await server?.stop();
    await engine?.dispose();
  });

  it('gives the engine\'s letter log-probabilities on the server\'s tokens (within 1e-6) when every letter is in the top N', async () => {
    const r = await serverRunner({ likelihoodTopN: 1000 });
    const got = await r.letterLogprobs({ messages: MESSAGES, prefix: 'Answer:', letters: LETTERS });
    expect(got.noFigure).toBeUndefined();
    expect(Object.keys(got.logprobs)).toEqual(LETTERS);
    for (const l of LETTERS) expect(Math.abs(got.logprobs[l]! - (await direct(engine.logprob, got.prompt!, l)))).toBeLessThan(1e-6);
    expect(got.promptTokens).toBe(engine.logprob.tokenize(got.prompt!, true).length);
    // Same model, same question: the in-process path's best letter is the server path's.
    const ref = await inProcess.letterLogprobs({ messages: MESSAGES, prefix: 'Answer:', letters: LETTERS });
    const best = (lp: Record<string, number>) => Object.entries(lp).sort((a, b) => b[1] - a[1])[0]![0];
    expect(best(got.logprobs)).toBe(best(ref.logprobs));
    // The prompt is the server's own template applied, then the prefix; recorded per item.
    expect(got.prompt).toBe(`<｜User｜>${QUESTION}<｜Assistant｜>Answer:`);
    // Every scoring request asked for log-probabilities before sampling, one token, prompt as token ids.
    const last = server.completionBodies.at(-1)!;
    expect(last).toMatchObject({ n_predict: 1, n_probs: 1000, temperature: 0, post_sampling_probs: false });
    expect(Array.isArray(last.prompt)).toBe(true);
  });

  it('refuses a letter of several tokens up front (exit 2), naming the letter, its token count and the alternatives', async () => {
    const r = await serverRunner({ likelihoodTopN: 1000 });
    const letters = ['ECG', 'X-ray', 'Wait'];
    const before = server.completionBodies.length;
    const err = await r.letterLogprobs({ messages: MESSAGES, prefix: 'The best next step is', letters }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const prompt = `<｜User｜>${QUESTION}<｜Assistant｜>The best next step is`;
    const ctx = engine.logprob.tokenize(prompt, true);
    const multi = letters.map((l) => ({ l, n: engine.logprob.tokenize(`${prompt} ${l}`, true).length - ctx.length })).find((x) => x.n > 1)!;
    expect(multi).toBeDefined();
    const first = letters.map((l) => ({ l, n: engine.logprob.tokenize(`${prompt} ${l}`, true).length - ctx.length })).find((x) => x.n !== 1)!;
    expect((err as Error).message).toContain(`answer letter "${first.l}" is ${first.n} tokens`);
    expect((err as Error).message).toMatch(/kind: vllm.*echo/);
    expect((err as Error).message).toMatch(/in-process runner/);
    // Refused before any scoring request reached the server.
    expect(server.completionBodies.length).toBe(before);
  });

  it('a run whose letters are two tokens on this server stops before scoring, exit-2 error (InputError), nothing journaled as scored', async () => {
    const { runSuite } = await import('../../src/run/run.js');
    const { tempDir, writeSuite } = await import('../helpers/tiny-run.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = tempDir();
    const suite = writeSuite(dir, { constrain: false });
    writeFileSync(suite, `${readFileSync(suite, 'utf8')}\nscoring: likelihood\n`);
    server.nCtxSlot = 2048;
    // A tokenizer that gives " B" as two tokens (a space token, then the letter), as some vocabularies do.
    const real = engine.logprob;
    const [space] = real.tokenize(' ', false);
    server.logprobModel = { ...real, tokenize: (text, special) => (text.endsWith(' B') ? [...real.tokenize(text, special).slice(0, -1), space!, ...real.tokenize('B', false)] : real.tokenize(text, special)) };
    const before = server.completionBodies.length;
    try {
      const profile = llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'double', baseUrl: server.baseUrl, likelihoodTopN: 3 });
      const err = await runSuite({ suite, runner: { profile, file: null }, out: join(dir, 'out'), limit: 2, seed: 1, cacheDir: false }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toContain('answer letter "B" is 2 tokens');
      expect(server.completionBodies.length).toBe(before);
      const journal = join(dir, 'out', 'results.jsonl');
      expect(existsSync(journal) ? readFileSync(journal, 'utf8').trim() : '').toBe('');
    } finally {
      server.logprobModel = real;
    }
  });

  it('a letter outside the top N has no figure, only an upper bound; the item is scored when the best letter beats every bound', async () => {
    const r = await serverRunner({ likelihoodTopN: 2 });
    const got = await r.letterLogprobs({ messages: MESSAGES, prefix: 'Answer:', letters: LETTERS });
    const missing = Object.keys(got.noFigure ?? {});
    expect(missing.length).toBeGreaterThan(0);
    for (const l of missing) {
      expect(got.logprobs[l]).toBeUndefined(); // never probability 0
      expect(await direct(engine.logprob, got.prompt!, l)).toBeLessThanOrEqual(got.noFigure![l]! + 1e-6); // the bound holds
    }
    const item: DatasetItem = { id: 'q1', question: QUESTION, options: { A: 'ECG', B: 'CT', C: 'MRI', D: 'X-ray', E: 'Wait' }, answer: 'A', meta: {} } as unknown as DatasetItem;
    const rendered = { prompt: QUESTION, template: 'test', questionType: 'test' } as never;
    const rec = await runLikelihoodItem(r, item, 0, rendered, 'Answer:', 'test', undefined);
    expect(rec.letterNoFigure).toEqual(got.noFigure);
    expect(rec.likelihoodPrompt).toBe(got.prompt);
    const best = Object.entries(got.logprobs).sort((a, b) => b[1] - a[1])[0]!;
    const beatsAll = Object.values(got.noFigure!).every((b) => best[1] > b);
    if (beatsAll) expect(rec.extracted).toMatchObject({ status: 'answered', letter: best[0] });
    else expect(rec.extracted.status).toBe('unparseable');
  });

  it('an item whose unknown letters could still be the best is not scored', async () => {
    const r = await serverRunner({ likelihoodTopN: 1 });
    // Only the single most likely token is known: a letter that is not it has no figure.
    const item: DatasetItem = { id: 'q2', question: QUESTION, options: { A: 'ECG', B: 'CT', C: 'MRI', D: 'X-ray', E: 'Wait' }, answer: 'A', meta: {} } as unknown as DatasetItem;
    const rec = await runLikelihoodItem(r, item, 0, { prompt: QUESTION, template: 't', questionType: 't' } as never, 'The best next step is', 'test', undefined);
    expect(Object.keys(rec.letterNoFigure ?? {})).toEqual(LETTERS);
    expect(rec.extracted).toMatchObject({ letter: null, status: 'unparseable' });
    expect(rec.extracted.method).toContain('no figure for A, B, C, D, E');
    expect(rec.correct).toBe(false);
  });

  it('a `scoring: likelihood` run on llama-server journals each item\'s letters, prompt and letters without a figure', async () => {
    const { runSuite } = await import('../../src/run/run.js');
    const { tempDir, writeSuite } = await import('../helpers/tiny-run.js');
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = tempDir();
    const suite = writeSuite(dir, { constrain: false });
    writeFileSync(suite, `${readFileSync(suite, 'utf8')}\nscoring: likelihood\n`);
    server.nCtxSlot = 2048;
    const profile = llamaServerProfileSchema.parse({ kind: 'llama-server', label: 'double', baseUrl: server.baseUrl, likelihoodTopN: 3 });
    const run = await runSuite({ suite, runner: { profile, file: null }, out: join(dir, 'out'), limit: 4, seed: 1, cacheDir: false });
    expect(run.results).toHaveLength(4);
    for (const r of run.results) {
      expect(r.error).toBeUndefined();
      expect(r.likelihoodPrompt).toMatch(/^<｜User｜>[\s\S]*<｜Assistant｜>Answer:$/);
      const known = Object.keys(r.letterLogprobs ?? {});
      const none = Object.keys(r.letterNoFigure ?? {});
      expect(new Set([...known, ...none]).size).toBe(known.length + none.length); // a letter is one or the other
      expect(known.length + none.length).toBeGreaterThanOrEqual(4);
      if (r.extracted.status === 'answered') expect(known).toContain(r.extracted.letter);
    }
  });

  it('llama-server is a likelihood runner kind', () => {
    expect(LIKELIHOOD_RUNNER_KINDS.has('llama-server')).toBe(true);
  });
});

/** The same, over given ids: log P(whole[from..] | whole[..from]), every token from scratch. */
async function directIds(engine: DoubleLogprobModel, whole: number[], from: number): Promise<number> {
  let lp = 0;
  for (let i = from; i < whole.length; i++) lp += (await engine.nextLogprobs(whole.slice(0, i))).find((d) => d.id === whole[i])!.logprob;
  return lp;
}

describe('likelihood scoring on vLLM (echo + logprobs; double with the tiny GGUF behind it)', () => {
  let server: VllmDouble;
  let engine: Awaited<ReturnType<typeof nodeLlamaModel>>;
  beforeAll(async () => {
    engine = await nodeLlamaModel(await tinyModel('F32'));
    server = await new VllmDouble().start();
    server.logprobModel = engine.logprob;
  });
  afterAll(async () => {
    await server?.stop();
    await engine?.dispose();
  });

  it('scores every letter, one token or several, exactly from the prompt log-probabilities (within 1e-6)', async () => {
    const r = await createVllmRunner(vllmProfileSchema.parse({ kind: 'vllm', label: 'v', baseUrl: server.baseUrl, retries: 0 }), { nvidiaSmi: new NvidiaSmi(null) });
    try {
      const letters = ['A', 'B', 'ECG', 'X-ray'];
      const got = await r.letterLogprobs({ messages: MESSAGES, prefix: 'The best next step is', letters });
      expect(got.noFigure).toBeUndefined();
      // The template with the assistant turn left open on the prefix, tokenised by the server, recorded as its text.
      const ctxText = `${ggufTemplate(MESSAGES)}The best next step is`;
      const ctx = engine.logprob.tokenize(ctxText, false);
      expect(got.prompt).toBe(engine.logprob.detokenize(ctx));
      expect(got.promptTokens).toBe(ctx.length);
      let multi = false;
      for (const l of letters) {
        const whole = engine.logprob.tokenize(`${ctxText} ${l}`, false);
        let n = 0;
        while (whole[n] === ctx[n]) n++;
        if (whole.length - n > 1) multi = true;
        expect(Math.abs(got.logprobs[l]! - (await directIds(engine.logprob, whole, n)))).toBeLessThan(1e-6);
      }
      expect(multi).toBe(true);
      // As lm-evaluation-harness's local-completions asks: token ids, echo, logprobs 1, one token, greedy.
      expect(server.echoBodies.at(-1)).toMatchObject({ echo: true, logprobs: 1, max_tokens: 1, temperature: 0 });
      expect(Array.isArray(server.echoBodies.at(-1)!.prompt)).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('vLLM is a likelihood runner kind', () => {
    expect(LIKELIHOOD_RUNNER_KINDS.has('vllm')).toBe(true);
  });
});

describe('the llama-server double answers log-probability requests as the recorded build does', () => {
  let server: LlamaServerDouble;
  let engine: Awaited<ReturnType<typeof nodeLlamaModel>>;
  const recorded = (name: string) => readFileSync(`${REPO}/test/fixtures/servers/${name}`, 'utf8');
  beforeAll(async () => {
    engine = await nodeLlamaModel(await tinyModel('F32'));
    server = await new LlamaServerDouble().start();
    server.logprobModel = engine.logprob;
  });
  afterAll(async () => {
    await server?.stop();
    await engine?.dispose();
  });
  const post = (path: string, body: unknown) => fetch(`${server.baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });

  it('/completion with n_probs: the recorded fields, top_logprobs sorted, natural logs summing to at most 1', async () => {
    const want = JSON.parse(recorded('llama-completion-nprobs.json')) as Record<string, unknown>;
    const res = await post('/completion', { prompt: 'Answer:', n_predict: 1, n_probs: 20, temperature: 0, cache_prompt: false });
    expect(res.status).toBe(200);
    const got = (await res.json()) as Record<string, unknown> & { completion_probabilities: Array<Record<string, unknown> & { top_logprobs: Array<{ logprob: number }> }> };
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    const wantEntry = (want.completion_probabilities as Array<Record<string, unknown>>)[0]!;
    expect(Object.keys(got.completion_probabilities[0]!).sort()).toEqual(Object.keys(wantEntry).sort());
    const top = got.completion_probabilities[0]!.top_logprobs;
    expect(top).toHaveLength(20);
    expect(Object.keys(top[0]!).sort()).toEqual(['bytes', 'id', 'logprob', 'token']);
    for (let i = 1; i < top.length; i++) expect(top[i]!.logprob).toBeLessThanOrEqual(top[i - 1]!.logprob);
    expect(top.reduce((s, t) => s + Math.exp(t.logprob), 0)).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('post_sampling_probs gives probabilities after the sampler (1 for the greedy token at temperature 0), not log-probabilities', async () => {
    const got = (await (await post('/completion', { prompt: 'Answer:', n_predict: 1, n_probs: 5, temperature: 0, post_sampling_probs: true })).json()) as {
      completion_probabilities: Array<{ prob: number; top_probs: Array<{ prob: number }> }>;
    };
    expect(got.completion_probabilities[0]!.prob).toBe(1);
    expect(got.completion_probabilities[0]!.top_probs.map((t) => t.prob)).toEqual([1, 0, 0, 0, 0]);
  });

  it('/v1/completions with echo is refused with the recorded HTTP 500', async () => {
    const res = await post('/v1/completions', { prompt: 'Answer:', max_tokens: 1, logprobs: 20, echo: true });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(JSON.stringify(JSON.parse(recorded('llama-v1-completions-echo.json'))));
  });

  it('/tokenize with with_pieces gives id and piece per token, as recorded', async () => {
    const got = (await (await post('/tokenize', { content: ' Answer: A B', with_pieces: true })).json()) as { tokens: Array<{ id: number; piece: string }> };
    expect(got.tokens.length).toBeGreaterThan(0);
    for (const t of got.tokens) expect(Object.keys(t).sort()).toEqual(['id', 'piece']);
    expect(got.tokens.map((t) => t.piece).join('')).toContain('Answer');
  });
});
