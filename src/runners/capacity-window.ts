// Requests in flight to one server, adapted to what it can hold (AIMD, as TCP's congestion window): no
// limit until the server says it has no room (a capacity error: llama-server's "Input prompt is too big
// compared to KV size" when its shared KV cache cannot place a batch, "KV cache is full", 503, busy); then
// the window halves, once per episode (the attempts that were in flight together fail together: llama-server
// sends the error to every slot of the batch), and grows by one after as many answers in a row as the window
// holds up to one less than the window that last ran out of room, and past it (up to what was in flight
// before the first cut) only after four times as many. Attempts past the window wait for a place (in
// the client, where it counts as queueing). Every change is kept, so the run can say it was throttled.
import { performance } from 'node:perf_hooks';
import type { ThrottleReport, WindowChange } from '../core/types.js';

export type { ThrottleReport, WindowChange };

export interface WindowTicket {
  epoch: number;
}

const KEEP_CHANGES = 200;

export class CapacityWindow {
  private limit = Infinity;
  private ceiling = Infinity;
  private before: number | null = null;
  private inFlight = 0;
  private peakInFlight = 0;
  private epoch = 0;
  private okInRow = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly changes: WindowChange[] = [];
  private changesTotal = 0;
  private cuts = 0;
  private lowest = Infinity;
  private readonly t0 = performance.now();

  /** Told of each change, in words for the terminal. */
  onChange: ((text: string, change: WindowChange) => void) | null = null;

  /** The current window (Infinity: no limit yet). */
  get size(): number {
    return this.limit;
  }

  /** A place now if the window has one (no promise, no wait), else null: then acquire waits for one. */
  tryAcquire(): WindowTicket | null {
    if (this.inFlight >= this.limit) return null;
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    return { epoch: this.epoch };
  }

  /** Waits for a place in the window; rejects when `signal` aborts. */
  async acquire(signal?: AbortSignal): Promise<WindowTicket> {
    while (this.inFlight >= this.limit) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason ?? new Error('aborted'));
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.inFlight++;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    return { epoch: this.epoch };
  }

  /** An attempt ended: answered (ok), refused for lack of room (capacity), or anything else. */
  release(ticket: WindowTicket, outcome: 'ok' | 'capacity' | 'other'): void {
    const inFlightNow = this.inFlight;
    this.inFlight--;
    if (outcome === 'capacity') {
      this.okInRow = 0;
      // One cut per episode: attempts sent before the last cut failed for the same lack of room.
      // (A window of 1 has nothing to cut: that is only a retry.)
      const from = this.limit === Infinity ? inFlightNow : this.limit;
      if (ticket.epoch === this.epoch && from > 1) {
        if (this.before === null) this.before = Math.max(from, this.peakInFlight);
        // Grow back slowly past a window that ran out of room: each episode lowers this ceiling, so the
        // window settles instead of cutting the same requests again and again (their retries are few).
        this.ceiling = Math.max(1, Math.min(this.ceiling, from - 1));
        const to = Math.max(1, Math.floor(from / 2));
        this.epoch++;
        this.cuts++;
        this.set(from, to, 'capacity');
      }
    } else if (outcome === 'ok' && this.limit !== Infinity && this.before !== null && this.limit < this.before) {
      // Up to one less than the last window that ran out of room: one more after `limit` answers in a row;
      // past it only after four times as many (a server's lack of room may pass: a wedged cache recovers).
      if (++this.okInRow >= (this.limit < this.ceiling ? this.limit : 4 * this.limit)) {
        this.okInRow = 0;
        this.set(this.limit, this.limit + 1, 'recovered');
      }
    }
    if (this.waiters.length > 0) this.wake();
  }

  report(): ThrottleReport | null {
    if (this.cuts === 0) return null;
    return {
      cuts: this.cuts,
      before: this.before ?? this.limit,
      lowest: this.lowest,
      atEnd: this.limit,
      changes: [...this.changes],
      changesTotal: this.changesTotal,
    };
  }

  private set(from: number, to: number, why: WindowChange['why']): void {
    this.limit = to;
    this.lowest = Math.min(this.lowest, to);
    const change = { atMs: Math.round(performance.now() - this.t0), from, to, why };
    this.changesTotal++;
    if (this.changes.length < KEEP_CHANGES) this.changes.push(change);
    const text = why === 'capacity'
      ? `the server had no room for the requests in flight (capacity error): at most ${to} at a time from now on (was ${from}); growing back as answers come`
      : `requests in flight: at most ${to} (was ${from}) after ${from} answers in a row`;
    this.onChange?.(text, change);
  }

  /** Every waiter looks again, in arrival order; those that still find no place queue up again. */
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
