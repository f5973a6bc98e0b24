// The streaming core shared by the llama-server and vLLM runners: one request through the official
// `openai` SDK (chat or plain completions; the SDK builds and sends the request and turns HTTP errors into
// its typed errors), the SSE body read here with a small parser so every network read is timed the moment
// it arrives (the SDK's own iterator costs ~0.3 ms CPU per request: bench/client-overhead.ts), then classified into reasoning
// and answer and fed to the shared StreamTimer (src/metrics/stream-timer.ts), so TTFT/TTFO/ITL/E2EL/TPOT
// mean the same for every runner. Reasoning comes from `delta.reasoning_content` (llama.cpp, older vLLM),
// `delta.reasoning` (newer vLLM) or inline `<think>` text.
import { SseEventReader } from './sse.js';
// The SDK's error classes only (openai/error: two small modules); the SDK itself (150 modules, ~0.1 s of
// start-up) is imported when a client is made, which the streamed path never needs (createOpenAiClient).
import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/error';
import { performance } from 'node:perf_hooks';
import { InputError } from '../core/errors.js';
import { redact, registerSecret } from '../core/redact.js';
import type { ChatMessage, FinishReason, GenerateRequest, Generation, RunnerNotice, SamplingParams, TokenCountSource } from '../core/types.js';
import { InlineThinkSplitter, StreamTimer } from '../metrics/stream-timer.js';
import { createHttpTransport, decoded, responseHeaders, type Abortable, type FlatHeaders, type HttpTransport, type RawResponse } from './http-fetch.js';
import { probeHealth } from './managed-process.js';
import { AttemptCancel, inStreamError, RequestError, withRetry, type AttemptGate, type RetryOptions } from './retry.js';
import { CapacityWindow, type ThrottleReport, type WindowTicket } from './capacity-window.js';
import { ServerActivity, StallWatchdog, type StallOptions } from './stall-watchdog.js';

export type ApiKind = 'chat' | 'completions';
/** How to read `<think>` in answer text: auto-detect, the template prefilled `<think>` (R1 distills), or never. */
export type InlineThinkMode = 'auto' | 'starts-in-reasoning' | 'off';

/** Reads the API key from the named environment variable; the key itself is never logged or stored. */
export function resolveApiKey(envName: string | undefined, field = 'apiKeyEnv'): string | null {
  if (!envName) return null;
  const v = process.env[envName];
  if (!v) {
    throw new InputError(`environment variable ${envName} (named by ${field}) is not set or empty`, { field },
      `export ${envName}=... before running, or remove ${field} for a server without a key`);
  }
  // From here on every stored or printed text has it cut out (src/core/redact.ts).
  registerSecret(v);
  return v;
}

/**
 * Keys a managed server is given on its command line (`--api-key K`, `--api-key=K`, comma-separated lists)
 * or through the environment it inherits (LLAMA_API_KEY, VLLM_API_KEY): the profile's args are recorded in
 * the manifest and servers echo keys in errors, so they are secrets like apiKeyEnv's.
 */
export function registerServerSecrets(args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const values: string[] = [];
  args.forEach((a, i) => {
    if (a === '--api-key' && args[i + 1] !== undefined) values.push(args[i + 1]!);
    else if (a.startsWith('--api-key=')) values.push(a.slice('--api-key='.length));
  });
  for (const name of ['LLAMA_API_KEY', 'VLLM_API_KEY']) if (env[name]) values.push(env[name]!);
  for (const v of values) for (const key of [v, ...v.split(',')]) if (key.trim()) registerSecret(key.trim());
}

/**
 * One SDK client per server. The SDK's own retries are off: retry.ts decides. Requests go over
 * http-fetch.ts (node:http keep-alive) unless a fetch is given: Node's fetch costs more CPU per request
 * than the SDK and medeval together (bench/client-overhead.ts). The SDK is loaded here, on first use.
 */
export async function createOpenAiClient(baseUrl: string, apiKey: string | null, fetchImpl?: typeof fetch): Promise<OpenAI> {
  const { default: OpenAI } = await import('openai');
  return new OpenAI({
    baseURL: `${baseUrl.replace(/\/+$/, '')}/v1`,
    // The SDK insists on a key; with none configured send no Authorization header at all.
    apiKey: apiKey ?? 'unused',
    ...(apiKey ? {} : { defaultHeaders: { Authorization: null } }),
    maxRetries: 0,
    timeout: 24 * 3600 * 1000, // retry.ts enforces the real per-request timeout over the whole stream
    fetch: keepErrorBodies(fetchImpl ?? createHttpTransport().fetch),
  });
}

