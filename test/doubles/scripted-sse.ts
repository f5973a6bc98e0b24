// Shared engine of the protocol doubles: a real HTTP server on 127.0.0.1 that plays a script of SSE
// chunks with known delays and records, on the same monotonic clock as the client (same process), when
// each chunk was actually written. Tests compare the client's measurements with these send times.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface ScriptChunk {
  /** ms to wait after the previous chunk (the first: after the request body arrived). */
  delayMs: number;
  reasoning?: string;
  content?: string;
}

export interface Script {
  chunks: ScriptChunk[];
  finishReason?: 'stop' | 'length';
  /** Overrides for usage; defaults count chunks. */
  completionTokens?: number;
  promptTokens?: number;
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
}

/** A failure the double plays instead of answering the next generation request. */
export type Failure =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { reset: true }
  | { resetAfterChunks: number };

export abstract class ScriptedSseServer {
  readonly records: SendRecord[] = [];
  readonly requests: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }> = [];
  failures: Failure[] = [];
  script: (body: Record<string, unknown>) => Script = () => ({ chunks: [{ delayMs: 0, content: 'Hello' }] });
  /** Writes ": ping" SSE comments between chunks (keep-alives some servers send). */
  pings = false;
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
    await this.route(req.method ?? 'GET', path, raw, receivedAt, req, res);
  }

  protected abstract route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** Plays a queued failure, if any; true when it did. */
  protected playFailure(res: ServerResponse): boolean | { resetAfterChunks: number } {
    const f = this.failures.shift();
    if (!f) return false;
    if ('reset' in f) {
      res.socket?.destroy();
      return true;
    }
    if ('resetAfterChunks' in f) return f;
    res.writeHead(f.status, { 'Content-Type': 'application/json; charset=utf-8', ...f.headers });
    res.end(f.body ?? JSON.stringify({ error: { code: f.status, message: `injected ${f.status}`, type: 'server_error' } }));
    return true;
  }

  protected json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  /** Streams `script` as SSE: `frame(kind, text)` renders one data object, `final()` the closing objects. */
  protected async playStream(
    res: ServerResponse,
    rec: SendRecord,
    script: Script,
    frames: { head?: () => object[]; chunk: (kind: 'reasoning' | 'answer', text: string) => object; final: () => object[] },
    resetAfterChunks?: number,
  ): Promise<void> {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Transfer-Encoding': 'chunked', ...this.streamHeaders() });
    this.records.push(rec);
    for (const h of frames.head?.() ?? []) res.write(`data: ${JSON.stringify(h)}\n\n`);
    let sent = 0;
    for (const c of script.chunks) {
      if (c.delayMs > 0) await new Promise((r) => setTimeout(r, c.delayMs));
      if (resetAfterChunks !== undefined && sent >= resetAfterChunks) {
        res.socket?.destroy();
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
    rec.finalSentAt = performance.now();
    for (const f of frames.final()) res.write(`data: ${JSON.stringify(f)}\n\n`);
    res.end('data: [DONE]\n\n');
  }

  protected streamHeaders(): Record<string, string> {
    return {};
  }
}

/** Whitespace/punctuation tokens: the doubles' stand-in tokenizer. */
export function doubleTokens(text: string): string[] {
  return text.match(/\w+|[^\s\w]/g) ?? [];
}
