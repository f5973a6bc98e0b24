// Shared engine of the protocol doubles: a real HTTP server on 127.0.0.1 that plays a script of SSE
// chunks with known delays and records, on the same monotonic clock as the client (same process), when
// each chunk was actually written. Tests compare the client's measurements with these send times.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ScriptChunk {
  /** ms to wait after the previous chunk (the first: after the request body arrived). */
  delayMs: number;
  /** Hold this chunk until the promise settles (a test's gate: no timing involved). */
  waitFor?: Promise<unknown>;
  reasoning?: string;
  content?: string;
}

export interface Script {
  chunks: ScriptChunk[];
  finishReason?: 'stop' | 'length';
  /** Overrides for usage; defaults count chunks, plus the stop token when finishReason is stop (as the real servers do). */
  completionTokens?: number;
  promptTokens?: number;
  /** ms before the final (finish_reason) chunk after the last text: the decode step of a stop token. */
  finalDelayMs?: number;
}

/** What the double did for one streamed request. */
export interface SendRecord {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
  receivedAt: number;
  /** performance.now() just before each text chunk was written, in script order. */
  textSentAt: number[];
  kinds: Array<'reasoning' | 'answer'>;
  /** performance.now() when the final (finish_reason) chunk and [DONE] were written. */
  finalSentAt?: number;
  /** Set while the stream plays: it ends with this in-stream error before its next chunk (llama-server's KV cache full). */
  failWith?: { code: number; message: string; type: string };
}

/** A failure the double plays instead of answering the next generation request. */
export type Failure =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { reset: true }
  | { resetAfterChunks: number }
  /** Never answer: no status line, no headers (the client's timeout must end it). */
  | { hang: true }
  | { hangAfterChunks: number }
  /** After N chunks, a data line whose JSON is cut off, then the stream ends normally. */
  | { malformedAfterChunks: number }
  /** After N chunks the body ends cleanly: no finish_reason, no [DONE] (a writer that stopped early). */
  | { endAfterChunks: number }
  /**
   * After N chunks, an in-stream error (HTTP status stays 200): {"error":{code, message, type}} sent in
   * the double's own way (`streamErrorField`: a `data:` line, or llama-server's `error:` field).
   */
  | { streamErrorAfterChunks: number; message?: string; code?: number; type?: string };

/** A failure that starts once the stream is under way (200 and some chunks already sent). */
export interface StreamFault {
  resetAfterChunks?: number;
  hangAfterChunks?: number;
  malformedAfterChunks?: number;
  endAfterChunks?: number;
  streamErrorAfterChunks?: number;
  message?: string;
  /** The in-stream error's code and type (default 500 server_error). */
  code?: number;
  type?: string;
}

/** The paths llama-server answers without an API key (its `public_endpoints`). */
const PUBLIC_PATHS = new Set(['/health', '/v1/health', '/models', '/v1/models']);

