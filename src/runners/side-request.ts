// Side requests (the planning step's /apply-template and /tokenize, /props, /v1/models, /metrics) each on a
// fresh connection, closed after the answer, with a timeout. llama-server gives every open connection one of its few HTTP
// threads (max(np + 2, cores - 1)) for as long as it stays open, idle keep-alive included, so a counting
// request that left its socket open would hold a thread the measured streams need.
// The planning step's counts are many (one or two per prompt) and all come before the measured requests: they
// go over a few kept-alive connections (PlanningConnections), which are closed before the first measured
// request, so no idle socket holds a server thread while measuring.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Kept-alive connections for the planning step's side requests; release() closes them (before measuring). */
export class PlanningConnections {
  private http: HttpAgent | null = null;
  private https: HttpsAgent | null = null;
  constructor(private readonly maxSockets = 4) {}

  for(url: string): HttpAgent | HttpsAgent {
    if (url.startsWith('https:')) return (this.https ??= new HttpsAgent({ keepAlive: true, maxSockets: this.maxSockets }));
    return (this.http ??= new HttpAgent({ keepAlive: true, maxSockets: this.maxSockets }));
  }

  release(): void {
    this.http?.destroy();
    this.https?.destroy();
    this.http = null;
    this.https = null;
  }
}

export type SideResult<T> = { ok: true; value: T } | { ok: false; reason: string; status?: number };

export function postJsonOnce<T>(
  url: string,
  body: unknown,
  opts: { headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal; agent?: HttpAgent | HttpsAgent } = {},
): Promise<SideResult<T>> {
  return requestOnce(url, { ...opts, method: 'POST', body: JSON.stringify(body) }).then((r) => {
    if (!r.ok) return r;
    try {
      return { ok: true, value: JSON.parse(r.value) as T };
    } catch {
      return { ok: false, reason: `not JSON: ${r.value.slice(0, 200)}` };
    }
  });
}

/** One request on a connection of its own (closed after the answer) or on `agent`'s; the body as text, or why not. */
export function requestOnce(
  url: string,
  opts: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal; agent?: HttpAgent | HttpsAgent } = {},
): Promise<SideResult<string>> {
  const u = new URL(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { ...opts.headers, ...(opts.agent ? {} : { Connection: 'close' }) };
  if (opts.body !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(opts.body) });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: SideResult<string>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const req = send(u, { method: opts.method ?? 'GET', agent: opts.agent ?? false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ ok: false, reason: e.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return finish({ ok: false, status, reason: `HTTP ${status}: ${text.slice(0, 200)}` });
        finish({ ok: true, value: text });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ ok: false, reason: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish({ ok: false, reason: 'aborted' });
    };
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: e.code ?? e.message }));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(opts.body);
  });
}
