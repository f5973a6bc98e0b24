// llama.cpp in process through node-llama-cpp: the default runner, needing no server, GPU or network.
// One model, one context, one sequence; every item starts from an empty history so items are independent.
// Context policy: node-llama-cpp shifts the context when it fills (the sequence erases its first tokens,
// the chat session cuts the history), which would score answers to questions the model no longer saw, and
// its history compression can hold the main thread for minutes. Here nothing is ever shifted: the budget is
// capped to what fits (contextSize - prompt tokens - 1), a prompt that alone fills the context is refused
// (kind prompt-too-long), and if the engine still runs out of room the item fails (kind context-shift).
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { ChatWrapper, GgufFileInfo, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { z } from 'zod';
import { llamaEmbeddedProfileSchema, type LlamaEmbeddedProfile } from './llama-embedded-profile.js';
import { InputError } from '../core/errors.js';
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
import { InlineThinkSplitter, StreamTimer } from '../metrics/stream-timer.js';
import { checkLetters, commonPrefixLength } from './likelihood.js';
import { ProcessMemorySampler } from '../metrics/process-memory.js';
import { parseModelBufferLine, residentWeightsFigure } from '../metrics/memory-probe.js';

export interface GgufSummary {
  architecture: string | undefined;
  parameters: number;
  tensorTypes: Record<string, number>;
  quantization: string;
  fileBytes: number;
  name: string | undefined;
}

/** Parameter count, tensor types and file size, read from the GGUF header (no weights loaded). */
export async function readGgufSummary(file: string): Promise<GgufSummary> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  const info = await readGgufFileInfo(file, { readTensorInfo: true, logWarnings: false });
  return ggufSummaryOf(info, (await stat(file)).size);
}

/** The summary of an already parsed GGUF header (a loaded model's own fileInfo: the file is parsed once per load). */
async function ggufSummaryOf(info: GgufFileInfo, fileBytes: number): Promise<GgufSummary> {
  const { GgmlType } = await import('node-llama-cpp');
  const tensorTypes: Record<string, number> = {};
  const paramsByType: Record<string, number> = {};
  let parameters = 0;
  for (const t of info.tensorInfo ?? []) {
    const count = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    const type = GgmlType[t.ggmlType] ?? String(t.ggmlType);
    tensorTypes[type] = (tensorTypes[type] ?? 0) + 1;
    paramsByType[type] = (paramsByType[type] ?? 0) + count;
    parameters += count;
  }
  // The weight format is the type holding most parameters (norms stay F32 in every format).
  const quantization = Object.entries(paramsByType).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown';
  const meta = info.metadata as { general?: { architecture?: string; name?: string } };
  return {
    architecture: meta.general?.architecture,
    name: meta.general?.name,
    parameters,
    tensorTypes,
    quantization,
    fileBytes,
  };
}

let llamaInstance: Promise<Llama> | null = null;
/** Listeners for llama.cpp's log lines while a model loads (its "model buffer size" lines). */
const loadLogListeners = new Set<(line: string) => void>();
/** One llama.cpp binding per process, CPU only, never building from source or downloading (the benchmark's floor shares it). */
export function getCpuLlama(): Promise<Llama> {
  // Info level, to read the model buffer sizes llama.cpp states at load; only errors reach the terminal.
  llamaInstance ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      gpu: false, build: 'never', logLevel: LlamaLogLevel.info, progressLogs: false,
      logger: (level, message) => {
        for (const l of loadLogListeners) l(message);
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) console.error(`[node-llama-cpp] ${message.trimEnd()}`);
      },
    }),
  );
  return llamaInstance;
}

export class LlamaEmbeddedRunner implements Runner {
  readonly kind = 'llama-cpp-embedded';
  private readonly sampler = new ProcessMemorySampler();
  /** llama.cpp's "model buffer size" lines at load (CPU_Mapped, CPU_REPACK...). */
  private modelBuffers: Record<string, number> = {};
  private detachLog: () => void = () => {};

  private constructor(
    private readonly profile: LlamaEmbeddedProfile,
    private readonly summary: GgufSummary,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    /** Resolved once per model load: "auto" checks the GGUF's Jinja template against every known wrapper (tens of ms). */
    private readonly chatWrapper: ChatWrapper,
    private readonly loadMs: number,
  ) {
    this.sampler.start();
  }

