// Starts an inference server as a child process (no shell), on a free port, waits until its health
// endpoint answers 200 (503 while the model loads), keeps the tail of its log for error messages, and
// stops it with SIGTERM, then SIGKILL after a grace period. Some llama-server builds abort on SIGTERM
// ("terminate called without an active exception", SIGABRT): after a stop we asked for, that is not a crash.
// On Linux the child is started through util-linux `setpriv --pdeathsig KILL`, so it dies with medeval
// even when medeval itself is SIGKILLed (no exit hook runs then); elsewhere it would outlive a killed medeval.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import type { ManagedServerEnd } from '../core/types.js';
import { requestOnce } from './side-request.js';

/** Default timeout of a side request (/health, /props, /v1/models, /metrics, /tokenize). */
export const SIDE_REQUEST_TIMEOUT_MS = 30_000;

/** The executable `name` resolves to (a path, or the first match on PATH); null when there is none. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | null {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * How to start `binary` so that it dies with this process: Linux `setpriv --pdeathsig KILL` (the kernel
 * sends SIGKILL to the child when its parent dies, however the parent died). null where that is not
 * available (other systems, no util-linux): then a SIGKILLed medeval leaves the server running.
 */
export function dieWithParentPrefix(): string[] | null {
  if (process.platform !== 'linux') return null;
  const setpriv = findExecutable('setpriv');
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : null;
}

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
  /** Timeout of each /health poll. Default 2 s. */
  healthPollTimeoutMs?: number;
  /** Make the child die with medeval where the system allows it (default true). */
  dieWithParent?: boolean;
  /** After health 200: checks that the server answering is the one started; throws (ServerStartError) if not. */
  verify?: (p: ManagedProcess) => Promise<void>;
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
  /** How it ended, in one word (see ManagedServerEnd). */
  ended: ManagedServerEnd['ended'];
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
  private killedAfterGrace = false;
  /** Started through setpriv --pdeathsig (dies with medeval). */
  readonly diesWithParent: boolean;
  private exitInfo: ExitInfo | null = null;
  private readonly exited: Promise<ExitInfo>;
  private readonly name: string;

  private constructor(private readonly opts: ManagedProcessOptions) {
    this.tailMax = opts.logTailLines ?? 40;
    this.name = opts.name ?? opts.binary;
    // Through setpriv only when the binary exists: a missing binary must stay spawn's ENOENT (an input error).
    const prefix = opts.dieWithParent !== false && findExecutable(opts.binary) ? dieWithParentPrefix() : null;
    this.diesWithParent = prefix !== null;
    const [cmd, ...args] = prefix ? [...prefix, opts.binary, ...opts.args] : [opts.binary, ...opts.args];
    // Own process group (detached), so SIGKILL reaches children too (vLLM's engine core).
    this.child = spawn(cmd!, args, {
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
    // A SIGKILL medeval never sent (it sends SIGTERM, SIGKILL only after the grace period): the process was
    // killed by something else, and may have been gone before the stop was asked (the exit event lags).
    const killedElsewhere = signal === 'SIGKILL' && !this.killedAfterGrace;
    const ended: ExitInfo['ended'] = !requested || killedElsewhere ? 'died-during-run'
      : this.killedAfterGrace ? 'killed-after-grace'
        : aborted ? 'aborted-on-sigterm'
          : code === 0 ? 'clean-exit' : 'stopped';
    const description = why
      ?? (ended === 'died-during-run' ? `exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`
        : ended === 'killed-after-grace' ? `did not stop within ${this.opts.stopGraceMs ?? 15_000} ms of SIGTERM: killed (SIGKILL)`
          : ended === 'aborted-on-sigterm' ? 'stopped on request (it aborted on SIGTERM, which this llama-server build always does: not a crash)'
            : `stopped on request (${signal ?? `exit code ${code}`})`);
    this.exitInfo = { code, signal, requested, ended, description };
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

  /** How it ended, for the manifest (null while it runs). */
  end(): ManagedServerEnd | null {
    const x = this.exitInfo;
    if (!x) return null;
    return { pid: this.child.pid ?? null, ended: x.ended, code: x.code, signal: x.signal, description: x.description, diesWithParent: this.diesWithParent };
  }

  /** Spawns and waits for health 200; throws ServerStartError (with the log tail) if it dies or times out. */
  static async start(opts: ManagedProcessOptions): Promise<ManagedProcess> {
    const p = new ManagedProcess(opts);
    try {
      await p.waitHealthy();
      await opts.verify?.(p);
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
      await waitForHealth(this.opts.healthUrl, this.opts.startupTimeoutMs, {
        died, wake: this.exited, now: this.opts.now, onPoll: this.opts.onHealthPoll,
        ...(this.opts.healthPollTimeoutMs ? { pollTimeoutMs: this.opts.healthPollTimeoutMs } : {}),
      });
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
    // A frozen (SIGSTOPped) server only sees the SIGTERM once it runs again.
    this.signal('SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.killedAfterGrace = true;
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

  /**
   * Synchronous last resort from the process 'exit' hook: SIGKILL to the group, and the end recorded at
   * once (no exit event will come before the process is gone), so the run's own exit hook can write it.
   */
  killGroupNow(): void {
    this.signalGroup('SIGKILL');
    if (this.exitInfo) return;
    live.delete(this);
    this.exitInfo = {
      code: null, signal: 'SIGKILL', requested: true, ended: 'killed-on-exit',
      description: `killed (SIGKILL) as medeval exited before its stop had finished${this.stopRequested ? ' (SIGTERM had been sent)' : ''}`,
    };
  }
}

export class HealthTimeoutError extends Error {
  /** The last poll's outcome, e.g. "HTTP 503" or "ECONNREFUSED". */
  constructor(message: string, readonly lastStatus: string) {
    super(message);
  }
}

/** What one health poll gave: the status once the body was read, or why there was none. */
export type HealthPoll = { status: number } | { error: string; timedOut: boolean };

/** What a poll cut off by its own timeout records (the words fetch's AbortSignal.timeout gave before). */
export const POLL_TIMED_OUT = 'The operation was aborted due to timeout';
const MAX_HEALTH_REDIRECTS = 20;

/**
 * One health poll: GET `url` over a fresh connection (closed after the answer) and read the body, within
 * `timeoutMs` in all, redirects followed as fetch follows them. On node:http rather than the global fetch,
 * whose first use loads undici (tens of ms of start-up); a network error is its code (ECONNREFUSED), as
 * fetch's cause gave it.
 */
export function healthPoll(url: string, headers: Record<string, string>, timeoutMs: number): Promise<HealthPoll> {
  return new Promise((resolve) => {
    let done = false;
    let current: ReturnType<typeof httpGet> | null = null;
    const finish = (r: HealthPoll) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      current?.destroy();
      resolve(r);
    };
    const failed = (e: unknown) => finish({ error: (e as NodeJS.ErrnoException).code ?? (e as Error).message, timedOut: false });
    const timer = setTimeout(() => finish({ error: POLL_TIMED_OUT, timedOut: true }), timeoutMs);
    const get = (target: URL, redirects: number) => {
      const onResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        res.on('error', failed);
        if (location && [301, 302, 303, 307, 308].includes(status)) {
          res.resume();
          if (redirects >= MAX_HEALTH_REDIRECTS) return failed(new Error('redirect count exceeded'));
          let next: URL;
          try {
            next = new URL(location, target);
          } catch (e) {
            return failed(e);
          }
          return get(next, redirects + 1);
        }
        res.resume();
        res.on('end', () => finish({ status }));
        // Cut off before the body was complete: no answer (fetch's body read failed as "terminated").
        res.on('close', () => {
          if (!res.complete) finish({ error: 'terminated', timedOut: false });
        });
      };
      try {
        const options = { headers: { ...headers, Connection: 'close' }, agent: false as const };
        if (target.protocol === 'https:') current = httpsGet(target, options, onResponse);
        else if (target.protocol === 'http:') current = httpGet(target, options, onResponse);
        else return failed(new Error(`unsupported protocol ${target.protocol}`));
        current.on('error', failed);
      } catch (e) {
        failed(e);
      }
    };
    let first: URL;
    try {
      first = new URL(url);
    } catch (e) {
      return failed(e);
    }
    get(first, 0);
  });
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
    /** Timeout of one poll (default 2 s). */
    pollTimeoutMs?: number;
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
    const poll = await healthPoll(url, opts.headers ?? {}, Math.ceil(Math.max(1, Math.min(opts.pollTimeoutMs ?? 2000, remaining))));
    if ('status' in poll) {
      if (poll.status === 200) return;
      answeredOnce = true;
      lastStatus = `HTTP ${poll.status}`;
      opts.onPoll?.(lastStatus);
    } else {
      const outcome = poll.error;
      // A poll cut short by our own deadline says nothing new: keep the last real answer.
      if (!poll.timedOut || lastStatus === 'no answer yet') lastStatus = outcome;
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

// Side requests go over a connection of their own, closed after the answer: a pooled keep-alive socket
// would hold one of llama-server's few HTTP threads for as long as it idles (item 6 of issue 10).
export async function getJson<T>(url: string, headers: Record<string, string> = {}, timeoutMs = SIDE_REQUEST_TIMEOUT_MS): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  const r = await requestOnce(url, { headers, timeoutMs });
  if (!r.ok) return { ok: false, reason: withoutSecrets(redact(r.reason), headers) };
  try {
    return { ok: true, value: JSON.parse(r.value) as T };
  } catch (e) {
    return { ok: false, reason: withoutSecrets((e as Error).message, headers) };
  }
}

/** GET a text document (e.g. /metrics). */
export async function getText(url: string, headers: Record<string, string> = {}, timeoutMs = SIDE_REQUEST_TIMEOUT_MS): Promise<{ ok: true; value: string } | { ok: false; reason: string }> {
  const r = await requestOnce(url, { headers, timeoutMs });
  return r.ok ? r : { ok: false, reason: withoutSecrets(redact(r.reason), headers) };
}

/** Why a fetch failed, in a few words: a timeout says how long it waited. */
function failureReason(e: unknown, timeoutMs: number): string {
  const err = e as Error & { code?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return err.cause?.code ?? err.code ?? err.message;
}

/**
 * Is the server still answering? GET its health URL within `timeoutMs`: null when it answered (any
 * status: a busy server that says 503 is alive), otherwise why not. A frozen (SIGSTOPped) or wedged
 * server still accepts connections (the kernel does) but never answers: that is a timeout here.
 */
export function probeHealth(url: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<string | null> {
  // A fresh connection, closed after the answer: a pooled keep-alive socket the server already dropped
  // would fail for its own reasons (and an idle one holds one of llama-server's few HTTP threads).
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(why);
    };
    const req = httpGet(url, { headers: { ...headers, Connection: 'close' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => finish(null));
      res.on('error', () => finish(null)); // it answered: alive
    });
    req.on('error', (e) => finish(`${url} ${failureReason(e, timeoutMs)}`));
    const timer = setTimeout(() => finish(`${url} no answer within ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => finish(null); // we stopped asking; that says nothing about the server
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** GET a JSON document over a new connection each time (so repeated reads can reach different listeners). */
export function getJsonFresh<T>(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const req = httpGet(url, { headers: { ...headers, Connection: 'close' }, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 400) return resolve({ ok: false, reason: withoutSecrets(`HTTP ${res.statusCode}: ${redact(text).slice(0, 200)}`, headers) });
        try {
          resolve({ ok: true, value: JSON.parse(text) as T });
        } catch {
          resolve({ ok: false, reason: `not JSON: ${JSON.stringify(text.slice(0, 100))}` });
        }
      });
      res.on('error', (e) => resolve({ ok: false, reason: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, reason: withoutSecrets(e.message, headers) }));
  });
}

/** `pid` and its descendants (from /proc/PID/task/TID/children). */
function processTree(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length && out.length < 1000) {
    const p = todo.pop()!;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) todo.push(Number(c));
      } catch {
        // gone
      }
    }
  }
  return out;
}

/** Socket inodes open in `pids`. */
function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

/**
 * Sockets listening on `port` (any address), from /proc/net/tcp and tcp6, split into those of `pid`'s
 * process tree and the others. Another listener means another process shares the port: llama-server binds
 * with SO_REUSEPORT, so a second server binds a port in use and the kernel splits connections between
 * them. null where /proc is not readable (not Linux).
 */
export function listenersOnPort(port: number, pid: number): { ours: number; others: number } | null {
  let found = false;
  const listening: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    found = true;
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; column 10 is the socket's inode.
      if (cols.length > 9 && cols[3] === '0A' && Number.parseInt(cols[1]!.split(':')[1] ?? '', 16) === port) listening.push(cols[9]!);
    }
  }
  if (!found) return null;
  const mine = socketInodes(processTree(pid));
  const ours = listening.filter((i) => mine.has(i)).length;
  return { ours, others: listening.length - ours };
}

/** A name no other server has: given to a managed server (llama-server --alias, vLLM --served-model-name) and read back. */
export function serverNonce(): string {
  return `medeval-${randomBytes(6).toString('hex')}`;
}

/**
 * Is the server answering at `baseUrl` the one medeval started? Its /v1/models must list `alias` on every
 * one of `reads` fresh connections (two listeners on one port get connections in turn), its /props
 * model_path (llama-server) must be the model it was given, and on Linux no other process may listen on
 * the port. The problem in words, or null.
 */
export async function checkServerIdentity(o: {
  name: string;
  baseUrl: string;
  port: number;
  pid: number | undefined;
  alias: string;
  headers: Record<string, string>;
  timeoutMs: number;
  reads?: number;
  modelPath?: string;
}): Promise<string | null> {
  const other = (what: string) =>
    `the server answering at ${o.baseUrl} is not the ${o.name} medeval started (pid ${o.pid ?? '?'}): ${what}. ` +
    `Another server shares the port (llama-server binds with SO_REUSEPORT, so a second one binds a port in use and the kernel splits the connections); ` +
    `stop the other server (\`ss -ltnp 'sport = :${o.port}'\` shows it) and run again`;
  for (let i = 0; i < (o.reads ?? 4); i++) {
    const models = await getJsonFresh<{ data?: Array<{ id?: string }> }>(`${o.baseUrl}/v1/models`, o.headers, o.timeoutMs);
    if (!models.ok) return `${o.name} at ${o.baseUrl} did not answer /v1/models after start (${models.reason})`;
    const ids = (models.value.data ?? []).map((m) => m.id);
    if (!ids.includes(o.alias)) return other(`/v1/models lists ${JSON.stringify(ids)}, not the name medeval gave it (${o.alias})`);
    if (o.modelPath !== undefined) {
      const props = await getJsonFresh<{ model_path?: string }>(`${o.baseUrl}/props`, o.headers, o.timeoutMs);
      if (props.ok && typeof props.value.model_path === 'string' && props.value.model_path !== o.modelPath) {
        return other(`/props says it loaded ${props.value.model_path}, not ${o.modelPath}`);
      }
    }
  }
  const sockets = o.pid ? listenersOnPort(o.port, o.pid) : null;
  if (sockets && sockets.others > 0) return other(`${sockets.others} other socket(s) listen on port ${o.port} besides the server's own ${sockets.ours}`);
  return null;
}
