// Protocol double of llama.cpp's llama-server, replaying the formats recorded from a real build
// (test/fixtures/servers/): no role chunk, reasoning in delta.reasoning_content, usage and timings on the
// final chunk, "data: [DONE]", 503 {"error":{...,"type":"unavailable_error"}} while loading, /props,
// /v1/models, /metrics, /tokenize, 500 for malformed bodies, and silent prompt truncation to fit a slot.
// Context as the real server handles it: /apply-template and /tokenize (add_special adds BOS, <|...|> are
// special tokens) count what the chat endpoint sees; past the slot (prompt + generation > n_ctx) the
// context is shifted and the answer goes on (the default), or, as with --no-context-shift
// (`contextShift = false`), a prompt that fills the slot gets the in-stream "exceeds the available context
// size" error (400) and a generation that reaches the slot's end gets "context shift is disabled" (500).
// Connection handling and errors as the real server's: the TCP connection is closed after every streamed
// response although the headers say `Keep-Alive: timeout=5, max=100` (non-streamed answers keep it open);
// in-stream failures come as an SSE `error:` field, then `data: [DONE]`, status 200; with `kvCacheCells`
// set, concurrent requests share a KV cache of that size, and a request that finds no room makes the batch
// fail as the real build's does (server.cpp update_slots: "failed to decode the batch: KV cache is full",
// then every slot is released with "Input prompt is too big compared to KV size"): the newcomer and every
// stream in flight get that in-stream error. The real cache has -c cells, c/np per slot, so slots alone
// never overflow it; it overflows because a batch that did not fit leaves cells behind and the cache
// fragments. kvCacheCells below slots x nCtxSlot stands for those lost cells.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { doubleTokens, ScriptedSseServer, type Failure, type Script, type SendRecord, type StreamFault } from './scripted-sse.js';

const FIX = fileURLToPath(new URL('../fixtures/servers/', import.meta.url));
const PROPS = JSON.parse(readFileSync(FIX + 'llama-props.json', 'utf8')) as Record<string, unknown>;
const MODELS = JSON.parse(readFileSync(FIX + 'llama-v1-models.json', 'utf8')) as { data: Array<Record<string, unknown>> };
const METRICS = readFileSync(FIX + 'llama-metrics-after.txt', 'utf8');
/** A real /completion answer with n_probs (stories260K build): the shape the double's answers take. */
const COMPLETION_NPROBS = JSON.parse(readFileSync(FIX + 'llama-completion-nprobs.json', 'utf8')) as Record<string, unknown>;
/** The real answer to /v1/completions with echo: true (HTTP 500). */
const ECHO_REFUSED = JSON.parse(readFileSync(FIX + 'llama-v1-completions-echo.json', 'utf8')) as Record<string, unknown>;

/**
 * The model behind the double's log-probabilities (POST /completion with n_probs, /tokenize ids, the chat
 * template of /apply-template): tests plug in a real model (e.g. node-llama-cpp on the same GGUF the
 * in-process runner loads), so the numbers are a model's, not made up.
 */
export interface DoubleLogprobModel {
  /** The GGUF's chat template applied to the messages, with the generation prompt. */
  template(messages: Array<{ role: string; content: string }>): string;
  /** Token ids as llama-server tokenises a prompt: special tokens parsed, BOS when addSpecial. */
  tokenize(text: string, addSpecial: boolean): number[];
  piece(id: number): string;
  /** The text of a token sequence (special tokens as text). */
  detokenize(ids: number[]): string;
  /** Natural-log next-token probabilities after `ids` over the whole vocabulary (softmax before sampling). */
  nextLogprobs(ids: number[]): Promise<Array<{ id: number; logprob: number }>>;
}

/** Tokens a chat template adds around the messages (the double's stand-in for <|im_start|>... ). */
export const TEMPLATE_TOKENS = 6;

/** What this build sends in the stream for a prompt past the slot context with `--no-context-shift`. */
export const CONTEXT_EXCEEDED: Failure = {
  streamErrorAfterChunks: 0, code: 400, type: 'invalid_request_error',
  message: 'the request exceeds the available context size. try increasing the context size or enable context shift',
};
/**
 * What it sends, with `--no-context-shift`, when a generation reaches the end of its slot (server.cpp
 * update_slots: n_past + 1 >= n_ctx and no shift allowed), after the text streamed so far: seen on a real
 * build with -c 512 -np 1, a 443-token prompt and max_tokens 300.
 */
