// Resilience for HTTP runners: a timeout per attempt (not retried: a slow server stays slow), retries with exponential backoff and full jitter on
// 429 (honouring Retry-After), 5xx and connection errors, none on 4xx input errors, and an error that says
// what went wrong (`kind`) and how often it was retried, so the run loop records an error, never an answer.
// llama-server answers 500 for malformed bodies, so 5xx retries are capped separately and a 500 whose
// message is a JSON parse error is not retried at all.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type RequestErrorKind =
  | 'timeout'
  | 'http-5xx'
  | 'http-429'
  | 'http-4xx'
  | 'connection'
  | 'bad-response'
  | 'aborted';

/** The error every HTTP runner throws. The run loop reads `kind` and `retries` (ItemError). */
export class RequestError extends Error {
  readonly kind: RequestErrorKind;
  retries: number;
  readonly status?: number;
  /** Server-asked wait before a retry (Retry-After), ms. */
  readonly retryAfterMs?: number;

  constructor(kind: RequestErrorKind, message: string, opts: { status?: number; retries?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'RequestError';
    this.kind = kind;
    this.retries = opts.retries ?? 0;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

export interface RetryOptions {
  /** Most retries after the first attempt (429, connection errors, 503). Default 3. */
  retries?: number;
  /** Most retries for 500/502/504 (a server bug or a bad body on llama-server). Default 1. */
  serverErrorRetries?: number;
  /** Timeout of one attempt, whole stream included. Default 10 minutes. */
  timeoutMs?: number;
  /** First backoff; doubles each retry, full jitter. Default 500 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Injected for tests (records the waits instead of waiting); must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called before each retry, for logs. */
  onRetry?: (err: RequestError, attempt: number, delayMs: number) => void;
  /** Strings to scrub from error messages (API keys). */
  redact?: string[];
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

/** Turns anything a request can throw into a RequestError. */
export function classifyError(e: unknown, ctx: { timedOut: boolean; aborted: boolean; redact?: string[] }): RequestError {
  if (e instanceof RequestError) return e;
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
      return true;
    case 'http-5xx':
      if (err.status === 503) return true; // loading / overloaded: waiting helps
      if (looksLikeBadBody(err.message)) return false;
      return serverErrors < opts.serverErrorRetries;
    default:
      return false; // 4xx, bad responses, aborts: the same request fails the same way
  }
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

/**
 * Runs `attempt(signal)` until it succeeds or fails for good. Each attempt gets a signal that aborts on
 * the caller's signal or on the per-attempt timeout. Throws a RequestError with `retries` set.
 */
export async function withRetry<T>(attempt: (signal: AbortSignal, attemptNo: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const retries = opts.retries ?? 3;
  const serverErrorRetries = opts.serverErrorRetries ?? 1;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const base = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 30_000;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  let made = 0;
  let serverErrors = 0;
  for (let n = 0; ; n++) {
    if (opts.signal?.aborted) throw Object.assign(new RequestError('aborted', 'request aborted'), { retries: made });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => controller.abort(opts.signal!.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let err: RequestError;
    try {
      return await attempt(controller.signal, n);
    } catch (e) {
      err = classifyError(e, { timedOut, aborted: opts.signal?.aborted ?? false, redact: opts.redact });
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
    err.retries = made;
    if (made >= retries || !retryable(err, serverErrors, { serverErrorRetries })) throw err;
    if (err.kind === 'http-5xx' && err.status !== 503) serverErrors++;
    const backoff = Math.min(maxDelay, base * 2 ** made) * random();
    // The server's Retry-After is a floor: never come back sooner than asked.
    const delay = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, backoff) : backoff;
    opts.onRetry?.(err, n + 1, delay);
    try {
      await sleep(delay, opts.signal);
    } catch {
      throw Object.assign(new RequestError('aborted', 'request aborted while waiting to retry'), { retries: made });
    }
    made++;
  }
}
