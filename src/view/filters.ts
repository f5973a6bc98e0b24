// Which items of a run the viewer shows: by outcome, question type, step and subject, by item id, and
// by flip against another run of the same questions. Filters work on the journal index (never on the
// records' text), so a filter over 100,000 items parses no record; only the page shown is read.
import type { JournalEntry } from '../core/run-folder.js';

export const OUTCOMES = ['correct', 'wrong', 'unparseable', 'truncated', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What each outcome means, shown beside the filter (a label without its definition is not shown). */
export const OUTCOME_DEFINITIONS: Record<Outcome, string> = {
  correct: 'answered with the gold letter',
  wrong: 'answered with another letter',
  unparseable: 'a reply came, but no answer letter could be read from it (scored as wrong)',
  truncated: 'the reply hit its token budget before an answer (scored as wrong)',
  error: 'the request failed (timeout, server error...): not scored',
};

export const FLIPS = ['lost', 'gained', 'any'] as const;
export type FlipDirection = (typeof FLIPS)[number];

/** Flip directions, read as "this run compared with the other run". */
export const FLIP_DEFINITIONS: Record<FlipDirection, string> = {
  lost: 'right in the other run, wrong in this one',
  gained: 'wrong in the other run, right in this one',
  any: 'right in one run, wrong in the other',
};

export const FLIP_RULE = 'A flip pairs the same question and sample in both runs; both must be scored (failed requests are never flips); unparseable and truncated answers count as wrong.';

/** The outcome of one record, from its index entry. */
export function outcomeOf(e: Pick<JournalEntry, 'correct' | 'error' | 'extracted'>): Outcome {
  if (e.error || e.correct === null) return 'error';
  if (e.extracted.status === 'unparseable') return 'unparseable';
  if (e.extracted.status === 'truncated') return 'truncated';
  return e.correct ? 'correct' : 'wrong';
}

export interface ItemFilter {
  outcome?: Outcome;
  type?: string;
  step?: string;
  subject?: string;
  /** A substring of the item id. */
  id?: string;
  /** Another run's id and the flip direction (both or neither). */
  vs?: string;
  flip?: FlipDirection;
}

export class BadQuery extends Error {}

const FILTER_KEYS = ['outcome', 'type', 'step', 'subject', 'id', 'vs', 'flip'] as const;

/** Reads a filter from query parameters; an unknown value is a BadQuery (HTTP 400), never ignored. */
export function parseFilter(params: URLSearchParams): ItemFilter {
  const f: ItemFilter = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value === null || value === '') continue;
    if (key === 'outcome') {
      if (!(OUTCOMES as readonly string[]).includes(value)) throw new BadQuery(`outcome must be one of ${OUTCOMES.join(', ')} (got ${JSON.stringify(value)})`);
      f.outcome = value as Outcome;
    } else if (key === 'flip') {
      if (!(FLIPS as readonly string[]).includes(value)) throw new BadQuery(`flip must be one of ${FLIPS.join(', ')} (got ${JSON.stringify(value)})`);
      f.flip = value as FlipDirection;
    } else f[key] = value;
  }
  if (f.flip && !f.vs) throw new BadQuery('flip needs vs=<run id>: the run to compare with');
  if (f.vs && !f.flip) f.flip = 'any';
  return f;
}

/** The query string of a filter (for links and the "load more" request). */
export function filterQuery(f: ItemFilter): URLSearchParams {
  const q = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const v = f[key];
    if (v !== undefined) q.set(key, v);
  }
  return q;
}

export const entryKey = (e: Pick<JournalEntry, 'itemId' | 'sample'>) => `${e.itemId}\u0000${e.sample}`;

/** Index entries by (item, sample), for flips and side-by-side rows. */
export function byKey(entries: readonly JournalEntry[]): Map<string, JournalEntry> {
  const m = new Map<string, JournalEntry>();
  for (const e of entries) m.set(entryKey(e), e);
  return m;
}

/** Is this (this run's record, the other's) pair a flip in that direction? */
export function isFlip(here: JournalEntry, there: JournalEntry | undefined, direction: FlipDirection): boolean {
  if (!there || here.correct === null || there.correct === null || here.correct === there.correct) return false;
  if (direction === 'lost') return there.correct && !here.correct;
  if (direction === 'gained') return here.correct && !there.correct;
  return true;
}

/** The entries a filter keeps, in journal order. `other` is the vs run's entries by key (needed with a flip filter). */
export function applyFilter(entries: readonly JournalEntry[], f: ItemFilter, other?: Map<string, JournalEntry>): JournalEntry[] {
  if (f.flip && !other) throw new Error('applyFilter: a flip filter needs the other run');
  return entries.filter((e) =>
    (f.outcome === undefined || outcomeOf(e) === f.outcome) &&
    (f.type === undefined || e.questionType === f.type) &&
    (f.step === undefined || e.step === f.step) &&
    (f.subject === undefined || e.subject === f.subject) &&
    (f.id === undefined || e.itemId.includes(f.id)) &&
    (f.flip === undefined || isFlip(e, other!.get(entryKey(e)), f.flip)));
}

/** How many entries have each value of a field (for the filter menus), most common first. */
export function facetCounts(entries: readonly JournalEntry[], field: (e: JournalEntry) => string | undefined): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const v = field(e);
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function outcomeCounts(entries: readonly JournalEntry[]): Record<Outcome, number> {
  const c = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const e of entries) c[outcomeOf(e)]++;
  return c;
}
