// ONNX decoder models in process through onnxruntime-node, in the folder layouts Hugging Face Optimum /
// transformers.js and onnxruntime-genai use; what each graph is fed follows its own inputs (onnx-graph-io.ts). The token loop is ours (not transformers.js's generate), so every token's time is
// measured here and fed to the shared StreamTimer; transformers.js is used only for the tokenizer and the
// chat template. Every item starts from an empty KV cache, so items are independent.
import { basename, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { onnxProfileSchema, type OnnxProfile, type OnnxProfileInput } from './onnx-profile.js';
import { InputError } from '../core/errors.js';
import { importOptional } from '../core/optional-package.js';
import type {
  ChatMessage,
  FinishReason,
  GenerateRequest,
  Generation,
  LetterLogprobRequest,
  LetterLogprobs,
  MemoryReport,
  ModelDescription,
  Runner,
} from '../core/types.js';
import { ProcessMemorySampler } from '../metrics/process-memory.js';
import { InlineThinkSplitter, StreamTimer } from '../metrics/stream-timer.js';
import { allowedReplies, ConstrainedReply, TokenByteIndex } from './onnx-constrain.js';
import { cudaProviderStatus, resolveOnnxModel, type ResolvedOnnxModel } from './onnx-files.js';
import { inspectOnnxFile, type OnnxWeightSummary } from './onnx-inspect.js';
import { genaiSearchDefaults } from './onnx-genai-config.js';
import { planGraphIo, type GraphIoPlan, type KvPlan } from './onnx-graph-io.js';
import { checkLetters, logSoftmaxAt, splitContinuation } from './likelihood.js';
import { sampleToken, seededRng } from './onnx-sampling.js';
import { IncrementalDetokenizer, float16ToFloat32, loadLocalTokenizer, type LocalTokenizer } from './onnx-tokenizer.js';

// The profile lives apart (in-process-kinds.ts defines the kind without loading this module).
export { onnxProfileSchema, type OnnxProfile, type OnnxProfileInput } from './onnx-profile.js';

export interface OnnxRunnerOptions {
  /** Folder that a relative modelDir resolves against (the profile file's folder); default: the cwd. */
  baseDir?: string;
}

type Ort = typeof import('onnxruntime-node');

function numberFrom(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function idsFrom(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export class OnnxRunner implements Runner {
  readonly kind = 'onnx';
  private readonly sampler = new ProcessMemorySampler();
  private longestSequence = 0;
  /** Every token's bytes, built on the first constrained request (free generation never needs it). */
  private tokenIndex: TokenByteIndex | null = null;

  private constructor(
    private readonly profile: OnnxProfile,
    private readonly ort: Ort,
    private readonly model: ResolvedOnnxModel,
    private readonly summary: OnnxWeightSummary,
    private readonly session: InferenceSession,
    private readonly tokenizer: LocalTokenizer,
    private readonly io: GraphIoPlan,
    private readonly eosIds: Set<number>,
    private readonly maxContext: number | null,
    private readonly loadMs: number,
  ) {
    this.sampler.start();
  }

  static async create(profileIn: OnnxProfileInput, opts: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
    const profile = onnxProfileSchema.parse(profileIn);
    const modelDir = opts.baseDir ? resolve(opts.baseDir, profile.modelDir) : profile.modelDir;
    // The optional runtime first: without it nothing else about the profile matters yet.
    const ort = await importOptional('onnxruntime-node', () => import('onnxruntime-node'));
    const model = await resolveOnnxModel(modelDir, { variant: profile.variant, file: profile.file });
    const t0 = performance.now();
    if (profile.executionProvider === 'cuda') {
      const cuda = cudaProviderStatus();
      if (!cuda.available) {
        throw new InputError(`CUDA execution provider unavailable: ${cuda.reason}`, { field: 'executionProvider' },
          'on a Linux x64 machine with an NVIDIA GPU and CUDA 12, reinstall onnxruntime-node with its install script allowed ' +
            '(ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node); otherwise set executionProvider: cpu');
      }
    }
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.modelFile, {
        executionProviders: [profile.executionProvider],
        intraOpNumThreads: profile.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new InputError(`onnxruntime could not load ${model.modelFile}: ${(e as Error).message}`, { field: profile.file ? 'file' : 'variant' },
        'check that the export finished and that its external data files (model.onnx_data) sit next to the .onnx file');
    }
    let io: GraphIoPlan;
    try {
      io = planGraphIo(session, { file: model.modelFile, config: model.config, genai: model.genai });
    } catch (e) {
      await session.release();
      throw e;
    }
    const tokenizer = await loadLocalTokenizer(model.modelDir);
    const eosIds = new Set([
      ...idsFrom(model.generationConfig?.eos_token_id),
      ...idsFrom(model.config.eos_token_id),
      ...(tokenizer.eosTokenId !== null ? [tokenizer.eosTokenId] : []),
    ]);
    const summary = inspectOnnxFile(model.modelFile);
    const maxContext = numberFrom(model.config.max_position_embeddings) ?? null;
    const runner = new OnnxRunner(profile, ort, model, summary, session, tokenizer, io, eosIds, maxContext, performance.now() - t0);
    try {
      await runner.checkVocabulary();
    } catch (e) {
      await runner.close();
      throw e;
    }
    return runner;
  }

  /**
   * Every id the tokenizer can produce must index the model's embedding and logits: a larger tokenizer
   * would fail deep inside onnxruntime on the first request that meets such an id. The logits size is
   * the graph's when its shape says it, else one forward pass of one token tells it.
   */
  private async checkVocabulary(): Promise<void> {
    const vocab = this.io.logits.vocab ?? (await this.forward([0], 0, null)).logits.length;
    if (this.tokenizer.idCount > vocab) {
      throw new InputError(
        `the tokenizer in ${this.model.modelDir} has ${this.tokenizer.idCount.toLocaleString('en-US')} token ids (0..${this.tokenizer.idCount - 1}) ` +
          `but ${basename(this.model.modelFile)} has ${vocab.toLocaleString('en-US')} logits (ids 0..${vocab - 1}): ids ${vocab} and up would index past the model's vocabulary`,
        { field: 'modelDir' },
        'use the tokenizer.json and tokenizer_config.json that came with this export (the model and tokenizer must be of the same model)');
    }
  }

  /** Whether generation reuses present.N.* as the next step's past (false: the whole sequence every step). */
  get usesKvCache(): boolean {
    return this.io.kv !== null && this.profile.useKvCache;
  }

  async describe(): Promise<ModelDescription> {
    return {
      runner: this.kind,
      label: this.profile.label,
      modelPath: this.model.modelFile,
      architecture: typeof this.model.config.model_type === 'string' ? this.model.config.model_type : undefined,
      parameters: this.summary.parameters,
      fileBytes: this.model.weightsBytes,
      tensorTypes: this.summary.tensorTypes,
      quantization: this.summary.quantization,
      ...(this.maxContext !== null ? { contextSize: this.maxContext } : {}),
      threads: this.profile.threads,
      extra: {
        variant: this.model.variant,
        file: relative(this.model.modelDir, this.model.modelFile),
        externalDataFiles: this.model.externalDataFiles.map((f) => basename(f)),
        executionProvider: this.profile.executionProvider,
        kvCache: this.usesKvCache,
        graphInputs: this.io.description,
        config: this.model.configSource,
        ...(this.model.genai ? { genaiSearchDefaults: genaiSearchDefaults(this.model.genai) } : {}),
        chatTemplate: this.tokenizer.hasChatTemplate ? 'tokenizer_config.json' : 'none (plain text prompt)',
        loadMs: Math.round(this.loadMs),
        onnxruntimeVersion: this.ort.env.versions.node ?? null,
        opTypes: this.summary.opTypes,
        ...(this.profile.notes ? { notes: this.profile.notes } : {}),
      },
    };
  }

  /** The prompt text and token ids for a conversation: the model's chat template when it has one. */
  encodePrompt(messages: ChatMessage[]): { text: string; ids: number[]; startsInReasoning: boolean; prefill: string } {
    const text = this.tokenizer.render(messages);
    const ids = this.tokenizer.encode(text, !this.tokenizer.hasChatTemplate);
    // DeepSeek-R1 templates end the prompt with "<think>\n": the model then only writes the closing tag.
    const open = text.lastIndexOf('<think>');
    const startsInReasoning = open >= 0 && text.slice(open + '<think>'.length).trim() === '';
    return { text, ids, startsInReasoning, prefill: startsInReasoning ? text.slice(open) : '' };
  }

  /** Tokens of the prompt as generate() encodes it (chat template included), for the run's planning step. */
  async countPromptTokens(messages: ChatMessage[]): Promise<number> {
    return this.encodePrompt(messages).ids.length;
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    const s = req.sampling;
    // Constrained: the reply is exactly prefix + letter, all of it answer (no reasoning, even after a
    // prompt that opens <think>), as with a grammar in llama.cpp.
    const constraint = req.constrain ? new ConstrainedReply(this.tokenBytes(), allowedReplies(req.constrain)) : null;
    const prompt = this.encodePrompt(req.messages);
    const startsInReasoning = prompt.startsInReasoning && constraint === null;
    if (this.maxContext !== null && prompt.ids.length >= this.maxContext) {
      throw Object.assign(new Error(`prompt of ${prompt.ids.length} tokens does not fit the model's context of ${this.maxContext} tokens (max_position_embeddings)`), { kind: 'prompt-too-long' });
    }
    const seed = s.seed ?? Math.floor(Math.random() * 2 ** 31);
    const rand = seededRng(seed);
    const detok = new IncrementalDetokenizer(this.tokenizer);
    const timer = new StreamTimer();
    const splitter = new InlineThinkSplitter(startsInReasoning);
    const stops = (s.stop ?? []).filter((x) => x.length > 0);
    const longestStop = stops.reduce((m, x) => Math.max(m, x.length), 0);
    const sequence = [...prompt.ids];
    let generated = '';
    let outputTokens = 0;
    let finishReason: FinishReason = 'length';
    let past: Record<string, OrtTensor> | null = null;
    let prefillMs = 0;

    timer.start();
    req.onStart?.(performance.now());
    try {
      for (let step = 0; step < s.maxTokens; step++) {
        if (req.signal?.aborted) {
          finishReason = 'abort';
          break;
        }
        const stepStart = performance.now();
        const fresh = this.usesKvCache && step > 0 ? sequence.slice(-1) : sequence;
        const pastLen = this.usesKvCache && step > 0 ? sequence.length - 1 : 0;
        const out = await this.forward(fresh, pastLen, this.usesKvCache ? past : null);
        past = out.present;
        const next = constraint ? this.sampleConstrained(constraint, out.logits, s, rand) : sampleToken(out.logits, s, rand);
        if (step === 0) prefillMs = performance.now() - stepStart;
        if (this.eosIds.has(next)) {
          finishReason = 'stop';
          break;
        }
        sequence.push(next);
        outputTokens++;
        const delta = detok.push(next);
        const at = performance.now();
        if (constraint) {
          // The allowed replies take the place of stop strings: the reply ends when one is complete.
          constraint.push(next);
          generated += delta;
          timer.chunk('answer', delta, at);
          if (constraint.done !== null) {
            finishReason = 'stop';
            break;
          }
        } else if (delta) {
          generated += delta;
          const part = splitter.feed(delta);
          if (part.reasoning) timer.chunk('reasoning', part.reasoning, at);
          if (part.answer) timer.chunk('answer', part.answer, at);
          // A token that is only a think tag (or part of one) is still a streamed token: time it as
          // reasoning markup, so it never starts the answer (TTFO) but keeps one chunk per token.
          if (!part.reasoning && !part.answer) timer.chunk('reasoning', delta, at);
          // Only the new text and the tail it may complete can hold a stop string not seen before.
          const from = Math.max(0, generated.length - delta.length - longestStop + 1);
          const cut = firstStop(generated, stops, from);
          if (cut !== null) {
            generated = generated.slice(0, cut);
            finishReason = 'stop';
            break;
          }
        }
        if (this.maxContext !== null && sequence.length >= this.maxContext) {
          finishReason = 'length';
          break;
        }
      }
      const rest = detok.flush();
      // A stop string cut the text: what the detokenizer still holds lies past the cut.
      const cutByStop = finishReason === 'stop' && constraint === null;
      if (rest && !cutByStop) {
        generated += rest;
        const part = splitter.feed(rest);
        const at = performance.now();
        if (part.reasoning) timer.chunk('reasoning', part.reasoning, at);
        if (part.answer) timer.chunk('answer', part.answer, at);
      }
      const tail = splitter.flush();
      if (tail.reasoning) timer.chunk('reasoning', tail.reasoning);
      if (tail.answer) timer.chunk('answer', tail.answer);
    } finally {
      this.longestSequence = Math.max(this.longestSequence, sequence.length);
      this.sampler.sample();
    }

    // The reasoning/answer split of the final (possibly stop-trimmed) text, the same way the timer saw it.
    const split = new InlineThinkSplitter(startsInReasoning);
    const a = constraint ? { reasoning: '' } : split.feed(generated);
    const b = constraint ? { reasoning: '' } : split.flush();
    const reasoning = a.reasoning + b.reasoning;
    const hadReasoning = constraint === null && (startsInReasoning || reasoning.length > 0);
    const e2eSoFar = timer.elapsed();
    const decodeMs = Math.max(0, e2eSoFar - prefillMs);
    const timings = timer.finish(outputTokens, {
      engine: {
        seed,
        promptTokens: prompt.ids.length,
        prefillMs,
        decodeMs,
        // Tokens after the first, over the time after the prefill step: the engine's own decode speed.
        decodeTokensPerSecond: outputTokens > 1 && decodeMs > 0 ? ((outputTokens - 1) * 1000) / decodeMs : 0,
      },
    });
    return {
      rawText: (startsInReasoning ? prompt.prefill : '') + generated,
      reasoning: hadReasoning ? reasoning : null,
      promptTokens: prompt.ids.length,
      outputTokens,
      tokenSource: 'engine',
      finishReason,
      timings,
    };
  }

  /**
   * Multiple choice by likelihood: log P(" " + letter | chat-templated prompt + prefix) for each letter,
   * summed over the continuation's tokens (see LetterLogprobRequest). The context runs once; a letter
   * whose continuation has more tokens runs them on top of it (on the context's KV cache, or as the full
   * sequence without one), and continuations sharing leading tokens (e.g. a lone " " token) share those
   * passes. Starts from an empty KV cache, like `generate`.
   */
  async letterLogprobs(req: LetterLogprobRequest): Promise<LetterLogprobs> {
    const letters = checkLetters(req.letters);
    req.signal?.throwIfAborted();
    const startedAtEpochMs = Date.now();
    const t0 = performance.now();
    // The context is exactly what `generate` feeds the model, then the assistant's prefix.
    const contextText = this.encodePrompt(req.messages).text + req.prefix;
    const addSpecial = !this.tokenizer.hasChatTemplate;
    const ctx = this.tokenizer.encode(contextText, addSpecial);
    const splits = letters.map((letter) =>
      splitContinuation(ctx, this.tokenizer.encode(`${contextText} ${letter}`, addSpecial), `letter ${JSON.stringify(letter)}`));
    const longest = splits.reduce((m, s) => Math.max(m, s.whole.length), 0);
    // Positions 0 .. longest - 2 are fed: a continuation's last token is only scored, never run.
    if (this.maxContext !== null && longest - 1 > this.maxContext) {
      throw new Error(`prompt, prefix and answer letter of ${longest} tokens do not fit the model's context of ${this.maxContext} tokens`);
    }

    // The forward pass after each token prefix whole.slice(0, i) that some letter needs the logits of,
    // keyed by (context length, tokens after it): whole.slice(0, contextLength) is the same for every
    // letter with that context length (a prefix of ctx), so the key names one token sequence.
    type State = { logits: Float32Array; present: Record<string, OrtTensor> | null };
    const states = new Map<string, State>();
    const keyOf = (whole: number[], contextLength: number, i: number) => `${contextLength}|${whole.slice(contextLength, i).join(',')}`;
    // Prefixes that a further token is run on top of: only their KV cache is kept (it can be large).
    const extended = new Set<string>();
    if (this.usesKvCache) {
      for (const { whole, contextLength } of splits) for (let i = contextLength; i < whole.length - 1; i++) extended.add(keyOf(whole, contextLength, i));
    }
    const stateAfter = async (whole: number[], contextLength: number, i: number): Promise<State> => {
      const key = keyOf(whole, contextLength, i);
      const known = states.get(key);
      if (known) return known;
      req.signal?.throwIfAborted();
      let state: State;
      if (i === contextLength) {
        state = await this.forward(whole.slice(0, i), 0, null);
      } else if (this.usesKvCache) {
        // Position i-1's token on top of the cache of everything before it.
        const before = await stateAfter(whole, contextLength, i - 1);
        state = await this.forward([whole[i - 1]], i - 1, before.present);
      } else {
        state = await this.forward(whole.slice(0, i), 0, null);
      }
      states.set(key, extended.has(key) ? state : { logits: state.logits, present: null });
      return state;
    };

    const logprobs: Record<string, number> = {};
    try {
      for (let k = 0; k < letters.length; k++) {
        const { whole, contextLength } = splits[k];
        let sum = 0;
        for (let i = contextLength; i < whole.length; i++) {
          const { logits } = await stateAfter(whole, contextLength, i);
          sum += logSoftmaxAt(logits, whole[i]);
        }
        logprobs[letters[k]] = sum;
      }
    } finally {
      states.clear();
      // The last token of a continuation is never fed, so the longest sequence run is one shorter.
      this.longestSequence = Math.max(this.longestSequence, longest - 1);
      this.sampler.sample();
    }
    return { logprobs, promptTokens: ctx.length, evalMs: performance.now() - t0, startedAtEpochMs };
  }

  private tokenBytes(): TokenByteIndex {
    this.tokenIndex ??= new TokenByteIndex(this.tokenizer.tokenBytes());
    return this.tokenIndex;
  }

  /** The next token among those that keep the reply on an allowed string, with the request's sampling. */
  private sampleConstrained(constraint: ConstrainedReply, logits: Float32Array, s: GenerateRequest['sampling'], rand: () => number): number {
    const ids = constraint.allowedTokens(logits.length);
    if (ids.length === 0) {
      throw new Error('constrained decoding is stuck: no token of this tokenizer continues the reply towards any allowed answer');
    }
    // Sampling only among the allowed tokens is masking the rest to -inf; ids ascend, so ties break as unmasked.
    const pick = sampleToken(Float32Array.from(ids, (id) => logits[id]), s, rand);
    return ids[pick];
  }

  /** One forward pass over `ids` after `pastLen` cached positions; returns the last position's logits. */
  private async forward(ids: number[], pastLen: number, past: Record<string, OrtTensor> | null): Promise<{ logits: Float32Array; present: Record<string, OrtTensor> | null }> {
    const { Tensor } = this.ort;
    const io = this.io;
    const n = ids.length;
    const total = pastLen + n;
    const intTensor = (type: 'int32' | 'int64', values: ArrayLike<number>, dims: number[]): OrtTensor =>
      type === 'int64'
        ? new Tensor('int64', BigInt64Array.from(values as ArrayLike<number>, (x) => BigInt(x)), dims)
        : new Tensor('int32', Int32Array.from(values), dims);
    const feeds: Record<string, OrtTensor> = { [io.inputIds.name]: intTensor(io.inputIds.type, ids, [1, n]) };
    if (io.attentionMask) feeds[io.attentionMask.name] = intTensor(io.attentionMask.type, new Array<number>(total).fill(1), [1, total]);
    if (io.positionIds) feeds[io.positionIds.name] = intTensor(io.positionIds.type, Array.from({ length: n }, (_, i) => pastLen + i), [1, n]);
    if (io.useCacheBranch) feeds[io.useCacheBranch] = new Tensor('bool', [pastLen > 0], [1]);
    if (io.logitsToKeep) feeds[io.logitsToKeep.name] = intTensor(io.logitsToKeep.type, [1], []);
    if (io.kv) {
      for (const e of io.kv.entries) feeds[e.past] = past?.[e.present] ?? emptyKv(this.ort, io.kv);
    }
    const out = await this.session.run(feeds);
    const logits = out[io.logits.name];
    const vocab = logits.dims[logits.dims.length - 1];
    const rows = logits.size / vocab;
    const last = (logits.data as Float32Array | Uint16Array).subarray((rows - 1) * vocab, rows * vocab);
    const lastF32 = logits.type === 'float16' ? float16ToFloat32(last as Uint16Array) : Float32Array.from(last as Float32Array);
    let present: Record<string, OrtTensor> | null = null;
    if (io.kv) {
      present = {};
      for (const e of io.kv.entries) present[e.present] = out[e.present];
    }
    return { logits: lastF32, present };
  }

  async memory(): Promise<MemoryReport> {
    this.sampler.sample();
    const kv = this.io.kv;
    return {
      weights: {
        bytes: this.model.weightsBytes,
        source: `ONNX file size: ${[this.model.modelFile, ...this.model.externalDataFiles].map((f) => basename(f)).join(' + ')}`,
      },
      processRss: { bytes: this.sampler.currentRss(), source: 'process.memoryUsage().rss of the medeval process (onnxruntime-node has no memory API)' },
      processPeak: this.sampler.peakFigure(),
      gpuProcessPeak: this.profile.executionProvider === 'cuda'
        ? { bytes: null, source: 'none', note: 'not sampled: onnxruntime-node reports no GPU memory; use nvidia-smi per PID' }
        : { bytes: null, source: 'none', note: 'not available: the ONNX runner ran on the CPU execution provider' },
      // Only a cache that was used has a size: without one, each step recomputes the whole sequence.
      ...(kv && this.usesKvCache
        ? {
          context: {
            bytes: kv.bytesPerToken * this.longestSequence,
            source: 'KV cache computed: layers x 2 x kv heads x head dim x dtype bytes x longest sequence',
            note: `${kv.bytesPerToken} bytes per token, longest sequence ${this.longestSequence} tokens; onnxruntime grows the cache per token (no fixed allocation); included in process peak`,
          },
        }
        : {}),
    };
  }

  async close(): Promise<void> {
    this.sampler.stop();
    await this.session.release();
  }
}

function firstStop(text: string, stops: string[], from: number): number | null {
  let best: number | null = null;
  for (const stop of stops) {
    const i = text.indexOf(stop, from);
    if (i >= 0 && (best === null || i < best)) best = i;
  }
  return best;
}

function emptyKv(ort: Ort, kv: KvPlan): OrtTensor {
  const data = kv.type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
  const dims = kv.layout === 'stacked' ? [2, 1, kv.heads, 0, kv.headDim] : [1, kv.heads, 0, kv.headDim];
  return new ort.Tensor(kv.type, data, dims);
}

export function createOnnxRunner(profile: OnnxProfileInput, opts: OnnxRunnerOptions = {}): Promise<OnnxRunner> {
  return OnnxRunner.create(profile, opts);
}

