import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { GenerateRequest, SamplingParams } from '../../src/core/types.js';
import { extractAnswer } from '../../src/scoring/extract.js';
import { allowedReplies, ConstrainedReply, TokenByteIndex } from '../../src/runners/onnx-constrain.js';
import { createOnnxRunner, type OnnxRunner } from '../../src/runners/onnx.js';
import { loadLocalTokenizer } from '../../src/runners/onnx-tokenizer.js';
import { tinyOnnxModel, TINY_ONNX_DIR, USER_TURN } from './helpers.js';

const utf8 = new TextEncoder();
const FIVE = { letters: ['A', 'B', 'C', 'D', 'E'], prefix: 'Answer: ' };
const FOUR = { letters: ['A', 'B', 'C', 'D'], prefix: 'Answer: ' };
const GREEDY: SamplingParams = { temperature: 0, topP: 1, maxTokens: 24 };
const SAMPLED: SamplingParams = { temperature: 0.6, topP: 0.95, maxTokens: 24 };

/** A toy vocabulary: id -> text, or raw bytes for tokens that hold part of a UTF-8 character. */
function index(pieces: (string | number[] | null)[]): TokenByteIndex {
  return new TokenByteIndex(pieces.map((p) => (p === null ? null : typeof p === 'string' ? utf8.encode(p) : Uint8Array.from(p))));
}

/** Drives a constraint greedily by a fixed preference order (lowest id wins), as the runner's masking would. */
function spell(reply: ConstrainedReply, vocabSize: number, choose: (ids: number[]) => number = (ids) => ids[0]): number[] {
  const picked: number[] = [];
  while (reply.done === null) {
    const ids = reply.allowedTokens(vocabSize);
    expect(ids.length).toBeGreaterThan(0);
    const id = choose(ids);
    picked.push(id);
    reply.push(id);
  }
  return picked;
}

