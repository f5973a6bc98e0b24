// loadDataset: one entry point for every format; 'auto' looks at the file to pick the loader.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { invalidUtf8Lines, invalidUtf8Warning } from './encoding.js';
import { firstNonBlankLine, readJsonl, takeReadWarnings } from './jsonl.js';
import type { DatasetFormatDefinition } from './format.js';
import { DATASET_FORMAT_DEFINITIONS, DATASET_FORMAT_NAMES, datasetFormat, type DatasetFormat } from './formats.js';
import { isPlainObject } from './record-check.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

export const DATASET_FORMATS: DatasetFormat[] = [...DATASET_FORMAT_NAMES];

/**
 * Reads and validates a whole dataset before any model is called. Throws InputErrors listing
 * every problem (file:line, field) unless skipInvalid, which skips bad records and lists them.
 */
export async function loadDataset(spec: DatasetSpec): Promise<LoadedDataset> {
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
  const loaded = await definition.load({ ...spec, format });
  return { ...loaded, warnings: [...(await readingWarnings(loaded.files)), ...loaded.warnings] };
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

