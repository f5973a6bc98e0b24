// llama.cpp's llama-server as a Runner, attached to a running server (baseUrl) or managed (medeval starts
// `llama-server -m MODEL --host H --port P --metrics ...args` itself and stops it at the end).
// Latency comes from the shared streaming core; memory from /v1/models (weights), the start-up log (KV
// cache, compute buffers) and the server's process tree (/proc, nvidia-smi).
// Context policy: by default llama-server shifts the context when prompt + generation pass the slot (n_keep
// = 1: the question is thrown away) and silently truncates a prompt longer than the slot, answering 200.
// So: a managed server gets --no-context-shift; every prompt is counted in the run's planning step
// (/apply-template + /tokenize, off the measured path) and its budget capped to the slot; and each answer
// is checked after the fact (prompt below its known length, or prompt + generated past the slot): such an
// item is an error (prompt-truncated / context-shift), never scored.
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { defineRunner } from './definition.js';
import { LLAMA_SERVER_METRICS } from './server-metric-names.js';
import { InputError } from '../core/errors.js';
import type { ChatMessage, GenerateRequest, Generation, LetterLogprobRequest, LetterLogprobs, MemoryFigure, MemoryReport, ModelDescription, Runner, RunnerNotice, ServerReport } from '../core/types.js';
import { notAvailable, parseModelBufferLine, ProcessTreeSampler, residentWeightsFigure, serverMemoryReport } from '../metrics/memory-probe.js';
import { NvidiaSmi } from '../metrics/nvidia-smi.js';
import { counterDelta, parsePrometheusText, pickMetrics, type PromScrape } from '../metrics/prometheus.js';
import { metricsOverRun, rescrapeAfterWarmup, type MetricsOverRun } from './server-metrics.js';
import {
  checkServerIdentity, findFreePort, getJson, getText, ManagedProcess, probeHealth, serverNonce, ServerStartError, SIDE_REQUEST_TIMEOUT_MS,
  waitForHealth, HealthTimeoutError,
} from './managed-process.js';
import type { ManagedServerEnd } from '../core/types.js';
import { messagesAsPrompt, OpenAiServerSession, registerServerSecrets, resolveApiKey, type ServerSessionOptions } from './openai-stream.js';
import { PlanningConnections, postJsonOnce } from './side-request.js';
import type { ThrottleReport } from './capacity-window.js';
import { llamaServerLetterLogprobs } from './server-likelihood.js';

const MIB = 1024 * 1024;

/** Fields every server runner profile shares (the lead's config wraps these in the runner union). */
export const serverProfileFields = {
  label: z.string().min(1),
  /** attached: talk to a server you started; managed: medeval starts and stops it. */
  mode: z.enum(['attached', 'managed']).default('attached'),
  /** attached mode: e.g. http://127.0.0.1:8080 (no /v1). */
  baseUrl: z.string().url().optional(),
  /**
   * attached mode, instead of baseUrl: several servers of the same model (replicas, runners/replicas.ts):
   * each request goes to the one with the fewest requests outstanding.
   */
  baseUrls: z.array(z.string().url()).min(1).optional(),
  /** managed mode: start this many instances of the server (each on its own free port) as replicas. */
  replicas: z.number().int().min(1).max(64).optional(),
  /** managed mode: the server binary, a path or a name on PATH. */
  binary: z.string().min(1).optional(),
  /** managed: the model to load; attached: optional, for describe() and the weights figure. */
  model: z.string().min(1).optional(),
  /** managed: extra command-line arguments, one per list item (no shell). */
  args: z.array(z.string()).default([]),
  host: z.string().default('127.0.0.1'),
  /** Name of the environment variable holding the API key (the key itself never goes in a profile). */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  api: z.enum(['chat', 'completions']).default('chat'),
  /** How to read inline <think> text: auto, starts-in-reasoning (template prefills <think>), off. */
  inlineThink: z.enum(['auto', 'starts-in-reasoning', 'off']).default('auto'),
  /** Longest time one attempt may take, whole stream included (a cap: a frozen server is caught sooner, below). */
  requestTimeoutMs: z.number().int().positive().default(600_000),
  /**
   * Longest wait for a response's headers (servers send them at once, before the prompt is processed), and
   * longest silence inside a stream (the wait for the first token included). Past either, the server is
   * asked: another stream got bytes meanwhile, or /health answers within stallProbeTimeoutMs, and the wait
   * goes on (a long prompt, a queue); otherwise the server is frozen: the attempt ends (not retried) and
   * the run stops. A long generation that keeps streaming is never cut by these.
   */
  firstByteTimeoutMs: z.number().int().positive().default(10_000),
  stallTimeoutMs: z.number().int().positive().default(20_000),
  stallProbeTimeoutMs: z.number().int().positive().default(5_000),
  /**
   * Timeout of each side request (/health, /props, /v1/models, /metrics, /tokenize). A request that timed
   * out is followed by a /health probe with this timeout: no answer means a hung server, and the run stops.
   */
  sideRequestTimeoutMs: z.number().int().positive().default(SIDE_REQUEST_TIMEOUT_MS),
  retries: z.number().int().min(0).max(20).default(3),
  /** Longest wait a server's Retry-After may impose before a retry (longer asks are capped, and said so). */
  maxRetryAfterMs: z.number().int().min(0).default(60_000),
  startupTimeoutMs: z.number().int().positive().default(300_000),
  /** Grace period between SIGTERM and SIGKILL when stopping a managed server. */
  stopGraceMs: z.number().int().positive().default(15_000),
  /** attached mode: the server's PID, to measure its memory from /proc (optional). */
  pid: z.number().int().positive().optional(),
  notes: z.string().optional(),
};