  static async create(profile: LlamaEmbeddedProfile): Promise<LlamaEmbeddedRunner> {
    let fileBytes: number;
    try {
      fileBytes = (await stat(profile.model)).size;
    } catch {
      throw new InputError(`model file not found: ${profile.model}`, { field: 'model' },
        'check the path in the runner profile; `medeval make-model` writes tiny test models');
    }
    const t0 = performance.now();
    const llama = await getCpuLlama();
    // The log lines reach JS after loadModel resolves, in order: keep reading until the context's own
    // lines start (or the runner closes).
    const buffers: Record<string, number> = {};
    const onLine = (line: string) => {
      const b = parseModelBufferLine(line);
      if (b) buffers[b.buffer] = b.bytes;
      else if (Object.keys(buffers).length && /llama_context|llama_init_from_model|llama_kv_cache/.test(line)) loadLogListeners.delete(onLine);
    };
    loadLogListeners.add(onLine);
    let model: LlamaModel;
    try {
      // loadModel parses the GGUF header (tensor infos included) before any weight: the summary reads that.
      model = await llama.loadModel({ modelPath: profile.model, gpuLayers: 0 });
    } catch (e) {
      loadLogListeners.delete(onLine);
      throw await unreadableGguf(profile.model) ?? e;
    }
    const summary = await ggufSummaryOf(model.fileInfo, fileBytes);
    const context = await model.createContext({
      contextSize: profile.contextSize,
      threads: { ideal: profile.threads, min: profile.threads },
      ...(profile.batchSize ? { batchSize: profile.batchSize } : {}),
    });
    // Never erase context tokens to make room: stop the generation with an error instead (see the top).
    const sequence = context.getSequence({ contextShift: { strategy: () => { throw new ContextFullError(context.contextSize); } } });
    const runner = new LlamaEmbeddedRunner(profile, summary, model, context, sequence, await resolveWrapper(profile, model), performance.now() - t0);
    runner.modelBuffers = buffers;
    runner.detachLog = () => loadLogListeners.delete(onLine);
    return runner;
  }

  async describe(): Promise<ModelDescription> {
    return {
      runner: this.kind,
      label: this.profile.label,
      modelPath: this.profile.model,
      architecture: this.summary.architecture,
      parameters: this.summary.parameters,
      fileBytes: this.summary.fileBytes,
      tensorTypes: this.summary.tensorTypes,
      quantization: this.summary.quantization,
      contextSize: this.context.contextSize,
      threads: this.profile.threads,
      extra: {
        modelName: this.summary.name ?? null,
        loadMs: Math.round(this.loadMs),
        chatWrapper: this.profile.chatWrapper,
        chatWrapperResolved: this.chatWrapper.wrapperName,
        ...(this.profile.notes ? { notes: this.profile.notes } : {}),
      },
    };
  }

  /**
   * A chat session on the one sequence, with the model's one chat wrapper. A new session per item: the
   * history lives in the session, so no item sees another's turns; the wrapper holds only settings.
   */
  private async newSession(system: string | undefined, onContextShift?: () => void) {
    const { LlamaChatSession } = await import('node-llama-cpp');
    const session = new LlamaChatSession({
      contextSequence: this.sequence,
      autoDisposeSequence: false,
      chatWrapper: this.chatWrapper,
      ...(system ? { systemPrompt: system } : {}),
      ...(onContextShift ? {
        contextShift: {
          strategy: () => {
            onContextShift();
            // An empty history fits, so node-llama-cpp does not fall back to its own (slow) strategy; the
            // abort that onContextShift sent ends the generation before anything is evaluated on it.
            return { chatHistory: [], metadata: null };
          },
        },
      } : {}),
    });
    // No system turn unless the prompt has one (DeepSeek-R1's usage notes; README): node-llama-cpp would
    // otherwise open every chat with its own default system prompt, about 160 tokens the suite never wrote.
    if (!system) session.setChatHistory([]);
    return session;
  }

