// Multiple choice by likelihood on served models, over plain HTTP side requests (one connection each).
// llama-server gives no log-probabilities of the prompt's own tokens (`echo` is refused with HTTP 500) but
// gives the top N log-probabilities of the next token (/completion with n_probs: the full-vocabulary
// softmax before sampling, natural log). So each letter is scored by one request: the prompt as token
// ids, one token generated, and the letter's token read from the top N. That is exact for a letter of one
// token only, so a letter of several tokens is refused before any scoring request (InputError: the vLLM
// echo path and the in-process runners score those). A token outside the top N leaves its letter without
// a figure: recorded, with an upper bound, never read as probability 0.
// vLLM's /v1/completions with echo and logprobs scores the prompt's own tokens, so one request per letter
// gives its continuation's log-probability exactly (the way lm-evaluation-harness's local-completions does).
import type { ChatMessage, LetterLogprobRequest, LetterLogprobs } from '../core/types.js';
import { InputError } from '../core/errors.js';
import { checkLetters, splitContinuation, type ContinuationSplit } from './likelihood.js';
import { postJsonOnce, type SideResult } from './side-request.js';

export interface SideOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

function unwrap<T>(r: SideResult<T>, what: string): T {
  if (!r.ok) throw Object.assign(new Error(`${what} failed: ${r.reason}`), { kind: r.reason === 'aborted' ? 'aborted' : 'server-error' });
  return r.value;
}

/** The chat template applied by the server itself (POST /apply-template), as its chat endpoint applies it. */
export async function serverChatPrompt(baseUrl: string, messages: ChatMessage[], o: SideOptions): Promise<string> {
  const r = await postJsonOnce<{ prompt?: unknown }>(`${baseUrl}/apply-template`, { messages }, o);
  if (!r.ok && (r.status === 404 || r.status === 501)) {
    throw Object.assign(new Error('this llama-server has no /apply-template: likelihood scoring needs the prompt exactly as its chat endpoint builds it; use a llama.cpp build from 2025 or later'),
      { kind: 'unsupported' });
  }
  const v = unwrap(r, 'POST /apply-template');
  if (typeof v.prompt !== 'string') throw new Error('POST /apply-template answered without a prompt string');
  return v.prompt;
}

/** Token ids of `content` as llama-server tokenises a prompt (special tokens parsed, BOS added). */
export async function serverTokenize(baseUrl: string, content: string, o: SideOptions): Promise<number[]> {
  const v = unwrap(await postJsonOnce<{ tokens?: unknown }>(`${baseUrl}/tokenize`, { content, add_special: true }, o), 'POST /tokenize');
  if (!Array.isArray(v.tokens) || !v.tokens.every((t) => Number.isInteger(t))) throw new Error('POST /tokenize answered without a list of token ids');
  return v.tokens as number[];
}

interface TopN {
  byId: Map<number, number>;
  /** The smallest log-probability among the top N: no token outside them is more likely. */
  floor: number;
}

/**
 * Letter log-probabilities from llama-server's top-N next-token log-probabilities (see the file comment).
 * `slotContext`: tokens one slot holds (a longer prompt would be cut or refused by the server).
 */
export async function llamaServerLetterLogprobs(
  baseUrl: string,
  req: LetterLogprobRequest,
  o: SideOptions & { topN: number; cachePrompt: boolean; slotContext: number | null },
): Promise<LetterLogprobs> {
  const letters = checkLetters(req.letters);
  req.signal?.throwIfAborted();
  const opts = { ...o, ...(req.signal ? { signal: req.signal } : {}) };
  const startedAtEpochMs = Date.now();
  const t0 = performance.now();
  const prompt = (await serverChatPrompt(baseUrl, req.messages, opts)) + req.prefix;
  const ctx = await serverTokenize(baseUrl, prompt, opts);
  const splits = [];
  for (const letter of letters) {
    splits.push(splitContinuation(ctx, await serverTokenize(baseUrl, `${prompt} ${letter}`, opts), `letter ${JSON.stringify(letter)}`));
  }
  refuseMultiTokenLetters(letters, splits);
  const longest = Math.max(...splits.map((s) => s.whole.length));
  if (o.slotContext !== null && longest > o.slotContext) {
    throw Object.assign(new Error(`prompt, prefix and answer letter take ${longest} tokens and a slot of this llama-server holds ${o.slotContext} (-c divided by -np): raise -c (or lower -np)`),
      { kind: 'prompt-too-long' });
  }
  // Letters after the same context tokens (usually all of them) share one request.
  const tops = new Map<number, Promise<TopN>>();
  const logprobs: Record<string, number> = {};
  const noFigure: Record<string, number> = {};
  for (let k = 0; k < letters.length; k++) {
    const { whole, contextLength } = splits[k]!;
    let top = tops.get(contextLength);
    if (!top) tops.set(contextLength, (top = nextTokenTopN(baseUrl, whole.slice(0, contextLength), o.topN, o.cachePrompt, opts)));
    const lp = (await top).byId.get(whole[contextLength]!);
    // Outside the top N: at most as likely as the least likely of them.
    if (lp === undefined) noFigure[letters[k]!] = (await top).floor;
    else logprobs[letters[k]!] = lp;
  }
  return {
    logprobs,
    ...(Object.keys(noFigure).length ? { noFigure } : {}),
    prompt,
    promptTokens: ctx.length,
    evalMs: performance.now() - t0,
    startedAtEpochMs,
  };
}

/**
 * The top N next-token log-probabilities give a letter's figure only when the letter is one token after
 * the prompt (a letter of several tokens would need the log-probabilities of its own earlier tokens as
 * part of a prompt, which this server refuses to give: `echo` is HTTP 500).
 */
