// Does a journal agree with its manifest and with itself? A run folder is plain text anyone can edit
// (or a tool can damage): a deleted line, a status set to "finished" on a partial run, a `correct` flag
// flipped, a question from another suite. None of these is a crash, so none is an error; each is a
// problem that every report prints and that makes `gate` refuse to pass. Correctness is never taken
// from the journal's `correct` flag alone: it is recomputed from the stored gold letter and answer.
import { createHash } from 'node:crypto';
import type { ItemResult, RunManifest } from './types.js';

/** The fields of a record the check reads: a full ItemResult, or a journal index entry (run-folder.ts). */
export type CheckedRecord = Pick<ItemResult, 'itemId' | 'sample' | 'dataset' | 'gold' | 'correct' | 'error'> & {
  extracted: Pick<ItemResult['extracted'], 'status' | 'letter'>;
};

export interface JournalCoverage {
  /** Distinct questions with a record / with a scored record. */
  questions: number;
  scoredQuestions: number;
  /** Questions the run was started on (manifest suite.items: the dataset cut to --limit). */
  runQuestions: number;
  /** Valid questions in the dataset before --limit, when the manifest records it. */
  datasetQuestions: number | null;
  /** Records (question x sample) present / expected. */
  records: number;
  expectedRecords: number;
}

export interface JournalCheck<R extends CheckedRecord = ItemResult> {
  /** Disagreements between the journal and its manifest: the figures cannot be trusted as written. */
  problems: string[];
  /** Plain statements that the run covers less than its suite (not tampering: an honest partial run). */
  coverageNotes: string[];
  coverage: JournalCoverage;
  /** The records with `correct` recomputed from gold and the extracted answer. */
  results: R[];
}

/** sha256 of a run's question ids (sorted, newline-separated): stored in the manifest at the start. */
export function itemIdsHash(ids: Iterable<string>): string {
  return createHash('sha256').update([...new Set(ids)].sort().join('\n')).digest('hex');
}

/** What `correct` must be: null for a failed request, else answered with the gold letter. */
export function expectedCorrect(r: CheckedRecord): boolean | null {
  if (r.error) return null;
  return r.extracted.status === 'answered' && r.extracted.letter !== null && r.extracted.letter === r.gold;
}

const list = (xs: string[], max = 5) => xs.slice(0, max).map((x) => JSON.stringify(x)).join(', ') + (xs.length > max ? `, ... (${xs.length} in all)` : '');

/** Check one run's records (one per item and sample) against its manifest. Pure. */
export function checkJournal<R extends CheckedRecord = ItemResult>(manifest: RunManifest, records: readonly R[]): JournalCheck<R> {
  const problems: string[] = [];
  const samples = manifest.samples;
  const runQuestions = manifest.suite.items;
  const expectedRecords = runQuestions * samples;

  const flipped: string[] = [];
  const results = records.map((r) => {
    const want = expectedCorrect(r);
    if (r.correct === want) return r;
    flipped.push(`${r.itemId}#${r.sample}`);
    return { ...r, correct: want };
  });
  if (flipped.length) {
    problems.push(`${flipped.length} record(s) carry a "correct" flag that disagrees with their gold letter and extracted answer (${list(flipped)}); they are scored from the gold letter and the answer`);
  }

  const badSample = records.filter((r) => r.sample >= samples).map((r) => `${r.itemId}#${r.sample}`);
  if (badSample.length) problems.push(`${badSample.length} record(s) have a sample number the run never asked for (it ran ${samples} sample(s) per question): ${list(badSample)}`);

  const otherDataset = records.filter((r) => r.dataset !== manifest.suite.dataset).map((r) => r.itemId);
  if (otherDataset.length) problems.push(`${otherDataset.length} record(s) name another dataset than the run's "${manifest.suite.dataset}": ${list(otherDataset)}`);

  const ids = new Set(records.map((r) => r.itemId));
  const scored = new Set(results.filter((r) => r.correct !== null).map((r) => r.itemId));
  if (ids.size > runQuestions) {
    problems.push(`the journal holds ${ids.size} distinct questions, more than the ${runQuestions} the run was started on`);
  } else if (ids.size === runQuestions && manifest.suite.itemIdsSha256 && itemIdsHash(ids) !== manifest.suite.itemIdsSha256) {
    problems.push(`the journal's ${ids.size} question ids are not the ones the run was started on (their sha256 differs from the manifest's suite.itemIdsSha256): a record belongs to another suite or was edited`);
  }

  if (manifest.status === 'finished' && records.length < expectedRecords) {
    problems.push(`the manifest says "finished" but the journal holds ${records.length} of the ${expectedRecords} records (${runQuestions} question(s) x ${samples} sample(s)) the run was started on`);
  }

  const coverageNotes = journalCoverageNotes(manifest, scored.size, records.length);
  const datasetQuestions = manifest.suite.datasetItems ?? null;
  return {
    problems,
    coverageNotes,
    coverage: { questions: ids.size, scoredQuestions: scored.size, runQuestions, datasetQuestions, records: records.length, expectedRecords },
    results,
  };
}

/**
 * What a run covers short of its suite (an unfinished status, --limit), from its scored questions and
 * records: the run's summary says it without reading its journal back (run/summary-tally.ts).
 */
export function journalCoverageNotes(manifest: RunManifest, scoredQuestions: number, records: number): string[] {
  const runQuestions = manifest.suite.items;
  const expectedRecords = runQuestions * manifest.samples;
  const coverageNotes: string[] = [];
  if (manifest.status !== 'finished') {
    coverageNotes.push(`the run's status is "${manifest.status}": it has scored answers for ${scoredQuestions} of the ${runQuestions} question(s) it was started on (${records} of ${expectedRecords} records written); its figures cover those only`);
  }
  const datasetQuestions = manifest.suite.datasetItems ?? null;
  if (datasetQuestions !== null && runQuestions < datasetQuestions) {
    coverageNotes.push(`the run covers ${runQuestions} of the ${datasetQuestions} valid questions in its dataset (--limit): its figures are not the suite's`);
  }
  return coverageNotes;
}