export const CONTEXT_SHIFT_DISABLED = { code: 500, message: 'context shift is disabled', type: 'server_error' };
/** What it sends to every request in a batch that found no free KV cells ("KV cache is full" in its log). */
export const KV_CACHE_FULL: Failure = {
  streamErrorAfterChunks: 0, code: 500, type: 'server_error',
  message: 'Input prompt is too big compared to KV size. Please try increasing KV size.',
};

/** The double's chat template (ChatML, as the recorded stories260K server's). */
export function doubleTemplate(messages: Array<{ role: string; content: string }>): string {
  return messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('') + '<|im_start|>assistant\n';
}

/** Tokens of a text with <|...|> as single special tokens (parse_special), plus BOS when asked. */
export function doubleSpecialTokens(text: string, addBos: boolean): number {
  const specials = text.match(/<\|[^|>]*\|>/g) ?? [];
  return (addBos ? 1 : 0) + specials.length + doubleTokens(text.replace(/<\|[^|>]*\|>/g, ' ')).length;
}

export class LlamaServerDouble extends ScriptedSseServer {
  /** The real default: shift the context when prompt + generation pass the slot; false: --no-context-shift. */
  contextShift = true;
  /** Context shifts performed (the real server logs "slot context shift, n_keep = 1, ..."). */
  contextShifts = 0;
  /** Serves POST /apply-template (false: an older build without it, 404). */
  applyTemplate = true;
  /**
   * HTTP threads, as cpp-httplib's pool (the real server: max(np + 2, cores - 1)): each open connection holds
   * one for as long as it is open, idle keep-alive included; a connection beyond them waits, unread, until
   * one closes. null: no limit. Set before start().
   */
  httpThreads: number | null = null;
  /** Connections that had to wait for a thread, and when each wait began (performance.now()). */
  readonly threadWaits: number[] = [];
  /** Serves /completion log-probabilities and real token ids from this model (null: fake token counts only). */
  logprobModel: DoubleLogprobModel | null = null;
  /** Bodies of the /completion requests, in arrival order. */
  readonly completionBodies: Array<Record<string, unknown>> = [];
  /** At most `slots` generations at a time; the others wait for a slot inside the server, holding their thread. */
  enforceSlots = false;
  /** timings.prompt_ms / predicted_ms as the double really spent them (slot start to first chunk, to the end). */
  realTimings = false;
  /** When each request arrived, by path, on the client's clock (same process); each also emits 'arrival' (path). */
  readonly arrivals: Array<{ path: string; at: number }> = [];
  private front: TcpServer | null = null;
  private readonly frontSockets = new Set<Socket>();
  private threadsInUse = 0;
  private readonly waiting: Socket[] = [];
  private slotsInUse = 0;
  private readonly slotWaiters: Array<() => void> = [];
  /** /health answers 503 "Loading model" this many times before 200. */
  loadingHealthChecks = 0;
  nCtxSlot = 512;
  slots = 4;
  metricsEnabled = true;
  created = 1795534944;
  /** KV cells shared by all slots (null: never full). Each stream holds prompt + completion cells until it ends. */
  kvCacheCells: number | null = null;
  /** Requests refused with KV_CACHE_FULL by the kvCacheCells mode. */
  kvFullRefusals = 0;
  private kvInUse = 0;
  /** Streams holding KV cells now: the batch they are in fails together. */
  private readonly kvHolders = new Set<SendRecord>();
  override closeAfterStream = true;
  override streamErrorField: 'data' | 'error' = 'error';
  private seq = 0;
  /** What the served requests add to the recorded counters (/metrics moves as the real server's does). */
  private served = { promptTokens: 0, promptMs: 0, predicted: 0, predictedMs: 0 };

  protected override streamHeaders(): Record<string, string> {
    return { 'Keep-Alive': 'timeout=5, max=100', Server: 'llama.cpp', 'Access-Control-Allow-Origin': '' };
  }

