// The transport under the openai SDK for the server runners: a `fetch` built on node:http(s) with a
// keep-alive agent. Node's built-in fetch (undici through WHATWG streams) costs several hundred
// microseconds of CPU per streamed request on this path; at high concurrency against a fast server
// that cost, not the server, would set the measured requests/s (bench/client-overhead.ts). The SDK
// still builds, sends and checks every request and turns errors into its typed errors; only the
// socket work is done here. Anything this adapter does not handle (a Request object, a streamed or
// form body, a redirect to follow) goes to the global fetch unchanged.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

function abortError(signal: AbortSignal): unknown {
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

function responseHeaders(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/**
 * The body as it arrives (decompressed when a server compressed it although asked not to). We send
 * `Accept-Encoding: identity`: SSE is tiny and compression only delays chunks.
 */
function decoded(res: http.IncomingMessage): Readable {
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

/** A `fetch` for string/URL inputs with string or byte bodies over node:http(s); others use global fetch. */
export function createHttpFetch(): typeof fetch {
  // Keep-alive, sockets per host unlimited (as undici's pool for HTTP/1.1): the load profile caps concurrency.
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });

  const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !simpleBody) return fetch(input, init);
    return send(typeof input === 'string' ? new URL(input) : input, init, 0);
  };

  const send = (url: URL, init: RequestInit, redirects: number): Promise<Response> => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(url, init);
    const body = init.body as string | Uint8Array | null | undefined;
    const signal = init.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    return new Promise<Response>((resolve, reject) => {
      const headers = plainHeaders(init.headers);
      headers['accept-encoding'] ??= 'identity';
      if (body != null && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request({
        agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: url.pathname + url.search,
        method: (init.method ?? 'GET').toUpperCase(),
        headers,
      });
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (e) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        // The shape undici gives, so error handling (the SDK's and ours) reads both alike.
        reject(new TypeError('fetch failed', { cause: e }));
      });
      req.once('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        const status = res.statusCode ?? 0;
        if (REDIRECT_STATUS.has(status) && (init.redirect ?? 'follow') === 'follow' && res.headers.location) {
          // Follow it as fetch does: 303, and 301/302 after a POST, become a GET without a body.
          res.resume();
          if (redirects >= MAX_REDIRECTS) {
            reject(new TypeError('fetch failed', { cause: new Error(`more than ${MAX_REDIRECTS} redirects`) }));
            return;
          }
          const method = (init.method ?? 'GET').toUpperCase();
          const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
          const next: RequestInit = toGet ? { ...init, method: 'GET', body: null, headers: withoutBodyHeaders(init.headers) } : init;
          resolve(send(new URL(res.headers.location, url), next, redirects + 1));
          return;
        }
        const hasBody = !NO_BODY_STATUS.has(status) && init.method?.toUpperCase() !== 'HEAD';
        if (!hasBody) res.resume();
        try {
          const response = new Response(hasBody ? bodyStream(res, signal) : null, {
            status,
            statusText: res.statusMessage ?? '',
            headers: responseHeaders(res.rawHeaders),
          });
          Object.defineProperty(response, 'url', { value: url.href });
          resolve(response);
        } catch (e) {
          res.destroy();
          reject(new TypeError('fetch failed', { cause: e }));
        }
      });
      req.end(body ?? undefined);
    });
  };
  return httpFetch as typeof fetch;
}
