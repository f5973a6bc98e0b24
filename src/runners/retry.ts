// Resilience for HTTP runners: a timeout per attempt, retries with exponential backoff and full jitter on
// what may pass on another try (429 honouring Retry-After up to a cap, 5xx, connection errors, a stall past
// the timeout, a broken, empty or cut-short stream, a capacity error in the stream), none on input errors
// (4xx, an input error in the stream, a malformed body), and an error that says what went wrong (`kind`)
// and how often it was retried, so the run loop records an error, never an answer. llama-server answers 500
// for malformed bodies, so 5xx retries are capped separately and a 500 whose message is a JSON parse error
// is not retried at all. Every wait is announced (onRetry's notice) so a long one is never silent.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai/error';
import { performance } from 'node:perf_hooks';

export type RequestErrorKind =
  | 'timeout'
  | 'http-5xx'
  | 'http-429'
  | 'http-4xx'
  | 'connection'
  /** No usable answer in a 200: broken or cut stream, no chunk, no finish_reason, a server error in the stream. */
  | 'bad-response'
  /** The server refused this request inside its stream (code 4xx, invalid_request_error: e.g. context exceeded). */
  | 'input'
  /** The server had no room for it just then (in the stream: KV cache full, 503, unavailable, busy). */
  | 'capacity'
  | 'aborted';

/** The error every HTTP runner throws. The run loop reads `kind` and `retries` (ItemError). */
export class RequestError extends Error {
  readonly kind: RequestErrorKind;
  retries: number;
  readonly status?: number;
  /** Server-asked wait before a retry (Retry-After), ms. */
  readonly retryAfterMs?: number;
  /** A timeout declared by the stall watchdog: the server answered nothing, /health neither (not retried). */
  readonly unresponsive?: boolean;
  /** Why the earlier attempts failed, oldest first (kept on the record, so every retry can be explained). */
  retryReasons?: string[];

  constructor(kind: RequestErrorKind, message: string, opts: { status?: number; retries?: number; retryAfterMs?: number; cause?: unknown; unresponsive?: boolean } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'RequestError';
    this.kind = kind;
    this.retries = opts.retries ?? 0;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.unresponsive) this.unresponsive = true;
  }
}

export interface RetryOptions {
  /** Most retries after the first attempt (429, connection, 503, timeouts, bad streams, capacity). Default 3. */
  retries?: number;
  /** Most retries for 500/502/504 (a server bug or a bad body on llama-server). Default 1. */
  serverErrorRetries?: number;
  /** Timeout of one attempt, whole stream included. Default 10 minutes. */
  timeoutMs?: number;
  /** First backoff; doubles each retry, full jitter. Default 500 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest wait a server's Retry-After may ask for (a longer one is capped, and said so). Default 60 s. */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
  /** Injected for tests (records the waits instead of waiting); must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called before each retry's wait; `notice` says when and why, for the terminal (already redacted). */
  onRetry?: (err: RequestError, attempt: number, delayMs: number, notice: string) => void;
  /** Strings to scrub from error messages (API keys). */
  redact?: string[];
  /**
   * A place each attempt must take before it is sent and give back when it ends (capacity-window.ts):
   * the wait is not part of the attempt's timeout; `err` is null for an answer.
   */
  gate?: AttemptGate;
}

export interface AttemptGate {
  acquire(signal?: AbortSignal): Promise<unknown>;
  /** A place at once when there is one (a ticket), else undefined and the attempt waits in acquire. */
  tryAcquire?(): unknown;
  release(ticket: unknown, err: RequestError | null): void;
}

/**
 * How an attempt is ended early (its timeout, the caller's signal, the stall watchdog): what the transport
 * needs of an AbortSignal (`aborted`, `reason`, abort listeners), without one. Node's AbortController
 * costs about 4 us to make and 13 us to abort (an EventTarget, a DOMException with its stack), as much as
 * a tenth of a whole streamed request to a fast server; most attempts are never aborted. `signal` makes a
 * real AbortSignal on first use, for what takes only that (the SDK's fetch).
 */
