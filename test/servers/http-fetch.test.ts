// The node:http transport under the openai SDK, against real HTTP servers on loopback, side by side
// with Node's own fetch where both must agree.
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { createHttpFetch } from '../../src/runners/http-fetch.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: http.RequestListener): Promise<{ base: string; server: http.Server }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
  });
}

/** Rejection reason of a promise, or a marker when it resolved. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return 'resolved';
}

/**
 * Reads "data: 1" before the server is released to send "data: 2": the server holds the rest until the
 * first chunk has been read, so a transport that buffers the body would hang here.
 */
async function expectChunkByChunk(res: Response, release: () => void): Promise<void> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  expect(dec.decode((await reader.read()).value)).toBe('data: 1\n\n');
  release();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += dec.decode(r.value);
  expect(rest).toBe('data: 2\n\n');
}

describe('http-fetch', () => {
  it('sends method, headers and body, and gives status, headers and body as Node fetch does', async () => {
    const { base } = await serve(async (req, res) => {
      const body = await readBody(req);
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Request-Id', 'abc');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end(JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization ?? null, type: req.headers['content-type'], body }));
    });
    const ours = createHttpFetch();
    for (const path of ['/v1/chat/completions?x=1', '/missing']) {
      const init = { method: 'post', headers: new Headers({ Authorization: 'Bearer k', 'Content-Type': 'application/json' }), body: '{"é":1}' };
      const [a, b] = [await ours(`${base}${path}`, init), await fetch(`${base}${path}`, init)];
      expect(a.status).toBe(b.status);
      expect(a.ok).toBe(b.ok);
      expect(a.statusText).toBe(b.statusText);
      expect(a.url).toBe(b.url);
      expect(a.headers.get('x-request-id')).toBe('abc');
      expect(a.headers.get('set-cookie')).toBe(b.headers.get('set-cookie'));
      expect(await a.json()).toEqual(await b.json());
    }
    const echoed = (await (await ours(`${base}/x`, { method: 'POST', body: '{"é":1}', headers: { 'content-type': 'application/json' } })).json()) as { body: string; method: string };
    expect(echoed).toMatchObject({ method: 'POST', body: '{"é":1}' });
  });

  it('hands each chunk to the reader as it arrives, not when the response ends', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n');
      void released.then(() => res.end('data: 2\n\n'));
    });
    const res = await createHttpFetch()(`${base}/s`, { method: 'POST', body: '{}' });
    await expectChunkByChunk(res, release);
  });

  it('reuses one kept-alive connection for sequential requests', async () => {
    let connections = 0;
    const { server, base } = await serve((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    const f = createHttpFetch();
    for (let i = 0; i < 5; i++) expect(await (await f(`${base}/`, {})).text()).toBe('ok');
    expect(connections).toBe(1);
  });

  it('rejects with the abort reason when aborted before the answer, and the server sees the request closed', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((r) => (closed = r));
    let arrived!: () => void;
    const requestArrived = new Promise<void>((r) => (arrived = r));
    const { base } = await serve((req) => {
      req.socket.once('close', closed);
      arrived();
    });
    const controller = new AbortController();
    const pending = createHttpFetch()(`${base}/slow`, { method: 'POST', body: '{}', signal: controller.signal });
    await requestArrived;
    const reason = new Error('no complete answer within 5 ms');
    controller.abort(reason);
    expect(await rejection(pending)).toBe(reason);
    await serverSawClose;
    // Already aborted: never sent.
    expect(await rejection(createHttpFetch()(`${base}/x`, { signal: controller.signal }))).toBe(reason);
  });

  it('errors the body stream when aborted mid-body', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n');
    });
    const controller = new AbortController();
    const res = await createHttpFetch()(`${base}/s`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejection(reader.read())).toBe(reason);
  });

  it('a connection cut mid-body is an error ("terminated"), never a short answer', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n', () => res.socket!.destroy());
    });
    const res = await createHttpFetch()(`${base}/s`, {});
    const text = rejection(res.text());
    const e = (await text) as TypeError;
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/terminated/);
  });

  it('a refused connection rejects like undici: TypeError "fetch failed" with the socket error as cause', async () => {
    const { base, server } = await serve(() => {});
    await new Promise((r) => server.close(r));
    servers.length = 0;
    const e = (await rejection(createHttpFetch()(`${base}/`, {}))) as TypeError & { cause: NodeJS.ErrnoException };
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('fetch failed');
    expect(e.cause.code).toBe('ECONNREFUSED');
  });

  it('gives a null body for 204 and passes bodies it does not handle to Node fetch', async () => {
    const { base } = await serve(async (req, res) => {
      if (req.url === '/none') {
        res.statusCode = 204;
        res.end();
        return;
      }
      res.end(`got ${await readBody(req)}`);
    });
    const f = createHttpFetch();
    const none = await f(`${base}/none`, { method: 'DELETE' });
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed'));
        c.close();
      },
    });
    const res = await f(`${base}/echo`, { method: 'POST', body: streamed, duplex: 'half' } as RequestInit);
    expect(await res.text()).toBe('got streamed');
    expect(await (await f(new Request(`${base}/echo`, { method: 'POST', body: 'req' }))).text()).toBe('got req');
  });

  it('reads a body much larger than the stream buffer completely and in order', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const { base } = await serve((_req, res) => res.end(big));
    const got = Buffer.from(await (await createHttpFetch()(`${base}/big`, {})).arrayBuffer());
    expect(got.length).toBe(big.length);
    expect(got.equals(big)).toBe(true);
  });

  it('asks for no compression, and still reads a gzip stream chunk by chunk when a server compresses', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let asked = '';
    const { base } = await serve((req, res) => {
      asked = String(req.headers['accept-encoding']);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Content-Encoding': 'gzip' });
      const gz = zlib.createGzip();
      gz.pipe(res);
      gz.write('data: 1\n\n');
      gz.flush(zlib.constants.Z_SYNC_FLUSH);
      void released.then(() => gz.end('data: 2\n\n'));
    });
    const res = await createHttpFetch()(`${base}/s`, { method: 'POST', body: '{}' });
    expect(asked).toBe('identity');
    await expectChunkByChunk(res, release);
  });

  it('follows a redirect with the same method and body, as Node fetch does', async () => {
    const seen: string[] = [];
    const { base } = await serve(async (req, res) => {
      const body = await readBody(req);
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.url === '/old') {
        res.writeHead(307, { Location: '/v1/new' });
        res.end();
        return;
      }
      res.end('moved ok');
    });
    const res = await createHttpFetch()(`${base}/old`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('moved ok');
    expect(seen).toEqual(['POST /old {"a":1}', 'POST /v1/new {"a":1}']);
  });

  it('turns a POST into a GET on 303, and gives up after 20 redirects', async () => {
    const seen: string[] = [];
    const { base } = await serve(async (req, res) => {
      const body = await readBody(req);
      seen.push(`${req.method} ${req.url} ${body} ${req.headers['content-type'] ?? '-'}`);
      if (req.url === '/see-other') res.writeHead(303, { Location: '/result' }).end();
      else if (req.url === '/loop') res.writeHead(302, { Location: '/loop' }).end();
      else res.end('result');
    });
    const f = createHttpFetch();
    const res = await f(`${base}/see-other`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(await res.text()).toBe('result');
    expect(seen).toEqual(['POST /see-other x text/plain', 'GET /result  -']);
    const e = (await rejection(f(`${base}/loop`, {}))) as TypeError & { cause: Error };
    expect(e.message).toBe('fetch failed');
    expect(e.cause.message).toMatch(/more than 20 redirects/);
  });
});

