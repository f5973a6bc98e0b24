// The steps every loader shares once its records are parsed: duplicate ids, empty files,
// fail-or-skip, limit, dataset name and the file digest.
import { dirname } from 'node:path';
import { InputError, InputErrors, formatPlace } from '../core/errors.js';
import type { DatasetItem, SkippedRecords, SourceRef } from '../core/types.js';
import { sha256Files } from './hashing.js';
import type { DatasetSpec, LoadedDataset, SkippedRecord } from './types.js';

/** One record of a file: the item it became, or the problems that stopped it. */
export interface RecordOutcome {
  place: SourceRef;
  item: DatasetItem | null;
  problems: InputError[];
  /**
   * The id is a hash of the record's content (the file gives none). A repeat of such an id is the same
   * question published twice (MMLU's test files hold 27 such rows): kept, made unique by position.
   * An id the file itself gives is never repeated silently.
   */
  contentId?: boolean;
}

export interface ParsedFiles {
  format: string;
  files: string[];
  outcomes: RecordOutcome[];
  warnings: string[];
  /** Problems with a whole file (unreadable, not JSON, no records): never skippable. */
  fileProblems: InputError[];
  /** Used when the spec gives no name. */
  defaultName: string;
}

export const SKIP_HINT = 'fix the lines or pass --skip-invalid to skip them';

/** Warnings of one kind listed one by one; the rest are counted in one line (93,700 duplicates made 27 MB held for a run). */
export const WARNINGS_LISTED = 20;

/** Skipped records listed in a run manifest (the total is always there). */
export const SKIPPED_LISTED = 100;

/** The skipped records as a manifest stores them: the first SKIPPED_LISTED, file paths as `show` writes them. */
export function skippedRecords(dataset: Pick<LoadedDataset, 'skipped' | 'files'>, show: (file: string) => string = (f) => f): SkippedRecords {
  const records = dataset.skipped.slice(0, SKIPPED_LISTED).map((s) => {
    const file = dataset.files.find((f) => s.place.startsWith(f + ':') || s.place === f);
    return { place: file ? show(file) + s.place.slice(file.length) : s.place, reason: s.reason };
  });
  return { total: dataset.skipped.length, records };
}

/** What a pass over a format's records notes besides them, in the order a whole load lists them. */
export interface PassNotes {
  warnings: string[];
  /** Problems with a whole file (unreadable, not JSON, no records): never skippable. */
  fileProblems: InputError[];
  /** Used when the spec gives no name; known once the pass is over. */
  defaultName: string;
}

/**
 * A format's records one at a time, in file order. Each pass() reads the file(s) again and yields the same
 * outcomes; nothing of a pass is kept by the stream, so a large split is never held whole.
 */
export interface RecordStream {
  format: string;
  files: string[];
  pass(notes: PassNotes): AsyncIterable<RecordOutcome>;
}

export function newPassNotes(defaultName = ''): PassNotes {
  return { warnings: [], fileProblems: [], defaultName };
}

/** Every outcome of one pass, as the whole-file loaders return them. */
export async function collectRecords(stream: RecordStream): Promise<ParsedFiles> {
  const notes = newPassNotes();
  const outcomes: RecordOutcome[] = [];
  for await (const outcome of stream.pass(notes)) outcomes.push(outcome);
  return { format: stream.format, files: stream.files, outcomes, warnings: notes.warnings, fileProblems: notes.fileProblems, defaultName: notes.defaultName };
}

/**
 * The checks every loader shares, one record at a time (duplicate ids, fail-or-skip, limit): the whole-file
 * loader and the streamed one both go through it, so they keep the same records, ids and warnings.
 */
export class RecordTally {
  /** Records seen (valid or not). */
  records = 0;
  valid = 0;
  readonly skipped: SkippedRecord[] = [];
  readonly recordProblems: InputError[] = [];
  /** Ids of the items kept (the first `limit` valid records), in file order. */
  readonly ids: string[] = [];
  /** For each kept item: its outcome's position in a pass (how the streamed loader finds it again). */
  readonly ordinals: number[] = [];
  /** The kept items themselves (whole-file loading only). */
  readonly items: DatasetItem[] = [];
  private readonly duplicates = new DuplicateIds();

  constructor(private readonly limit: number | undefined, private readonly keepItems: boolean) {}

  add(outcome: RecordOutcome): void {
    const ordinal = this.records++;
    this.duplicates.check(outcome);
    if (outcome.problems.length > 0) {
      this.recordProblems.push(...outcome.problems);
      this.skipped.push({ place: formatPlace(outcome.place), reason: outcome.problems.map(problemReason).join('; ') });
      return;
    }
    if (!outcome.item) return;
    this.valid++;
    if (this.limit != null && this.ids.length >= this.limit) return;
    this.ids.push(outcome.item.id);
    this.ordinals.push(ordinal);
    if (this.keepItems) this.items.push(outcome.item);
  }

