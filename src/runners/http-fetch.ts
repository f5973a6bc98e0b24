// The transport under the openai SDK for the server runners: a `fetch` built on node:http(s) with a
// keep-alive agent. Node's built-in fetch (undici through WHATWG streams) costs several hundred
// microseconds of CPU per streamed request on this path; at high concurrency against a fast server
// that cost, not the server, would set the measured requests/s (bench/client-overhead.ts). The SDK
// still builds, sends and checks every request and turns errors into its typed errors; only the
// socket work is done here. Anything this adapter does not handle (a Request object, a streamed or
// form body, a redirect to follow) goes to the global fetch unchanged.
//
// Kept-alive sockets a server closes: llama-server closes the connection after every streamed response
// while still sending `Keep-Alive: timeout=5, max=100`. Its FIN often arrives just after the response
// ended, so the next request goes out on a dead socket and fails at once (ECONNRESET / socket hang up).
// Three rules keep that away from the run's retries and figures: a pooled socket the server closes is
// destroyed at once (out of the pool); an origin seen closing a socket after a stream gets no socket kept
// after its streams any more; and a request that fails on a reused socket before any byte of its answer
// came is sent again at once on a fresh connection (the server never started on it: not a retry, no wait).
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * What the transport needs of a signal: an AbortSignal, or the retry's lighter AttemptCancel (retry.ts),
 * which has the same `aborted`, `reason` and abort listeners without an EventTarget per request.
 */
export interface Abortable {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

function abortError(signal: Abortable): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function plainHeaders(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) {
    h.forEach((v, k) => {
      out[k] = v;
    });
  } else if (Array.isArray(h)) {
    for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  } else {
    for (const k of Object.keys(h)) {
      const v = (h as Record<string, string | undefined>)[k];
      if (v !== undefined) out[k.toLowerCase()] = v;
    }
  }
  return out;
}

/** A response's headers as a WHATWG Headers object (built only where one is needed: the SDK, an error). */
export function responseHeaders(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/**
 * Whether a response has a header, read from rawHeaders: node builds `res.headers` (an object, every
 * header through its matcher) on first use, and the hot path needs only a few headers' presence.
 */
function hasRawHeader(res: http.IncomingMessage, name: string): boolean {
  return rawHeader(res, name) !== undefined;
}

/**
 * A response header's value from rawHeaders (`name` lower-case): as `res.headers[name]` gives it for a
 * header sent once (every header it is asked for here), without node building `res.headers` for it.
 * A header sent more than once is read from `res.headers`, which joins or picks as node's rules say.
 */
function rawHeader(res: http.IncomingMessage, name: string): string | undefined {
  const raw = res.rawHeaders;
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === name.length && k.toLowerCase() === name) {
      if (found !== undefined) return res.headers[name] as string;
      found = raw[i + 1]!;
    }
  }
  return found;
}

/**
 * The body as it arrives (decompressed when a server compressed it although asked not to). We send
 * `Accept-Encoding: identity`: SSE is tiny and compression only delays chunks.
 */
export function decoded(res: http.IncomingMessage): Readable {
  if (!hasRawHeader(res, 'content-encoding')) return res;
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return res.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH }));
  if (encoding === 'deflate') return res.pipe(zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH }));
  if (encoding === 'br') return res.pipe(zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH }));
  return res;
}

/** A body stream over a node response, with back-pressure: the socket pauses while nobody reads. */
function bodyStream(res: http.IncomingMessage, signal: AbortSignal | null | undefined): ReadableStream<Uint8Array> {
  const source = decoded(res);
  let onAbort: (() => void) | undefined;
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const finish = (e?: unknown) => {
        if (!open) return;
        open = false;
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (e === undefined) controller.close();
        else controller.error(e);
      };
      source.on('data', (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      });
      source.once('end', () => finish());
      source.once('error', (e) => finish(new TypeError('terminated', { cause: e })));
      if (source !== res) res.once('error', (e) => finish(new TypeError('terminated', { cause: e })));
      // A response cut off mid-body (closed before it was complete) is an error, as undici makes it.
      res.once('close', () => {
        if (!res.complete) finish(new TypeError('terminated', { cause: new Error('other side closed') }));
      });
      if (signal) {
        onAbort = () => {
          finish(abortError(signal));
          res.destroy();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    },
    pull() {
      if (source.isPaused()) source.resume();
    },
    cancel() {
      open = false;
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      res.destroy();
      if (source !== res) source.destroy();
    },
  });
}

const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

function withoutBodyHeaders(h: RequestInit['headers']): Record<string, string> {
  const out = plainHeaders(h);
  for (const k of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) delete out[k];
  return out;
}

