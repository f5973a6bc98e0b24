// Multiple choice by likelihood on the in-process llama.cpp runner, checked against an independent
// evaluation: a separate llama.cpp context that evaluates every letter's whole token sequence from
// scratch (no shared prefix, no erasing), with the same tokenisation rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, LlamaChatSession, LlamaLogLevel, LlamaText, type LlamaModel } from 'node-llama-cpp';
import { InputError } from '../../src/core/errors.js';
import { createLlamaEmbeddedRunner, llamaEmbeddedProfileSchema, type LlamaEmbeddedRunner } from '../../src/runners/llama-embedded.js';
import { tinyModel } from '../helpers/tiny-run.js';

const QUESTION = 'A 45-year-old man has crushing chest pain for 1 hour. Which is the best next step? A) ECG B) CT C) MRI D) X-ray E) Wait';
const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const request = (letters = LETTERS, prefix = 'Answer:') => ({ messages: [{ role: 'user' as const, content: QUESTION }], prefix, letters });
const runnerFor = async (file: string) => createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({ kind: 'llama-cpp-embedded', label: 't', model: file, threads: 1 }));

/** log P(continuation | context), every letter evaluated from an empty context, token by token. */
async function reference(model: LlamaModel, letters: string[], prefix: string): Promise<Record<string, number>> {
  const context = await model.createContext({ contextSize: 512, threads: 1 });
  const sequence = context.getSequence();
  try {
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false, chatWrapper: 'auto' });
    const text = session.chatWrapper.generateContextState({ chatHistory: [{ type: 'user', text: QUESTION }, { type: 'model', response: [prefix] }] }).contextText;
    session.dispose({ disposeSequence: false });
    const ctx = text.tokenize(model.tokenizer);
    const out: Record<string, number> = {};
    for (const letter of letters) {
      const whole = LlamaText([text, ` ${letter}`]).tokenize(model.tokenizer);
      let n = 0;
      while (n < ctx.length && whole[n] === ctx[n]) n++;
      await sequence.clearHistory();
      let lp = 0;
      for (let i = n; i < whole.length; i++) {
        // Evaluate everything before token i from scratch and read its probability.
        await sequence.clearHistory();
        const r = await sequence.controlledEvaluate(whole.slice(0, i).map((t, k) => (k === i - 1 ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : t)) as never);
        lp += Math.log(r[i - 1]!.next.probabilities!.get(whole[i]!) ?? 0);
      }
      out[letter] = lp;
    }
    return out;
  } finally {
    await context.dispose();
  }
}

describe('llama-cpp-embedded letterLogprobs', () => {
  let f32: LlamaEmbeddedRunner;
  let q4: LlamaEmbeddedRunner;
  let refModel: LlamaModel;
  beforeAll(async () => {
    const [fileF32, fileQ4] = [await tinyModel('F32'), await tinyModel('Q4_0')];
    [f32, q4] = [await runnerFor(fileF32), await runnerFor(fileQ4)];
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
    refModel = await llama.loadModel({ modelPath: fileF32, gpuLayers: 0 });
  });
  afterAll(async () => {
    await f32?.close();
    await q4?.close();
    await refModel?.dispose();
  });

  it('matches an independent from-scratch evaluation of every letter, single- and multi-token', async () => {
    // "Zq" and "Answer" tokenise into more than one token after the space: the chain-rule path.
    const letters = [...LETTERS, 'Zq', 'xyzzy'];
    const ours = await f32.letterLogprobs(request(letters));
    const ref = await reference(refModel, letters, 'Answer:');
    for (const l of letters) {
      expect(Number.isFinite(ours.logprobs[l]), l).toBe(true);
      expect(ours.logprobs[l]!).toBeLessThanOrEqual(0);
      // A single-token letter is read from the same full-context batch both ways: equal to float noise.
      // Tokens after the first are evaluated on top of the cached context here and from scratch in the
      // reference; llama.cpp's batch and incremental kernels round differently (measured ~1.3e-3 nats on
      // this model for one token, against 3e-6 on short inputs), so multi-token letters get 5e-3.
      const tolerance = LETTERS.includes(l) ? 1e-4 : 5e-3;
      expect(Math.abs(ours.logprobs[l]! - ref[l]!), l).toBeLessThan(tolerance);
    }
    // A longer continuation is a product of probabilities: never likelier than its own first token alone would allow.
    expect(ours.logprobs.xyzzy!).toBeLessThan(Math.max(...LETTERS.map((l) => ours.logprobs[l]!)));
    expect(ours.promptTokens).toBeGreaterThan(20);
    expect(ours.evalMs).toBeGreaterThan(0);
  });

  it('does not depend on letter order or on what was evaluated before (the erased tokens are really gone)', async () => {
    const a = await f32.letterLogprobs(request(['Zq', 'A', 'B', 'C', 'D', 'E']));
    await f32.generate({ messages: [{ role: 'user', content: 'Something else entirely.' }], sampling: { temperature: 0, topP: 1, maxTokens: 4 } });
    const b = await f32.letterLogprobs(request(['E', 'D', 'C', 'B', 'A', 'Zq']));
    for (const l of Object.keys(a.logprobs)) expect(b.logprobs[l]).toBe(a.logprobs[l]);
  });

  it('the Q4_0 model gives a different but related letter distribution', async () => {
    const p = await f32.letterLogprobs(request());
    const q = await q4.letterLogprobs(request());
    const norm = (lp: Record<string, number>) => {
      const z = LETTERS.reduce((s, l) => s + Math.exp(lp[l]!), 0);
      return LETTERS.map((l) => Math.exp(lp[l]!) / z);
    };
    const [pn, qn] = [norm(p.logprobs), norm(q.logprobs)];
    const tv = pn.reduce((s, x, i) => s + Math.abs(x - qn[i]!), 0) / 2;
    expect(tv).toBeGreaterThan(0);
    expect(tv).toBeLessThan(0.9);
  });

  it('refuses empty or repeated letters and an aborted request', async () => {
    await expect(f32.letterLogprobs(request([]))).rejects.toThrow(InputError);
    await expect(f32.letterLogprobs(request(['A', 'A']))).rejects.toThrow(/letters/);
    const c = new AbortController();
    const reason = new Error('stop');
    c.abort(reason);
    await expect(f32.letterLogprobs({ ...request(), signal: c.signal })).rejects.toBe(reason);
  });
});

describe('llama-cpp-embedded letterLogprobs on a prompt longer than the context', () => {
  it('fails the request with what to change, instead of scoring a shifted (cut) prompt', async () => {
    const runner = await createLlamaEmbeddedRunner(llamaEmbeddedProfileSchema.parse({ kind: 'llama-cpp-embedded', label: 't', model: await tinyModel('F32'), threads: 1, contextSize: 256 }));
    try {
      const long = `${'The patient reports pain. '.repeat(200)}Which is the answer?`;
      await expect(runner.letterLogprobs({ ...request(), messages: [{ role: 'user', content: long }] })).rejects.toThrow(/more than the context of \d+: raise contextSize/);
      // A prompt that fits still scores.
      expect(Object.keys((await runner.letterLogprobs(request())).logprobs)).toEqual(LETTERS);
    } finally {
      await runner.close();
    }
  });
});