/**
 * The SDK reads an error's text only from a top-level `error` key; vLLM's older errors are
 * {"object":"error","message":...} and FastAPI's are {"detail":...}. Wrap such bodies so the message
 * ("maximum context length is ...") reaches the report. Successful responses pass through untouched.
 */
function keepErrorBodies(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (res.ok) return res;
    const text = await res.text();
    let body = text;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !('error' in parsed)) body = JSON.stringify({ error: parsed });
    } catch {
      if (text.trim()) body = JSON.stringify({ error: { message: redact(text.trim()).slice(0, 500) } });
    }
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    headers.set('content-type', 'application/json');
    return new Response(body, { status: res.status, statusText: res.statusText, headers });
  };
}

export interface StreamRequest {
  api: ApiKind;
  model: string;
  messages: ChatMessage[];
  sampling: SamplingParams;
  /** Engine-specific body fields (cache_prompt, grammar, guided_choice...). */
  extraBody?: Record<string, unknown>;
  inlineThink?: InlineThinkMode;
  /** Ends the attempt: the retry's AttemptCancel (which the stall watchdog may end too), or a caller's signal. */
  signal?: AbortSignal | AttemptCancel;
  /** Called with the timer's start (performance.now()) just before the request is sent. */
  onStart?: (t0: number) => void;
  /** Silence limits (stall-watchdog.ts): a frozen server ends the attempt in seconds, a busy one does not. */
  watchdog?: { options: StallOptions; activity: ServerActivity };
}

/** llama.cpp `timings` as sent on the last chunk. */
export interface LlamaTimings {
  prompt_n?: number;
  prompt_ms?: number;
  predicted_n?: number;
  predicted_ms?: number;
  cache_n?: number;
}

export interface StreamUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export interface StreamOutcome {
  generation: Generation;
  usage: StreamUsage | null;
  timings: LlamaTimings | null;
  /** finish_reason exactly as the server sent it. */
  rawFinishReason: string | null;
  /** Parsed chunks (text or not), for diagnostics. */
  chunks: number;
}

interface ChunkEvent {
  at: number;
  reasoning: string;
  content: string;
}

function parseEventData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new RequestError('bad-response', `a stream event is not JSON: ${JSON.stringify(redact(data).slice(0, 200))}`);
  }
}

/** Joins chat messages into one prompt for /v1/completions, which applies no chat template. */
export function messagesAsPrompt(messages: ChatMessage[]): string {
  return messages.map((m) => m.content).join('\n\n');
}

/** The sampling fields of a request body, written into `body` in this order. */
function addSampling(body: Record<string, unknown>, s: SamplingParams): void {
  body.max_tokens = s.maxTokens;
  body.temperature = s.temperature;
  body.top_p = s.topP;
  if (s.topK !== undefined) body.top_k = s.topK;
  if (s.minP !== undefined) body.min_p = s.minP;
  if (s.seed !== undefined) body.seed = s.seed;
  if (s.stop?.length) body.stop = s.stop;
}

/**
 * The hot path's target: the keep-alive transport itself, with the SDK's base URL and auth. A request sent
 * this way builds no SDK request, no WHATWG Response, Headers or stream: at thousands of requests per second
 * those were most of the client's CPU (bench/client-overhead.ts). What it needs of the SDK it still takes
 * from it: a status other than 2xx becomes the SDK's own typed error (APIError.generate, after the same
 * error-body rules as keepErrorBodies), a network failure its APIConnectionError / timeout / abort errors,
 * so retry.ts classifies both paths alike.
 */
export interface DirectTarget {
  transport: HttpTransport;
  /** The server's base URL, without /v1. */
  baseUrl: string;
  apiKey: string | null;
  /** The two endpoints, parsed once, and their headers as the transport sends them (filled in on first use). */
  urls?: { chat: URL; completions: URL };
  heads?: { chat: FlatHeaders; completions: FlatHeaders };
}

/** A request the SDK would send: JSON, the key as a Bearer token (none without one); the length per request. */
function directHeaders(target: DirectTarget): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json',
    'content-length': '',
    ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
  };
}