/** Checks shared by both server kinds; `ownsFlags` are the flags medeval sets itself in managed mode. */
export function checkServerProfile(p: { mode: string; baseUrl?: string; baseUrls?: string[]; replicas?: number; model?: string; args: string[] }, ctx: z.RefinementCtx, ownsFlags: string[]): void {
  if (p.mode === 'attached' && !p.baseUrl && !p.baseUrls) {
    ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'attached mode needs baseUrl (e.g. http://127.0.0.1:8080) or baseUrls (replicas), or set mode: managed' });
  }
  if (p.baseUrl && p.baseUrls) {
    ctx.addIssue({ code: 'custom', path: ['baseUrls'], message: 'give baseUrl (one server) or baseUrls (replicas), not both' });
  }
  const seen = new Set<string>();
  p.baseUrls?.forEach((u, i) => {
    const k = u.replace(/\/+$/, '');
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['baseUrls', i], message: `${u} is listed twice: each replica is one server` });
    seen.add(k);
  });
  if (p.mode === 'managed' && p.baseUrls) {
    ctx.addIssue({ code: 'custom', path: ['baseUrls'], message: 'baseUrls is for attached servers; managed mode starts `replicas: N` instances itself' });
  }
  if (p.mode === 'attached' && (p.replicas ?? 1) > 1) {
    ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'replicas: N starts N managed servers; for servers you started, list them in baseUrls' });
  }
  if (p.mode === 'managed' && !p.model) {
    ctx.addIssue({ code: 'custom', path: ['model'], message: 'managed mode needs model (the model the server loads)' });
  }
  if (p.mode === 'managed') {
    p.args.forEach((a, i) => {
      const flag = a.split('=')[0]!;
      if (ownsFlags.includes(flag)) {
        ctx.addIssue({ code: 'custom', path: ['args', i], message: `${flag} is set by medeval in managed mode (model, host, a free port and a unique server name it checks after start): remove it from args` });
      }
    });
  }
}

export const llamaServerProfileSchema = z
  .strictObject({
    kind: z.literal('llama-server'),
    ...serverProfileFields,
    binary: z.string().min(1).default('llama-server'),
    /** false sends cache_prompt: false, so no request reuses another's prompt prefix (TTFT without cache). */
    cachePrompt: z.boolean().default(true),
    /**
     * Count each prompt's tokens in the planning step (/apply-template + /tokenize, before the measured
     * requests) to cap its budget to the slot and detect truncation; false: only the after-the-fact check.
     */
    truncationCheck: z.boolean().default(true),
    /**
     * scoring: likelihood: how many next-token log-probabilities to ask for (n_probs); a letter whose token
     * falls outside them has no figure for that question (recorded, never probability 0).
     */
    likelihoodTopN: z.number().int().min(1).max(1000).default(20),
  })
  .superRefine((p, ctx) => checkServerProfile(p, ctx, ['-m', '--model', '--port', '--host', '-a', '--alias']));