/** What the pool knows of one socket. */
interface SocketState {
  origin: string;
  /** The last response it carried was streamed (chunked or close-delimited, no Content-Length). */
  streamed: boolean;
  /** In the agent's free pool since (performance.now()), or null while carrying a request. */
  freeSince: number | null;
  /** The idle time the server announced (Keep-Alive: timeout=N), ms. */
  keepAliveMs: number | null;
}

export interface HttpFetchOptions {
  /** Called when a request that failed on a reused socket before any answer byte is sent again on a fresh connection. */
  onResend?: (info: { url: string; code: string }) => void;
}

/** Errors of a request written to a socket the server had already closed. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);
/** Without an announced keep-alive time, a close sooner than this after a stream counts as "closes after streams". */
const UNANNOUNCED_CLOSE_MS = 1000;

let lastHint: { header: string; ms: number | null } = { header: '', ms: null };

function keepAliveHintMs(header: string | string[] | undefined): number | null {
  const text = String(header ?? '');
  // A server sends the same Keep-Alive header every time: read it once.
  if (text === lastHint.header) return lastHint.ms;
  const m = /timeout=(\d+)/i.exec(text);
  lastHint = { header: text, ms: m ? Number(m[1]) * 1000 : null };
  return lastHint.ms;
}

/** What a request needs of its URL, read once per URL object (node's URL getters are not free). */
interface UrlParts { protocol: string; hostname: string; port: string | undefined; path: string; secure: boolean }
const urlParts = new WeakMap<URL, UrlParts>();

function partsOf(url: URL): UrlParts {
  let p = urlParts.get(url);
  if (!p) {
    const host = url.hostname;
    p = { protocol: url.protocol, hostname: host.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: url.pathname + url.search, secure: url.protocol === 'https:' };
    urlParts.set(url, p);
  }
  return p;
}

/**
 * A keep-alive pool that drops sockets the server closes and learns which origins close after streams.
 * `keepSocketAlive` / `reuseSocket` are the agent's documented hooks for what it keeps and hands out.
 */
class SocketPool {
  readonly closesAfterStream = new Set<string>();
  private readonly states = new WeakMap<Duplex, SocketState>();

  constructor(readonly http: http.Agent, readonly https: https.Agent) {
    for (const agent of [http, https]) {
      const keep = agent.keepSocketAlive.bind(agent) as (socket: Duplex) => boolean;
      agent.keepSocketAlive = ((socket: Duplex) => {
        const st = this.states.get(socket);
        // The server is known to close after a stream: keeping this socket would only hand out a dead one.
        if (st?.streamed && this.closesAfterStream.has(st.origin)) return false;
        if (!keep(socket)) return false;
        if (st) st.freeSince = performance.now();
        return true;
      }) as typeof agent.keepSocketAlive;
      const reuse = agent.reuseSocket.bind(agent);
      agent.reuseSocket = (socket, req) => {
        const st = this.states.get(socket);
        if (st) st.freeSince = null;
        reuse(socket, req);
      };
    }
  }

  /** Starts tracking a socket the first time a request gets it. */
  track(socket: Socket, url: URL): void {
    if (this.states.has(socket)) return;
    const origin = `${url.protocol}//${url.host}`;
    const st: SocketState = { origin, streamed: false, freeSince: null, keepAliveMs: null };
    this.states.set(socket, st);
    socket.on('end', () => {
      // The server closed it. Idle in the pool: out of it now (the agent only skips destroyed sockets).
      if (st.freeSince === null) return;
      if (st.streamed && performance.now() - st.freeSince < (st.keepAliveMs ?? UNANNOUNCED_CLOSE_MS)) this.closesAfterStream.add(origin);
      socket.destroy();
    });
  }

  /** Records what the socket's current response is like. */
  responded(socket: Socket, res: http.IncomingMessage): void {
    const st = this.states.get(socket);
    if (!st) return;
    st.streamed = !hasRawHeader(res, 'content-length');
    const keepAlive = rawHeader(res, 'keep-alive');
    st.keepAliveMs = keepAlive !== undefined ? keepAliveHintMs(keepAlive) : null;
  }

  /** A request failed on this reused socket before any answer: if it had carried a stream, the origin closes after streams. */
  failedAfterReuse(socket: Socket | null): void {
    const st = socket ? this.states.get(socket) : undefined;
    if (st?.streamed) this.closesAfterStream.add(st.origin);
  }
}

/** An answer as node:http gives it: no WHATWG Response, Headers or streams are built for it. */
export interface RawResponse {
  status: number;
  /** The response; read its body with decoded(res). Redirects have been followed. */
  res: http.IncomingMessage;
  url: string;
}

export interface RawRequest {
  method?: string;
  /** Ignored when `flat` is given. */
  headers?: Record<string, string>;
  /** The headers as HttpTransport.flatHeaders made them for this URL object (a session's, made once). */
  flat?: FlatHeaders;
  body?: string | Uint8Array | null;
  signal?: Abortable | null;
}

