// vLLM's OpenAI-compatible server as a Runner, attached (baseUrl) or managed (medeval runs
// `vllm serve MODEL --host H --port P ...args` and stops it). Reasoning arrives separately when the server
// runs a reasoning parser (`--reasoning-parser deepseek_r1`: delta.reasoning_content, newer delta.reasoning).
// vLLM pre-allocates --gpu-memory-utilization of the GPU whatever the model, so device totals do not
// compare models: the weights figure comes from "Model loading took X GiB" in its start-up log.
// Context: vLLM refuses (400) a request whose prompt + max_tokens pass max_model_len, so the run counts
// nothing up front: a refused prompt is counted then (its /tokenize, chat template applied) and its budget
// capped to fit, or recorded as prompt-too-long (run/plan-budget.ts serverChecksContext).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineRunner } from './definition.js';
import { VLLM_SERVER_METRICS } from './server-metric-names.js';
import type { ChatMessage, GenerateRequest, Generation, LetterLogprobRequest, LetterLogprobs, MemoryFigure, MemoryReport, ModelDescription, Runner, RunnerNotice, ServerReport } from '../core/types.js';
import { notAvailable, ProcessTreeSampler, serverMemoryReport } from '../metrics/memory-probe.js';
import { NvidiaSmi } from '../metrics/nvidia-smi.js';
import { assignedGpus, DeviceMemoryTracker, needsDeviceAttribution, parallelSizes } from '../metrics/gpu-attribution.js';
import { counterDelta, histogramTotals, parsePrometheusText, pickMetrics, type PromScrape } from '../metrics/prometheus.js';
import type { ThrottleReport } from './capacity-window.js';
import { metricsOverRun, rescrapeAfterWarmup, type MetricsOverRun } from './server-metrics.js';
import { checkServerProfile, probeServer, serverProfileFields, stallOptionsOf, type ServerRunnerOptions } from './llama-server.js';
import {
  checkServerIdentity, findFreePort, getJson, getText, HealthTimeoutError, ManagedProcess, serverNonce, ServerStartError, waitForHealth,
} from './managed-process.js';
import type { ManagedServerEnd } from '../core/types.js';
import { messagesAsPrompt, OpenAiServerSession, registerServerSecrets, resolveApiKey } from './openai-stream.js';
import { PlanningConnections, postJsonOnce } from './side-request.js';
import { vllmLetterLogprobs } from './server-likelihood.js';

const GIB = 1024 ** 3;

export const vllmProfileSchema = z
  .strictObject({
    kind: z.literal('vllm'),
    ...serverProfileFields,
    binary: z.string().min(1).default('vllm'),
    startupTimeoutMs: z.number().int().positive().default(900_000),
    /** How to ask for constrained letters: newer vLLM `structured_outputs.choice`, older `guided_choice`. */
    constrainField: z.enum(['structured_outputs', 'guided_choice']).default('structured_outputs'),
  })
  .superRefine((p, ctx) => checkServerProfile(p, ctx, ['--port', '--host']));
export type VllmProfile = z.infer<typeof vllmProfileSchema>;

/** Figures vLLM prints while starting. */
export interface VllmStartupMemory {
  modelLoadingBytes: number | null;
  availableKvBytes: number | null;
  kvCacheTokens: number | null;
  maxConcurrency: number | null;
}

export function emptyVllmStartup(): VllmStartupMemory {
  return { modelLoadingBytes: null, availableKvBytes: null, kvCacheTokens: null, maxConcurrency: null };
}

/** Feeds one vLLM log line (any prefix: "INFO 05-06 ...", "(EngineCore_DP0 pid=..) INFO ...") into `m`. */
export function parseVllmLogLine(line: string, m: VllmStartupMemory): void {
  let r: RegExpExecArray | null;
  if ((r = /Model loading took ([\d.]+) ?GiB/.exec(line))) m.modelLoadingBytes = Number(r[1]) * GIB;
  else if ((r = /Available KV cache memory: ([\d.]+) ?GiB/.exec(line))) m.availableKvBytes = Number(r[1]) * GIB;
  else if ((r = /GPU KV cache size: ([\d,]+) tokens/.exec(line))) m.kvCacheTokens = Number(r[1]!.replace(/,/g, ''));
  if ((r = /Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x/.exec(line))) m.maxConcurrency = Number(r[1]);
}

