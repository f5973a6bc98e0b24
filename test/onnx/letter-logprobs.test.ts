// OnnxRunner.letterLogprobs (multiple choice by likelihood) on the tiny model. The reference each figure
// is checked against is computed here, apart from the runner: onnxruntime run directly on the same .onnx
// file over the whole token sequence at once (no KV cache, every position's logits), and a log-softmax
// written out in this file.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { LetterLogprobRequest, LetterLogprobs } from '../../src/core/types.js';
import { checkLetters, commonPrefixLength, logSoftmaxAt, splitContinuation } from '../../src/runners/likelihood.js';
import { createOnnxRunner, type OnnxProfileInput, type OnnxRunner } from '../../src/runners/onnx.js';
import { loadLocalTokenizer, type LocalTokenizer } from '../../src/runners/onnx-tokenizer.js';
import { tinyOnnxModel, TINY_ONNX_DIR, USER_TURN } from './helpers.js';

const LETTERS = ['A', 'B', 'C', 'D', 'E'];
const REQ: LetterLogprobRequest = { messages: USER_TURN, prefix: 'Answer:', letters: LETTERS };

function profile(extra: Partial<OnnxProfileInput> = {}): OnnxProfileInput {
  return { kind: 'onnx', label: 'tiny', modelDir: TINY_ONNX_DIR, threads: 1, ...extra };
}

/** log softmax(row)[id] in float64, written apart from the runner's: log of the plain sum of exponentials. */
function refLogSoftmax(row: Float32Array, id: number): number {
  let sum = 0;
  for (const x of row) sum += Math.exp(x); // the tiny model's logits stay far below exp's float64 limit
  return Math.log(sum) === Infinity ? Number.NaN : row[id] - Math.log(sum);
}

/**
 * Runs `file` (a graph with or without past_key_values inputs) over all of `ids` in one pass, with empty
 * past tensors if it has them, and sums log P(ids[i] | ids[..i]) for i in [from, ids.length).
 */
async function referenceLogprob(file: string, ids: number[], from: number): Promise<number> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const T = ids.length;
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(i)), [1, T]),
    };
    for (const md of session.inputMetadata) {
      if (!md.name.startsWith('past_key_values.')) continue;
      if (!md.isTensor) throw new Error(`${md.name} is not a tensor`);
      expect(md.type).toBe('float32');
      const [, heads, , headDim] = md.shape;
      feeds[md.name] = new ort.Tensor('float32', new Float32Array(0), [1, heads as number, 0, headDim as number]);
    }
    for (const name of Object.keys(feeds)) expect(session.inputNames).toContain(name);
    const out = await session.run(feeds);
    const logits = out.logits;
    expect(logits.type).toBe('float32');
    expect(logits.dims.slice(0, 2)).toEqual([1, T]); // every position's logits, not only the last
    const V = logits.dims[2];
    const data = logits.data as Float32Array;
    let sum = 0;
    for (let i = from; i < T; i++) sum += refLogSoftmax(data.subarray((i - 1) * V, i * V), ids[i]);
    return sum;
  } finally {
    await session.release();
  }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** The letters' probabilities renormalised over the letters. */
function renormalised(r: LetterLogprobs, letters: string[]): number[] {
  const max = Math.max(...letters.map((l) => r.logprobs[l]));
  const w = letters.map((l) => Math.exp(r.logprobs[l] - max));
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / z);
}

