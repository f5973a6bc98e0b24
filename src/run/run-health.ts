// Decides when a run should stop instead of spinning: too many failed requests overall, or a server
// that no longer answers: several requests in a row that could not connect or timed out, or one such
// request after which the server's health endpoint did not answer either (a hung or frozen server).
// What was saved stays saved.
import type { ItemResult } from '../core/types.js';

const CONNECTION_KINDS = new Set(['connection', 'ECONNREFUSED', 'ECONNRESET', 'server-dead']);
/** Kinds that mean "the server gave no answer at all": after one, run.ts asks the runner to probe the server. */
export const NO_ANSWER_KINDS = new Set([...CONNECTION_KINDS, 'timeout']);
const MIN_REQUESTS_FOR_RATE = 10;

export class RunHealth {
  private requests = 0;
  private errors = 0;
  private streak = 0;
  private timeoutsInStreak = 0;

  constructor(private readonly maxErrorRate: number | undefined, private readonly maxConnectionStreak: number) {}

  /**
   * Returns a reason to stop, or null to go on. `unanswered`: after this result's no-answer error, why
   * the server's health check failed too (runner.probe()), or null when it answered.
   */
  record(r: ItemResult, unanswered: string | null = null): string | null {
    return this.recordOutcome(r.error ?? null, unanswered);
  }

  /** The same rule for one request's outcome (null: answered); runners/replicas.ts judges each replica by it. */
  recordOutcome(error: { kind: string; message: string } | null, unanswered: string | null = null): string | null {
    const r = { error: error ?? undefined };
    this.requests++;
    if (!r.error) {
      this.streak = 0;
      this.timeoutsInStreak = 0;
      return null;
    }
    this.errors++;
    if (NO_ANSWER_KINDS.has(r.error.kind)) {
      this.streak++;
      if (r.error.kind === 'timeout') this.timeoutsInStreak++;
    } else {
      this.streak = 0;
      this.timeoutsInStreak = 0;
    }
    if (unanswered && NO_ANSWER_KINDS.has(r.error.kind)) {
      return `the server stopped answering: a request ${r.error.kind === 'timeout' ? 'timed out' : 'could not connect'} (${r.error.message}), then ${unanswered}`;
    }
    if (this.streak >= this.maxConnectionStreak) {
      const what = this.timeoutsInStreak === 0 ? `${this.streak} connection failures in a row`
        : `${this.streak} requests in a row got no answer (${this.timeoutsInStreak} timed out, ${this.streak - this.timeoutsInStreak} could not connect)`;
      const slow = this.timeoutsInStreak > 0 ? '; if it is only slow, raise requestTimeoutMs in the runner profile' : '';
      return `the server looks dead: ${what} (last: ${r.error.message})${slow}`;
    }
    if (this.maxErrorRate !== undefined && this.requests >= MIN_REQUESTS_FOR_RATE && this.errors / this.requests > this.maxErrorRate) {
      return `error rate ${((100 * this.errors) / this.requests).toFixed(1)}% is above --max-error-rate ${(100 * this.maxErrorRate).toFixed(1)}% (${this.errors} of ${this.requests} requests failed)`;
    }
    return null;
  }
}
