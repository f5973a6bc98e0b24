import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from 'commander';
import { printErr } from './terminal.js';

export function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return n;
}

export function numberOption(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** How long a stop may take after Ctrl-C or SIGTERM before medeval exits anyway (MEDEVAL_STOP_GRACE_MS). */
export function stopGraceMs(): number {
  const v = Number(process.env.MEDEVAL_STOP_GRACE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 1500;
}

/**
 * Ctrl-C or SIGTERM stops the run at once: requests in flight are abandoned (run again on --resume),
 * the journal keeps every finished item, the manifest says "interrupted". Whatever is still busy after
 * stopGraceMs() (a model still loading, a server slow to stop), medeval exits then anyway, so a stop
 * always takes effect within about 2 s; managed servers are killed on exit. A second signal exits at once.
 */
export async function withSigint<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let firstAt: number | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    const code = sig === 'SIGTERM' ? 143 : 130;
    // A Ctrl-C reaches a compare's child twice at once (the terminal's, and the one its parent forwards):
    // that is one press; a second press is one that comes later.
    if (firstAt !== null) {
      if (performance.now() - firstAt > 250) process.exit(code);
      return;
    }
    firstAt = performance.now();
    printErr(`\nmedeval: ${sig === 'SIGTERM' ? 'SIGTERM' : 'interrupted'}: stopping now; finished items are kept (Ctrl-C again to quit at once)\n`);
    controller.abort(new Error(`interrupted by ${sig}`));
    const grace = stopGraceMs();
    // unref: a stop that finishes in time exits normally, with its own status and exit code.
    setTimeout(() => {
      printErr(`medeval: still stopping after ${grace} ms: exiting now (the journal has every finished item; --resume continues)\n`);
      process.exit(code);
    }, grace).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