/** Current name first, then deprecated ones (hidden a minor release later, then removed). */
export const VLLM_METRICS: string[][] = [
  ['vllm:num_requests_running'],
  ['vllm:num_requests_waiting'],
  ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  ['vllm:prompt_tokens_total'],
  ['vllm:generation_tokens_total'],
  ['vllm:request_success_total'],
  ['vllm:num_preemptions_total'],
  ['vllm:prefix_cache_queries_total', 'vllm:prefix_cache_queries', 'vllm:gpu_prefix_cache_queries_total', 'vllm:gpu_prefix_cache_queries'],
  ['vllm:prefix_cache_hits_total', 'vllm:prefix_cache_hits', 'vllm:gpu_prefix_cache_hits_total', 'vllm:gpu_prefix_cache_hits'],
];
const VLLM_COUNTERS = VLLM_METRICS.slice(3);
/** The histograms scraped before and after a run: the ones the server view reads. */
export const VLLM_HISTOGRAMS: string[][] = VLLM_SERVER_METRICS.histograms!.map((h) => h.names);

interface VllmModels {
  data?: Array<{ id: string; root?: string; max_model_len?: number }>;
}

export class VllmRunner implements Runner {
  readonly kind = 'vllm';
  private readonly startup = emptyVllmStartup();
  private metricsBefore: PromScrape | null = null;
  private metricsNote = '';
  /** Set when the after-warm-up scrape failed: the /metrics differences then include the warm-up. */
  private metricsWarmupNote: string | null = null;
  private modelInfo: NonNullable<VllmModels['data']>[number] | null = null;
  private sampler: ProcessTreeSampler | null = null;
  /** Why a multi-GPU server's memory is attributed per process after all (GPUs by UUID, no nvidia-smi). */
  gpuAttributionNote: string | null = null;
  private proc: ManagedProcess | null = null;
  private session!: OpenAiServerSession;
  private stopDescription: string | null = null;
  private readonly tokenCounts = new Map<string, number>();
  /** The planning step's counts go over a few kept-alive connections, closed once the warm-up is over. */
  private readonly planning = new PlanningConnections();

  private constructor(readonly profile: VllmProfile, private readonly opts: ServerRunnerOptions) {}