/** The SDK's errors for what the transport threw before an answer (its makeRequest's rules). */
function connectionError(e: unknown, signal: Abortable): Error {
  if (signal.aborted) return new APIUserAbortError();
  const err = e as Error & { cause?: unknown };
  const timedOut = (err?.name === 'AbortError') || /timed? ?out/i.test(String(err) + ('cause' in Object(err) ? String(err.cause) : ''));
  if (timedOut) return new APIConnectionTimeoutError();
  return new APIConnectionError({ cause: err });
}

/** A non-2xx answer as the SDK would throw it, with keepErrorBodies' rules for bodies without an `error` key. */
async function statusError(raw: RawResponse): Promise<Error> {
  const chunks: Buffer[] = [];
  let text = '';
  try {
    for await (const c of decoded(raw.res)) chunks.push(c as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    text = (e as Error).message;
  }
  let body: unknown;
  try {
    const parsed: unknown = JSON.parse(text);
    body = parsed && typeof parsed === 'object' && !('error' in parsed) ? { error: parsed } : parsed;
  } catch {
    body = text.trim() ? { error: { message: redact(text.trim()).slice(0, 500) } } : undefined;
  }
  return APIError.generate(raw.status, body as object | undefined, body === undefined ? text : undefined, responseHeaders(raw.res.rawHeaders));
}

/** Sends one streamed request and measures it. Throws (SDK errors or RequestError); retry.ts classifies. */
export async function streamGeneration(client: OpenAI | DirectTarget, req: StreamRequest): Promise<StreamOutcome> {
  // model, sampling, stream, then the engine's fields (a field given twice keeps its first place, as a spread does).
  const body: Record<string, unknown> = { model: req.model };
  addSampling(body, req.sampling);
  body.stream = true;
  body.stream_options = { include_usage: true };
  if (req.extraBody) for (const k of Object.keys(req.extraBody)) body[k] = req.extraBody[k];
  if (req.api === 'chat') body.messages = req.messages;
  else body.prompt = messagesAsPrompt(req.messages);

  // The attempt's cancel: the retry's own (the stall watchdog ends it with its own error), else one
  // linked to the caller's signal, so the caller's is never aborted from here.
  let cancel: AttemptCancel;
  const outer = req.signal instanceof AttemptCancel ? null : req.signal;
  let onCallerAbort: (() => void) | null = null;
  if (req.signal instanceof AttemptCancel) cancel = req.signal;
  else {
    cancel = new AttemptCancel();
    if (outer?.aborted) cancel.abort(outer.reason);
    else if (outer) outer.addEventListener('abort', (onCallerAbort = () => cancel.abort(outer.reason)), { once: true });
  }
  let frozen: RequestError | null = null;
  const dog = req.watchdog ? new StallWatchdog(req.watchdog.options, req.watchdog.activity, (err) => {
    frozen = err;
    cancel.abort(err);
  }) : null;
  const stream = new ChunkReader(req.api, dog);
  const startedAtEpochMs = Date.now();
  const t0 = performance.now();
  req.onStart?.(t0);
  dog?.arm();
  try {
    if ('transport' in client) await readDirect(client, body, req.api, cancel, stream, dog);
    else await readThroughSdk(client, body, req.api, cancel.signal, stream, dog);
  } catch (e) {
    throw frozen ?? e;
  } finally {
    dog?.stop();
    if (onCallerAbort) outer!.removeEventListener('abort', onCallerAbort);
  }
  const endAt = performance.now();
  // A cut stream is an error, never an answer.
  if (frozen) throw frozen;
  if (req.signal?.aborted) throw req.signal.reason ?? new Error('aborted');
  const { events, usage, timings, finish, finishAt, chunks, serverReasoning } = stream;
  if (chunks === 0) throw new RequestError('bad-response', 'the stream ended without a single chunk (no TTFT can be measured)');
  if (finish === null) {
    throw new RequestError('bad-response', `the stream ended before a finish_reason (${events.length} text chunk(s) received): incomplete answer`);
  }

  const split = classify(events, serverReasoning, req.inlineThink ?? 'auto');
  const outputTokens = usage?.completion_tokens ?? timings?.predicted_n ?? null;
  const tokenSource: TokenCountSource =
    usage?.completion_tokens != null ? 'server-usage' : timings?.predicted_n != null ? 'engine' : 'chunks';
  const tokens = outputTokens ?? split.textChunks;

  // Replay the recorded arrivals through the one shared timer (start = t0, end of stream if no text).
  let clockCalls = 0;
  const timer = new StreamTimer(() => (clockCalls++ === 0 ? t0 : endAt));
  timer.start();
  for (const p of split.parts) timer.chunk(p.kind, p.text, p.at);
  const engine = engineFigures(usage, timings);
  // E2EL ends with the last token. With the server's count, that is the chunk carrying finish_reason: the
  // token that ended the answer (EOS, the grammar's end) is counted but sends no text, and llama-server
  // sends its finish chunk in the same step, so TPOT = (E2EL - TTFT) / (tokens - 1) spans exactly the
  // server's decode steps (predicted_ms covers the same first-to-last-token span). Counting text chunks
  // instead, the last text chunk is the last token.
  const lastTokenAt = tokenSource !== 'chunks' && finishAt !== null ? finishAt : undefined;
  const t = timer.finish(tokens, { ...(Object.keys(engine).length ? { engine } : {}), ...(lastTokenAt !== undefined ? { endAt: lastTokenAt } : {}) });
  t.startedAtEpochMs = startedAtEpochMs;

  const finishReason: FinishReason = finish === 'length' ? 'length' : 'stop';
  const hadReasoning = split.reasoning.length > 0 || split.unterminated;
  const unterminated = split.unterminated || (serverReasoning && split.answer.length === 0 && finishReason === 'length');
  const rawText = hadReasoning ? `<think>${split.reasoning}${unterminated ? '' : '</think>'}${split.answer}` : split.answer;
  const promptTokens = usage?.prompt_tokens ?? (timings?.prompt_n != null ? timings.prompt_n + (timings.cache_n ?? 0) : null);
  return {
    generation: {
      rawText,
      reasoning: hadReasoning ? split.reasoning : null,
      promptTokens,
      outputTokens: tokens,
      tokenSource,
      finishReason,
      timings: t,
    },
    usage,
    timings,
    rawFinishReason: finish,
    chunks,
  };
}

/** The SDK sends the request (typed errors for a bad status); the body is read here, each read timed. */
async function readThroughSdk(client: OpenAI, body: Record<string, unknown>, api: ApiKind, signal: AbortSignal,
  stream: ChunkReader, dog: StallWatchdog | null): Promise<void> {
  const opts = { signal, maxRetries: 0 };
  const pending = api === 'chat'
    ? client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming, opts)
    : client.completions.create(body as unknown as OpenAI.CompletionCreateParamsStreaming, opts);
  // The raw Response: status errors are still thrown by the SDK (typed, for retry.ts); the body is ours.
  const response = await pending.asResponse();
  dog?.progress('first-byte');
  if (!response.body) throw new RequestError('bad-response', 'the server answered without a body (expected an SSE stream)');
  const reader = response.body.getReader();
  let ended = false;
  try {
    for (;;) {
      const read = await reader.read();
      if (read.done) {
        ended = true;
        return;
      }
      stream.push(read.value, performance.now());
    }
  } finally {
    // Stopped early (an error in the stream): close the connection rather than drain it.
    if (!ended) reader.cancel().catch(() => {});
  }
}

