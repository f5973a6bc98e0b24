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

export async function finishDataset(spec: DatasetSpec, parsed: ParsedFiles): Promise<LoadedDataset> {
  const { outcomes, fileProblems } = parsed;
  markDuplicateIds(outcomes, parsed.warnings);
  if (outcomes.length === 0 && fileProblems.length === 0) {
    for (const file of parsed.files) {
      fileProblems.push(new InputError('no records (the file is empty)', { file }, 'check the path and the download'));
    }
  }
  const recordProblems = outcomes.flatMap((o) => o.problems);
  if (fileProblems.length > 0 || (recordProblems.length > 0 && !spec.skipInvalid)) {
    const all = [...fileProblems, ...recordProblems];
    const bad = outcomes.filter((o) => o.problems.length > 0).length;
    const summary =
      fileProblems.length > 0
        ? `cannot load ${describeFiles(parsed.files)}: ${all.length} problem(s)`
        : `${bad} invalid record(s) in ${describeFiles(parsed.files)} (${all.length} problem(s)); ${SKIP_HINT}`;
    throw new InputErrors(all, summary);
  }

  const skipped: SkippedRecord[] = outcomes
    .filter((o) => o.problems.length > 0)
    .map((o) => ({ place: formatPlace(o.place), reason: o.problems.map(problemReason).join('; ') }));
  const valid = outcomes.filter((o) => o.problems.length === 0 && o.item).map((o) => o.item as DatasetItem);
  if (valid.length === 0) {
    throw new InputError(`no valid records in ${describeFiles(parsed.files)} (${skipped.length} skipped)`, {}, 'fix the file');
  }

  const name = spec.name ?? parsed.defaultName;
  const items = spec.limit != null ? valid.slice(0, checkLimit(spec.limit)) : valid;
  for (const item of items) item.meta.dataset = name;
  return {
    name,
    format: parsed.format,
    files: parsed.files,
    items,
    valid: valid.length,
    skipped,
    warnings: parsed.warnings,
    sha256: await sha256Files(parsed.files),
  };
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
 */
function markDuplicateIds(outcomes: RecordOutcome[], warnings: string[]): void {
  const firstSeen = new Map<string, { place: SourceRef; answer: string }>();
  const repeats = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.item || outcome.problems.length > 0) continue;
    const id = outcome.item.id;
    const first = firstSeen.get(id);
    if (!first) {
      firstSeen.set(id, { place: outcome.place, answer: outcome.item.answer });
    } else if (outcome.contentId && first.answer !== outcome.item.answer) {
      outcome.problems.push(new InputError(
        `same question and options as ${formatPlace(first.place)} but answer ${outcome.item.answer} instead of ${first.answer}`,
        { ...outcome.place, field: 'answer' },
        'keep the record with the right answer',
      ));
    } else if (outcome.contentId) {
      const n = (repeats.get(id) ?? 1) + 1;
      repeats.set(id, n);
      outcome.item.id = `${id}.${n}`;
      firstSeen.set(outcome.item.id, { place: outcome.place, answer: outcome.item.answer });
      warnings.push(`${formatPlace(outcome.place)}: exact duplicate of ${formatPlace(first.place)} (as published); kept, as id ${outcome.item.id}`);
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
