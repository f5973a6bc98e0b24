// The floor for the in-process llama.cpp runner: node-llama-cpp's lowest-level evaluation
// (LlamaContextSequence.evaluate) on the same GGUF, with the same context size, batch size, threads and
// sampling, in the same process and so with the same llama.cpp build. No chat session, no text decoding, no
// stop checks, no timing callbacks: what is left of the runner's time above this is medeval's and
// node-llama-cpp's chat layer's. Used by bench/embedded-llama.ts and bench/demo.ts.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { getCpuLlama } from '../../src/runners/llama-embedded.js';

export interface FloorSettings {
  threads: number;
  contextSize: number;
  batchSize?: number;
}

export interface FloorSampling {
  temperature: number;
  topP: number;
  topK?: number;
  minP?: number;
  seed?: number;
}

export interface TimedGeneration {
  promptTokens: number;
  outputTokens: number;
  /** Start to the first generated token (prompt evaluation + first sampling step), ms. */
  ttftMs: number;
  /** Start to the last generated token, ms. */
  e2eMs: number;
  /** This process's CPU time (user + system, every thread: llama.cpp's included) over the call, ms. */
  cpuMs: number;
}

export function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * CPU time of the main (JavaScript) thread alone, ms, from the kernel's run time of that thread
 * (/proc/self/task/<pid>/schedstat, nanoseconds): the per-token JavaScript work, apart from llama.cpp's
 * evaluation (libuv's pool) and V8's GC helpers, which process.cpuUsage() adds in. null where the kernel
 * does not expose it.
 */
export function mainThreadCpuMs(): number | null {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return null;
  }
}

/** The runner's own binding: one Llama per process (a second one would take over llama.cpp's log callback). */
const cpuLlama = getCpuLlama;

/** The bundled llama.cpp release node-llama-cpp runs (e.g. "ggml-org/llama.cpp v0.4.0"). */
export async function bundledLlamaCppRelease(): Promise<string> {
  const { repo, release } = (await cpuLlama()).llamaCppRelease;
  return `${repo} ${release}`;
}

export class LlamaFloor {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
  ) {}

  static async open(file: string, s: FloorSettings): Promise<LlamaFloor> {
    const llama = await cpuLlama();
    const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
    // The runner's own context settings (src/runners/llama-embedded.ts).
    const context = await model.createContext({
      contextSize: s.contextSize,
      threads: { ideal: s.threads, min: s.threads },
      ...(s.batchSize ? { batchSize: s.batchSize } : {}),
    });
    return new LlamaFloor(llama, model, context, context.getSequence());
  }

  /** The user turn through the chat template "auto" resolves to, up to the model's turn: the runner's prompt tokens. */
  async templated(user: string): Promise<Token[]> {
    const { resolveChatWrapper } = await import('node-llama-cpp');
    const { contextText } = resolveChatWrapper(this.model).generateContextState({
      chatHistory: [{ type: 'user', text: user }, { type: 'model', response: [] }],
    });
    return contextText.tokenize(this.model.tokenizer);
  }

  /** `count` prompt tokens (the cost of a forward pass does not depend on which tokens): `base` repeated and cut. */
  static ofLength(base: readonly Token[], count: number): Token[] {
    return Array.from({ length: count }, (_, i) => base[i % base.length]!);
  }

  /** Makes a GBNF grammar of the same Llama instance (the runner's answer constraint, for the demo's shape). */
  async grammar(gbnf: string) {
    return this.llama.createGrammar({ grammar: gbnf });
  }

  /**
   * From an empty context: evaluate `prompt`, then sample and feed up to `maxTokens` tokens (stopping at an
   * end-of-generation token, as the runner does), timed like the runner's TTFT and E2EL.
   */
  async generate(prompt: Token[], maxTokens: number, sampling: FloorSampling, gbnf?: string): Promise<TimedGeneration> {
    await this.sequence.clearHistory();
    const { LlamaGrammarEvaluationState } = await import('node-llama-cpp');
    const grammarEvaluationState = gbnf ? new LlamaGrammarEvaluationState({ model: this.model, grammar: await this.grammar(gbnf) }) : undefined;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let first = 0;
    let last = 0;
    let n = 0;
    for await (const token of this.sequence.evaluate(prompt, { ...sampling, ...(grammarEvaluationState ? { grammarEvaluationState } : {}) })) {
      last = performance.now();
      if (n === 0) first = last;
      n++;
      if (n >= maxTokens || this.model.isEogToken(token)) break;
    }
    return { promptTokens: prompt.length, outputTokens: n, ttftMs: first - t0, e2eMs: last - t0, cpuMs: cpuMsSince(cpu0) };
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