/** The hot path: the request on the keep-alive transport, the body read from node's stream as it comes. */
async function readDirect(target: DirectTarget, body: Record<string, unknown>, api: ApiKind, signal: AttemptCancel,
  stream: ChunkReader, dog: StallWatchdog | null): Promise<void> {
  const text = JSON.stringify(body);
  const urls = (target.urls ??= { chat: new URL(`${target.baseUrl}/v1/chat/completions`), completions: new URL(`${target.baseUrl}/v1/completions`) });
  const heads = (target.heads ??= {
    chat: target.transport.flatHeaders(urls.chat, directHeaders(target)),
    completions: target.transport.flatHeaders(urls.completions, directHeaders(target)),
  });
  let raw: RawResponse;
  try {
    raw = await target.transport.request(api === 'chat' ? urls.chat : urls.completions, { method: 'POST', flat: api === 'chat' ? heads.chat : heads.completions, body: text, signal });
  } catch (e) {
    throw connectionError(e, signal);
  }
  if (raw.status < 200 || raw.status >= 300) throw await statusError(raw);
  dog?.progress('first-byte');
  const res = raw.res;
  if (raw.status === 204 || raw.status === 205) {
    res.resume();
    throw new RequestError('bad-response', 'the server answered without a body (expected an SSE stream)');
  }
  const source = decoded(res);
  await new Promise<void>((resolve, reject) => {
    let open = true;
    const end = (e?: unknown) => {
      if (!open) return;
      open = false;
      signal.removeEventListener('abort', onAbort);
      if (e === undefined) resolve();
      else {
        // Stopped early (an error in the stream, an abort): close the connection rather than drain it.
        res.destroy();
        if (source !== res) source.destroy();
        reject(e);
      }
    };
    const onAbort = () => end(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    if (signal.aborted) return onAbort();
    // Plain listeners, no once-wrappers (a closure and a removal each, per request): `end` runs once.
    signal.addEventListener('abort', onAbort);
    const cut = (e: unknown) => end(new TypeError('terminated', { cause: e }));
    source.on('data', (chunk: Buffer) => {
      if (!open) return;
      try {
        stream.push(chunk, performance.now());
      } catch (e) {
        end(e);
      }
    });
    source.on('end', () => end());
    // The same errors as the fetch path's body stream (undici's shape): a cut body is "terminated".
    source.on('error', cut);
    if (source !== res) res.on('error', cut);
    res.on('close', () => {
      if (!res.complete) cut(new Error('other side closed'));
    });
  });
}

/**
 * What one attempt's stream has said so far: every event completed by a network read, all of them
 * arrived at that read's time however long parsing takes. One object per attempt (no closure per read).
 */
class ChunkReader {
  readonly events: ChunkEvent[] = [];
  usage: StreamUsage | null = null;
  timings: LlamaTimings | null = null;
  finish: string | null = null;
  finishAt: number | null = null;
  chunks = 0;
  serverReasoning = false;
  private done = false;
  private readonly sse = new SseEventReader();

  constructor(private readonly api: ApiKind, private readonly dog: StallWatchdog | null) {}

  push(bytes: Uint8Array, at: number): void {
    this.dog?.progress();
    for (const event of this.sse.push(bytes)) {
      if (this.done) continue;
      // llama-server's SSE `error:` field: the server's own message and code, classified in retry.ts.
      if (event.field === 'error') throw inStreamError(event.value);
      const data = event.value;
      if (data.startsWith('[DONE]')) {
        this.done = true;
        continue;
      }
      const raw = parseEventData(data);
      this.chunks++;
      const chunk = raw as {
        choices?: Array<{ delta?: Record<string, unknown>; text?: string | null; finish_reason?: string | null }>;
        usage?: StreamUsage | null;
        timings?: LlamaTimings;
        error?: unknown;
      };
      // An error object in the stream ({"error": ...} as a data line: vLLM, proxies).
      if (chunk.error) throw inStreamError(chunk.error);
      const choice = chunk.choices?.[0];
      if (choice) {
        let reasoning = '';
        let content = '';
        if (this.api === 'chat') {
          const d = choice.delta ?? {};
          const r = d.reasoning_content ?? d.reasoning;
          if (typeof r === 'string' && r.length > 0) {
            reasoning = r;
            this.serverReasoning = true;
          }
          if (typeof d.content === 'string') content = d.content;
        } else if (typeof choice.text === 'string') {
          content = choice.text;
        }
        if (reasoning || content) this.events.push({ at, reasoning, content });
        if (choice.finish_reason) {
          this.finish = choice.finish_reason;
          this.finishAt ??= at;
        }
      }
      if (chunk.usage) this.usage = chunk.usage;
      if (chunk.timings) this.timings = chunk.timings;
    }
  }
}

function engineFigures(usage: StreamUsage | null, timings: LlamaTimings | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (timings) {
    for (const k of ['prompt_ms', 'predicted_ms', 'cache_n', 'prompt_n', 'predicted_n'] as const) {
      const v = timings[k];
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    }
  }
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') out.cached_tokens = cached;
  return out;
}

interface Classified {
  parts: Array<{ kind: 'reasoning' | 'answer'; text: string; at: number }>;
  reasoning: string;
  answer: string;
  unterminated: boolean;
  textChunks: number;
}

/**
 * Splits recorded chunks into reasoning and answer. With server-side reasoning the fields say it; else
 * `<think>` in the text does. In auto mode a `</think>` with no opening tag means the chat template
 * prefilled `<think>` (DeepSeek-R1 distills): everything before it was reasoning, so classify again.
 */
export function classify(events: ChunkEvent[], serverReasoning: boolean, mode: InlineThinkMode): Classified {
  const run = (startsInReasoning: boolean, inline: boolean): Classified => {
    const splitter = new InlineThinkSplitter(startsInReasoning);
    const parts: Classified['parts'] = [];
    let reasoning = '';
    let answer = '';
    for (const e of events) {
      if (e.reasoning) {
        parts.push({ kind: 'reasoning', text: e.reasoning, at: e.at });
        reasoning += e.reasoning;
      }
      if (!e.content) continue;
      if (!inline) {
        parts.push({ kind: 'answer', text: e.content, at: e.at });
        answer += e.content;
        continue;
      }
      const s = splitter.feed(e.content);
      if (s.reasoning) parts.push({ kind: 'reasoning', text: s.reasoning, at: e.at });
      if (s.answer) parts.push({ kind: 'answer', text: s.answer, at: e.at });
      reasoning += s.reasoning;
      answer += s.answer;
    }
    if (inline) {
      const rest = splitter.flush();
      const at = events[events.length - 1]?.at ?? 0;
      if (rest.reasoning) parts.push({ kind: 'reasoning', text: rest.reasoning, at });
      if (rest.answer) parts.push({ kind: 'answer', text: rest.answer, at });
      reasoning += rest.reasoning;
      answer += rest.answer;
    }
    return { parts, reasoning, answer, unterminated: inline && splitter.inReasoning, textChunks: events.length };
  };
  if (mode === 'off') return run(false, false);
  if (mode === 'starts-in-reasoning') return run(!serverReasoning, true);
  const first = run(false, true);
  if (!serverReasoning && first.reasoning === '' && first.answer.includes('</think>')) return run(true, true);
  return first;
}

export interface ServerSessionOptions {
  baseUrl: string;
  apiKey: string | null;
  /** The model id the server lists in /v1/models. */
  model: string;
  api: ApiKind;
  inlineThink: InlineThinkMode;
  retries: number;
  requestTimeoutMs: number;
  /** Cap on a server's Retry-After (default 60 s). */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  /** For tests: a retry sleep that records instead of waiting. */
  retrySleep?: RetryOptions['sleep'];
  /**
   * Silence limits of each attempt (stall-watchdog.ts): response headers within firstByteTimeoutMs, then no
   * silence past stallTimeoutMs, unless another stream got bytes meanwhile or `healthPath` answers within
   * probeTimeoutMs. Absent: only requestTimeoutMs ends a silent request.
   */
  stall?: { firstByteTimeoutMs: number; stallTimeoutMs: number; probeTimeoutMs: number; healthPath: string };
}

/** An OpenAI-compatible server as the runners see it: one client, one retry policy, auth for side requests. */
export class OpenAiServerSession {
  readonly baseUrl: string;
  /** Told before every retry wait ("waiting 60 s before retry 2/3: ..."): the run shows it on the terminal. */
  onNotice: ((notice: RunnerNotice) => void) | null = null;
  /** Requests in flight, halved on a capacity error and grown back on answers (capacity-window.ts). */
  readonly window = new CapacityWindow();
  /** When any stream last got bytes, and the last "not answering" verdict. */
  readonly activity = new ServerActivity();

  /** Where streamed requests go: the transport directly, or the SDK when a fetch was given (tests that watch it). */
  private readonly target: Promise<OpenAI> | DirectTarget;
  /** The SDK client, made (and the SDK loaded) when first asked for: the streamed path never asks. */
  private sdk: Promise<OpenAI> | null = null;
  private readonly sdkFetch: typeof fetch;
  /** The same for every request of the session: the silence limits and the place in the capacity window. */
  private readonly watch: StreamRequest['watchdog'];
  private readonly gate: AttemptGate;
  /** Cut out of every error message: the key, when there is one. */
  private readonly redactKeys: string[];

  constructor(private readonly opts: ServerSessionOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    const transport = createHttpTransport();
    this.sdkFetch = opts.fetch ?? transport.fetch;
    this.target = opts.fetch ? this.client() : { transport, baseUrl: this.baseUrl, apiKey: opts.apiKey };
    this.window.onChange = (text) => this.onNotice?.({ kind: 'throttle', text, delayMs: 0 });
    this.watch = this.watchdog();
    this.redactKeys = opts.apiKey ? [opts.apiKey] : [];
    const window = this.window;
    this.gate = {
      tryAcquire: () => window.tryAcquire() ?? undefined,
      acquire: (signal?: AbortSignal) => window.acquire(signal),
      release: (ticket: unknown, err: RequestError | null) =>
        window.release(ticket as WindowTicket, err === null ? 'ok' : err.kind === 'capacity' ? 'capacity' : 'other'),
    };
  }

  /** The session's SDK client (over the same transport, or the given fetch), made on first call. */
  client(): Promise<OpenAI> {
    return (this.sdk ??= createOpenAiClient(this.baseUrl, this.opts.apiKey, this.sdkFetch));
  }

  /** How the window was cut and grown during the run, or null when the server never ran out of room. */
  throttle(): ThrottleReport | null {
    return this.window.report();
  }

  /**
   * The stall watchdog's verdict if it declared the server unresponsive within the last `withinMs` (the
   * run's dead-server check uses it instead of waiting for another probe).
   */
  recentlyUnresponsive(withinMs = 60_000): string | null {
    const u = this.activity.unresponsive;
    return u && performance.now() - u.at < withinMs ? u.reason : null;
  }

  private watchdog(): StreamRequest['watchdog'] {
    const s = this.opts.stall;
    if (!s) return undefined;
    const url = `${this.baseUrl}${s.healthPath}`;
    return {
      activity: this.activity,
      options: {
        firstByteTimeoutMs: s.firstByteTimeoutMs,
        stallTimeoutMs: s.stallTimeoutMs,
        probe: (signal) => probeHealth(url, this.authHeaders(), s.probeTimeoutMs, signal),
      },
    };
  }

  /** Headers for plain fetches (/props, /metrics, /tokenize); the key stays inside this object. */
  authHeaders(): Record<string, string> {
    return this.opts.apiKey ? { Authorization: `Bearer ${this.opts.apiKey}` } : {};
  }

  get model(): string {
    return this.opts.model;
  }

  async generate(
    req: GenerateRequest,
    extraBody: Record<string, unknown>,
    hooks: { onStart?: (t0: number) => void } = {},
  ): Promise<StreamOutcome> {
    let attemptNo = 0;
    const reasons: string[] = [];
    const watchdog = this.watch;
    const gate = this.gate;
    const onStart = hooks.onStart;
    const attempt = (signal: AttemptCancel, n: number): Promise<StreamOutcome> => {
      attemptNo = n;
      const sreq: StreamRequest = {
        api: this.opts.api,
        model: this.opts.model,
        messages: req.messages,
        sampling: req.sampling,
        extraBody,
        inlineThink: this.opts.inlineThink,
        signal,
      };
      if (onStart) sreq.onStart = onStart;
      if (watchdog) sreq.watchdog = watchdog;
      const target = this.target;
      return 'transport' in target ? streamGeneration(target, sreq) : target.then((client) => streamGeneration(client, sreq));
    };
    const retry: RetryOptions = {
      retries: this.opts.retries,
      timeoutMs: this.opts.requestTimeoutMs,
      onRetry: (err, _n, delayMs, text) => {
        reasons.push(`${err.kind}: ${redact(err.message).replace(/\s+/g, ' ').slice(0, 300)}`);
        this.onNotice?.({ kind: 'retry-wait', text, delayMs });
      },
      redact: this.redactKeys,
      gate,
    };
    if (this.opts.maxRetryAfterMs !== undefined) retry.maxRetryAfterMs = this.opts.maxRetryAfterMs;
    if (req.signal) retry.signal = req.signal;
    if (this.opts.retrySleep) retry.sleep = this.opts.retrySleep;
    let outcome: StreamOutcome;
    try {
      outcome = await withRetry(attempt, retry);
    } catch (e) {
      if (e instanceof RequestError && reasons.length) e.retryReasons = [...reasons];
      throw e;
    }
    // Retries that ended in an answer are counted too, with why each attempt failed.
    if (attemptNo > 0) {
      outcome.generation.retries = attemptNo;
      if (reasons.length) outcome.generation.retryReasons = reasons;
    }
    return outcome;
  }
}
