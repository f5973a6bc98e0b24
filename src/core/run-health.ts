// Decides when a run should stop instead of spinning: too many failed requests overall, or a server
// that no longer answers (several connection failures in a row). What was saved stays saved.
import type { ItemResult } from './types.js';

const CONNECTION_KINDS = new Set(['connection', 'ECONNREFUSED', 'ECONNRESET', 'server-dead']);
const MIN_REQUESTS_FOR_RATE = 10;

export class RunHealth {
  private requests = 0;
  private errors = 0;
  private connectionStreak = 0;

  constructor(private readonly maxErrorRate: number | undefined, private readonly maxConnectionStreak: number) {}

  /** Returns a reason to stop, or null to go on. */
  record(r: ItemResult): string | null {
    this.requests++;
    if (!r.error) {
      this.connectionStreak = 0;
      return null;
    }
    this.errors++;
    this.connectionStreak = CONNECTION_KINDS.has(r.error.kind) ? this.connectionStreak + 1 : 0;
    if (this.connectionStreak >= this.maxConnectionStreak) {
      return `the server looks dead: ${this.connectionStreak} connection failures in a row (last: ${r.error.message})`;
    }
    if (this.maxErrorRate !== undefined && this.requests >= MIN_REQUESTS_FOR_RATE && this.errors / this.requests > this.maxErrorRate) {
      return `error rate ${((100 * this.errors) / this.requests).toFixed(1)}% is above --max-error-rate ${(100 * this.maxErrorRate).toFixed(1)}% (${this.errors} of ${this.requests} requests failed)`;
    }
    return null;
  }
}