export type LlamaServerProfile = z.infer<typeof llamaServerProfileSchema>;

export interface ServerRunnerOptions {
  /** For tests and the benchmark: a fetch implementation for the SDK. */
  fetch?: typeof fetch;
  nvidiaSmi?: NvidiaSmi;
  retrySleep?: ServerSessionOptions['retrySleep'];
  /** Sampler interval (<= 100 ms). */
  sampleIntervalMs?: number;
  /** For tests: start a managed server on this port, not a free one (the race a free port can lose). */
  port?: number;
}

/** Memory parts llama-server prints while loading (MiB in the log, bytes here). */
export interface LlamaStartupMemory {
  /** Weights per buffer/device, e.g. { CPU_Mapped: ..., CUDA0: ... }. */
  modelBuffers: Record<string, number>;
  /** KV cache total ("KV self size", or the sum of "KV buffer size" lines in newer builds). */
  kvBytes: number | null;
  kvBuffers: Record<string, number>;
  computeBuffers: Record<string, number>;
  /** Slot context from "new slot n_ctx_slot = N". */
  nCtxSlot: number | null;
  /** "input truncated" lines seen (prompts cut to fit a slot). */
  truncations: number;
}

export function emptyStartupMemory(): LlamaStartupMemory {
  return { modelBuffers: {}, kvBytes: null, kvBuffers: {}, computeBuffers: {}, nCtxSlot: null, truncations: 0 };
}

