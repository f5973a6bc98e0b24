// The server runners' request head on the wire. The hot path hands node:http its headers as one flat list
// made once per session (http-fetch.ts flatHeaders): node writes such a list as it is, so the list must be
// what node writes for the same headers given as an object (the path before, and still the SDK's and every
// other caller's). Read on a loopback server, byte for byte: a first request, one on a reused socket, with
// and without a key, both endpoints; a redirect to another origin and a resend on a fresh connection (both
// leave the flat list for object headers again, as node works out another Host there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { OpenAiServerSession } from '../../src/runners/openai-stream.js';
import { createHttpTransport } from '../../src/runners/http-fetch.js';

interface Seen { head: string; body: string }

const SSE = 'data: {"choices":[{"index":0,"delta":{"content":"Answer: B"},"finish_reason":null}]}\n\n'
  + 'data: {"choices":[{"index":0,"delta":{"content":"","text":"Answer: B"},"text":"Answer: B","finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n';

/**
 * A raw HTTP/1.1 server: records each request's head and body as they came, answers an SSE stream
 * (Content-Length, kept alive), a 307 for /moved (to `movedTo`), and cuts the n-th request on a socket
 * unanswered when `cutNth` says so.
 */
function rawServer(): Promise<{ base: string; seen: Seen[]; opts: { movedTo: string | null; cutNth: number }; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const opts = { movedTo: null as string | null, cutNth: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let n = 0;
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end + 4).toString('latin1');
        const m = /\r\ncontent-length: (\d+)\r\n/i.exec(head);
        const len = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + len) return;
        const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
        buf = buf.subarray(end + 4 + len);
        seen.push({ head, body });
        n++;
        if (opts.cutNth === n) return void socket.destroy();
        if (head.includes(' /moved ') && opts.movedTo) {
          socket.write(`HTTP/1.1 307 Temporary Redirect\r\nLocation: ${opts.movedTo}\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n`);
          continue;
        }
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: ${Buffer.byteLength(SSE)}\r\nConnection: keep-alive\r\n\r\n${SSE}`);
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    opts,
    // Kept-alive connections would hold close() open: cut them.
    close: () => new Promise((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    }),
  })));
}

/** What node:http writes for the same request with object headers: the old hot path's exact headers. */
function objectRequest(agent: http.Agent | false, url: string, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ agent, hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The headers the direct path sent as an object before (openai-stream.ts directHeaders, then http-fetch.ts send). */
function oldHeaders(body: string, key: string | null): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...(key ? { authorization: `Bearer ${key}` } : {}),
    'accept-encoding': 'identity',
  };
}

const request = { messages: [{ role: 'user' as const, content: 'Which option? A or B. é' }], sampling: { temperature: 0, topP: 1, maxTokens: 8 } };

describe('the request head on the wire', () => {
  let server: Awaited<ReturnType<typeof rawServer>>;
  beforeAll(async () => {
    server = await rawServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it.each([
    { api: 'chat' as const, key: null },
    { api: 'chat' as const, key: 'sk-test-123' },
    { api: 'completions' as const, key: 'sk-test-123' },
  ])('is what node:http writes for the same headers as an object ($api, key: $key)', async ({ api, key }) => {
    const session = new OpenAiServerSession({ baseUrl: server.base, apiKey: key, model: 'm', api, inlineThink: 'auto', retries: 0, requestTimeoutMs: 60_000 });
    server.seen.length = 0;
    // Two requests: the first opens the connection, the second goes on the kept-alive socket.
    for (let i = 0; i < 2; i++) expect((await session.generate(request, { cache_prompt: true })).generation.rawText).toBe('Answer: B');
    const sent = server.seen.splice(0);
    expect(sent).toHaveLength(2);
    const agent = new http.Agent({ keepAlive: true });
    const path = api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
    for (const s of sent) await objectRequest(agent, `${server.base}${path}`, oldHeaders(s.body, key), s.body);
    agent.destroy();
    const reference = server.seen.splice(0);
    expect(sent.map((s) => s.head)).toEqual(reference.map((s) => s.head));
    expect(sent[0]!.head).toMatch(new RegExp(`^POST ${path} HTTP/1.1\\r\\ncontent-type: application/json\\r\\n.*\\r\\nHost: 127\\.0\\.0\\.1:\\d+\\r\\nConnection: keep-alive\\r\\n\\r\\n$`, 's'));
  });

  it('after a redirect to another origin, and on a fresh connection after a dead kept-alive one, as with object headers', async () => {
    const other = await rawServer();
    try {
      const transport = createHttpTransport();
      const movedUrl = new URL(`${server.base}/moved`);
      const body = '{"a":"é"}';
      const flat = transport.flatHeaders(movedUrl, { 'Content-Type': 'application/json', 'content-length': '' });
      const asObject = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
      server.opts.movedTo = `${other.base}/v1/new`;
      await drained(await transport.request(movedUrl, { method: 'POST', flat, body }));
      await drained(await transport.request(movedUrl, { method: 'POST', headers: asObject, body }));
      expect(other.seen).toHaveLength(2);
      expect(other.seen[0]).toEqual(other.seen[1]);
      expect(other.seen[0]!.head).toContain(`\r\nHost: ${new URL(other.base).host}\r\n`);
      expect(server.seen.at(-1)!.head).toBe(server.seen.at(-2)!.head);

      // The second request on a kept-alive socket is cut unanswered: sent again on a fresh connection.
      for (const init of [{ flat }, { headers: asObject }]) {
        const t = createHttpTransport();
        const url = new URL(`${other.base}/v1/x`);
        const f = init.flat ? { flat: t.flatHeaders(url, { 'Content-Type': 'application/json', 'content-length': '' }) } : init;
        other.seen.length = 0;
        other.opts.cutNth = 2;
        for (let i = 0; i < 2; i++) await drained(await t.request(url, { method: 'POST', ...f, body }));
        other.opts.cutNth = 0;
        expect(other.seen).toHaveLength(3);
        (init.flat ? flatSeen : objectSeen).push(...other.seen.map((s) => s.head));
      }
      expect(flatSeen).toEqual(objectSeen);
      // The resend went on a one-off connection: node says so in its head.
      expect(flatSeen[2]).toContain('\r\nConnection: close\r\n');
    } finally {
      await other.close();
    }
  });
});

/** Reads an answer to its end (then its socket goes back to the pool). */
function drained(raw: { res: http.IncomingMessage }): Promise<void> {
  return new Promise((resolve) => raw.res.on('end', resolve).resume());
}

const flatSeen: string[] = [];
const objectSeen: string[] = [];