export class AttemptCancel {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | null = null;
  private controller: AbortController | null = null;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The AbortSignal shape (type 'abort' only; a listener is called once). */
  addEventListener(_type: 'abort', listener: () => void, _opts?: { once?: boolean }): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const l = this.listeners;
    if (!l) return;
    const i = l.lastIndexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listeners;
    this.listeners = null;
    if (l) for (const f of l) f();
    this.controller?.abort(reason);
  }
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function redactText(s: string, secrets: string[] | undefined): string {
  let out = s;
  for (const secret of secrets ?? []) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

/** Malformed-body answers of llama-server (nlohmann::json exceptions): the same body will fail again. */
function looksLikeBadBody(message: string): boolean {
  return /json\.exception|parse error|key '.*' not found/i.test(message);
}

/** Capacity failures a server reports in a stream: waiting for other requests to finish helps. */
const CAPACITY_MESSAGE = /KV cache is full|compared to KV size|no free (slot|space)|\bunavailable\b|\bbusy\b|overloaded|try again later/i;
const INPUT_TYPE = /invalid_request|exceed_context|not_found|authentication|permission/i;
// "context shift is disabled": llama-server --no-context-shift when a generation reaches the end of its slot
// (500 server_error, yet the same request fills the slot again).
const INPUT_MESSAGE = /exceeds the available context size|maximum context length|context shift is disabled/i;

/**
 * The RequestError for an error a server sent inside a 200 stream: llama-server's SSE `error:` field
 * (`{"code":400,"message":...,"type":"invalid_request_error"}`) or a `data: {"error":{...}}` line. The
 * server's own message is kept. Input errors (code 4xx, invalid_request_error, context exceeded) will fail
 * the same way again; capacity errors (KV cache full, 503, unavailable, busy) may pass once others finish.
 */
export function inStreamError(raw: unknown): RequestError {
  let obj: unknown = raw;
  if (typeof raw === 'string') {
    try {
      obj = JSON.parse(raw);
    } catch {
      obj = { message: raw.slice(0, 500) };
    }
  }
  if (obj && typeof obj === 'object' && 'error' in obj && obj.error && typeof obj.error === 'object') obj = obj.error;
  const e = (obj && typeof obj === 'object' ? obj : { message: String(obj) }) as { code?: unknown; message?: unknown; type?: unknown };
  const code = typeof e.code === 'number' ? e.code : typeof e.code === 'string' && /^\d{3}$/.test(e.code) ? Number(e.code) : undefined;
  const type = typeof e.type === 'string' ? e.type : undefined;
  const message = typeof e.message === 'string' ? e.message : JSON.stringify(obj).slice(0, 500);
  const detail = [code !== undefined ? `code ${code}` : '', type ?? ''].filter(Boolean).join(', ');
  const text = `the server reported an error in the stream${detail ? ` (${detail})` : ''}: ${message}`;
  const input = (code !== undefined && code >= 400 && code < 500 && code !== 429) || INPUT_TYPE.test(type ?? '') || INPUT_MESSAGE.test(message);
  if (input) return new RequestError('input', text);
  if (code === 429 || code === 503 || /unavailable|overloaded|rate_limit/i.test(type ?? '') || CAPACITY_MESSAGE.test(message)) return new RequestError('capacity', text);
  return new RequestError('bad-response', text);
}

/** Turns anything a request can throw into a RequestError. */
export function classifyError(e: unknown, ctx: { timedOut: boolean; aborted: boolean; redact?: string[] }): RequestError {
  if (e instanceof RequestError) {
    // Messages the runner built may quote the server (which may quote the request's key).
    if (ctx.redact?.length) e.message = redactText(e.message, ctx.redact);
    return e;
  }
  const msg = redactText(e instanceof Error ? e.message : String(e), ctx.redact);
  if (ctx.timedOut) return new RequestError('timeout', `request timed out: ${msg}`, { cause: e });
  if (ctx.aborted || e instanceof APIUserAbortError || (e instanceof Error && e.name === 'AbortError')) {
    return new RequestError('aborted', 'request aborted', { cause: e });
  }
  if (e instanceof APIConnectionTimeoutError) return new RequestError('timeout', `request timed out: ${msg}`, { cause: e });
  if (e instanceof APIConnectionError) return new RequestError('connection', `connection error: ${describeCause(e, ctx.redact)}`, { cause: e });
  if (e instanceof APIError) {
    const status = e.status;
    if (status === undefined) {
      // An error object inside the stream ({"error": ...} as an SSE data line).
      return new RequestError('bad-response', `error in stream: ${msg}`, { cause: e });
    }
    const retryAfterMs = parseRetryAfter(e.headers as Headers | undefined);
    const opts = { status, cause: e, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    if (status === 429) return new RequestError('http-429', `HTTP 429 (rate limited): ${msg}`, opts);
    if (status >= 500) return new RequestError('http-5xx', `HTTP ${status}: ${msg}`, opts);
    return new RequestError('http-4xx', `HTTP ${status}: ${msg}`, opts);
  }
  if (e instanceof Error && /\bterminated\b|ECONNRESET|socket|other side closed|ECONNREFUSED|EPIPE/i.test(`${e.message} ${String((e as { cause?: unknown }).cause ?? '')}`)) {
    return new RequestError('connection', `connection error: ${describeCause(e, ctx.redact)}`, { cause: e });
  }
  return new RequestError('bad-response', `bad response: ${msg}`, { cause: e });
}

function describeCause(e: Error, redact?: string[]): string {
  const cause = (e as { cause?: unknown }).cause;
  const c = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ?? cause.name}: ${cause.message}` : '';
  return redactText(c ? `${e.message} (${c})` : e.message, redact);
}

/** Whether `err` may be retried, given how many retries of its class were made. */
function retryable(err: RequestError, serverErrors: number, opts: Required<Pick<RetryOptions, 'serverErrorRetries'>>): boolean {
  switch (err.kind) {
    case 'http-429':
    case 'connection':
    case 'capacity': // KV cache full, busy: room comes back as other requests finish
    case 'timeout': // a stall: the next attempt may not stall; a server that answers nothing, /health included, will not
      return !err.unresponsive;
    case 'bad-response': // a broken, empty or cut-short stream, an error in it: transient unless the body is at fault
      return !looksLikeBadBody(err.message);
    case 'http-5xx':
      if (err.status === 503) return true; // loading / overloaded: waiting helps
      if (looksLikeBadBody(err.message)) return false;
      return serverErrors < opts.serverErrorRetries;
    default:
      return false; // 4xx, input errors in the stream, aborts: the same request fails the same way
  }
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 || Number.isInteger(s) ? Math.round(s) : s.toFixed(1)} s`;
}

/** One terminal line: control characters (a server's message may hold any) become spaces. */
function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "waiting 60 s before retry 2/3: HTTP 429 Retry-After 3600 s capped to 60 s" */
export function describeWait(err: RequestError, retryNo: number, retries: number, delayMs: number, cappedFromMs?: number): string {
  let why = err.status !== undefined ? `HTTP ${err.status}` : oneLine(err.message);
  if (err.status !== undefined && err.status !== 429) why += `: ${oneLine(err.message.replace(/^HTTP \d+:\s*/, ''), 160)}`;
  if (err.retryAfterMs !== undefined) {
    why += cappedFromMs !== undefined ? ` Retry-After ${seconds(cappedFromMs)} capped to ${seconds(delayMs)}` : ` Retry-After ${seconds(err.retryAfterMs)}`;
  }
  return `waiting ${seconds(delayMs)} before retry ${retryNo}/${retries}: ${why}`;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

interface Deadline {
  at: number;
  /** null once the attempt ended (or the deadline fired). */
  onExpire: (() => void) | null;
  next: Deadline | null;
}

/**
 * The per-attempt timeouts of one length, on one timer. Deadlines of one length come in the order the
 * attempts started, so they queue up; the timer is set for the front one and moved only when it fires,
 * and an attempt that ends only marks its deadline (ended ones at the front are dropped at once, so an
 * ended attempt is not kept alive for the whole timeout). A setTimeout/clearTimeout pair per attempt cost
 * more: at concurrency 1, node empties and rebuilds its timer list of that length on every request. The
 * timer does not hold the process open (the attempt's own socket does).
 */
class DeadlineQueue {
  private head: Deadline | null = null;
  private tail: Deadline | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    while (this.head && (this.head.onExpire === null || this.head.at <= now)) {
      const d = this.head;
      this.head = d.next;
      const expire = d.onExpire;
      d.onExpire = null;
      expire?.();
    }
    if (this.head === null) this.tail = null;
    else this.arm(this.head.at - now);
  };

  constructor(private readonly ms: number) {}

  add(onExpire: () => void): Deadline {
    const d: Deadline = { at: performance.now() + this.ms, onExpire, next: null };
    if (this.tail) this.tail.next = d;
    else this.head = d;
    this.tail = d;
    // An armed timer is due no later than this deadline (an earlier one's): it re-arms when it fires.
    if (this.timer === null) this.arm(this.ms);
    return d;
  }

  cancel(d: Deadline): void {
    d.onExpire = null;
    while (this.head !== null && this.head.onExpire === null) this.head = this.head.next;
    if (this.head === null) this.tail = null;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(delay)));
    this.timer.unref();
  }
}