/** Feeds one log line of llama-server into `m`. */
export function parseLlamaServerLogLine(line: string, m: LlamaStartupMemory): void {
  let r: RegExpExecArray | null;
  const buffer = parseModelBufferLine(line);
  if (buffer) m.modelBuffers[buffer.buffer] = buffer.bytes;
  else if ((r = /KV self size\s*=\s*([\d.]+) MiB/.exec(line))) m.kvBytes = Number(r[1]) * MIB;
  else if ((r = /(\S+) KV buffer size\s*=\s*([\d.]+) MiB/.exec(line))) m.kvBuffers[r[1]!] = Number(r[2]) * MIB;
  else if ((r = /(\S+) compute buffer size\s*=\s*([\d.]+) MiB/.exec(line))) m.computeBuffers[r[1]!] = Number(r[2]) * MIB;
  else if ((r = /n_ctx_slot = (\d+)/.exec(line)) && /new slot/.test(line)) m.nCtxSlot = Number(r[1]);
  else if (/input truncated/.test(line)) m.truncations++;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

interface LlamaProps {
  default_generation_settings?: { n_ctx?: number };
  total_slots?: number;
  model_path?: string;
  build_info?: string;
  chat_template?: string;
}
interface ModelsList {
  data?: Array<{ id: string; max_model_len?: number; meta?: { n_params?: number; size?: number; n_ctx_train?: number; n_vocab?: number; n_embd?: number } }>;
}

/** Counters and gauges read from llama-server's /metrics before and after a run. */
export const LLAMA_METRICS = [
  ['llamacpp:prompt_tokens_total'],
  ['llamacpp:prompt_seconds_total'],
  ['llamacpp:tokens_predicted_total'],
  ['llamacpp:tokens_predicted_seconds_total'],
  ['llamacpp:n_decode_total'],
  ['llamacpp:kv_cache_usage_ratio'],
  ['llamacpp:kv_cache_tokens'],
  ['llamacpp:requests_processing'],
  ['llamacpp:requests_deferred'],
];

export class LlamaServerRunner implements Runner {
  readonly kind = 'llama-server';
  private readonly startup = emptyStartupMemory();
  private metricsBefore: PromScrape | null = null;
  private metricsNote = '';
  /** Set when the after-warm-up scrape failed: the /metrics differences then include the warm-up. */
  private metricsWarmupNote: string | null = null;
  private props: LlamaProps | null = null;
  private modelInfo: NonNullable<ModelsList['data']>[number] | null = null;
  private sampler: ProcessTreeSampler | null = null;
  private proc: ManagedProcess | null = null;
  private session!: OpenAiServerSession;
  private readonly tokenCounts = new Map<string, number>();
  /** The planning step's counts go over a few kept-alive connections, closed once the warm-up is over. */
  private readonly planning = new PlanningConnections();
  /** Whether /apply-template answered (exact counts); false: counts are the messages' tokens, a lower bound. */
  private exactCounts: boolean | null = null;
  private truncatedGenerations = 0;
  private stopDescription: string | null = null;

  private constructor(readonly profile: LlamaServerProfile, private readonly opts: ServerRunnerOptions) {}

  static async create(profile: LlamaServerProfile, opts: ServerRunnerOptions = {}): Promise<LlamaServerRunner> {
    const r = new LlamaServerRunner(profile, opts);
    const apiKey = resolveApiKey(profile.apiKeyEnv);
    registerServerSecrets(profile.args);
    let baseUrl: string;
    if (profile.mode === 'managed') {
      try {
        await stat(profile.model!);
      } catch {
        throw new InputError(`model file not found: ${profile.model}`, { field: 'model' }, 'check the path in the runner profile');
      }
      const port = opts.port ?? (await findFreePort(profile.host));
      baseUrl = `http://${profile.host}:${port}`;
      // A unique name, read back from /v1/models after start: the answering server is the one started.
      const alias = serverNonce();
      const args = ['-m', profile.model!, '--host', profile.host, '--port', String(port), '--alias', alias, ...profile.args];
      if (!args.includes('--metrics')) args.push('--metrics');
      // A shifted context answers a question the model no longer sees: off, unless the profile asks for it.
      if (!args.includes('--context-shift') && !args.includes('--no-context-shift')) args.push('--no-context-shift');
      const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
      r.proc = await ManagedProcess.start({
        binary: profile.binary,
        args,
        healthUrl: `${baseUrl}/health`,
        startupTimeoutMs: profile.startupTimeoutMs,
        stopGraceMs: profile.stopGraceMs,
        name: 'llama-server',
        onLogLine: (l) => parseLlamaServerLogLine(l, r.startup),
        verify: async (p) => {
          const problem = await checkServerIdentity({
            name: 'llama-server', baseUrl, port, pid: p.pid, alias, headers, timeoutMs: profile.sideRequestTimeoutMs, modelPath: profile.model!,
          });
          if (problem) throw new ServerStartError(problem, []);
        },
      });
    } else {
      baseUrl = profile.baseUrl!.replace(/\/+$/, '');
      const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
      try {
        await waitForHealth(`${baseUrl}/health`, profile.startupTimeoutMs, { headers, refusedLimitMs: 10_000 });
      } catch (e) {
        if (e instanceof HealthTimeoutError) {
          throw new Error(`llama-server at ${baseUrl} is not ready: ${e.message}\n  hint: start it first, or check baseUrl in the runner profile`);
        }
        throw e;
      }
    }
    await r.connect(baseUrl, apiKey);
    return r;
  }

  private async connect(baseUrl: string, apiKey: string | null): Promise<void> {
    const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
    const side = this.profile.sideRequestTimeoutMs;
    const [props, models] = await Promise.all([
      getJson<LlamaProps>(`${baseUrl}/props`, headers, side),
      getJson<ModelsList>(`${baseUrl}/v1/models`, headers, side),
    ]);
    if (props.ok) this.props = props.value;
    if (models.ok) this.modelInfo = models.value.data?.[0] ?? null;
    this.session = new OpenAiServerSession({
      baseUrl,
      apiKey,
      model: this.modelInfo?.id ?? this.profile.model ?? 'default',
      api: this.profile.api,
      inlineThink: this.profile.inlineThink,
      retries: this.profile.retries,
      requestTimeoutMs: this.profile.requestTimeoutMs,
      maxRetryAfterMs: this.profile.maxRetryAfterMs,
      stall: stallOptionsOf(this.profile),
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      ...(this.opts.retrySleep ? { retrySleep: this.opts.retrySleep } : {}),
    });
    const metrics = await getText(`${baseUrl}/metrics`, headers, side);
    if (metrics.ok) this.metricsBefore = parsePrometheusText(metrics.value);
    else this.metricsNote = `/metrics not available (${metrics.reason.split('\n')[0]}); start llama-server with --metrics`;
    const pid = this.proc?.pid ?? this.profile.pid;
    if (pid) {
      this.sampler = new ProcessTreeSampler(pid, {
        ...(this.opts.nvidiaSmi ? { nvidiaSmi: this.opts.nvidiaSmi } : {}),
        ...(this.opts.sampleIntervalMs ? { intervalMs: this.opts.sampleIntervalMs } : {}),
      });
      this.sampler.start();
    }
  }

  setNoticeListener(listener: (notice: RunnerNotice) => void): void {
    this.session.onNotice = listener;
  }

  get baseUrl(): string {
    return this.session.baseUrl;
  }

  /** Tokens per slot: -c divided by -np. */
  get slotContext(): number | null {
    return this.props?.default_generation_settings?.n_ctx ?? this.startup.nCtxSlot;
  }

  /** Process id of a managed server (for tests and reports). */
  get serverPid(): number | undefined {
    return this.proc?.pid;
  }

  async describe(): Promise<ModelDescription> {
    const meta = this.modelInfo?.meta;
    const modelPath = this.profile.model ?? this.props?.model_path;
    let fileBytes: number | null = null;
    if (modelPath) fileBytes = await stat(modelPath).then((s) => s.size, () => null);
    return {
      runner: this.kind,
      label: this.profile.label,
      ...(modelPath ? { modelPath } : {}),
      parameters: meta?.n_params ?? null,
      fileBytes,
      ...(guessQuant(modelPath) ? { quantization: guessQuant(modelPath)! } : {}),
      ...(this.slotContext ? { contextSize: this.slotContext } : {}),
      extra: {
        mode: this.profile.mode,
        baseUrl: this.session.baseUrl,
        serverModelId: this.session.model,
        slots: this.props?.total_slots ?? null,
        nCtxPerSlot: this.slotContext,
        nCtxTrain: meta?.n_ctx_train ?? null,
        tensorBytes: meta?.size ?? null,
        buildInfo: this.props?.build_info ?? null,
        api: this.profile.api,
        cachePrompt: this.profile.cachePrompt,
        ...(this.proc ? { startupMemory: this.startupMemorySummary(), args: this.profile.args } : {}),
        ...(this.metricsNote ? { metrics: this.metricsNote } : {}),
        ...(this.profile.notes ? { notes: this.profile.notes } : {}),
      },
    };
  }

  private startupMemorySummary(): Record<string, unknown> {
    return {
      modelBuffersBytes: this.startup.modelBuffers,
      kvBytes: this.startup.kvBytes ?? (Object.keys(this.startup.kvBuffers).length ? sum(this.startup.kvBuffers) : null),
      computeBuffersBytes: this.startup.computeBuffers,
      source: 'llama-server start-up log',
    };
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    const extraBody: Record<string, unknown> = { cache_prompt: this.profile.cachePrompt };
    if (req.constrain) extraBody.grammar = letterGrammar(req.constrain);
    // The run's planning step counted the prompt; a direct caller's prompt is counted here, before the clock.
    let known = req.promptTokens !== undefined ? req.promptTokens : null;
    if (req.promptTokens === undefined && this.profile.truncationCheck) {
      known = await this.countPromptTokens(req.messages, req.signal);
      // Counted outside a planning step: its connection is not kept while this request streams.
      this.planning.release();
    }
    const slot = this.slotContext;
    let sampling = req.sampling;
    if (known !== null && slot !== null) {
      const room = slot - known - 1;
      if (room < 1) {
        throw contextError('prompt-too-long', `the prompt takes ${known}${this.exactCounts === false ? ' or more' : ''} tokens and a slot of this llama-server holds ${slot} (-c divided by -np): ` +
          'no room to generate, and the server would cut the prompt; raise -c (or lower -np) or shorten the prompt');
      }
      if (sampling.maxTokens > room) sampling = { ...sampling, maxTokens: room };
    }
    let out;
    try {
      out = await this.session.generate({ ...req, sampling }, extraBody, req.onStart ? { onStart: onFirst(req.onStart) } : {});
    } catch (e) {
      // With --no-context-shift the server refuses a prompt that fills the slot (an in-stream error).
      const m = (e as Error).message ?? '';
      if (/exceeds the available context size/i.test(m)) {
        throw contextError('prompt-too-long', `${m} (slot context ${slot ?? '?'}; raise -c or lower -np)`, (e as { retries?: number }).retries);
      }
      // With --no-context-shift a generation that reaches the slot's end is stopped with this error: the
      // answer is cut by the context, never scored (the planning step's budget cap keeps this from happening).
      if (/context shift is disabled/i.test(m)) {
        throw contextError('context-full', `${m}: the prompt${known !== null ? ` (${known} tokens)` : ''} and the generation reached the end of the slot of ${slot ?? '?'} tokens ` +
          '(-c divided by -np) and the server, without context shift, stopped it; the answer is incomplete, not scored; raise -c, lower -np or maxTokens', (e as { retries?: number }).retries);
      }
      throw e;
    }
    const g = out.generation;
    const engine = { ...(g.timings.engine ?? {}) };
    // usage.prompt_tokens is the whole prompt; timings.prompt_n only its uncached part when the cache is on.
    const seen = out.usage?.prompt_tokens ?? (this.profile.cachePrompt && out.timings?.cache_n === undefined ? null : g.promptTokens);
    const predicted = out.usage?.completion_tokens ?? out.timings?.predicted_n ?? null;
    if (known !== null && seen !== null && seen < known) {
      this.truncatedGenerations++;
      throw contextError('prompt-truncated', `llama-server cut the prompt to ${seen} of its ${known}${this.exactCounts === false ? '+' : ''} tokens to fit its slot of ${slot ?? '?'}: ` +
        'the answer is to a question it did not see in full; not scored; raise -c (or lower -np)');
    }
    if (slot !== null && seen !== null && predicted !== null && seen + predicted >= slot) {
      this.truncatedGenerations++;
      throw contextError('context-shift', `prompt ${seen} + generated ${predicted} tokens reached the slot context of ${slot}: llama-server shifted the context ` +
        '(dropping the start of the prompt, the question) and went on; not scored; start it with --no-context-shift, or raise -c / lower maxTokens');
    }
    if (known !== null) engine.promptTokensPlanned = known;
    return { ...g, timings: { ...g.timings, ...(Object.keys(engine).length ? { engine } : {}) } };
  }

  /**
   * Multiple choice by likelihood from the server's top-N next-token log-probabilities, after its own chat
   * template (/apply-template) and the prefix, tokenised by the server (see server-likelihood.ts).
   */
  async letterLogprobs(req: LetterLogprobRequest): Promise<LetterLogprobs> {
    return llamaServerLetterLogprobs(this.session.baseUrl, req, {
      headers: this.session.authHeaders(),
      timeoutMs: this.profile.requestTimeoutMs,
      topN: this.profile.likelihoodTopN,
      cachePrompt: this.profile.cachePrompt,
      slotContext: this.slotContext,
    });
  }

  /**
   * Tokens the server will see for this prompt: its chat template applied (/apply-template) and tokenised
   * with special tokens (/tokenize add_special), as the chat endpoint does. A server without /apply-template
   * gives the messages' own tokens, a lower bound. Over the planning connections (closed before measuring), cached per
   * prompt; null when it cannot be had (the after-the-fact check still runs).
   */
  async countPromptTokens(messages: ChatMessage[], signal?: AbortSignal): Promise<number | null> {
    if (!this.profile.truncationCheck) return null;
    const key = JSON.stringify(messages);
    const cached = this.tokenCounts.get(key);
    if (cached !== undefined) return cached;
    const base = this.session.baseUrl;
    const opts = { headers: this.session.authHeaders(), timeoutMs: this.profile.sideRequestTimeoutMs, agent: this.planning.for(base), ...(signal ? { signal } : {}) };
    const tokenize = async (content: string, addSpecial: boolean): Promise<number | null> => {
      const r = await postJsonOnce<{ tokens?: unknown[] }>(`${base}/tokenize`, { content, add_special: addSpecial }, opts);
      return r.ok && Array.isArray(r.value.tokens) ? r.value.tokens.length : null;
    };
    let n: number | null = null;
    if (this.profile.api === 'completions') {
      n = await tokenize(messagesAsPrompt(messages), true);
      this.exactCounts ??= true;
    } else {
      const t = this.exactCounts === false ? null : await postJsonOnce<{ prompt?: unknown }>(`${base}/apply-template`, { messages }, opts);
      if (t?.ok && typeof t.value.prompt === 'string') {
        n = await tokenize(t.value.prompt, true);
        if (n !== null) this.exactCounts = true;
      } else if (t === null || (!t.ok && (t.status === 404 || t.status === 501))) {
        this.exactCounts = false;
        let sum = 0;
        for (const m of messages) {
          const k = await tokenize(m.content, false);
          if (k === null) return null;
          sum += k;
        }
        n = sum;
      }
    }
    if (n === null) return null;
    if (this.tokenCounts.size > 5000) this.tokenCounts.clear();
    this.tokenCounts.set(key, n);
    return n;
  }

  /** /metrics before the run, now, and the counters' difference, or why not (llama-server needs --metrics). */
  private metricsOverRun(): ReturnType<typeof metricsOverRun> {
    return metricsOverRun({
      before: this.metricsBefore,
      beforeNote: this.metricsNote,
      limitNote: this.metricsWarmupNote,
      url: `${this.session.baseUrl}/metrics`,
      headers: this.session.authHeaders(),
      timeoutMs: this.profile.sideRequestTimeoutMs,
      figures: (before, after) => ({
        before: pickMetrics(before, LLAMA_METRICS),
        after: pickMetrics(after, LLAMA_METRICS),
        delta: counterDelta(before, after, LLAMA_METRICS.slice(0, 5)),
      }),
    });
  }

  /** The "before" /metrics again, once the warm-up is over: the run's differences then cover measured requests only. */
  async afterWarmup(): Promise<void> {
    // No idle counting connection stays open while measuring (llama-server gives each one an HTTP thread).
    this.planning.release();
    const r = await rescrapeAfterWarmup(this.metricsBefore, `${this.session.baseUrl}/metrics`, this.session.authHeaders(), this.profile.sideRequestTimeoutMs);
    this.metricsBefore = r.before;
    this.metricsWarmupNote = r.note;
  }

  async serverMetrics(): Promise<MetricsOverRun | null> {
    return (await this.metricsOverRun()).metrics;
  }

  /** /metrics differences and truncation counts, for the run's manifest. */
  async serverReport(): Promise<ServerReport> {
    return { ...(await this.metricsOverRun()), truncation: this.truncation };
  }

  /** Generations flagged as truncated so far, and "input truncated" lines in a managed server's log. */
  get truncation(): { flagged: number; logLines: number } {
    return { flagged: this.truncatedGenerations, logLines: this.startup.truncations };
  }

  async memory(): Promise<MemoryReport> {
    return serverMemoryReport({
      mode: this.profile.mode,
      sampler: this.sampler,
      smi: this.opts.nvidiaSmi ?? new NvidiaSmi(),
      weights: await this.weightsFigure(),
      residentWeights: this.proc ? residentWeightsFigureOf(this.startup)
        : notAvailable('llama-server start-up log, model buffer size', 'attached server: its start-up log is not visible'),
      context: this.contextFigure(),
    });
  }

  private async weightsFigure(): Promise<MemoryFigure> {
    const size = this.modelInfo?.meta?.size;
    if (typeof size === 'number' && size > 0) return { bytes: size, source: 'llama-server /v1/models meta.size (bytes of the model tensors)' };
    const path = this.profile.model ?? this.props?.model_path;
    if (path) {
      const s = await stat(path).then((x) => x.size, () => null);
      if (s !== null) return { bytes: s, source: `model file size (${path})` };
    }
    if (Object.keys(this.startup.modelBuffers).length) {
      // Neither the tensor size nor the file: the resident buffers stand in, and the source says so.
      return { bytes: sum(this.startup.modelBuffers), source: 'llama-server start-up log, model buffer size (all devices): resident buffers, no file size was available' };
    }
    return notAvailable('llama-server /v1/models meta.size', 'the server did not report a size and the model file is not readable here');
  }

  private contextFigure(): MemoryFigure {
    const kv = this.startup.kvBytes ?? (Object.keys(this.startup.kvBuffers).length ? sum(this.startup.kvBuffers) : null);
    const slots = this.props?.total_slots;
    const desc = `${this.slotContext ?? '?'} tokens per slot x ${slots ?? '?'} slot(s)`;
    if (kv !== null) return { bytes: kv, source: 'llama-server start-up log, KV cache size', note: desc };
    return notAvailable('llama-server start-up log, KV cache size', `${this.proc ? 'no KV size line in the log' : 'attached server: its start-up log is not visible'}; ${desc}`);
  }

  async close(): Promise<void> {
    this.planning.release();
    this.sampler?.sampleNow();
    this.sampler?.stop();
    if (this.proc) {
      const info = await this.proc.stop();
      this.stopDescription = info.description;
    }
  }

  /** How a managed server ended (after close), for reports. */
  get stopped(): string | null {
    return this.stopDescription;
  }

  /** A managed server that exited, or a server that does not answer /health within sideRequestTimeoutMs. */
  async probe(signal?: AbortSignal): Promise<string | null> {
    return probeServer('llama-server', this.proc, `${this.session.baseUrl}/health`, this.session.authHeaders(), this.profile.sideRequestTimeoutMs, signal, this.session);
  }

  /** Requests in flight cut after capacity errors (null: never). */
  throttle(): ThrottleReport | null {
    return this.session.throttle();
  }

  managedServer(): ManagedServerEnd | null {
    return this.proc?.end() ?? null;
  }
}

/** Shared by the server runners: why the server is not answering, or null. */
export async function probeServer(name: string, proc: ManagedProcess | null, healthUrl: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal,
  session?: OpenAiServerSession): Promise<string | null> {
  if (proc?.exit) return `the managed ${name} ${proc.exit.description}`;
  // The stall watchdog has just found it silent on every stream and deaf to /health: no second wait.
  const recent = session?.recentlyUnresponsive();
  if (recent) return `${name} is not answering: ${recent}`;
  const why = await probeHealth(healthUrl, headers, timeoutMs, signal);
  return why ? `${name} is not answering: ${why}` : null;
}

/** The stall watchdog's limits from a server profile. */
export function stallOptionsOf(p: { firstByteTimeoutMs: number; stallTimeoutMs: number; stallProbeTimeoutMs: number }): NonNullable<ServerSessionOptions['stall']> {
  return { firstByteTimeoutMs: p.firstByteTimeoutMs, stallTimeoutMs: p.stallTimeoutMs, probeTimeoutMs: p.stallProbeTimeoutMs, healthPath: '/health' };
}

/** The model buffers of a managed server's start-up log (see residentWeightsFigure in memory-probe.ts). */
export function residentWeightsFigureOf(m: LlamaStartupMemory): MemoryFigure {
  return residentWeightsFigure(m.modelBuffers, 'llama-server start-up log');
}

/** An item the context could not hold: the run records it as an error of this kind, never scores it. */
function contextError(kind: 'prompt-too-long' | 'prompt-truncated' | 'context-shift' | 'context-full', message: string, retries?: number): Error {
  return Object.assign(new Error(message), { kind, ...(retries !== undefined ? { retries } : {}) });
}

/** Calls `f` on the first call only (the first attempt's start; retries do not move it). */
function onFirst(f: (t0: number) => void): (t0: number) => void {
  let called = false;
  return (t0) => {
    if (!called) f(t0);
    called = true;
  };
}

/** GBNF allowing exactly `prefix` then one letter (llama-server takes `grammar` in the request body). */
export function letterGrammar(c: { letters: string[]; prefix: string }): string {
  return `root ::= ${JSON.stringify(c.prefix)} (${c.letters.map((l) => JSON.stringify(l)).join(' | ')})`;
}

/** Quantisation from a GGUF file name (Q4_K_M, Q8_0, F16...), for describe() when nothing better is known. */
export function guessQuant(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const m = /(?:^|[-_.])((?:I?Q\d[_A-Z0-9]*)|BF16|F16|F32)(?=\.gguf$|[-_.])/i.exec(path.split('/').pop() ?? '');
  return m ? m[1]!.toUpperCase() : undefined;
}

export function createLlamaServerRunner(profile: LlamaServerProfile, opts: ServerRunnerOptions = {}): Promise<LlamaServerRunner> {
  return LlamaServerRunner.create(profile, opts);
}

export const llamaServerRunner = defineRunner({
  kind: 'llama-server',
  description: "llama.cpp's llama-server over HTTP, attached or managed",
  profileSchema: llamaServerProfileSchema,
  create: (profile) => createLlamaServerRunner(profile),
  capabilities: {
    likelihood: true,
    modes: ['attached', 'managed'],
    contextSetting: "the server's -c divided by -np (n_ctx per slot)",
    pathFields: ['model', 'binary'],
    serverMetrics: LLAMA_SERVER_METRICS,
  },
});
