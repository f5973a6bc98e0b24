// Starts an inference server as a child process (no shell), on a free port, waits until its health
// endpoint answers 200 (503 while the model loads), keeps the tail of its log for error messages, and
// stops it with SIGTERM, then SIGKILL after a grace period. Some llama-server builds abort on SIGTERM
// ("terminate called without an active exception", SIGABRT): after a stop we asked for, that is not a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { InputError } from '../core/errors.js';

/** A free TCP port on `host`, found by listening on port 0. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const srv = createServer();
  srv.listen(0, host);
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

export interface ManagedProcessOptions {
  binary: string;
  args: string[];
  /** Health URL to poll, e.g. http://127.0.0.1:PORT/health. */
  healthUrl: string;
  startupTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Seen for every log line (stdout and stderr), e.g. to pick memory figures out of the start-up log. */
  onLogLine?: (line: string) => void;
  /** Kept for error messages. Default 40 lines. */
  logTailLines?: number;
  /** Grace period between SIGTERM and SIGKILL. Default 15 s. */
  stopGraceMs?: number;
  /** A label for messages, e.g. "llama-server". */
  name?: string;
  /** For tests: the clock startupTimeoutMs is measured on, and each health poll's outcome (see waitForHealth). */
  now?: () => number;
  onHealthPoll?: (status: string) => void;
}

export class ServerStartError extends Error {
  readonly logTail: string[];
  constructor(message: string, logTail: string[]) {
    super(`${message}${logTail.length ? `\n  last log lines:\n    ${logTail.join('\n    ')}` : ''}`);
    this.name = 'ServerStartError';
    this.logTail = logTail;
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we asked it to stop (then SIGABRT / 134 is the known llama-server abort, not a crash). */
  requested: boolean;
  /** Said in words for reports. */
  description: string;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;
/** If medeval itself exits, do not leave servers (and vLLM's engine children) behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killGroupNow();
  });
}

export class ManagedProcess {
  readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly tailMax: number;
  private stopRequested = false;
  private exitInfo: ExitInfo | null = null;
  private readonly exited: Promise<ExitInfo>;
  private readonly name: string;

  private constructor(private readonly opts: ManagedProcessOptions) {
    this.tailMax = opts.logTailLines ?? 40;
    this.name = opts.name ?? opts.binary;
    // Own process group (detached), so SIGKILL reaches children too (vLLM's engine core).
    this.child = spawn(opts.binary, opts.args, {
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    live.add(this);
    installExitHook();
    for (const s of [this.child.stdout!, this.child.stderr!]) this.readLines(s);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        const info = this.recordExit(null, null, `could not start ${opts.binary}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        resolve(info);
      });
      this.child.once('exit', (code, signal) => resolve(this.recordExit(code, signal)));
    });
  }

  private recordExit(code: number | null, signal: NodeJS.Signals | null, why?: string): ExitInfo {
    if (this.exitInfo) return this.exitInfo;
    live.delete(this);
    const requested = this.stopRequested;
    const aborted = signal === 'SIGABRT' || code === 134;
    const description = why
      ?? (requested
        ? aborted
          ? 'stopped on request (it aborted on SIGTERM, which this llama-server build always does: not a crash)'
          : `stopped on request (${signal ?? `exit code ${code}`})`
        : `exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`);
    this.exitInfo = { code, signal, requested, description };
    return this.exitInfo;
  }

  private readLines(stream: NodeJS.ReadableStream): void {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.line(buf.slice(0, nl).replace(/\r$/, ''));
        buf = buf.slice(nl + 1);
      }
    });
    stream.on('end', () => {
      if (buf) this.line(buf);
      buf = '';
    });
  }

  private line(l: string): void {
    this.tail.push(l);
    if (this.tail.length > this.tailMax) this.tail.shift();
    this.opts.onLogLine?.(l);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exit(): ExitInfo | null {
    return this.exitInfo;
  }

  logTail(): string[] {
    return [...this.tail];
  }

  /** Spawns and waits for health 200; throws ServerStartError (with the log tail) if it dies or times out. */
  static async start(opts: ManagedProcessOptions): Promise<ManagedProcess> {
    const p = new ManagedProcess(opts);
    try {
      await p.waitHealthy();
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  private async waitHealthy(): Promise<void> {
    const died = () => {
      if (!this.exitInfo) return null;
      if (/could not start/.test(this.exitInfo.description)) {
        return new InputError(this.exitInfo.description, { field: 'binary' }, 'give the full path of the server binary, or put it on PATH');
      }
      return new ServerStartError(`${this.name} ${this.exitInfo.description} while starting`, this.logTail());
    };
    try {
      await waitForHealth(this.opts.healthUrl, this.opts.startupTimeoutMs, { died, wake: this.exited, now: this.opts.now, onPoll: this.opts.onHealthPoll });
    } catch (e) {
      if (e instanceof HealthTimeoutError) {
        // Refused while our process runs: it is still starting (a slow machine, a large model), not gone.
        const why = e.lastStatus === 'ECONNREFUSED' ? '; the process is running but has not opened its port yet' : '';
        throw new ServerStartError(`${this.name} ${e.message}${why}; raise startupTimeoutMs for large models or a slow machine`, this.logTail());
      }
      throw e;
    }
  }

  /** Resolves when the process has exited, however it ended. */
  waitExit(): Promise<ExitInfo> {
    return this.exited;
  }

  /** SIGTERM, then SIGKILL to the whole group after the grace period. */
  async stop(): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.stopRequested = true;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signalGroup('SIGKILL');
        resolve();
      }, this.opts.stopGraceMs ?? 15_000);
    });
    const info = await Promise.race([this.exited, killed.then(() => this.exited)]);
    clearTimeout(timer);
    // Children (vLLM engine) may outlive the parent by a moment: make sure the group is gone.
    this.signalGroup('SIGKILL');
    return info;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig);
    } catch {
      // already gone
    }
  }

  private signalGroup(sig: NodeJS.Signals): void {
    if (!this.child.pid) return;
    try {
      process.kill(-this.child.pid, sig);
    } catch {
      // group already gone
    }
  }

  /** Synchronous last resort from the process 'exit' hook. */
  killGroupNow(): void {
    this.signalGroup('SIGKILL');
  }
}

