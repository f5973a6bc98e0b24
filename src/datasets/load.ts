// loadDataset: one entry point for every format; 'auto' looks at the file to pick the loader.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { DatasetItem } from '../core/types.js';
import { invalidUtf8Lines, invalidUtf8Warning } from './encoding.js';
import { firstNonBlankLine, readJsonl, takeReadWarnings } from './jsonl.js';
import type { DatasetFormatDefinition } from './format.js';
import { DATASET_FORMAT_DEFINITIONS, DATASET_FORMAT_NAMES, datasetFormat, type DatasetFormat } from './formats.js';
import { isPlainObject } from './record-check.js';
import { newPassNotes, RecordTally } from './finish.js';
import { sha256Files } from './hashing.js';
import { datasetIndex } from './streamed.js';
import type { DatasetIndex, DatasetSpec, LoadedDataset } from './types.js';

export const DATASET_FORMATS: DatasetFormat[] = [...DATASET_FORMAT_NAMES];

/**
 * Reads and validates a whole dataset before any model is called. Throws InputErrors listing
 * every problem (file:line, field) unless skipInvalid, which skips bad records and lists them.
 */
export async function loadDataset(spec: DatasetSpec): Promise<LoadedDataset> {
  const { definition, spec: resolved } = await resolveFormat(spec);
  const loaded = await definition.load(resolved);
  return { ...loaded, warnings: [...(await readingWarnings(loaded.files)), ...loaded.warnings] };
}

/**
 * The same validation as loadDataset (every record checked before any model is called, the same errors,
 * warnings, ids, limit and hash), in one streamed pass that keeps only the items' ids: the items are read
 * again, one at a time, when a run asks for them (DatasetIndex.cursor). Memory stays at a few bytes an item.
 */
export async function openDataset(spec: DatasetSpec, opts: { visit?: (position: number, item: DatasetItem) => void } = {}): Promise<DatasetIndex> {
  const { definition, spec: resolved } = await resolveFormat(spec);
  const stream = await definition.records(resolved);
  const tally = new RecordTally(resolved.limit, false);
  const notes = newPassNotes();
  for await (const outcome of stream.pass(notes)) {
    const kept = tally.ids.length;
    tally.add(outcome);
    // Each item kept, once, as it is read (its id final; meta.dataset not yet set): what a caller learns
    // from an item here it need not read the file again for.
    if (opts.visit && tally.ids.length > kept) opts.visit(kept, outcome.item!);
  }
  const done = tally.finish(resolved, stream.files, notes);
  const summary = {
    ...done,
    format: stream.format,
    warnings: [...(await readingWarnings(stream.files)), ...done.warnings],
    sha256: await sha256Files(stream.files),
  };
  return datasetIndex(summary, stream, tally.ids, tally.ordinals);
}

/** The checks both loaders make before reading a record: paths, fields, the format (auto-detected). */
async function resolveFormat(spec: DatasetSpec): Promise<{ definition: DatasetFormatDefinition; spec: DatasetSpec }> {
  await mustExist(spec.path, 'path');
  if (spec.groundTruthPath) await mustExist(spec.groundTruthPath, 'groundTruthPath');
  // Field names only mean something to the mapped loader: never guess a format around them.
  if (spec.fields && spec.format !== 'mapped') {
    throw new InputError(`dataset.fields is set but the format is ${JSON.stringify(spec.format)}`, { field: 'format' }, 'set dataset.format: mapped, or remove fields');
  }
  const format = spec.format === 'auto' ? await detectFormat(spec.path) : spec.format;
  const definition = datasetFormat(format);
  if (!definition) {
    throw new InputError(`unknown dataset format ${JSON.stringify(format)}`, { field: 'format' }, `use one of auto, ${DATASET_FORMATS.join(', ')}`);
  }
  // Only a format that reads a folder (MMLU's CSV files) may be given one; the others need the file itself.
  if (!definition.readsFolder) await mustBeFile(spec.path, 'path');
  if (spec.groundTruthPath) await mustBeFile(spec.groundTruthPath, 'groundTruthPath');
  return { definition, spec: { ...spec, format } };
}

async function mustExist(path: string, field: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new InputError('file not found', { file: path, field }, 'check the path (relative paths start from the current folder)');
  }
}

async function mustBeFile(path: string, field: string): Promise<void> {
  if (!(await stat(path)).isDirectory()) return;
  const inside = (await readdir(path)).filter((f) => /\.(jsonl|json)$/i.test(f)).sort();
  throw new InputError('is a folder, not a dataset file', { file: path, field },
    inside.length ? `point ${field} at a file in it, e.g. ${join(path, inside[0]!)}` : 'point it at the dataset file (.jsonl or .json)');
}

/** How the files were read: invalid UTF-8 (file:line), a JSON array given as JSON Lines. */
async function readingWarnings(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    out.push(...takeReadWarnings(file));
    const bad = await invalidUtf8Lines(file);
    if (bad.length) out.push(invalidUtf8Warning(file, bad));
  }
  return [...new Set(out)];
}

/** The first format, in list order, whose detection hint says yes. */
function detectBy(hint: (d: DatasetFormatDefinition) => boolean | undefined): DatasetFormat | undefined {
  return DATASET_FORMAT_DEFINITIONS.find((d) => hint(d) === true)?.name;
}

/** The format, from the path (a folder, .csv: MMLU), a first line that is not JSON, or the first record's fields. */
export async function detectFormat(path: string, given?: { line: number; text: string }): Promise<DatasetFormat> {
  const isDirectory = (await stat(path)).isDirectory();
  const byPath = detectBy((d) => d.detectPath?.(path, isDirectory));
  if (byPath) return byPath;
  const first = given ?? (await firstNonBlankLine(path));
  if (first === undefined) throw new InputError('no records (the file is empty)', { file: path });
  let record: unknown;
  try {
    record = JSON.parse(first.text);
    if (Array.isArray(record)) record = record[0];
  } catch {
    // A pretty-printed JSON array: its first element decides.
    if (first.text.trim().startsWith('[')) {
      const element = await firstArrayElement(path);
      if (!element) throw new InputError('no records (the file is an empty JSON array)', { file: path });
      return detectFormat(path, element);
    }
    const byOpening = detectBy((d) => d.detectOpening?.(first.text));
    if (byOpening) return byOpening;
    throw new InputError('cannot detect the format: the first record is not JSON', { file: path, line: first.line }, `set dataset.format in the suite (${DATASET_FORMATS.join(', ')}; mapped with dataset.fields)`);
  }
  const byRecord = isPlainObject(record) ? detectBy((d) => d.detectRecord?.(record as Record<string, unknown>)) : undefined;
  if (byRecord) return byRecord;
  const fields = isPlainObject(record) ? Object.keys(record).slice(0, 8).join(', ') : typeof record;
  throw new InputError(
    `cannot detect the format from the first record's fields (${fields})`,
    { file: path, line: first.line },
    `set dataset.format in the suite (${DATASET_FORMATS.join(', ')}; mapped with dataset.fields)`,
  );
}

/** The first element of a file that is one JSON array, as a one-line record (undefined if it is not one). */
async function firstArrayElement(file: string): Promise<{ line: number; text: string } | undefined> {
  for await (const entry of readJsonl(file)) {
    if (entry.kind === 'error') throw entry.error;
    return { line: entry.line, text: JSON.stringify(entry.value) };
  }
  return undefined;
}

