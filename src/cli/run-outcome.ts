// What `medeval run` and `medeval compare` say on the terminal when a run did not do all it was asked:
// the status, the counts, the reason, and the exact command that picks the run up again (it resumes: kept
// answers stay, errors and missing items are run again). Exit code 1 goes with every such status.
import type { RunManifest } from '../core/types.js';

export interface RunCounts {
  status: RunManifest['status'];
  /** Records in error (not scored). */
  errors: number;
  /** Records written (answered or in error). */
  records: number;
  /** Records the run was asked for (items x samples). */
  total: number;
  stopReason?: string;
}

/** A command line a POSIX shell reads back as the same words. */
export function shellLine(words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Lines for the terminal; none when the run finished with every record answered. */
export function runOutcomeLines(label: string, c: RunCounts, again: { command: string; what: string }): string[] {
  if (c.status === 'finished') return [];
  const missing = Math.max(0, c.total - c.records);
  const lines: string[] = [];
  if (c.status === 'incomplete') {
    lines.push(`medeval: ${label}: run incomplete: ${c.errors} of ${c.total} records ended in error (not scored; see "error kinds" in summary.md)`);
  } else if (c.status === 'failed') {
    lines.push(`medeval: ${label}: run failed${c.stopReason ? `: ${c.stopReason}` : ''}`);
    lines.push(`  ${c.records - c.errors} of ${c.total} records answered, ${c.errors} in error, ${missing} not run`);
  } else {
    lines.push(`medeval: ${label}: run ${c.status}: ${c.records - c.errors} of ${c.total} records answered, ${c.errors} in error, ${missing} not run`);
  }
  const redo = [c.errors ? `the ${c.errors} in error` : '', missing ? `the ${missing} not run` : ''].filter(Boolean).join(' and ');
  if (redo) lines.push(`  hint: ${again.what} re-runs exactly ${redo} (answered records are kept): ${again.command}`);
  return lines;
}