  static async create(profile: VllmProfile, opts: ServerRunnerOptions = {}): Promise<VllmRunner> {
    const r = new VllmRunner(profile, opts);
    const apiKey = resolveApiKey(profile.apiKeyEnv);
    registerServerSecrets(profile.args);
    const headers: Record<string, string> = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
    let baseUrl: string;
    let devices: DeviceMemoryTracker | null = null;
    if (profile.mode === 'managed') {
      devices = await deviceTrackerFor(profile.args, opts.nvidiaSmi ?? new NvidiaSmi(), (n) => (r.gpuAttributionNote = n));
      const port = opts.port ?? (await findFreePort(profile.host));
      baseUrl = `http://${profile.host}:${port}`;
      // One more served name, unique, read back from /v1/models after start (the first name stays the model's).
      const alias = serverNonce();
      r.proc = await ManagedProcess.start({
        binary: profile.binary,
        args: ['serve', profile.model!, '--host', profile.host, '--port', String(port), ...withServedName(profile.args, profile.model!, alias)],
        healthUrl: `${baseUrl}/health`,
        startupTimeoutMs: profile.startupTimeoutMs,
        stopGraceMs: profile.stopGraceMs,
        name: 'vllm',
        onLogLine: (l) => parseVllmLogLine(l, r.startup),
        verify: async (p) => {
          const problem = await checkServerIdentity({ name: 'vllm', baseUrl, port, pid: p.pid, alias, headers, timeoutMs: profile.sideRequestTimeoutMs });
          if (problem) throw new ServerStartError(problem, []);
        },
      });
    } else {
      baseUrl = profile.baseUrl!.replace(/\/+$/, '');
      try {
        await waitForHealth(`${baseUrl}/health`, profile.startupTimeoutMs, { headers, refusedLimitMs: 10_000 });
      } catch (e) {
        if (e instanceof HealthTimeoutError) {
          throw new Error(`vLLM at ${baseUrl} is not ready: ${e.message}\n  hint: start it first (vllm serve ...), or check baseUrl in the runner profile`);
        }
        throw e;
      }
    }
    const models = await getJson<VllmModels>(`${baseUrl}/v1/models`, headers, profile.sideRequestTimeoutMs);
    if (models.ok) r.modelInfo = models.value.data?.[0] ?? null;
    r.session = new OpenAiServerSession({
      baseUrl,
      apiKey,
      model: r.modelInfo?.id ?? profile.model ?? 'default',
      api: profile.api,
      inlineThink: profile.inlineThink,
      retries: profile.retries,
      requestTimeoutMs: profile.requestTimeoutMs,
      stall: stallOptionsOf(profile),
      maxRetryAfterMs: profile.maxRetryAfterMs,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.retrySleep ? { retrySleep: opts.retrySleep } : {}),
    });
    const metrics = await getText(`${baseUrl}/metrics`, headers, profile.sideRequestTimeoutMs);
    if (metrics.ok) r.metricsBefore = parsePrometheusText(metrics.value);
    else r.metricsNote = `/metrics not available (${metrics.reason.split('\n')[0]})`;
    const pid = r.proc?.pid ?? profile.pid;
    if (pid) {
      r.sampler = new ProcessTreeSampler(pid, {
        ...(opts.nvidiaSmi ? { nvidiaSmi: opts.nvidiaSmi } : {}),
        ...(devices ? { devices } : {}),
        ...(opts.sampleIntervalMs ? { intervalMs: opts.sampleIntervalMs } : {}),
      });
      r.sampler.start();
    }
    return r;
  }

  setNoticeListener(listener: (notice: RunnerNotice) => void): void {
    this.session.onNotice = listener;
  }

  get baseUrl(): string {
    return this.session.baseUrl;
  }

  get serverPid(): number | undefined {
    return this.proc?.pid;
  }

  get startupFigures(): VllmStartupMemory {
    return { ...this.startup };
  }

  async describe(): Promise<ModelDescription> {
    const model = this.profile.model ?? this.modelInfo?.root ?? this.modelInfo?.id;
    const files = model ? await localWeights(model) : null;
    const quant = this.profile.args.find((_, i, a) => a[i - 1] === '--quantization')
      ?? this.profile.args.find((a) => a.startsWith('--quantization='))?.split('=')[1]
      ?? (/\bawq\b/i.test(model ?? '') ? 'AWQ' : /\bgptq\b/i.test(model ?? '') ? 'GPTQ' : undefined);
    return {
      runner: this.kind,
      label: this.profile.label,
      ...(model ? { modelPath: model } : {}),
      parameters: null,
      fileBytes: files?.bytes ?? null,
      ...(quant ? { quantization: quant.toUpperCase() } : {}),
      ...(this.modelInfo?.max_model_len ? { contextSize: this.modelInfo.max_model_len } : {}),
      extra: {
        mode: this.profile.mode,
        baseUrl: this.session.baseUrl,
        serverModelId: this.session.model,
        maxModelLen: this.modelInfo?.max_model_len ?? null,
        api: this.profile.api,
        ...(this.proc ? { startup: { ...this.startup, source: 'vLLM start-up log' }, args: this.profile.args } : {}),
        ...(this.metricsNote ? { metrics: this.metricsNote } : {}),
        ...(this.profile.notes ? { notes: this.profile.notes } : {}),
      },
    };
  }

  /** Multiple choice by likelihood: the continuation's prompt log-probabilities (echo), see server-likelihood.ts. */
  async letterLogprobs(req: LetterLogprobRequest): Promise<LetterLogprobs> {
    return vllmLetterLogprobs(this.session.baseUrl, this.session.model, req, {
      headers: this.session.authHeaders(),
      timeoutMs: this.profile.requestTimeoutMs,
      maxModelLen: this.modelInfo?.max_model_len ?? null,
    });
  }

  async generate(req: GenerateRequest): Promise<Generation> {
    const extraBody: Record<string, unknown> = {};
    if (req.constrain) {
      const choices = req.constrain.letters.map((l) => req.constrain!.prefix + l);
      if (this.profile.constrainField === 'guided_choice') extraBody.guided_choice = choices;
      else extraBody.structured_outputs = { choice: choices };
    }
    // Counted by the run's planning step; vLLM itself refuses (400) what does not fit, so direct callers need no count.
    const known = req.promptTokens ?? null;
    const limit = this.modelInfo?.max_model_len ?? null;
    let sampling = req.sampling;
    if (known !== null && limit !== null) {
      const room = limit - known - 1;
      if (room < 1) {
        throw Object.assign(new Error(`the prompt takes ${known} tokens and this vLLM serves at most ${limit} (max_model_len): no room to generate; ` +
          'raise --max-model-len or shorten the prompt'), { kind: 'prompt-too-long' });
      }
      if (sampling.maxTokens > room) sampling = { ...sampling, maxTokens: room };
    }
    try {
      let first = true;
      const onStart = req.onStart ? (t0: number) => { if (first) req.onStart!(t0); first = false; } : undefined;
      return (await this.session.generate({ ...req, sampling }, extraBody, onStart ? { onStart } : {})).generation;
    } catch (e) {
      const m = (e as Error).message ?? '';
      if (/maximum context length/i.test(m)) throw Object.assign(new Error(m), { kind: 'prompt-too-long', retries: (e as { retries?: number }).retries ?? 0 });
      throw e;
    }
  }

  /** Prompt tokens as vLLM counts them (POST /tokenize, chat template applied), once per prompt; null when not available. */
  async countPromptTokens(messages: ChatMessage[], signal?: AbortSignal): Promise<number | null> {
    const key = JSON.stringify(messages);
    const cached = this.tokenCounts.get(key);
    if (cached !== undefined) return cached;
    const body = this.profile.api === 'chat'
      ? { model: this.session.model, messages, add_generation_prompt: true }
      : { model: this.session.model, prompt: messagesAsPrompt(messages) };
    const r = await postJsonOnce<{ count?: unknown }>(`${this.session.baseUrl}/tokenize`, body,
      { headers: this.session.authHeaders(), timeoutMs: this.profile.sideRequestTimeoutMs, agent: this.planning.for(this.session.baseUrl), ...(signal ? { signal } : {}) });
    if (!r.ok || typeof r.value.count !== 'number') return null;
    if (this.tokenCounts.size > 5000) this.tokenCounts.clear();
    this.tokenCounts.set(key, r.value.count);
    return r.value.count;
  }

  /** /metrics before the run and now: gauges, counter differences, histogram sums/counts (current or deprecated names). */
  private metricsOverRun(): ReturnType<typeof metricsOverRun> {
    return metricsOverRun({
      before: this.metricsBefore,
      beforeNote: this.metricsNote,
      limitNote: this.metricsWarmupNote,
      url: `${this.session.baseUrl}/metrics`,
      headers: this.session.authHeaders(),
      timeoutMs: this.profile.sideRequestTimeoutMs,
      figures: (before, after) => {
        const delta = counterDelta(before, after, VLLM_COUNTERS);
        for (const names of VLLM_HISTOGRAMS) {
          const a = histogramTotals(after, names);
          const b = histogramTotals(before, names);
          if (a) {
            delta[`${a.name}_sum`] = a.sum - (b?.name === a.name ? b.sum : 0);
            delta[`${a.name}_count`] = a.count - (b?.name === a.name ? b.count : 0);
          }
        }
        return { before: pickMetrics(before, VLLM_METRICS), after: pickMetrics(after, VLLM_METRICS), delta };
      },
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

  /** /metrics differences over the run, for the run's manifest. */
  async serverReport(): Promise<ServerReport> {
    return this.metricsOverRun();
  }

  async memory(): Promise<MemoryReport> {
    const report = await serverMemoryReport({
      mode: this.profile.mode,
      sampler: this.sampler,
      smi: this.opts.nvidiaSmi ?? new NvidiaSmi(),
      weights: await this.weightsFigure(),
      residentWeights: this.startup.modelLoadingBytes !== null
        ? { bytes: this.startup.modelLoadingBytes, source: 'vLLM start-up log "Model loading took X GiB" (weights on the GPU)' }
        : notAvailable('vLLM start-up log "Model loading took X GiB"', this.proc ? 'no such line in the log' : 'attached server: its start-up log is not visible'),
      context: this.contextFigure(),
    });
    const gpu = report.gpuProcessPeak;
    if (this.gpuAttributionNote && gpu) report.gpuProcessPeak = { ...gpu, note: `${gpu.note ? gpu.note + '; ' : ''}attribution: processes, not devices: ${this.gpuAttributionNote}` };
    return report;
  }

  private async weightsFigure(): Promise<MemoryFigure> {
    const model = this.profile.model ?? this.modelInfo?.root;
    const files = model ? await localWeights(model) : null;
    if (files) return { bytes: files.bytes, source: `sum of ${files.count} *.safetensors file(s) in ${model}` };
    if (this.startup.modelLoadingBytes !== null) {
      // No local files (a hub id): the resident figure stands in, and the source says so.
      return { bytes: this.startup.modelLoadingBytes, source: 'vLLM start-up log "Model loading took X GiB" (weights on the GPU; no local model files to measure)' };
    }
    return notAvailable('vLLM start-up log / model files',
      this.proc ? 'no "Model loading took" line in the log and the model is not a local folder'
        : 'attached server: its start-up log is not visible and the model is not a local folder');
  }

  private contextFigure(): MemoryFigure {
    const tokens = this.startup.kvCacheTokens;
    const note = `${tokens !== null ? `${tokens} tokens of KV cache; ` : ''}max_model_len ${this.modelInfo?.max_model_len ?? '?'}; vLLM sizes the KV cache from --gpu-memory-utilization or --kv-cache-memory-bytes: keep them identical across compared models`;
    if (this.startup.availableKvBytes !== null) {
      return { bytes: this.startup.availableKvBytes, source: 'vLLM start-up log "Available KV cache memory: X GiB"', note };
    }
    return notAvailable('vLLM start-up log "Available KV cache memory"', `${this.proc ? 'no such line in the log' : 'attached server: its start-up log is not visible'}; ${note}`);
  }

  async close(): Promise<void> {
    this.planning.release();
    this.sampler?.sampleNow();
    this.sampler?.stop();
    if (this.proc) this.stopDescription = (await this.proc.stop()).description;
  }

  get stopped(): string | null {
    return this.stopDescription;
  }

  /** A managed server that exited, or a server that does not answer /health within sideRequestTimeoutMs. */
  async probe(signal?: AbortSignal): Promise<string | null> {
    return probeServer('vLLM', this.proc, `${this.session.baseUrl}/health`, this.session.authHeaders(), this.profile.sideRequestTimeoutMs, signal, this.session);
  }

  /** Requests in flight cut after capacity errors (null: never). */
  throttle(): ThrottleReport | null {
    return this.session.throttle();
  }

  managedServer(): ManagedServerEnd | null {
    return this.proc?.end() ?? null;
  }
}

/**
 * `args` with `alias` added to vLLM's --served-model-name (it takes several names; /v1/models lists each,
 * the first one names the /metrics series): after the user's names, or after the model when none given.
 */
export function withServedName(args: string[], model: string, alias: string): string[] {
  const i = args.findIndex((a) => a === '--served-model-name' || a.startsWith('--served-model-name='));
  if (i < 0) return [...args, '--served-model-name', model, alias];
  if (args[i]!.includes('=')) return [...args.slice(0, i), '--served-model-name', args[i]!.split('=').slice(1).join('='), alias, ...args.slice(i + 1)];
  let end = i + 1;
  while (end < args.length && !args[end]!.startsWith('-')) end++;
  return [...args.slice(0, end), alias, ...args.slice(end)];
}

/** Bytes of *.safetensors in a local model folder; null for a hub id or a folder without them. */
async function localWeights(model: string): Promise<{ bytes: number; count: number } | null> {
  try {
    const names = (await readdir(model)).filter((n) => n.endsWith('.safetensors'));
    if (names.length === 0) return null;
    const sizes = await Promise.all(names.map((n) => stat(join(model, n)).then((s) => s.size)));
    return { bytes: sizes.reduce((a, b) => a + b, 0), count: names.length };
  } catch {
    return null;
  }
}

/**
 * A managed vLLM on several GPUs or with the Ray executor: a tracker of the GPUs it is given, read before
 * it starts (their use then is the baseline). null when per-process attribution applies; `why` is told why
 * device attribution was wanted but is not possible.
 */
export async function deviceTrackerFor(args: string[], smi: NvidiaSmi, why: (note: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<DeviceMemoryTracker | null> {
  const sizes = parallelSizes(args);
  if (!needsDeviceAttribution(sizes)) return null;
  const before = await smi.devices();
  if (!before.ok) {
    why(`${sizes.tensor * sizes.pipeline * sizes.data} GPU(s)${sizes.ray ? ' with Ray' : ''} asked, but ${before.reason}`);
    return null;
  }
  const assignment = assignedGpus(sizes, env.CUDA_VISIBLE_DEVICES, before.value);
  if (typeof assignment === 'string') {
    why(`${assignment}; Ray workers (not children of vllm serve) are then missed`);
    return null;
  }
  return new DeviceMemoryTracker(assignment, before.value);
}

export function createVllmRunner(profile: VllmProfile, opts: ServerRunnerOptions = {}): Promise<VllmRunner> {
  return VllmRunner.create(profile, opts);
}

export const vllmRunner = defineRunner({
  kind: 'vllm',
  description: 'vLLM serve over HTTP, attached or managed',
  profileSchema: vllmProfileSchema,
  create: (profile) => createVllmRunner(profile),
  capabilities: {
    likelihood: true,
    modes: ['attached', 'managed'],
    contextSetting: "vLLM's --max-model-len",
    pathFields: ['model', 'binary'],
    serverMetrics: VLLM_SERVER_METRICS,
  },
});