  private loading(res: ServerResponse): void {
    this.json(res, 503, { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } });
  }

  override async start(): Promise<this> {
    await super.start();
    if (this.httpThreads === null) return this;
    // A TCP front that gives each connection a "thread" and pipes it to the HTTP server behind it.
    const inner = this.port;
    const front = createTcpServer((socket) => {
      this.frontSockets.add(socket);
      socket.on('close', () => this.frontSockets.delete(socket));
      socket.on('error', () => {});
      if (this.threadsInUse < this.httpThreads!) this.serveOn(socket, inner);
      else {
        this.threadWaits.push(performance.now());
        socket.pause();
        this.waiting.push(socket);
      }
    });
    front.listen(0, '127.0.0.1');
    await once(front, 'listening');
    this.front = front;
    this.port = (front.address() as { port: number }).port;
    return this;
  }

  private serveOn(socket: Socket, inner: number): void {
    this.threadsInUse++;
    const up = connect(inner, '127.0.0.1');
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      socket.destroy();
      up.destroy();
      this.threadsInUse--;
      let next: Socket | undefined;
      while ((next = this.waiting.shift()) && next.destroyed);
      if (next) {
        next.resume();
        this.serveOn(next, inner);
      }
    };
    up.on('error', release);
    socket.on('error', release);
    up.on('close', release);
    socket.on('close', release);
    socket.pipe(up);
    up.pipe(socket);
  }

  override async stop(): Promise<void> {
    if (this.front) {
      for (const s of this.frontSockets) s.destroy();
      this.front.close();
      this.front = null;
    }
    await super.stop();
  }

  private async takeSlot(): Promise<void> {
    if (this.slotsInUse < this.slots) {
      this.slotsInUse++;
      return;
    }
    await new Promise<void>((r) => this.slotWaiters.push(r));
  }

  private freeSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.slotsInUse--;
  }

  protected async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.arrivals.push({ path, at: receivedAt });
    this.events.emit('arrival', path);
    if (path === '/health' || path === '/v1/health') {
      if (this.loadingHealthChecks > 0) {
        this.loadingHealthChecks--;
        return this.loading(res);
      }
      return this.json(res, 200, { status: 'ok' });
    }
    if (path === '/props') {
      const dgs = { ...(PROPS.default_generation_settings as object), n_ctx: this.nCtxSlot };
      const leak = this.leakAuthorization && req.headers.authorization ? { model_path: `/models/${req.headers.authorization}.gguf`, build_info: req.headers.authorization } : {};
      return this.json(res, 200, { ...PROPS, default_generation_settings: dgs, total_slots: this.slots, ...leak });
    }
    if (path === '/v1/models' || path === '/models') return this.json(res, 200, MODELS);
    if (path === '/metrics') {
      if (!this.metricsEnabled) return this.json(res, 501, { error: { code: 501, message: 'This server does not support metrics endpoint. Start it with `--metrics`', type: 'not_supported_error' } });
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      const auth = this.leakAuthorization ? req.headers.authorization : undefined;
      const leak = auth ? `# HELP double_request_auth ${auth}\n# TYPE double_request_auth gauge\ndouble_request_auth{authorization="${auth}"} 1\n` : '';
      return void res.end(this.metricsText() + leak);
    }
    if (path === '/tokenize' && method === 'POST' && this.logprobModel) {
      const body = JSON.parse(raw) as { content: string; add_special?: boolean; with_pieces?: boolean };
      const ids = this.logprobModel.tokenize(body.content, body.add_special === true);
      return this.json(res, 200, { tokens: body.with_pieces ? ids.map((id) => ({ id, piece: this.logprobModel!.piece(id) })) : ids });
    }
    if (path === '/completion' && method === 'POST') return this.completion(raw, res);
    if (path === '/tokenize' && method === 'POST') {
      const body = JSON.parse(raw) as { content: string; add_special?: boolean };
      const n = doubleSpecialTokens(body.content, body.add_special === true);
      return this.json(res, 200, { tokens: Array.from({ length: n }, (_, i) => 100 + i) });
    }
    if (path === '/apply-template' && method === 'POST' && this.applyTemplate) {
      const body = JSON.parse(raw) as { messages: Array<{ role: string; content: string }> };
      return this.json(res, 200, { prompt: this.logprobModel ? this.logprobModel.template(body.messages) : doubleTemplate(body.messages) });
    }
    if ((path === '/v1/chat/completions' || path === '/v1/completions') && method === 'POST') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // What this build really answers for a malformed body: 500, not 400.
        return this.json(res, 500, { error: { code: 500, message: "[json.exception.parse_error.101] parse error at line 1, column 3: syntax error while parsing object key - invalid literal; last read: '{no'; expected string literal", type: 'server_error' } });
      }
      // This build refuses prompt log-probabilities outright.
      if (path === '/v1/completions' && body.echo === true) return this.json(res, 500, ECHO_REFUSED);
      const failure = this.playFailure(res, body, path);
      if (failure === true) return;
      const chat = path === '/v1/chat/completions';
      if (chat && !Array.isArray(body.messages)) {
        return this.json(res, 500, { error: { code: 500, message: "[json.exception.out_of_range.403] key 'messages' not found", type: 'server_error' } });
      }
      const fullPrompt = chat ? doubleSpecialTokens(doubleTemplate(body.messages as Array<{ role: string; content: string }>), true)
        : doubleTokens(String(body.prompt ?? '')).length + 1;
      const ctx = this.contextOutcome(fullPrompt, body, this.script(body));
      if (ctx.refuse) {
        await this.playStream(res, { path, body, headers: req.headers, receivedAt, textSentAt: [], kinds: [] }, { chunks: [{ delayMs: 0, content: '' }] },
          { chunk: () => ({}), final: () => [] }, CONTEXT_EXCEEDED as StreamFault);
        return;
      }
      const { promptTokens, script } = ctx;
      const finish = script.finishReason ?? 'length';
      // Like the real server: the stop token is counted in completion_tokens / predicted_n but sends no text.
      const completion = script.completionTokens ?? script.chunks.length + (finish === 'stop' ? 1 : 0);
      const id = `chatcmpl-double${++this.seq}`;
      const rec: SendRecord = { path, body, headers: req.headers, receivedAt, textSentAt: [], kinds: [] };
      const meta = { created: this.created, id, model: 'gpt-3.5-turbo', system_fingerprint: 'b0-unknown' };
      const timings = {
        cache_n: 0, prompt_n: promptTokens, prompt_ms: 8.011, prompt_per_token_ms: 0.17, prompt_per_second: 5742.1,
        predicted_n: completion, predicted_ms: 2.971, predicted_per_token_ms: 0.37, predicted_per_second: 2692.7,
      };
      const usage = { completion_tokens: completion, prompt_tokens: promptTokens, total_tokens: completion + promptTokens };
      this.served.promptTokens += promptTokens;
      this.served.promptMs += timings.prompt_ms;
      this.served.predicted += completion;
      this.served.predictedMs += timings.predicted_ms;
      let fault = typeof failure === 'object' ? failure : undefined;
      if (ctx.shiftDisabledAfter !== undefined && !fault) fault = { streamErrorAfterChunks: ctx.shiftDisabledAfter, ...CONTEXT_SHIFT_DISABLED };
      // The kvCacheCells mode: a stream holds prompt + completion cells until it ends; no room, no answer.
      const cells = promptTokens + completion;
      let reserved = false;
      if (this.kvCacheCells !== null && !fault) {
        if (this.kvInUse + cells > this.kvCacheCells) {
          this.kvFullRefusals++;
          fault = KV_CACHE_FULL as StreamFault;
          // The whole batch fails: every slot is released with the same error.
          const error = { code: 500, message: 'Input prompt is too big compared to KV size. Please try increasing KV size.', type: 'server_error' };
          for (const holder of this.kvHolders) holder.failWith = error;
        } else {
          this.kvInUse += cells;
          this.kvHolders.add(rec);
          reserved = true;
        }
      }
      if (this.enforceSlots) await this.takeSlot();
      const slotStart = performance.now();
      try {
        await this.playStream(res, rec, script, {
          chunk: (kind, t) => chat
            ? { choices: [{ finish_reason: null, index: 0, delta: kind === 'reasoning' ? { reasoning_content: t } : { content: t } }], ...meta, object: 'chat.completion.chunk' }
            : { choices: [{ text: t, index: 0, logprobs: null, finish_reason: null }], ...meta, object: 'text_completion' },
          final: () => {
            if (this.realTimings) this.realiseTimings(timings, rec, slotStart);
            return [chat
              ? { choices: [{ finish_reason: finish, index: 0, delta: {} }], ...meta, object: 'chat.completion.chunk', usage, timings }
              : { choices: [{ text: '', index: 0, logprobs: null, finish_reason: finish }], ...meta, object: 'text_completion', usage, timings }];
          },
        }, fault);
      } finally {
        if (reserved) {
          this.kvInUse -= cells;
          this.kvHolders.delete(rec);
        }
        if (this.enforceSlots) this.freeSlot();
      }
      return;
    }
    this.json(res, 404, { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
  }

  /**
   * POST /completion with n_probs, one token, as the recorded build answers it: the greedy token, and
   * completion_probabilities[0] with the top n_probs entries (id, token, bytes, logprob) before sampling,
   * or, with post_sampling_probs, probabilities after the sampler chain (prob / top_probs; at temperature
   * 0 the greedy token gets 1 and the rest 0, as recorded). Token-id prompts are used as given (no BOS added).
   */
  private async completion(raw: string, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return this.json(res, 500, { error: { code: 500, message: '[json.exception.parse_error.101] parse error', type: 'server_error' } });
    }
    this.completionBodies.push(body);
    const model = this.logprobModel;
    if (!model) return this.json(res, 501, { error: { code: 501, message: 'the llama-server double has no logprob model', type: 'not_supported_error' } });
    const ids = Array.isArray(body.prompt) ? (body.prompt as number[]) : model.tokenize(String(body.prompt ?? ''), true);
    if (ids.length >= this.nCtxSlot) {
      return this.json(res, 400, { error: { code: 400, message: 'the request exceeds the available context size. try increasing the context size or enable context shift', type: 'invalid_request_error' } });
    }
    const nProbs = typeof body.n_probs === 'number' ? body.n_probs : 0;
    const post = body.post_sampling_probs === true;
    const all = (await model.nextLogprobs(ids)).slice().sort((a, b) => b.logprob - a.logprob);
    const entry = (t: { id: number; logprob: number }, greedy: boolean) => {
      const token = model.piece(t.id);
      const base = { id: t.id, token, bytes: [...Buffer.from(token, 'utf8')] };
      return post ? { ...base, prob: greedy ? 1 : 0 } : { ...base, logprob: t.logprob };
    };
    const best = all[0]!;
    const top = all.slice(0, nProbs).map((t) => entry(t, t.id === best.id));
    const probs = nProbs > 0
      ? [{ ...entry(best, true), ...(post ? { top_probs: top } : { top_logprobs: top }) }]
      : [];
    const rec = COMPLETION_NPROBS as { generation_settings: Record<string, unknown>; timings: Record<string, unknown> };
    this.json(res, 200, {
      ...COMPLETION_NPROBS,
      content: model.piece(best.id),
      id_slot: 0,
      tokens_evaluated: ids.length,
      tokens_cached: ids.length,
      prompt: model.detokenize(ids),
      generation_settings: { ...rec.generation_settings, n_probs: nProbs, post_sampling_probs: post, max_tokens: body.n_predict ?? -1, n_predict: body.n_predict ?? -1 },
      timings: { ...rec.timings, prompt_n: ids.length },
      completion_probabilities: probs,
    });
  }

  /** The engine's figures as this double spent them: prompt = slot start to first token, predicted = the rest. */
  private realiseTimings(t: { prompt_ms: number; predicted_ms: number }, rec: SendRecord, slotStart: number): void {
    const first = rec.textSentAt[0] ?? rec.finalSentAt ?? slotStart;
    const promptMs = Math.max(0, first - slotStart);
    const predictedMs = Math.max(0, (rec.finalSentAt ?? first) - first);
    this.served.promptMs += promptMs - t.prompt_ms;
    this.served.predictedMs += predictedMs - t.predicted_ms;
    t.prompt_ms = Number(promptMs.toFixed(3));
    t.predicted_ms = Number(predictedMs.toFixed(3));
  }

  /**
   * What the slot does with a prompt of `fullPrompt` tokens and the scripted answer: silent truncation of a
   * prompt past the slot (kept: its last part, 200), a context shift when prompt + generation pass it, or
   * with contextShift false a refusal (prompt fills the slot) or a stop at the slot's end.
   */
  private contextOutcome(fullPrompt: number, body: Record<string, unknown>, script: Script): { refuse: true } | { refuse: false; promptTokens: number; script: Script; shiftDisabledAfter?: number } {
    const slot = this.nCtxSlot;
    if (fullPrompt >= slot) {
      if (!this.contextShift) return { refuse: true };
      return { refuse: false, promptTokens: slot - 55, script };
    }
    const scripted = script.completionTokens ?? script.chunks.length;
    const generated = typeof body.max_tokens === 'number' ? Math.min(scripted, body.max_tokens) : scripted;
    if (fullPrompt + generated < slot) return { refuse: false, promptTokens: fullPrompt, script };
    if (this.contextShift) {
      this.contextShifts++;
      return { refuse: false, promptTokens: fullPrompt, script };
    }
    // No shift: when the slot is full the real build ends the stream with the in-stream error
    // "context shift is disabled" (500 server_error), after the tokens that fitted.
    const room = Math.max(0, slot - fullPrompt - 1);
    return { refuse: false, promptTokens: fullPrompt, script, shiftDisabledAfter: room };
  }

  /** The recorded /metrics text with its counters advanced by what this double served. */
  private metricsText(): string {
    const add = (name: string, by: number) => (text: string) =>
      text.replace(new RegExp(`^(${name}) ([0-9.e+-]+)$`, 'm'), (_, n: string, v: string) => `${n} ${Number((Number(v) + by).toFixed(6))}`);
    return [
      add('llamacpp:prompt_tokens_total', this.served.promptTokens),
      add('llamacpp:prompt_seconds_total', this.served.promptMs / 1000),
      add('llamacpp:tokens_predicted_total', this.served.predicted),
      add('llamacpp:tokens_predicted_seconds_total', this.served.predictedMs / 1000),
      add('llamacpp:n_decode_total', this.served.predicted),
    ].reduce((text, f) => f(text), METRICS);
  }
}