describe('likelihood helpers', () => {
  it('logSoftmaxAt is stable for huge logits, treats -Infinity as probability 0 and matches a direct softmax', () => {
    expect(logSoftmaxAt([1000, 1000], 0)).toBeCloseTo(Math.log(0.5), 12);
    expect(logSoftmaxAt([-1000, -1000, -1000, -1000], 3)).toBeCloseTo(Math.log(0.25), 12);
    expect(logSoftmaxAt([0, -Infinity, 0], 1)).toBe(-Infinity);
    expect(logSoftmaxAt([0, -Infinity, 0], 2)).toBeCloseTo(Math.log(0.5), 12);
    const row = [1.5, -2, 0.25, 3];
    const z = row.reduce((a, x) => a + Math.exp(x), 0);
    row.forEach((x, i) => expect(logSoftmaxAt(row, i)).toBeCloseTo(x - Math.log(z), 12));
    // float32 logits, summed in float64: the probabilities add to 1 far beyond float32's precision.
    const f32 = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 8);
    let total = 0;
    for (let i = 0; i < f32.length; i++) total += Math.exp(logSoftmaxAt(f32, i));
    expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    expect(() => logSoftmaxAt(row, 4)).toThrow(/outside/);
  });

  it('splits a continuation at the longest common prefix, also when a token merges across the boundary', () => {
    expect(commonPrefixLength([1, 2, 3], [1, 2, 3, 4, 5])).toBe(3);
    expect(commonPrefixLength([1, 2, 3], [1, 2, 9, 4])).toBe(2);
    expect(splitContinuation([1, 2, 3], [1, 2, 3, 4, 5], 'x')).toEqual({ whole: [1, 2, 3, 4, 5], contextLength: 3 });
    // The context's last token 3 merged with the continuation into 9: the context evaluated is [1, 2].
    expect(splitContinuation([1, 2, 3], [1, 2, 9, 4], 'x')).toEqual({ whole: [1, 2, 9, 4], contextLength: 2 });
    expect(() => splitContinuation([1, 2], [7, 8], 'letter "A"')).toThrow(/letter "A".*no leading token/);
    expect(() => splitContinuation([1, 2, 3], [1, 2, 3], 'letter "A"')).toThrow(/adds no token/);
  });

  it('checkLetters rejects no letters, empty letters and duplicates as InputErrors on field letters', () => {
    for (const letters of [[], ['A', ''], ['A', 'B', 'A'], undefined]) {
      const err = (() => {
        try {
          checkLetters(letters);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).place.field).toBe('letters');
    }
    expect(checkLetters(['A', 'B'])).toEqual(['A', 'B']);
  });
});