/**
 * A request's headers in node's flat form ([k, v, k, v], Host included) for one URL, in the order and
 * spelling node writes the same headers given as an object. Given an array, node writes it as it is: no
 * setHeader per header (a validation, a lower-casing and an entry each), no Host to work out, per request.
 * The content-length value is a slot, filled per request in a copy.
 */
export interface FlatHeaders {
  /** The URL object they were made for: another URL (a redirect) gets object headers again. */
  readonly url: URL;
  readonly list: readonly string[];
  /** Index of the content-length value in `list`. */
  readonly lengthAt: number;
}

/**
 * The keep-alive transport: `fetch` for the SDK, `request` for the server runners' hot path (one streamed
 * request with its answer as node gives it), both over the same pool and the same dead-socket rules.
 */
export interface HttpTransport {
  fetch: typeof fetch;
  /** Rejects as `fetch` does: TypeError('fetch failed', { cause }) on a network error, the signal's reason on abort. */
  request(url: URL, init?: RawRequest): Promise<RawResponse>;
  /** `headers` (sent with a body) as a request to `url` on this transport's pool writes them, ready for `request`'s `flat`. */
  flatHeaders(url: URL, headers: Record<string, string>): FlatHeaders;
}

/** What the transport adds to a request's own headers (lower-cased keys), in this order, as `send` does. */
function completeHeaders(headers: Record<string, string>, body: string | Uint8Array | null | undefined): void {
  headers['accept-encoding'] ??= 'identity';
  if (body != null && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
}

/**
 * The Host header node:http writes for a request on an agent (ClientRequest: the hostname, bracketed when it
 * is an IPv6 address, and the port unless it is the agent's default one), after the request's own headers.
 */
function hostHeader(parts: UrlParts): string {
  const host = parts.hostname;
  const colon = host.indexOf(':');
  let value = colon !== -1 && host.includes(':', colon + 1) && host.charCodeAt(0) !== 91 ? `[${host}]` : host;
  const defaultPort = parts.secure ? 443 : 80;
  if (parts.port && Number(parts.port) !== defaultPort) value += `:${parts.port}`;
  return value;
}

/** Object headers again from flat ones (Host left out: node works it out for the URL it is given). */
function objectHeaders(flat: FlatHeaders, length: string): Record<string, string> {
  const out: Record<string, string> = {};
  const list = flat.list;
  for (let i = 0; i + 1 < list.length; i += 2) if (list[i] !== 'Host') out[list[i]!] = i + 1 === flat.lengthAt ? length : list[i + 1]!;
  return out;
}

/** A `fetch` for string/URL inputs with string or byte bodies over node:http(s); others use global fetch. */
export function createHttpFetch(options: HttpFetchOptions = {}): typeof fetch {
  return createHttpTransport(options).fetch;
}

export function createHttpTransport(options: HttpFetchOptions = {}): HttpTransport {
  // Keep-alive, sockets per host unlimited (as undici's pool for HTTP/1.1): the load profile caps concurrency.
  const pool = new SocketPool(new http.Agent({ keepAlive: true }), new https.Agent({ keepAlive: true }));

  const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !simpleBody) return fetch(input, init);
    const url = typeof input === 'string' ? new URL(input) : input;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(url, init);
    const method = (init.method ?? 'GET').toUpperCase();
    return send(url, { method, headers: plainHeaders(init.headers), flat: null, flatOf: null, body: body as string | Uint8Array | null | undefined, signal: init.signal ?? null },
      init.redirect ?? 'follow', 0).then(({ status, res, url: finalUrl }) => {
      const hasBody = !NO_BODY_STATUS.has(status) && method !== 'HEAD';
      if (!hasBody) res.resume();
      try {
        const response = new Response(hasBody ? bodyStream(res, init.signal) : null, {
          status,
          statusText: res.statusMessage ?? '',
          headers: responseHeaders(res.rawHeaders),
        });
        Object.defineProperty(response, 'url', { value: finalUrl });
        return response;
      } catch (e) {
        res.destroy();
        throw new TypeError('fetch failed', { cause: e });
      }
    });
  };

  const request = (url: URL, init: RawRequest = {}): Promise<RawResponse> => {
    const method = (init.method ?? 'GET').toUpperCase();
    const flat = init.flat;
    if (flat) {
      const list = flat.list.slice();
      const body = init.body;
      list[flat.lengthAt] = body == null ? '0' : String(Buffer.byteLength(body));
      return send(url, { method, headers: null, flat: flat.url === url ? list : null, flatOf: flat, body, signal: init.signal ?? null }, 'follow', 0);
    }
    const headers: Record<string, string> = {};
    for (const k of Object.keys(init.headers ?? {})) headers[k.toLowerCase()] = init.headers![k]!;
    return send(url, { method, headers, flat: null, flatOf: null, body: init.body, signal: init.signal ?? null }, 'follow', 0);
  };

  const flatHeaders = (url: URL, own: Record<string, string>): FlatHeaders => {
    const headers: Record<string, string> = {};
    for (const k of Object.keys(own)) headers[k.toLowerCase()] = own[k]!;
    // A body is always sent with them: content-length is there, its value a slot.
    completeHeaders(headers, '');
    const list: string[] = [];
    let lengthAt = -1;
    for (const k of Object.keys(headers)) {
      if (k === 'content-length') lengthAt = list.length + 1;
      list.push(k, headers[k]!);
    }
    list.push('Host', hostHeader(partsOf(url)));
    return { url, list, lengthAt };
  };

  /**
   * `headers` is the request's own object (both callers make a fresh one): send completes it in place. Or
   * `flat`: the whole list for this URL on a pooled socket (`flatOf` its source, for object headers when it
   * cannot be used: a one-off connection, a redirect).
   */
  interface Sending {
    method: string;
    headers: Record<string, string> | null;
    flat: string[] | null;
    flatOf: FlatHeaders | null;
    body: string | Uint8Array | null | undefined;
    signal: Abortable | null;
  }

  /** The request's headers as object ones (made from its flat ones if it has them). */
  const headerObject = (init: Sending): Record<string, string> =>
    init.headers ?? objectHeaders(init.flatOf!, init.flat ? init.flat[init.flatOf!.lengthAt]! : init.body == null ? '0' : String(Buffer.byteLength(init.body)));

  /** `fresh`: a one-off connection (a resend after a dead kept-alive socket), never a pooled one. */
  const send = (url: URL, init: Sending, redirect: RequestInit['redirect'], redirects: number, fresh = false): Promise<RawResponse> => {
    const body = init.body;
    const signal = init.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    return new Promise<RawResponse>((resolve, reject) => {
      // Flat headers on a pooled socket; object ones otherwise (on a one-off connection node writes another Host).
      let headers: Record<string, string> | string[];
      if (init.flat && !fresh) headers = init.flat;
      else {
        if (!init.headers) init = { ...init, headers: headerObject(init), flat: null };
        headers = init.headers!;
        completeHeaders(headers, body);
      }
      const parts = partsOf(url);
      const req = (parts.secure ? https : http).request({
        agent: fresh ? false : parts.secure ? pool.https : pool.http,
        protocol: parts.protocol,
        hostname: parts.hostname,
        port: parts.port,
        path: parts.path,
        method: init.method,
        headers,
      });
      let settled = false;
      // Whether any byte of the answer came on this socket (then the server did start on the request):
      // its byte count then against now (no listener on the socket per request).
      let socket: Socket | null = null;
      let readBefore = 0;
      // Plain listeners, no once-wrappers (a closure and a removal each, per request): each handler is
      // guarded by `settled`, and a request has one socket and one response.
      req.on('socket', (s: Socket) => {
        socket = s;
        readBefore = s.bytesRead;
        if (!fresh) pool.track(s, url);
      });
      const onAbort = () => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort);
      req.on('error', (e) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const code = (e as NodeJS.ErrnoException).code ?? '';
        const answerBytes = socket !== null && (socket as Socket).bytesRead > readBefore;
        if (!fresh && req.reusedSocket && !answerBytes && STALE_SOCKET_CODES.has(code)) {
          // Written to a socket the server had closed: it never saw the request. Again, now, on a new connection.
          pool.failedAfterReuse(socket);
          options.onResend?.({ url: url.href, code });
          resolve(send(url, init, redirect, redirects, true));
          return;
        }
        // The shape undici gives, so error handling (the SDK's and ours) reads both alike.
        reject(new TypeError('fetch failed', { cause: e }));
      });
      req.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (socket && !fresh) pool.responded(socket, res);
        const status = res.statusCode ?? 0;
        if (REDIRECT_STATUS.has(status) && redirect === 'follow' && res.headers.location) {
          // Follow it as fetch does: 303, and 301/302 after a POST, become a GET without a body.
          res.resume();
          if (redirects >= MAX_REDIRECTS) {
            reject(new TypeError('fetch failed', { cause: new Error(`more than ${MAX_REDIRECTS} redirects`) }));
            return;
          }
          const method = init.method;
          const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
          const next: Sending = toGet ? { ...init, method: 'GET', body: null, headers: withoutBodyHeaders(headerObject(init)), flat: null }
            : { ...init, headers: headerObject(init), flat: null };
          resolve(send(new URL(res.headers.location, url), next, redirect, redirects + 1));
          return;
        }
        resolve({ status, res, url: url.href });
      });
      req.end(body ?? undefined);
    });
  };
  return { fetch: httpFetch as typeof fetch, request, flatHeaders };
}
