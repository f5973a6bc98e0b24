// Exit codes: 0 success, 1 the evaluation ran but a check failed (or it failed mid-way), 2 bad input or config.
import { InputError } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof InputError) return EXIT_BAD_INPUT;
  return EXIT_CHECK_FAILED;
}

export function describeError(e: unknown): string {
  if (e instanceof InputError || e instanceof CheckFailed) return e.message;
  const err = e as Error;
  // A stack trace helps a bug report, not a user: shown only with MEDEVAL_DEBUG=1.
  if (process.env.MEDEVAL_DEBUG) return err?.stack ?? String(e);
  return `${err?.message ?? String(e)}\n  (set MEDEVAL_DEBUG=1 for the stack trace)`;
}