describe('ConstrainedReply', () => {
  it('allows multi-character tokens only while they stay on an allowed reply, and stops at a complete one', () => {
    //                   0      1    2         3      4     5    6    7    8    9       10      11
    const vocab = index(['Ans', 'A', 'Answer', 'wer', ': ', ':', ' ', 'B', 'C', ': B', 'AnsX', '']);
    const replies = allowedReplies({ letters: ['A', 'B'], prefix: 'Answer: ' });
    const one = new ConstrainedReply(vocab, replies);
    expect(one.allowedTokens(12)).toEqual([0, 1, 2]); // not "AnsX", not the empty token
    one.push(0);
    expect(one.allowedTokens(12)).toEqual([3]);
    one.push(3);
    expect(one.allowedTokens(12)).toEqual([4, 5, 9]); // ": B" spans the separator and the letter
    one.push(9);
    expect(one.done).toBe('Answer: B');

    const two = new ConstrainedReply(vocab, replies);
    two.push(2);
    two.push(4);
    expect(two.done).toBeNull();
    // Only the letters now: "C" is no option and "A..." tokens would run past the reply.
    expect(two.allowedTokens(12)).toEqual([1, 7]);
    two.push(1);
    expect(two.done).toBe('Answer: A');
  });

  it('spells a reply through tokens that split a UTF-8 character (byte-level tokens)', () => {
    const answer = utf8.encode('答'); // e7 ad 94
    const vocab = index([[answer[0]], [answer[1], answer[2]], '：', 'X', 'Y', [answer[0], answer[1]]]);
    const reply = new ConstrainedReply(vocab, allowedReplies({ letters: ['X', 'Y'], prefix: '答：' }));
    expect(reply.allowedTokens(6)).toEqual([0, 5]);
    const picked = spell(reply, 6, (ids) => ids[0]);
    expect(picked).toEqual([0, 1, 2, 3]);
    expect(reply.done).toBe('答：X');
  });

  it('never offers ids past the model vocabulary, nor special tokens (null bytes)', () => {
    const vocab = index(['A', null, 'B', 'A']);
    const reply = new ConstrainedReply(vocab, allowedReplies({ letters: ['A', 'B'], prefix: '' }));
    expect(reply.allowedTokens(4)).toEqual([0, 2, 3]);
    expect(reply.allowedTokens(3)).toEqual([0, 2]);
    expect(() => reply.push(1)).toThrow(/does not continue/);
  });

  it('a letter set with an empty or missing letter is an InputError on constrain.letters', () => {
    for (const letters of [[], ['A', '']]) {
      const err = (() => {
        try {
          allowedReplies({ letters, prefix: 'Answer: ' });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).place.field).toBe('constrain.letters');
    }
    expect(allowedReplies({ letters: ['A', 'A', 'B'], prefix: 'Answer: ' })).toEqual(['Answer: A', 'Answer: B']);
  });
});

describe('token bytes of the tiny byte-level tokenizer', () => {
  it('maps byte-level pieces to their bytes, added tokens to their text and special tokens to null', async () => {
    await tinyOnnxModel();
    const tok = await loadLocalTokenizer(TINY_ONNX_DIR);
    const bytes = tok.tokenBytes();
    const json = JSON.parse(await readFile(join(TINY_ONNX_DIR, 'tokenizer.json'), 'utf8'));
    const vocab: Record<string, number> = json.model.vocab;
    const text = (id: number) => Buffer.from(bytes[id]!).toString('latin1');
    expect(text(vocab['Answer'])).toBe('Answer');
    expect(text(vocab['Ġthe'])).toBe(' the'); // the byte-level space "Ġ" is byte 0x20
    const think = json.added_tokens.find((t: { content: string }) => t.content === '<think>').id;
    expect(text(think)).toBe('<think>');
    expect(bytes[tok.eosTokenId!]).toBeNull();
    // "答" is three tokens of one byte each, none printable alone: their bytes still join to the character.
    const ids = tok.encode('答', false);
    expect(ids).toHaveLength(3);
    expect(Buffer.concat(ids.map((id) => bytes[id]!)).toString('utf8')).toBe('答');
  });
});

describe('OnnxRunner constrained generation on the tiny model', () => {
  let fp32: OnnxRunner;
  let q4: OnnxRunner;
  beforeAll(async () => {
    await tinyOnnxModel();
    fp32 = await createOnnxRunner({ kind: 'onnx', label: 'tiny', modelDir: TINY_ONNX_DIR, threads: 1, variant: 'fp32' });
    q4 = await createOnnxRunner({ kind: 'onnx', label: 'tiny', modelDir: TINY_ONNX_DIR, threads: 1, variant: 'q4' });
  });
  afterAll(async () => {
    await fp32?.close();
    await q4?.close();
  });

  const ask = (runner: OnnxRunner, sampling: SamplingParams, constrain: GenerateRequest['constrain']) =>
    runner.generate({ messages: USER_TURN, sampling, constrain });

  it('greedy and sampled replies are exactly "Answer: X" with X an option, for 4 and 5 options, fp32 and q4', async () => {
    for (const runner of [fp32, q4]) {
      for (const constrain of [FOUR, FIVE]) {
        for (const sampling of [GREEDY, ...[1, 2, 3].map((seed) => ({ ...SAMPLED, seed }))]) {
          const g = await ask(runner, sampling, constrain);
          expect(g.rawText).toMatch(/^Answer: [A-E]$/);
          expect(constrain.letters).toContain(g.rawText.slice(-1));
          expect(g.reasoning).toBeNull();
          expect(g.finishReason).toBe('stop');
          expect(g.outputTokens!).toBeGreaterThanOrEqual(3); // at least "Answer", ":", " " + letter
          expect(g.outputTokens!).toBeLessThanOrEqual('Answer: X'.length);
          // What the run loop scores: the letter, taken as an answer.
          const options = Object.fromEntries(constrain.letters.map((l) => [l, `option ${l}`]));
          expect(extractAnswer(g.rawText, options, { reasoning: g.reasoning, finishReason: g.finishReason }))
            .toMatchObject({ status: 'answered', letter: g.rawText.slice(-1) });
        }
      }
    }
  });

  it('sampled letters over many seeds use more than one letter; a seed reproduces its reply', async () => {
    const letters = new Map<string, number>();
    for (let seed = 0; seed < 40; seed++) {
      const g = await ask(fp32, { ...SAMPLED, temperature: 1, seed }, FIVE);
      letters.set(g.rawText, (letters.get(g.rawText) ?? 0) + 1);
    }
    expect(letters.size).toBeGreaterThan(1);
    const again = await ask(fp32, { ...SAMPLED, seed: 5 }, FIVE);
    expect((await ask(fp32, { ...SAMPLED, seed: 5 }, FIVE)).rawText).toBe(again.rawText);
  });

  it('greedy is the best allowed token each step: same reply with and without the KV cache', async () => {
    const uncached = await createOnnxRunner({ kind: 'onnx', label: 'tiny', modelDir: TINY_ONNX_DIR, threads: 1, variant: 'fp32', useKvCache: false });
    const a = await ask(fp32, GREEDY, FIVE);
    const b = await ask(uncached, GREEDY, FIVE);
    expect(b.rawText).toBe(a.rawText);
    expect(b.outputTokens).toBe(a.outputTokens);
    await uncached.close();
  });

  it('times the reply like free generation: ttft = ttfo <= e2e, one gap per token after the first', async () => {
    const g = await ask(q4, { ...SAMPLED, seed: 11 }, FIVE);
    const t = g.timings;
    expect(t.ttftMs).not.toBeNull();
    expect(t.ttftMs!).toBeGreaterThan(0);
    expect(t.ttftMs!).toBeLessThanOrEqual(t.e2eMs);
    expect(t.ttfoMs).toBe(t.ttftMs); // no reasoning: the first token starts the answer
    // Every token of "Answer: X" is printable on its own in this vocabulary: one chunk per token.
    expect(t.itlMs).toHaveLength(g.outputTokens! - 1);
    expect(t.tpotMs).toBeCloseTo((t.e2eMs - t.ttftMs!) / (g.outputTokens! - 1), 6);
    expect(t.engine?.promptTokens).toBe(g.promptTokens);
  });

  it('a non-ASCII prefix is spelled through byte tokens that each hold part of a character', async () => {
    const g = await ask(fp32, GREEDY, { letters: ['甲', '乙'], prefix: '答案：' });
    expect(['答案：甲', '答案：乙']).toContain(g.rawText);
    expect(g.outputTokens).toBe(utf8.encode(g.rawText).length); // this vocabulary has no multi-byte merges
  });

  it('a token budget too small for the reply ends with finishReason length and a prefix of it', async () => {
    const g = await ask(fp32, { ...GREEDY, maxTokens: 2 }, FIVE);
    expect(g.finishReason).toBe('length');
    expect(g.outputTokens).toBe(2);
    expect('Answer: '.startsWith(g.rawText)).toBe(true);
    expect(g.rawText.length).toBeGreaterThan(0);
  });

  it('free generation after constrained requests is unchanged (prefilled <think>, reasoning split)', async () => {
    const before = await ask(fp32, GREEDY, undefined);
    await ask(fp32, GREEDY, FIVE);
    const after = await ask(fp32, GREEDY, undefined);
    expect(after.rawText).toBe(before.rawText);
    expect(after.rawText.startsWith('<think>\n')).toBe(true);
    expect(after.reasoning).not.toBeNull();
  });
});
