// One JSON request on a fresh connection, closed after the answer, with a timeout: for the planning step's
// prompt counts (/apply-template, /tokenize). llama-server gives every open connection one of its few HTTP
// threads (max(np + 2, cores - 1)) for as long as it stays open, idle keep-alive included, so a counting
// request that left its socket open would hold a thread the measured streams need.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type SideResult<T> = { ok: true; value: T } | { ok: false; reason: string; status?: number };

export function postJsonOnce<T>(
  url: string,
  body: unknown,
  opts: { headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<SideResult<T>> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: SideResult<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const req = send(u, {
      method: 'POST',
      agent: false,
      headers: { ...opts.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Connection: 'close' },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ ok: false, reason: e.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return finish({ ok: false, status, reason: `HTTP ${status}: ${text.slice(0, 200)}` });
        try {
          finish({ ok: true, value: JSON.parse(text) as T });
        } catch {
          finish({ ok: false, status, reason: `not JSON: ${text.slice(0, 200)}` });
        }
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
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => finish({ ok: false, reason: e.message }));
    req.end(payload);
  });
}