function refuseMultiTokenLetters(letters: string[], splits: ContinuationSplit[]): void {
  const alternative = 'use option letters of one token each (A, B, C, ...), a `kind: vllm` runner (its echo path scores letters of several tokens exactly), or an in-process runner (llama-cpp-embedded, onnx)';
  for (let k = 0; k < letters.length; k++) {
    const { whole, contextLength } = splits[k]!;
    const n = whole.length - contextLength;
    if (n !== 1) {
      throw new InputError(`answer letter ${JSON.stringify(letters[k])} is ${n} tokens after the prompt on this llama-server: its top-N next-token log-probabilities score one-token letters only`,
        { field: 'scoring' }, alternative);
    }
  }
}

interface CompletionProbabilities {
  completion_probabilities?: Array<{ top_logprobs?: Array<{ id?: unknown; logprob?: unknown }>; probs?: unknown }>;
}

async function nextTokenTopN(baseUrl: string, ids: number[], topN: number, cachePrompt: boolean, o: SideOptions): Promise<TopN> {
  // temperature 0 and post_sampling_probs false: the log-probabilities before any sampler touched them.
  const body = { prompt: ids, n_predict: 1, n_probs: topN, temperature: 0, post_sampling_probs: false, cache_prompt: cachePrompt };
  const v = unwrap(await postJsonOnce<CompletionProbabilities>(`${baseUrl}/completion`, body, o), 'POST /completion (n_probs)');
  const top = v.completion_probabilities?.[0]?.top_logprobs;
  if (!Array.isArray(top) || top.length === 0) {
    throw new Error('POST /completion answered without completion_probabilities[0].top_logprobs: this llama-server build gives no log-probabilities (builds before 2025 give probabilities as "probs"); use a newer build');
  }
  const byId = new Map<number, number>();
  let floor = 0;
  for (const t of top) {
    if (typeof t.id !== 'number' || typeof t.logprob !== 'number') continue;
    byId.set(t.id, t.logprob);
    floor = Math.min(floor, t.logprob);
  }
  return { byId, floor };
}

interface VllmTokenize {
  tokens?: unknown;
}

interface VllmEchoCompletion {
  choices?: Array<{ logprobs?: { token_logprobs?: Array<number | null> } | null }>;
}

/**
 * Letter log-probabilities from vLLM: its chat template applied with the assistant turn opened on the
 * prefix (/tokenize with messages and continue_final_message), each letter's whole token sequence sent
 * once to /v1/completions with echo and logprobs (max_tokens 1; the generated token is not read), and the
 * continuation's prompt log-probabilities summed, as lm-evaluation-harness's local-completions does.
 */
export async function vllmLetterLogprobs(
  baseUrl: string,
  model: string,
  req: LetterLogprobRequest,
  o: SideOptions & { maxModelLen: number | null },
): Promise<LetterLogprobs> {
  const letters = checkLetters(req.letters);
  req.signal?.throwIfAborted();
  const opts = { ...o, ...(req.signal ? { signal: req.signal } : {}) };
  const startedAtEpochMs = Date.now();
  const t0 = performance.now();
  const tokensWith = async (assistant: string): Promise<number[]> => {
    const body = {
      model,
      messages: [...req.messages, { role: 'assistant', content: assistant }],
      add_generation_prompt: false,
      continue_final_message: true,
    };
    const v = unwrap(await postJsonOnce<VllmTokenize>(`${baseUrl}/tokenize`, body, opts), 'POST /tokenize (messages)');
    if (!Array.isArray(v.tokens) || !v.tokens.every((t) => Number.isInteger(t))) throw new Error('POST /tokenize answered without a list of token ids');
    return v.tokens as number[];
  };
  const ctx = await tokensWith(req.prefix);
  const detok = unwrap(await postJsonOnce<{ prompt?: unknown }>(`${baseUrl}/detokenize`, { model, tokens: ctx }, opts), 'POST /detokenize');
  const prompt = typeof detok.prompt === 'string' ? detok.prompt : undefined;
  const logprobs: Record<string, number> = {};
  for (const letter of letters) {
    const { whole, contextLength } = splitContinuation(ctx, await tokensWith(`${req.prefix} ${letter}`), `letter ${JSON.stringify(letter)}`);
    if (o.maxModelLen !== null && whole.length + 1 > o.maxModelLen) {
      throw Object.assign(new Error(`prompt, prefix and answer letter take ${whole.length} tokens and this vLLM serves ${o.maxModelLen} (max_model_len)`), { kind: 'prompt-too-long' });
    }
    const body = { model, prompt: whole, max_tokens: 1, logprobs: 1, echo: true, temperature: 0 };
    const v = unwrap(await postJsonOnce<VllmEchoCompletion>(`${baseUrl}/v1/completions`, body, opts), 'POST /v1/completions (echo)');
    const lps = v.choices?.[0]?.logprobs?.token_logprobs;
    if (!Array.isArray(lps) || lps.length < whole.length) {
      throw new Error('POST /v1/completions with echo answered without the prompt\'s token_logprobs: this server does not score prompts');
    }
    let sum = 0;
    for (let i = contextLength; i < whole.length; i++) {
      const lp = lps[i];
      if (typeof lp !== 'number') throw new Error(`POST /v1/completions with echo gave no log-probability for prompt token ${i}`);
      sum += lp;
    }
    logprobs[letter] = sum;
  }
  return { logprobs, ...(prompt !== undefined ? { prompt } : {}), promptTokens: ctx.length, evalMs: performance.now() - t0, startedAtEpochMs };
}
