// The run's summary from running totals: while records are journalled, the counts, accuracy cells and
// latency samples the summary shows are kept (numbers in typed arrays, never the records), and the same
// RunSummary the report model gives on the journal read back (summary.ts) is built from them at the end.
// Reading 100,000 records back was the run's peak memory. Every figure is made with the same arithmetic in
// the same order as src/report/build.ts and src/scoring/accuracy.ts make it on the journal, so the files
// are the same bytes (test/run/summary-tally.test.ts compares them); where the totals cannot be exact the
// tally says so and the run reads its journal back as before (see `inexact`).
import { expectedCorrect } from '../core/journal-check.js';
import type { FinishReason, ItemResult } from '../core/types.js';
import { LATENCY_METRICS, LATENCY_TABLE, type LatencyMetric } from '../metrics/table.js';
import { ServerTally } from '../metrics/server-tally.js';
import { countOutcome, isScored, NO_STEP_KEY } from '../scoring/accuracy.js';

/** A Float64Array that grows by doubling: one figure per request, 8 bytes each, no boxed numbers. */
export class Column {
  buf = new Float64Array(256);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const grown = new Float64Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = v;
  }

  /** The values, as a view the caller may sort in place (the column is done with). */
  values(): Float64Array {
    return this.buf.subarray(0, this.length);
  }
}

export interface CellCounts {
  items: number;
  scored: number;
  correct: number;
  wrong: number;
  unparseable: number;
  truncated: number;
  errors: number;
}

const zeroCounts = (): CellCounts => ({ items: 0, scored: 0, correct: 0, wrong: 0, unparseable: 0, truncated: 0, errors: 0 });

/** accuracyCell's counts for one record of a question asked once (one sample, each question once). */
function count(c: CellCounts, r: ItemResult): void {
  c.items++;
  countOutcome(c, r);
}

/** One slice (step, question type, subject): counts by key, and whether any record had a key at all. */
export class Slice {
  /** Counts by key, in first-seen order. */
  readonly cells = new Map<string, CellCounts>();
  anyKey = false;

  add(key: string | undefined, r: ItemResult): void {
    if (key !== undefined) this.anyKey = true;
    const k = key ?? NO_STEP_KEY;
    let c = this.cells.get(k);
    if (!c) this.cells.set(k, (c = zeroCounts()));
    count(c, r);
  }
}

export class SummaryTally {
  /** Why the totals cannot give the read-back's summary exactly (null: they can). */
  inexact: string | null;
  records = 0;
  scoredQuestions = 0;
  readonly overall = zeroCounts();
  readonly byStep = new Slice();
  readonly byType = new Slice();
  readonly bySubject = new Slice();
  chanceSum = 0;
  chanceN = 0;
  chanceUnknown = false;
  // Latency over measured requests (completed, not cached), each metric's values in journal order.
  completed = 0;
  failed = 0;
  cached = 0;
  readonly latency = Object.fromEntries(LATENCY_METRICS.map((m) => [m, new Column()])) as Record<LatencyMetric, Column>;
  readonly queue = new Column();
  readonly tokens = new Column();
  tokenTotal = 0;
  readonly sources = new Set<string>();
  first = Infinity;
  last = -Infinity;
  readonly starts = new Column();
  readonly ends = new Column();
  readonly finishReasons: Partial<Record<FinishReason, number>> = {};
  errors = 0;
  readonly errorKinds: Record<string, number> = {};
  retriedRequests = 0;
  retries = 0;
  readonly server = new ServerTally();
  readonly rssIndex = new Column();
  readonly rssBytes = new Column();

  /**
   * The cases the totals do not cover, read back from the journal instead:
   * - records already in the journal (a resumed run): they were not seen here, and the journal rule (the
   *   latest record per item and sample) would need every key;
   * - several samples per question: pass@1's bootstrap and the majority vote need each question's samples;
   * - a question id twice in the items run: the journal keeps one record of the two;
   * - likelihood scoring: its records are not covered by the sameness test.
   */
  constructor(opts: { resumedRecords: number; samples: number; uniqueItems: boolean; likelihood: boolean }) {
    this.inexact = opts.resumedRecords > 0 ? 'resumed: records already in the journal'
      : opts.samples !== 1 ? 'several samples per question'
        : !opts.uniqueItems ? 'a question id appears twice'
          : opts.likelihood ? 'likelihood scoring' : null;
  }

  /**
   * One record as it was journalled (`redacted`: its line was written with a secret cut out, so the journal
   * does not hold this record's text; the read-back is what the summary must say then).
   */
  add(r: ItemResult, redacted: boolean): void {
    if (this.inexact !== null) return;
    // Readers score from the gold letter and the answer (journal-check.ts): a record whose flag disagrees
    // would be scored differently on the console table than here.
    if (redacted) return void (this.inexact = 'a record was redacted');
    if (r.correct !== expectedCorrect(r)) return void (this.inexact = 'a record\'s correct flag disagrees with its answer');
    // Replicas: each one's view (replicaViews) needs its records.
    if (r.replica !== undefined) return void (this.inexact = 'a run over replicas');
    const index = this.records++;
    if (!r.error) this.scoredQuestions++;
    count(this.overall, r);
    this.byStep.add(r.step, r);
    this.byType.add(r.questionType, r);
    this.bySubject.add(r.subject, r);
    if (r.correct !== null) {
      // chanceAccuracy on records read without their prompt (omitTexts): the stored optionCount only.
      if (!r.optionCount) this.chanceUnknown = true;
      else {
        this.chanceSum += 1 / r.optionCount;
        this.chanceN++;
      }
    }
    if (!isScored(r)) this.failed++;
    if (r.cached === true) this.cached++;
    if (r.timings !== null && !r.error && r.cached !== true) this.measured(r, r.timings);
    this.finishReasons[r.finishReason] = (this.finishReasons[r.finishReason] ?? 0) + 1;
    const n = r.error?.retries ?? r.retries ?? 0;
    if (n > 0) this.retriedRequests++;
    this.retries += n;
    if (!isScored(r)) {
      this.errors++;
      const kind = r.error?.kind ?? 'unknown';
      this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
    }
    this.server.add(r);
    if (r.rssBytes !== undefined) {
      this.rssIndex.push(index);
      this.rssBytes.push(r.rssBytes);
    }
  }

  private measured(r: ItemResult, t: NonNullable<ItemResult['timings']>): void {
    this.completed++;
    for (const k of LATENCY_METRICS) {
      const col = this.latency[k];
      if (LATENCY_TABLE[k].per === 'gap') {
        for (const g of t[k] as number[]) col.push(typeof g === 'number' ? g : NaN);
      } else {
        const v = t[k] as number | null | undefined;
        if (v !== null && v !== undefined && Number.isFinite(v)) col.push(v);
      }
    }
    if (t.queueMs !== undefined && Number.isFinite(t.queueMs)) this.queue.push(t.queueMs);
    const out = r.outputTokens;
    if (out !== null && out !== undefined && Number.isFinite(out)) {
      this.tokens.push(out);
      this.tokenTotal += out;
    }
    this.sources.add(r.tokenSource);
    this.first = Math.min(this.first, t.startedAtEpochMs);
    this.last = Math.max(this.last, t.startedAtEpochMs + t.e2eMs);
    this.starts.push(t.startedAtEpochMs);
    this.ends.push(t.startedAtEpochMs + t.e2eMs);
  }
}