  /** After the pass: throws every problem (unless skipInvalid), no records or no valid ones; checks the limit. */
  finish(spec: DatasetSpec, files: string[], notes: PassNotes): Omit<LoadedDataset, 'items' | 'sha256'> {
    const fileProblems = notes.fileProblems;
    if (this.records === 0 && fileProblems.length === 0) {
      for (const file of files) {
        fileProblems.push(new InputError('no records (the file is empty)', { file }, 'check the path and the download'));
      }
    }
    if (fileProblems.length > 0 || (this.recordProblems.length > 0 && !spec.skipInvalid)) {
      const all = [...fileProblems, ...this.recordProblems];
      const summary =
        fileProblems.length > 0
          ? `cannot load ${describeFiles(files)}: ${all.length} problem(s)`
          : `${this.skipped.length} invalid record(s) in ${describeFiles(files)} (${all.length} problem(s)); ${SKIP_HINT}`;
      throw new InputErrors(all, summary);
    }
    if (this.valid === 0) {
      throw new InputError(`no valid records in ${describeFiles(files)} (${this.skipped.length} skipped)`, {}, 'fix the file');
    }
    if (spec.limit != null) checkLimit(spec.limit);
    const name = spec.name ?? notes.defaultName;
    for (const item of this.items) item.meta.dataset = name;
    return {
      name,
      format: '',
      files,
      valid: this.valid,
      skipped: this.skipped,
      // Duplicate ids are noted once every record is read, after the loader's own warnings.
      warnings: [...notes.warnings, ...this.duplicates.warnings()],
      ...(this.duplicates.unlisted > 0 ? { unlistedWarnings: this.duplicates.unlisted } : {}),
    };
  }
}

export async function finishDataset(spec: DatasetSpec, parsed: ParsedFiles): Promise<LoadedDataset> {
  const tally = new RecordTally(spec.limit, true);
  for (const outcome of parsed.outcomes) tally.add(outcome);
  const notes: PassNotes = { warnings: parsed.warnings, fileProblems: parsed.fileProblems, defaultName: parsed.defaultName };
  const done = tally.finish(spec, parsed.files, notes);
  return { ...done, format: parsed.format, items: tally.items, sha256: await sha256Files(parsed.files) };
}

/** A problem without its file:line prefix (the skipped entry carries the place). */
function problemReason(problem: InputError): string {
  const field = problem.place.field ? `field "${problem.place.field}" ` : '';
  const where = formatPlace(problem.place);
  const message = where && problem.message.startsWith(where + ': ') ? problem.message.slice(where.length + 2) : problem.message;
  return field + message;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InputError(`limit must be a positive integer, got ${limit}`, { field: 'limit' });
  }
  return limit;
}

/**
 * A later record reusing an id the file gave gets an error naming both places; the first one is kept.
 * A repeated content hash (the same row published twice) is kept as "<id>.<n>" (n-th occurrence in
 * file order), with a warning naming both places; the same question with another answer is an error.
 * Records are checked one at a time in file order; what is kept per id is its place and answer. The
 * first WARNINGS_LISTED repeats are listed, the others counted.
 */
class DuplicateIds {
  private readonly firstSeen = new Map<string, { place: SourceRef; answer: string }>();
  private readonly repeats = new Map<string, number>();
  private readonly listed: string[] = [];
  /** Repeats found after the first WARNINGS_LISTED: counted, not listed. */
  unlisted = 0;

  /** The listed repeats, then one line counting the others. */
  warnings(): string[] {
    if (this.unlisted === 0) return this.listed;
    return [...this.listed, `... and ${this.unlisted.toLocaleString('en-US')} more exact duplicates (as published), each kept under a numbered id ("<id>.<n>"); the first ${WARNINGS_LISTED} are listed`];
  }

  check(outcome: RecordOutcome): void {
    if (!outcome.item || outcome.problems.length > 0) return;
    const id = outcome.item.id;
    const first = this.firstSeen.get(id);
    if (!first) {
      this.firstSeen.set(id, { place: outcome.place, answer: outcome.item.answer });
    } else if (outcome.contentId && first.answer !== outcome.item.answer) {
      outcome.problems.push(new InputError(
        `same question and options as ${formatPlace(first.place)} but answer ${outcome.item.answer} instead of ${first.answer}`,
        { ...outcome.place, field: 'answer' },
        'keep the record with the right answer',
      ));
    } else if (outcome.contentId) {
      const n = (this.repeats.get(id) ?? 1) + 1;
      this.repeats.set(id, n);
      outcome.item.id = `${id}.${n}`;
      this.firstSeen.set(outcome.item.id, { place: outcome.place, answer: outcome.item.answer });
      if (this.listed.length < WARNINGS_LISTED) this.listed.push(`${formatPlace(outcome.place)}: exact duplicate of ${formatPlace(first.place)} (as published); kept, as id ${outcome.item.id}`);
      else this.unlisted++;
    } else {
      outcome.problems.push(
        new InputError(`duplicate id ${JSON.stringify(id)}: also at ${formatPlace(first.place)}`, { ...outcome.place, field: 'id' }),
      );
    }
  }
}

/** Files for a one-line message: a few by name, more by count and folder (57 MMLU paths made a 3.5 kB line). */
export function describeFiles(files: string[]): string {
  if (files.length <= 3) return files.join(', ');
  const dirs = [...new Set(files.map((f) => dirname(f)))];
  return dirs.length === 1 ? `${files.length} files in ${dirs[0]}` : `${files.length} files (${files[0]}, ...)`;
}