  /** Tokens of the chat-templated prompt up to the model's turn, exactly as generate() loads it. */
  async countPromptTokens(messages: ChatMessage[]): Promise<number> {
    const { user, system } = splitMessages(messages);
    const session = await this.newSession(system);
    try {
      // The session's history holds the system turn when the prompt has one.
      const { contextText } = session.chatWrapper.generateContextState({
        chatHistory: [...session.getChatHistory(), { type: 'user', text: user }, { type: 'model', response: [] }],
      });
      return contextText.tokenize(this.model.tokenizer).length;
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    const { user, system } = splitMessages(req.messages);
    const contextSize = this.context.contextSize;
    // The budget that fits: never more than the context minus the prompt minus the one cell llama.cpp keeps
    // free (the planning step has usually capped it already; this holds for direct callers too).
    const promptTokens = req.promptTokens ?? (await this.countPromptTokens(req.messages));
    const room = contextSize - promptTokens - 1;
    if (room < 1) throw promptTooLong(promptTokens, contextSize);
    const maxTokens = Math.min(req.sampling.maxTokens, room);
    // Items must not see each other: start every generation from an empty context.
    await this.sequence.clearHistory();
    // The chat session's own context shift (history compression) must never run either: if it is asked
    // to, the item stops here with an error rather than answering a cut question.
    const shift = new AbortController();
    let shiftAsked = false;
    const session = await this.newSession(system, () => {
      shiftAsked = true;
      shift.abort(new ContextFullError(contextSize));
    });
    const timer = new StreamTimer();
    const splitter = new InlineThinkSplitter(false);
    // rawText is the output in the order it was generated; thought segments (reasoning-aware chat
    // wrappers such as DeepSeek's) are put back inside <think>...</think>, left open if the budget ran out.
    let rawText = '';
    let reasoning = '';
    let sawReasoning = false;
    let thoughtOpen = false;
    let outputTokens = 0;
    const closeThought = () => {
      if (thoughtOpen) rawText += '</think>';
      thoughtOpen = false;
    };
    const s = req.sampling;
    const grammar = req.constrain ? await this.grammarFor(req.constrain) : undefined;
    const signal = req.signal ? AbortSignal.any([req.signal, shift.signal]) : shift.signal;
    timer.start();
    req.onStart?.(performance.now());
    try {
      const res = await session.promptWithMeta(user, {
        maxTokens,
        temperature: s.temperature,
        topP: s.topP,
        ...(s.topK !== undefined ? { topK: s.topK } : {}),
        ...(s.minP !== undefined ? { minP: s.minP } : {}),
        ...(s.seed !== undefined ? { seed: s.seed } : {}),
        ...(s.stop?.length ? { customStopTriggers: s.stop } : {}),
        ...(grammar ? { grammar } : {}),
        // No repeat penalty: the suite's sampling never asks for one (llama.cpp's own default is off, 1.0),
        // and node-llama-cpp's default would rebuild the last 64 tokens' list in JavaScript every token.
        repeatPenalty: false,
        // No thought or comment budget: node-llama-cpp's default (half the context below 8,192 tokens) closes
        // a <think> segment itself once it is spent and lets the model go on after a </think> it never wrote.
        // The model's own output up to maxTokens is what is scored, as llama-server does (reasoning budget -1).
        budgets: { thoughtTokens: Infinity, commentTokens: Infinity },
        signal,
        stopOnAbortSignal: true,
        onResponseChunk: (chunk) => {
          const at = performance.now();
          outputTokens += chunk.tokens.length;
          if (chunk.type === 'segment' && chunk.segmentType === 'thought') {
            sawReasoning = true;
            if (!thoughtOpen) rawText += '<think>';
            thoughtOpen = true;
            rawText += chunk.text;
            reasoning += chunk.text;
            timer.chunk('reasoning', chunk.text, at);
            if (chunk.segmentEndTime != null) closeThought();
            return;
          }
          closeThought();
          rawText += chunk.text;
          // Models without a reasoning-aware wrapper write <think> inline: split it for timing.
          const part = splitter.feed(chunk.text);
          reasoning += part.reasoning;
          if (part.reasoning) sawReasoning = true;
          if (part.reasoning) timer.chunk('reasoning', part.reasoning, at);
          if (part.answer) timer.chunk('answer', part.answer, at);
        },
      });
      if (shiftAsked) throw new ContextFullError(contextSize);
      const rest = splitter.flush();
      reasoning += rest.reasoning;
      const finishReason: FinishReason =
        res.stopReason === 'maxTokens' ? 'length' : res.stopReason === 'abort' ? 'abort' : 'stop';
      // A thought segment still open at a normal stop was closed by the wrapper; at the budget it stays open.
      if (finishReason !== 'length') closeThought();
      return {
        rawText,
        reasoning: sawReasoning || splitter.inReasoning ? reasoning : null,
        promptTokens,
        outputTokens,
        tokenSource: 'engine',
        finishReason,
        timings: timer.finish(outputTokens),
      };
    } catch (e) {
      if (shiftAsked || e instanceof ContextFullError) throw new ContextFullError(contextSize, promptTokens, outputTokens);
      throw e;
    } finally {
      session.dispose({ disposeSequence: false });
      this.sampler.sample();
    }
  }

  /**
   * Multiple choice by likelihood: log P(" " + letter | chat-templated prompt + prefix) for each letter,
   * from llama.cpp's full next-token distribution (temperature 1, no top-k/top-p/min-p cut). Context and
   * continuation are tokenised together and split where they part, as lm-evaluation-harness does; a
   * continuation of several tokens is evaluated on top of the context and then erased again.
   */
  async letterLogprobs(req: LetterLogprobRequest): Promise<LetterLogprobs> {
    checkLetters(req.letters);
    if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
    const { LlamaText } = await import('node-llama-cpp');
    const startedAtEpochMs = Date.now();
    const t0 = performance.now();
    await this.sequence.clearHistory();
    const { user, system } = splitMessages(req.messages);
    // The same chat wrapper generate() uses, asked for the text up to the assistant's prefix.
    const { contextText } = this.chatWrapper.generateContextState({
      chatHistory: [
        ...(system ? [{ type: 'system' as const, text: system }] : []),
        { type: 'user' as const, text: user },
        { type: 'model' as const, response: [req.prefix] },
      ],
    });
    const tokenizer = this.model.tokenizer;
    const ctx = contextText.tokenize(tokenizer);
    const continuations = req.letters.map((letter) => {
      const whole = LlamaText([contextText, ` ${letter}`]).tokenize(tokenizer);
      const n = commonPrefixLength(ctx, whole);
      return { letter, split: n, rest: whole.slice(n) };
    });
    if (continuations.some((c) => c.rest.length === 0)) throw new Error('a letter added no token to the context (tokeniser merge): cannot score it');
    // Never let llama.cpp shift the context to make room: the scores would be of a cut prompt.
    const longest = Math.max(...continuations.map((c) => c.split + c.rest.length));
    if (longest > this.context.contextSize) {
      throw new Error(`the prompt and answer take ${longest} tokens, more than the context of ${this.context.contextSize}: raise contextSize in the runner profile`);
    }
    // Evaluate up to the shortest split once; each letter's own tokens go on top, then are erased.
    const shared = Math.min(...continuations.map((c) => c.split));
    const raw = { temperature: 1, topK: 0, topP: 1, minP: 0 };
    /** Evaluates `tokens` in one batch; the distributions of the token after each of the last `wanted`. */
    const evaluate = async (tokens: number[], wanted: number): Promise<Array<Map<number, number>>> => {
      const from = tokens.length - wanted;
      const out = await this.sequence.controlledEvaluate(tokens.map((t, i) =>
        (i >= from ? [t, { generateNext: { probabilities: true, options: raw } }] : t) as import('node-llama-cpp').ControlledEvaluateInputItem));
      return tokens.slice(from).map((_, k) => {
        const probs = out[from + k]?.next.probabilities;
        if (!probs) throw new Error('llama.cpp returned no next-token probabilities');
        return probs as Map<number, number>;
      });
    };
    const [baseProbs] = await evaluate(ctx.slice(0, shared) as number[], 1);
    const logprobs: Record<string, number> = {};
    for (const c of continuations) {
      if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
      // Tokens between the shared context and this letter's split belong to its context; its continuation
      // tokens after the first are evaluated in one batch on top, for the distributions they follow.
      const own = [...(ctx.slice(shared, c.split) as number[]), ...(c.rest as number[])];
      const start = this.sequence.nextTokenIndex;
      const after = own.length > 1 ? await evaluate(own.slice(0, -1), own.length - 1) : [];
      const dists = [baseProbs!, ...after];
      let lp = 0;
      for (let i = c.split - shared; i < own.length; i++) lp += Math.log(dists[i]!.get(own[i]!) ?? 0);
      if (this.sequence.nextTokenIndex > start) await this.sequence.eraseContextTokenRanges([{ start, end: this.sequence.nextTokenIndex }]);
      logprobs[c.letter] = lp;
    }
    this.sampler.sample();
    return { logprobs, promptTokens: ctx.length, evalMs: performance.now() - t0, startedAtEpochMs };
  }

  private readonly grammars = new Map<string, Promise<import('node-llama-cpp').LlamaGrammar>>();
  /** A GBNF grammar allowing exactly `prefix` followed by one option letter. */
  private grammarFor(c: { letters: string[]; prefix: string }) {
    const gbnf = `root ::= ${JSON.stringify(c.prefix)} (${c.letters.map((l) => JSON.stringify(l)).join(' | ')})`;
    let g = this.grammars.get(gbnf);
    if (!g) {
      g = getCpuLlama().then((llama) => llama.createGrammar({ grammar: gbnf }));
      this.grammars.set(gbnf, g);
    }
    return g;
  }

  async memory(): Promise<MemoryReport> {
    this.sampler.sample();
    return {
      weights: { bytes: this.summary.fileBytes, source: 'GGUF file size (tensors + header)' },
      residentWeights: residentWeightsFigure(this.modelBuffers, 'llama.cpp load log (node-llama-cpp)'),
      processRss: { bytes: this.sampler.currentRss(), source: 'process.memoryUsage().rss of the medeval process' },
      processPeak: this.sampler.peakFigure(),
      gpuProcessPeak: { bytes: null, source: 'none', note: 'not available: the embedded runner runs on CPU only' },
      context: {
        bytes: null,
        source: 'llama.cpp context',
        note: `not measured separately; context size ${this.context.contextSize} tokens, included in process peak`,
      },
    };
  }

  async close(): Promise<void> {
    this.detachLog();
    this.sampler.stop();
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** The load failed: an InputError when the file is not a GGUF at all (the profile points at the wrong file), else null. */
async function unreadableGguf(file: string): Promise<InputError | null> {
  const { readGgufFileInfo } = await import('node-llama-cpp');
  try {
    await readGgufFileInfo(file, { readTensorInfo: true, logWarnings: false });
    return null;
  } catch (e) {
    return new InputError(`not a readable GGUF file: ${file} (${(e as Error).message})`, { field: 'model' },
      'point the profile at a .gguf model file');
  }
}

/** The profile's chat wrapper; "auto" resolves it exactly as LlamaChatSession's own "auto" does. */
async function resolveWrapper(profile: LlamaEmbeddedProfile, model: LlamaModel): Promise<ChatWrapper> {
  const { resolveChatWrapper, DeepSeekChatWrapper, GeneralChatWrapper } = await import('node-llama-cpp');
  if (profile.chatWrapper === 'deepseek') return new DeepSeekChatWrapper();
  if (profile.chatWrapper === 'general') return new GeneralChatWrapper();
  return resolveChatWrapper(model);
}

/** The user turns joined (DeepSeek-R1 style: every instruction in one user turn) and the system prompt. */
function splitMessages(messages: ChatMessage[]): { user: string; system: string | undefined } {
  return {
    user: messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n\n'),
    system: messages.find((m) => m.role === 'system')?.content,
  };
}

/** An item whose prompt alone fills the context: not sent, not scored, not retried. */
export function promptTooLong(promptTokens: number, contextSize: number): Error {
  return Object.assign(new Error(`the prompt takes ${promptTokens} tokens and the context holds ${contextSize} (one kept free): no room to generate; ` +
    'raise contextSize in the runner profile or shorten the prompt'), { kind: 'prompt-too-long' });
}

/** The engine ran out of context during generation and would have shifted it: the item is not scored. */
export class ContextFullError extends Error {
  readonly kind = 'context-shift';
  constructor(contextSize: number, promptTokens?: number, generated?: number) {
    super(`the context of ${contextSize} tokens filled${promptTokens !== undefined ? ` (prompt ${promptTokens} + ${generated ?? 0} generated)` : ''} and llama.cpp would have shifted it, ` +
      'dropping the start of the prompt: not scored; raise contextSize in the runner profile or lower maxTokens');
    this.name = 'ContextFullError';
  }
}

export function createLlamaEmbeddedRunner(profile: LlamaEmbeddedProfile): Promise<LlamaEmbeddedRunner> {
  return LlamaEmbeddedRunner.create(profile);
}


// The profile lives apart (in-process-kinds.ts defines the kind without loading this module).
export { llamaEmbeddedProfileSchema, type LlamaEmbeddedProfile } from './llama-embedded-profile.js';