export abstract class ScriptedSseServer {
  /** 'stream-start' (SendRecord) when a stream's 200 is sent, 'stream-end' once it is fully written: tests wait on them. */
  readonly events = new EventEmitter();
  readonly records: SendRecord[] = [];
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }> = [];
  failures: Failure[] = [];
  script: (body: Record<string, unknown>) => Script = () => ({ chunks: [{ delayMs: 0, content: 'Hello' }] });
  /** Writes ": ping" SSE comments between chunks (keep-alives some servers send). */
  pings = false;
  /**
   * Asked for each generation request when `failures` is empty: a failure to play, or null to answer.
   * Seeded fault schedules (test/doubles/fault-schedule.ts) plug in here.
   */
  failureFor: ((body: Record<string, unknown>, path: string) => Failure | null) | null = null;
  /** Like `--api-key`: every path but the public ones answers 401 without `Authorization: Bearer <key>`. */
  requireApiKey: string | null = null;
  /** A careless server or proxy: error messages quote the request's Authorization header. */
  echoAuthorization = false;
  /**
   * Close the TCP connection once a streamed response is written, without saying so in its headers
   * (llama-server does this after every stream while sending `Keep-Alive: timeout=5, max=100`).
   * Non-streamed answers keep the connection open either way.
   */
  closeAfterStream = false;
  /**
   * How an in-stream error is sent: as a `data: {"error":...}` line ending the body (vLLM, proxies), or as
   * llama-server's SSE `error:` field followed by `data: [DONE]`.
   */
  streamErrorField: 'data' | 'error' = 'data';
  /** Connections the double accepted, and how many of them it closed itself after a stream. */
  connections = 0;
  closedAfterStream = 0;
  /**
   * A server that leaks the request's Authorization header everywhere it can: error bodies (as
   * echoAuthorization), a response header, a malformed SSE line, and (in subclasses) /props and /metrics.
   */
  leakAuthorization = false;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    for (const s of this.sockets) s.destroy();
    this.server.close();
    await once(this.server, 'close');
    this.server = null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const receivedAt = performance.now();
    const raw = Buffer.concat(chunks).toString('utf8');
    if (this.leakAuthorization && req.headers.authorization) res.setHeader('X-Request-Authorization', req.headers.authorization);
    if (this.requireApiKey !== null && !PUBLIC_PATHS.has(path) && req.headers.authorization !== `Bearer ${this.requireApiKey}`) {
      // llama-server's answer to a missing or wrong key.
      return this.json(res, 401, { error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } });
    }
    await this.route(req.method ?? 'GET', path, raw, receivedAt, req, res);
  }

  protected abstract route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void>;

  /**
   * Plays a queued failure (or one `failureFor` picks), if any: true when the request is answered (or
   * hung) already, a StreamFault when the stream must start and then fail, false to answer normally.
   */
  protected playFailure(res: ServerResponse, body: Record<string, unknown> = {}, path = ''): boolean | StreamFault {
    const f = this.failures.shift() ?? this.failureFor?.(body, path) ?? null;
    if (!f) return false;
    if ('reset' in f) {
      res.socket?.destroy();
      return true;
    }
    if ('hang' in f) return true; // the socket stays open until the client gives up or the double stops
    if (!('status' in f)) return f;
    const text = f.body ?? JSON.stringify({ error: { code: f.status, message: `injected ${f.status}`, type: 'server_error' } });
    res.writeHead(f.status, { 'Content-Type': 'application/json; charset=utf-8', ...f.headers });
    res.end(this.withEcho(res, text));
    return true;
  }

  protected json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    let text = typeof body === 'string' ? body : JSON.stringify(body);
    if (status >= 400) text = this.withEcho(res, text);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  /** With `echoAuthorization`, an error body's message gains the request's Authorization header. */
  private withEcho(res: ServerResponse, text: string): string {
    const auth = res.req?.headers.authorization;
    if (!(this.echoAuthorization || this.leakAuthorization) || !auth) return text;
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string }; message?: string; detail?: string };
      if (parsed.error && typeof parsed.error === 'object') parsed.error.message = `${parsed.error.message ?? ''} (request had Authorization: ${auth})`;
      else parsed.message = `${parsed.message ?? parsed.detail ?? ''} (request had Authorization: ${auth})`;
      return JSON.stringify(parsed);
    } catch {
      return `${text} (request had Authorization: ${auth})`;
    }
  }

  /** Streams `script` as SSE: `frame(kind, text)` renders one data object, `final()` the closing objects. */
  protected async playStream(
    res: ServerResponse,
    rec: SendRecord,
    script: Script,
    frames: { head?: () => object[]; chunk: (kind: 'reasoning' | 'answer', text: string) => object; final: () => object[] },
    fault?: number | StreamFault,
  ): Promise<void> {
    // A bare number is the older spelling of { resetAfterChunks }.
    const f: StreamFault = typeof fault === 'number' ? { resetAfterChunks: fault } : (fault ?? {});
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Transfer-Encoding': 'chunked', ...this.streamHeaders() });
    this.records.push(rec);
    this.events.emit('stream-start', rec);
    for (const h of frames.head?.() ?? []) res.write(`data: ${JSON.stringify(h)}\n\n`);
    if (f.streamErrorAfterChunks === 0) {
      // Refused before any token (context exceeded, KV cache full): the error is the whole stream.
      this.streamError(res, { code: f.code ?? 500, message: f.message ?? 'injected error mid-stream', type: f.type ?? 'server_error' });
      this.events.emit('stream-end', rec);
      return;
    }
    let sent = 0;
    for (const c of script.chunks) {
      if (c.delayMs > 0) await new Promise((r) => setTimeout(r, c.delayMs));
      if (c.waitFor) await c.waitFor.catch(() => {});
      if (f.resetAfterChunks !== undefined && sent >= f.resetAfterChunks) {
        res.socket?.destroy();
        return;
      }
      if (f.hangAfterChunks !== undefined && sent >= f.hangAfterChunks) return; // left open, never ended
      if (rec.failWith) {
        this.streamError(res, rec.failWith);
        this.events.emit('stream-end', rec);
        return;
      }
      if (f.malformedAfterChunks !== undefined && sent >= f.malformedAfterChunks) {
        // A data line cut inside a JSON string, as a broken proxy or a crashed writer leaves it.
        const auth = this.leakAuthorization ? res.req?.headers.authorization : undefined;
        const cut = auth ? `{"error":{"message":"bad token ${auth}` : JSON.stringify(frames.chunk('answer', 'Answer: A')).slice(0, 40);
        res.write(`data: ${cut}\n\n`);
        this.endStream(res, 'data: [DONE]\n\n');
        return;
      }
      if (f.endAfterChunks !== undefined && sent >= f.endAfterChunks) {
        this.endStream(res);
        this.events.emit('stream-end', rec);
        return;
      }
      if (f.streamErrorAfterChunks !== undefined && sent >= f.streamErrorAfterChunks) {
        this.streamError(res, { code: f.code ?? 500, message: f.message ?? 'injected error mid-stream', type: f.type ?? 'server_error' });
        this.events.emit('stream-end', rec);
        return;
      }
      if (this.pings) res.write(': ping\n\n');
      const kind = c.reasoning !== undefined ? 'reasoning' : 'answer';
      const text = c.reasoning ?? c.content ?? '';
      const line = `data: ${JSON.stringify(frames.chunk(kind, text))}\n\n`;
      rec.textSentAt.push(performance.now());
      rec.kinds.push(kind);
      res.write(line);
      sent++;
    }
    if (script.finalDelayMs) await new Promise((r) => setTimeout(r, script.finalDelayMs));
    rec.finalSentAt = performance.now();
    for (const f of frames.final()) res.write(`data: ${JSON.stringify(f)}\n\n`);
    this.endStream(res, 'data: [DONE]\n\n');
    this.events.emit('stream-end', rec);
  }

  /** Sends an in-stream error (status 200 already sent) the way this double's server does, and ends. */
  protected streamError(res: ServerResponse, error: { code: number; message: string; type: string }): void {
    const text = this.withEcho(res, JSON.stringify({ error }));
    if (this.streamErrorField === 'error') {
      // llama-server: `error: {"code":...,"message":...,"type":...}` (the object itself), then [DONE].
      res.write(`error: ${JSON.stringify((JSON.parse(text) as { error: unknown }).error)}\n\n`);
      this.endStream(res, 'data: [DONE]\n\n');
    } else {
      res.write(`data: ${text}\n\n`);
      this.endStream(res);
    }
  }

  /** Ends a streamed body; with `closeAfterStream`, closes the connection once the bytes are handed to the kernel. */
  protected endStream(res: ServerResponse, last?: string): void {
    const socket = res.socket; // detached from `res` once the response has finished
    res.end(last, () => {
      if (!this.closeAfterStream || !socket || socket.destroyed) return;
      this.closedAfterStream++;
      socket.destroy();
    });
  }

  protected streamHeaders(): Record<string, string> {
    return {};
  }
}

/** Whitespace/punctuation tokens: the doubles' stand-in tokenizer. */
export function doubleTokens(text: string): string[] {
  return text.match(/\w+|[^\s\w]/g) ?? [];
}
