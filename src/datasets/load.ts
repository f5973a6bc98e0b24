// loadDataset: one entry point for every format; 'auto' looks at the file to pick the loader.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputError } from '../core/errors.js';
import { loadMedmcqa } from './medmcqa.js';
import { loadMedqa } from './medqa.js';
import { loadMmlu } from './mmlu.js';
import { loadPubmedqa } from './pubmedqa.js';
import { isPlainObject } from './record-check.js';
import type { DatasetFormat, DatasetSpec, LoadedDataset } from './types.js';

const LOADERS: Record<DatasetFormat, (spec: DatasetSpec) => Promise<LoadedDataset>> = {
  medqa: loadMedqa,
  medmcqa: loadMedmcqa,
  pubmedqa: loadPubmedqa,
  mmlu: loadMmlu,
};

export const DATASET_FORMATS = Object.keys(LOADERS) as DatasetFormat[];

/**
 * Reads and validates a whole dataset before any model is called. Throws InputErrors listing
 * every problem (file:line, field) unless skipInvalid, which skips bad records and lists them.
 */
export async function loadDataset(spec: DatasetSpec): Promise<LoadedDataset> {
  await mustExist(spec.path, 'path');
  if (spec.groundTruthPath) await mustExist(spec.groundTruthPath, 'groundTruthPath');
  const format = spec.format === 'auto' ? await detectFormat(spec.path) : spec.format;
  const loader = LOADERS[format];
  if (!loader) {
    throw new InputError(`unknown dataset format ${JSON.stringify(format)}`, { field: 'format' }, `use one of auto, ${DATASET_FORMATS.join(', ')}`);
  }
  return loader({ ...spec, format });
}

async function mustExist(path: string, field: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw new InputError('file not found', { file: path, field }, 'check the path (relative paths start from the current folder)');
  }
}

/** The format, from the file extension (.csv / a folder: MMLU) or from the first record's fields. */
export async function detectFormat(path: string): Promise<DatasetFormat> {
  if ((await stat(path)).isDirectory() || path.toLowerCase().endsWith('.csv')) return 'mmlu';
  const first = await firstNonBlankLine(path);
  if (first === undefined) throw new InputError('no records (the file is empty)', { file: path });
  let record: unknown;
  try {
    record = JSON.parse(first.text);
  } catch {
    // An indented JSON document (ori_pqal.json) opens with a lone "{".
    if (first.text.trim() === '{') return 'pubmedqa';
    throw new InputError('cannot detect the format: the first record is not JSON', { file: path, line: first.line }, 'set dataset.format in the suite (medqa, medmcqa, pubmedqa or mmlu)');
  }
  if (isPlainObject(record)) {
    if ('opa' in record || 'cop' in record) return 'medmcqa';
    if ('options' in record || 'answer_idx' in record) return 'medqa';
    const firstValue = Object.values(record)[0];
    if (isPlainObject(firstValue) && ('QUESTION' in firstValue || 'final_decision' in firstValue)) return 'pubmedqa';
  }
  const fields = isPlainObject(record) ? Object.keys(record).slice(0, 8).join(', ') : typeof record;
  throw new InputError(
    `cannot detect the format from the first record's fields (${fields})`,
    { file: path, line: first.line },
    `set dataset.format in the suite (${DATASET_FORMATS.join(', ')})`,
  );
}

async function firstNonBlankLine(file: string): Promise<{ line: number; text: string } | undefined> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (let text of lines) {
      line++;
      if (line === 1) text = text.replace(/^\uFEFF/, '');
      if (text.trim() !== '') return { line, text };
    }
    return undefined;
  } finally {
    lines.close();
    input.destroy();
  }
}
