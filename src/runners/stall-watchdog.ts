// Detects a frozen or hung server within seconds instead of one whole request timeout per attempt. A
// stream that has been silent (no response headers within firstByteTimeoutMs, or no byte of the body for
// stallTimeoutMs) is not cut on that alone: a long prompt on a CPU can take minutes before its first token,
// and the server says nothing meanwhile. So silence asks two questions first: did any other stream of this
// server receive bytes within the same window (then it is busy, not frozen), and does it answer /health?
// Only a server silent on every stream that does not answer /health either is declared unresponsive: the
// attempt ends as a timeout that is not retried (a frozen server answers no retry), and the run stops.
import { performance } from 'node:perf_hooks';
import { RequestError } from './retry.js';

export interface StallOptions {
  /** Longest wait for the response headers (servers send them at once, before any prompt is processed). */
  firstByteTimeoutMs: number;
  /** Longest silence between two reads of the body (the first token included) before the server is asked. */
  stallTimeoutMs: number;
  /** Is the server alive? null when it answered, else why not (e.g. /health with a short timeout). */
  probe: (signal: AbortSignal) => Promise<string | null>;
}

/** When any stream of one server last received bytes: a busy server is not a frozen one. */
export class ServerActivity {
  lastByteAt = -Infinity;
  /** The last verdict that the server does not answer, and when (performance.now()). */
  unresponsive: { reason: string; at: number } | null = null;

  touch(at = performance.now()): void {
    this.lastByteAt = at;
    this.unresponsive = null;
  }
}

/**
 * One attempt's watchdog: arm() at send, progress() at every read, stop() at the end. A read only notes
 * the time: the one timer of the attempt, when it fires, looks how long ago the last byte came (on any
 * stream of the server) and waits again for the rest of the limit, so a streamed answer costs no timer work
 * per chunk; the timer is moved only when the limit changes (headers in: first-byte limit to stall limit).
 */
export class StallWatchdog {
  private timer: NodeJS.Timeout | null = null;
  private phase: 'first-byte' | 'body' = 'first-byte';
  private lastAt = performance.now();
  private stopped = false;
  /** Made when a probe starts: most attempts never probe, and an abort costs more than the whole request. */
  private probeAbort: AbortController | null = null;
  /** The silence allowed now (first-byte or stall limit); the timer checks against it. */
  private limit = 0;
  private readonly fire = (): void => void this.check(this.limit);

  constructor(
    private readonly opts: StallOptions,
    private readonly activity: ServerActivity,
    /** Called once when the server is declared unresponsive: the attempt must abort with this error. */
    private readonly onFrozen: (err: RequestError) => void,
  ) {}

  arm(): void {
    this.lastAt = performance.now();
    this.schedule(this.opts.firstByteTimeoutMs);
  }

  /** Headers or body bytes arrived. */
  progress(phase: 'first-byte' | 'body' = 'body'): void {
    if (this.stopped) return;
    if (phase === 'first-byte') this.phase = 'body';
    this.lastAt = performance.now();
    this.activity.touch(this.lastAt);
    if (this.limit !== this.opts.stallTimeoutMs) this.schedule(this.opts.stallTimeoutMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.probeAbort?.abort();
  }

  /** Check for `limit` ms of silence, `delay` ms from now (the rest of the limit, after a recent byte). */
  private schedule(limit: number, delay = limit): void {
    if (this.timer) clearTimeout(this.timer);
    this.limit = limit;
    this.timer = setTimeout(this.fire, delay);
    this.timer.unref?.();
  }

  private async check(limit: number): Promise<void> {
    if (this.stopped) return;
    const since = this.lastAt;
    // This stream or another of this server got bytes within the window: busy (queued, long prefill), not frozen.
    if (performance.now() - this.activity.lastByteAt < limit) return this.schedule(limit, limit - (performance.now() - this.activity.lastByteAt));
    this.probeAbort ??= new AbortController();
    const why = await this.opts.probe(this.probeAbort.signal);
    if (this.stopped || this.lastAt !== since) return; // ended or moved on while we asked
    if (why === null) return this.schedule(limit); // it answers /health: a long prefill, keep waiting
    const silent = Math.round(performance.now() - since);
    const what = this.phase === 'first-byte' ? 'no response headers' : 'no byte of the answer';
    this.activity.unresponsive = { reason: why, at: performance.now() };
    this.stopped = true;
    this.onFrozen(new RequestError('timeout', `the server stopped answering: ${what} for ${silent} ms (limit ${limit} ms) and ${why}`, { unresponsive: true }));
  }
}