describe('OnnxRunner.letterLogprobs on the tiny model', () => {
  let fp32: OnnxRunner;
  let q4: OnnxRunner;
  let tok: LocalTokenizer;
  const fp32File = join(TINY_ONNX_DIR, 'onnx/model.onnx');

  /** The context text the runner scores after: the chat-templated prompt, then the prefix. */
  const contextText = (prefix: string) => fp32.encodePrompt(USER_TURN).text + prefix;

  beforeAll(async () => {
    await tinyOnnxModel();
    fp32 = await createOnnxRunner(profile({ variant: 'fp32' }));
    q4 = await createOnnxRunner(profile({ variant: 'q4' }));
    tok = await loadLocalTokenizer(TINY_ONNX_DIR);
  });
  afterAll(async () => {
    await fp32?.close();
    await q4?.close();
  });

  it('gives finite logprobs <= 0 for A..E, the same on a second call, with the context token count and timings', async () => {
    const before = Date.now();
    const a = await fp32.letterLogprobs(REQ);
    const after = Date.now();
    expect(Object.keys(a.logprobs)).toEqual(LETTERS);
    for (const l of LETTERS) {
      expect(Number.isFinite(a.logprobs[l])).toBe(true);
      expect(a.logprobs[l]).toBeLessThanOrEqual(0);
    }
    // Exclusive events (different letters after the same context): their probabilities add to at most 1.
    expect(LETTERS.reduce((s, l) => s + Math.exp(a.logprobs[l]), 0)).toBeLessThanOrEqual(1);
    expect(new Set(LETTERS.map((l) => a.logprobs[l])).size).toBe(LETTERS.length);
    expect(a.promptTokens).toBe(tok.encode(contextText('Answer:'), false).length);
    expect(tok.encode(contextText('Answer:'), false).slice(0, fp32.encodePrompt(USER_TURN).ids.length)).toEqual(fp32.encodePrompt(USER_TURN).ids);
    expect(a.promptTokens).toBeGreaterThan(fp32.encodePrompt(USER_TURN).ids.length);
    expect(a.evalMs).toBeGreaterThan(0);
    expect(a.startedAtEpochMs).toBeGreaterThanOrEqual(before);
    expect(a.startedAtEpochMs).toBeLessThanOrEqual(after);
    const b = await fp32.letterLogprobs(REQ);
    expect(b.logprobs).toEqual(a.logprobs); // bit-identical
    // The order of the letters changes nothing (each starts from the same context pass).
    const reversed = await fp32.letterLogprobs({ ...REQ, letters: [...LETTERS].reverse() });
    for (const l of LETTERS) expect(reversed.logprobs[l]).toBe(a.logprobs[l]);
  });

  it('matches a full-sequence onnxruntime pass of the same file (no KV cache) within 1e-4, for every letter', async () => {
    const ctxText = contextText('Answer:');
    const ctx = tok.encode(ctxText, false);
    const got = await fp32.letterLogprobs(REQ);
    for (const l of LETTERS) {
      const whole = tok.encode(`${ctxText} ${l}`, false);
      // This vocabulary has no " A" token: every continuation is two tokens, " " then the letter, so the
      // cached path runs one extra token on top of the context's cache (the multi-token path).
      expect(whole.slice(0, ctx.length)).toEqual(ctx);
      expect(whole.length).toBe(ctx.length + 2);
      const ref = await referenceLogprob(fp32File, whole, ctx.length);
      expect(Math.abs(got.logprobs[l] - ref)).toBeLessThan(1e-4);
    }
  });

  it('continuations of 1, 2 and 3+ tokens match the reference, on the cached, uncached and no-past graphs', async () => {
    // " the" and " patient" are one token each (merges of the tiny vocabulary), " A" two, " 42" three,
    // " Xyz" four.
    const letters = ['the', 'A', '42', 'patient', 'Xyz'];
    const req = { ...REQ, letters, prefix: 'The answer is' };
    const ctxText = contextText('The answer is');
    const ctx = tok.encode(ctxText, false);
    const lengths = letters.map((l) => tok.encode(`${ctxText} ${l}`, false).length - ctx.length);
    expect(lengths).toEqual([1, 2, 3, 1, 4]);
    const uncached = await createOnnxRunner(profile({ variant: 'fp32', useKvCache: false }));
    const noPast = await createOnnxRunner(profile({ file: 'onnx/model_no_past.onnx' }));
    expect(uncached.usesKvCache).toBe(false);
    expect(noPast.usesKvCache).toBe(false);
    try {
      const cached = await fp32.letterLogprobs(req);
      const plain = await uncached.letterLogprobs(req);
      const noPastGot = await noPast.letterLogprobs(req);
      for (const l of letters) {
        const whole = tok.encode(`${ctxText} ${l}`, false);
        const ref = await referenceLogprob(fp32File, whole, ctx.length);
        expect(Math.abs(cached.logprobs[l] - ref)).toBeLessThan(1e-4);
        expect(Math.abs(plain.logprobs[l] - ref)).toBeLessThan(1e-4);
        expect(Math.abs(noPastGot.logprobs[l] - ref)).toBeLessThan(1e-4);
        expect(cached.logprobs[l]).toBeLessThan(0);
      }
    } finally {
      await uncached.close();
      await noPast.close();
    }
  });

  it('a token merging across the context boundary scores from the shorter common prefix', async () => {
    // The tiny tokenizer never merges across the space that starts a continuation, so the runner's
    // tokenizer is wrapped to make letter "B" tokenise as if its context's last token (":") merged with
    // what follows: whole = ctx[..-1] + [#, " ", B]. The runner must then evaluate whole[..ctx.length - 1]
    // as context and score three tokens, while the other letters still use the full context.
    const ctxText = contextText('Answer:');
    const ctx = tok.encode(ctxText, false);
    const [hash, space, bId] = tok.encode('# B', false);
    const merged = [...ctx.slice(0, -1), hash, space, bId];
    const inner = (fp32 as unknown as { tokenizer: LocalTokenizer }).tokenizer;
    const encode = inner.encode;
    inner.encode = (text, special) => (text === `${ctxText} B` ? [...merged] : encode.call(inner, text, special));
    try {
      const got = await fp32.letterLogprobs({ ...REQ, letters: ['A', 'B', 'C'] });
      expect(got.promptTokens).toBe(ctx.length);
      const refB = await referenceLogprob(fp32File, merged, ctx.length - 1);
      expect(Math.abs(got.logprobs.B - refB)).toBeLessThan(1e-4);
      for (const l of ['A', 'C']) {
        const ref = await referenceLogprob(fp32File, tok.encode(`${ctxText} ${l}`, false), ctx.length);
        expect(Math.abs(got.logprobs[l] - ref)).toBeLessThan(1e-4);
      }
    } finally {
      inner.encode = encode;
    }
  });

  it('the best letter is what constrained greedy decoding picks after the same tokens', async () => {
    // With prefix "Answer: " as constrained generation uses it, generate's context at the letter step is
    // whatever tokens greedy chose to spell "Answer: " (with the tiny model, more tokens than the
    // tokenizer's own spelling), so it need not match letterLogprobs' context and is not compared. With an empty prefix it does by
    // construction: generate constrained to " A".." E" must first emit the " " token (no token of this
    // vocabulary starts with " " and a capital letter), then takes the letter token with the highest
    // logit after prompt + " "; letterLogprobs scores " " + L as log P(" " | prompt) + log P(L | prompt, " "),
    // whose first term all letters share, so its argmax is the same letter.
    const prompt = fp32.encodePrompt(USER_TURN);
    for (const l of LETTERS) expect(tok.encode(`${prompt.text} ${l}`, false)).toEqual([...prompt.ids, ...tok.encode(` ${l}`, false)]);
    expect(tok.encode(' A', false)).toHaveLength(2);
    for (const runner of [fp32, q4]) {
      const scores = await runner.letterLogprobs({ ...REQ, prefix: '' });
      const best = LETTERS.reduce((a, b) => (scores.logprobs[b] > scores.logprobs[a] ? b : a));
      const g = await runner.generate({
        messages: USER_TURN,
        sampling: { temperature: 0, topP: 1, maxTokens: 8 },
        constrain: { letters: LETTERS, prefix: ' ' },
      });
      expect(g.outputTokens).toBe(2);
      expect(g.rawText).toBe(` ${best}`);
    }
  });

  it('fp32 and q4 give different but close letter distributions', async () => {
    const a = await fp32.letterLogprobs(REQ);
    const b = await q4.letterLogprobs(REQ);
    const differing = LETTERS.filter((l) => a.logprobs[l] !== b.logprobs[l]);
    expect(differing.length).toBeGreaterThan(0);
    expect(b.promptTokens).toBe(a.promptTokens);
    const pa = renormalised(a, LETTERS);
    const pb = renormalised(b, LETTERS);
    const tv = pa.reduce((s, p, i) => s + Math.abs(p - pb[i]), 0) / 2;
    expect(tv).toBeGreaterThan(0);
    expect(tv).toBeLessThan(0.5);
    for (const l of LETTERS) expect(Math.abs(a.logprobs[l] - b.logprobs[l])).toBeLessThan(2);
  });

  it('bad letters are InputErrors naming letters; an aborted signal rejects with its reason', async () => {
    for (const letters of [[], ['A', 'B', 'A']]) {
      const err = await rejection(fp32.letterLogprobs({ ...REQ, letters }));
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).place.field).toBe('letters');
      expect((err as Error).message).toContain('letters');
    }
    const ac = new AbortController();
    const reason = new Error('stopped by the test');
    ac.abort(reason);
    expect(await rejection(fp32.letterLogprobs({ ...REQ, signal: ac.signal }))).toBe(reason);
    // Aborted part-way: the signal fires during the first forward pass, so the next check throws.
    const mid = new AbortController();
    const midReason = new Error('stopped part-way');
    const inner = fp32 as unknown as { forward: (...args: unknown[]) => Promise<unknown> };
    const forward = inner.forward;
    let calls = 0;
    inner.forward = async function (this: unknown, ...args: unknown[]) {
      calls++;
      mid.abort(midReason);
      return forward.apply(this, args);
    };
    try {
      expect(await rejection(fp32.letterLogprobs({ ...REQ, signal: mid.signal }))).toBe(midReason);
      expect(calls).toBe(1);
    } finally {
      inner.forward = forward;
    }
    // The runner still works afterwards.
    expect(Object.keys((await fp32.letterLogprobs(REQ)).logprobs)).toEqual(LETTERS);
  });
});