export class HealthTimeoutError extends Error {
  /** The last poll's outcome, e.g. "HTTP 503" or "ECONNREFUSED". */
  constructor(message: string, readonly lastStatus: string) {
    super(message);
  }
}

/**
 * Polls `url` until it answers 200 (llama-server and vLLM answer 503 or refuse connections while loading).
 * Between polls it waits for the next tick or `wake` (e.g. the process exiting), whichever comes first;
 * `died` is checked before each poll and its error thrown.
 */
export async function waitForHealth(
  url: string,
  timeoutMs: number,
  opts: {
    headers?: Record<string, string>;
    died?: () => Error | null;
    wake?: Promise<unknown>;
    signal?: AbortSignal;
    /** Attached servers: give up once nothing has listened on the port for this long (default: wait the whole timeout). */
    refusedLimitMs?: number;
    /** The clock timeoutMs and refusedLimitMs are measured on (default performance.now); tests pass their own. */
    now?: () => number;
    /** Called after each poll with its outcome ("HTTP 503", "ECONNREFUSED", ...). */
    onPoll?: (status: string) => void;
  } = {},
): Promise<void> {
  const now = opts.now ?? (() => performance.now());
  const start = now();
  const deadline = start + timeoutMs;
  let lastStatus = 'no answer yet';
  let delay = 25;
  let answeredOnce = false;
  while (true) {
    const dead = opts.died?.();
    if (dead) throw dead;
    if (opts.signal?.aborted) throw new Error('stopped while waiting for the server');
    const remaining = deadline - now();
    if (remaining <= 0) throw new HealthTimeoutError(`not healthy at ${url} within ${timeoutMs} ms (last: ${lastStatus})`, lastStatus);
    try {
      const res = await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(Math.ceil(Math.max(1, Math.min(2000, remaining)))) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      answeredOnce = true;
      lastStatus = `HTTP ${res.status}`;
      opts.onPoll?.(lastStatus);
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      const outcome = cause?.code ?? (e as Error).message;
      // A poll cut short by our own deadline says nothing new: keep the last real answer.
      if ((e as Error).name !== 'TimeoutError' || lastStatus === 'no answer yet') lastStatus = outcome;
      opts.onPoll?.(outcome);
      if (!answeredOnce && lastStatus === 'ECONNREFUSED' && opts.refusedLimitMs !== undefined && now() - start > opts.refusedLimitMs) {
        throw new HealthTimeoutError(`nothing is listening at ${url} (connection refused for ${Math.round(opts.refusedLimitMs / 1000)} s)`, lastStatus);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ...(opts.wake ? [opts.wake] : []),
      new Promise((r) => (timer = setTimeout(r, Math.min(delay, Math.max(0, deadline - now()))))),
    ]);
    clearTimeout(timer);
    delay = Math.min(delay * 2, 500);
  }
}

/** GET a JSON document; null with the reason when the server does not have it. */
/** Side requests send the API key too; a server may quote it back in an error body, so it never leaves here. */
function withoutSecrets(text: string, headers: Record<string, string>): string {
  let out = text;
  for (const value of Object.values(headers)) {
    for (const secret of [value, value.replace(/^Bearer\s+/i, '')]) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

export async function getJson<T>(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) return { ok: false, reason: withoutSecrets(`HTTP ${res.status}: ${text.slice(0, 200)}`, headers) };
    return { ok: true, value: JSON.parse(text) as T };
  } catch (e) {
    return { ok: false, reason: withoutSecrets((e as Error).message, headers) };
  }
}

/** GET a text document (e.g. /metrics). */
export async function getText(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ ok: true; value: string } | { ok: false; reason: string }> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return res.ok ? { ok: true, value: text } : { ok: false, reason: withoutSecrets(`HTTP ${res.status}: ${text.slice(0, 200)}`, headers) };
  } catch (e) {
    return { ok: false, reason: withoutSecrets((e as Error).message, headers) };
  }
}