/**
 * A server that behaves as llama-server does with connections: `Keep-Alive: timeout=5, max=100` on every
 * answer, but the TCP connection closed once a streamed (chunked) answer is written; JSON answers
 * (Content-Length) keep it open.
 */
async function closesAfterStreams(): Promise<{ base: string; server: http.Server; stats: { connections: number; requests: number } }> {
  const stats = { connections: 0, requests: 0 };
  const { base, server } = await serve((req, res) => {
    stats.requests++;
    if (req.url === '/json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '2', 'Keep-Alive': 'timeout=5, max=100' });
      res.end('{}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Transfer-Encoding': 'chunked', 'Keep-Alive': 'timeout=5, max=100' });
    res.write('data: 1\n\n');
    const socket = res.socket!;
    res.end('data: [DONE]\n\n', () => socket.destroy());
  });
  server.on('connection', () => stats.connections++);
  return { base, server, stats };
}

describe('http-fetch with servers that close kept-alive connections', () => {
  it('a server closing after every stream: every request answered, sequentially and 4 at a time', async () => {
    const { base, stats } = await closesAfterStreams();
    let resends = 0;
    const f = createHttpFetch({ onResend: () => resends++ });
    const one = async () => expect(await (await f(`${base}/s`, { method: 'POST', body: '{}' })).text()).toBe('data: 1\n\ndata: [DONE]\n\n');
    for (let i = 0; i < 30; i++) await one();
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 10; i++) await one();
    }));
    // Once seen closing after a stream, the origin gets no socket kept after its streams: at most the
    // first reuse failed (and was sent again), none after that.
    expect(resends).toBeLessThanOrEqual(1);
    // A resent request had never reached the server: it saw each request exactly once.
    expect(stats.requests).toBe(70);
    // Its JSON answers still share one connection.
    const before = stats.connections;
    for (let i = 0; i < 3; i++) expect(await (await f(`${base}/json`, {})).text()).toBe('{}');
    expect(stats.connections - before).toBe(1);
  });

  it('a request that fails on a reused socket before any answer byte goes again at once on a fresh connection', async () => {
    const perSocket = new Map<unknown, number>();
    let connections = 0;
    const { base, server } = await serve((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // The second request on a kept-alive connection: closed unanswered (a server closing an idle socket
      // just as the client reuses it).
      if (n === 2) return void req.socket.destroy();
      res.writeHead(200, { 'Content-Length': '2' });
      res.end('ok');
    });
    server.on('connection', () => connections++);
    const resent: string[] = [];
    const f = createHttpFetch({ onResend: (i) => resent.push(i.code) });
    expect(await (await f(`${base}/a`, { method: 'POST', body: 'x' })).text()).toBe('ok');
    expect(await (await f(`${base}/b`, { method: 'POST', body: 'x' })).text()).toBe('ok');
    expect(resent).toEqual(['ECONNRESET']);
    expect(connections).toBe(2);
  });

  it('a fresh connection that fails, or a reused one that failed after answer bytes came, is not sent again', async () => {
    let requests = 0;
    const perSocket = new Map<unknown, number>();
    const { base } = await serve((req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (req.url === '/fresh-reset') return void req.socket.destroy();
      if (n === 2) {
        // Part of a status line, then the connection cut: the server had started answering.
        req.socket.write('HTTP/1.1 200 OK\r\n', () => req.socket.destroy());
        return;
      }
      res.writeHead(200, { 'Content-Length': '2' });
      res.end('ok');
    });
    let resends = 0;
    const f = createHttpFetch({ onResend: () => resends++ });
    const fresh = (await rejection(f(`${base}/fresh-reset`, {}))) as TypeError;
    expect(fresh.message).toBe('fetch failed');
    expect(requests).toBe(1);
    expect(await (await f(`${base}/ok`, {})).text()).toBe('ok');
    const partial = (await rejection(f(`${base}/partial`, {}))) as TypeError;
    expect(partial).toBeInstanceOf(TypeError);
    expect(requests).toBe(3);
    expect(resends).toBe(0);
  });

  it('a server that keeps its connections after streams still gets them reused', async () => {
    let connections = 0;
    const { server, base } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Keep-Alive': 'timeout=5' });
      res.end('data: 1\n\n');
    });
    server.on('connection', () => connections++);
    const f = createHttpFetch();
    for (let i = 0; i < 5; i++) expect(await (await f(`${base}/s`, {})).text()).toBe('data: 1\n\n');
    expect(connections).toBe(1);
  });
});