/**
 * The attempts in flight under one caller's signal (a run's), all ended by one listener on it: an
 * EventTarget walks its whole list of listeners on every add and remove, so one listener per attempt
 * costs more the more attempts are in flight (about 18 us an attempt at 64).
 */
const followers = new WeakMap<AbortSignal, Set<AttemptCancel>>();

function follow(signal: AbortSignal, cancel: AttemptCancel): void {
  let set = followers.get(signal);
  if (!set) {
    const attempts = (set = new Set());
    followers.set(signal, attempts);
    signal.addEventListener('abort', () => {
      for (const c of [...attempts]) c.abort(signal.reason);
      attempts.clear();
    }, { once: true });
  }
  set.add(cancel);
  // Aborted while this attempt waited for its place: its listener has already run.
  if (signal.aborted) cancel.abort(signal.reason);
}

function unfollow(signal: AbortSignal, cancel: AttemptCancel): void {
  followers.get(signal)?.delete(cancel);
}

const deadlineQueues = new Map<number, DeadlineQueue>();

function deadlinesOf(ms: number): DeadlineQueue {
  let q = deadlineQueues.get(ms);
  if (!q) deadlineQueues.set(ms, (q = new DeadlineQueue(ms)));
  return q;
}

/**
 * Runs `attempt(cancel)` until it succeeds or fails for good. Each attempt gets an AttemptCancel that
 * aborts on the caller's signal or on the per-attempt timeout (and that the attempt may abort itself).
 * Throws a RequestError with `retries` set.
 */
