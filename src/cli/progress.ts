// Progress for `medeval run`: a bar with ETA on a terminal, plain lines otherwise (CI logs, pipes).
import { newBar, type SingleBar } from './bar.js';
import type { RunEvent } from '../run/run.js';
import type { WireRunEvent } from '../run/compare-protocol.js';
import { contextSetting } from '../run/plan-budget.js';
import { printerFor, terminalSafe } from './terminal.js';

/** A run's event, or one forwarded by a compare worker (the dataset by its headline figures). */
export type ProgressEvent = RunEvent | WireRunEvent;

/** `quiet`: event kinds printed elsewhere or once (compare prints its own line per turn). */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr, quiet: ReadonlySet<ProgressEvent['type']> = new Set()): {
  onEvent: (e: ProgressEvent) => void;
  stop: () => void;
} {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  let bar: SingleBar | null = null;
  let correct = 0;
  let scored = 0;
  let errors = 0;
  let lastPlain = 0;
  const started = Date.now();
  const print = printerFor(stream);
  const log = (s: string) => print(s + '\n');

  const onEvent = (e: ProgressEvent) => {
    switch (e.type) {
      case 'validated': {
        // The run's figures, not this session's: the records kept from the journal count (errors among
        // them are run again, so none are kept).
        scored = e.resumed;
        correct = e.resumedCorrect;
        errors = 0;
        if (quiet.has('validated')) break;
        const d = e.dataset;
        // Valid records in the file, then what this run takes of them (--limit), so neither hides the other.
        const taken = e.items < d.valid ? `, the first ${e.items} taken (--limit)` : '';
        log(`[${label}] dataset ${d.name}: ${d.valid} items valid${taken}${d.skipped.length ? `, ${d.skipped.length} skipped` : ''}` +
          `${e.resumed ? `, ${e.resumed} already done (resuming)` : ''}; ${e.todo} to run`);
        for (const s of d.skipped.slice(0, 10)) log(`  skipped ${s.place}: ${s.reason}`);
        if (d.skipped.length > 10) log(`  ... and ${d.skipped.length - 10} more skipped`);
        for (const w of d.warnings.slice(0, 5)) log(`  warning: ${w}`);
        // Warnings only counted (the list's last line says how many) are counted here too.
        const total = d.warnings.length + (d.unlistedWarnings ? d.unlistedWarnings - 1 : 0);
        if (total > 5) log(`  ... and ${(total - 5).toLocaleString('en-US')} more warnings`);
        break;
      }
      case 'loaded':
        if (quiet.has('loaded')) break;
        log(`[${label}] model ${e.label} loaded in ${(e.loadMs / 1000).toFixed(1)} s`);
        break;
      case 'planned': {
        const p = e.summary;
        const where = `${contextSetting(e.runnerKind)}${e.runnerFile ? ` (${e.runnerFile})` : ''}`;
        if (p.capped > 0) {
          log(`[${label}] maxTokens ${p.requested} (suite or --max-tokens) does not fit the context of ${p.contextSize} tokens, ${where}: ` +
            `${p.capped} of ${p.counted} prompt(s) capped to ${p.minBudget === p.maxBudget ? p.minBudget : `${p.minBudget}-${p.maxBudget}`} tokens; ` +
            'an answer still going at the limit counts as truncated');
        }
        if (p.tooLong > 0) log(`[${label}] ${p.tooLong} prompt(s) alone fill the context of ${p.contextSize} tokens, ${where}: not sent, recorded as errors (prompt-too-long)`);
        if (p.unknown > 0 && p.counted > 0) log(`[${label}] ${p.unknown} prompt(s) could not be counted: their budget stays ${p.requested}; answers the engine cut are still flagged`);
        break;
      }
      case 'warmup':
        if (e.done === e.total) log(`[${label}] warm-up: ${e.total} request(s) done (excluded from figures)`);
        break;
      case 'item': {
        if (e.result.error) errors++;
        else {
          scored++;
          if (e.result.correct) correct++;
        }
        const acc = scored ? ((100 * correct) / scored).toFixed(1) : '-';
        if (tty) {
          if (!bar) {
            bar = newBar({
              format: `[${terminalSafe(label)}] {bar} {value}/{total} | ETA {eta_formatted} | acc {acc}% | errors {errors}`,
              stream,
              hideCursor: true,
            });
            bar.start(e.total, e.done - 1, { acc, errors });
          }
          bar.update(e.done, { acc, errors });
        } else if (e.done === e.total || Date.now() - lastPlain > 5000 || e.done % 10 === 0) {
          lastPlain = Date.now();
          const elapsed = (Date.now() - started) / 1000;
          log(`[${label}] ${e.done}/${e.total} items, accuracy so far ${acc}%, errors ${errors}, ${elapsed.toFixed(0)} s`);
        }
        break;
      }
      case 'notice':
        // A line of its own (a long wait must not look like a hang); the bar comes back with the next item.
        bar?.stop();
        bar = null;
        log(`[${label}] ${e.text}`);
        break;
      case 'stopped':
        bar?.stop();
        bar = null;
        log(`[${label}] stopped early: ${e.reason}`);
        break;
      case 'finished':
        bar?.stop();
        bar = null;
        if (quiet.has('finished')) break;
        log(`[${label}] ${e.status}: results in ${e.dir}`);
        break;
    }
  };
  return { onEvent, stop: () => bar?.stop() };
}