export async function withRetry<T>(attempt: (cancel: AttemptCancel, attemptNo: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 3;
  const serverErrorRetries = opts.serverErrorRetries ?? 1;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const base = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const maxRetryAfter = opts.maxRetryAfterMs ?? 60_000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const deadlines = deadlinesOf(timeoutMs);
  let made = 0;
  let serverErrors = 0;
  for (let n = 0; ; n++) {
    if (opts.signal?.aborted) throw Object.assign(new RequestError('aborted', 'request aborted'), { retries: made });
    let ticket: unknown;
    if (opts.gate) {
      ticket = opts.gate.tryAcquire?.();
      if (ticket === undefined) {
        try {
          ticket = await opts.gate.acquire(opts.signal);
        } catch {
          throw Object.assign(new RequestError('aborted', 'request aborted while waiting for a place in flight'), { retries: made });
        }
      }
    }
    const controller = new AttemptCancel();
    let timedOut = false;
    const deadline = deadlines.add(() => {
      timedOut = true;
      controller.abort(new Error(`no complete answer within ${timeoutMs} ms`));
    });
    if (opts.signal) follow(opts.signal, controller);
    let err: RequestError;
    try {
      const value = await attempt(controller, n);
      opts.gate?.release(ticket, null);
      return value;
    } catch (e) {
      err = classifyError(e, { timedOut, aborted: opts.signal?.aborted ?? false, redact: opts.redact });
      opts.gate?.release(ticket, err);
    } finally {
      deadlines.cancel(deadline);
      if (opts.signal) unfollow(opts.signal, controller);
    }
    err.retries = made;
    if (made >= retries || !retryable(err, serverErrors, { serverErrorRetries })) throw err;
    if (err.kind === 'http-5xx' && err.status !== 503) serverErrors++;
    const backoff = Math.min(maxDelay, base * 2 ** made) * random();
    // The server's Retry-After is a floor (never come back sooner than asked) up to the cap: a server
    // asking for an hour would otherwise hold the run in silence.
    const capped = err.retryAfterMs !== undefined && err.retryAfterMs > maxRetryAfter;
    const asked = err.retryAfterMs === undefined ? undefined : Math.min(err.retryAfterMs, maxRetryAfter);
    const delay = asked !== undefined ? Math.max(asked, backoff) : backoff;
    opts.onRetry?.(err, made + 1, delay, describeWait(err, made + 1, retries, delay, capped ? err.retryAfterMs : undefined));
    try {
      await sleep(delay, opts.signal);
    } catch {
      throw Object.assign(new RequestError('aborted', 'request aborted while waiting to retry'), { retries: made });
    }
    made++;
  }
}
