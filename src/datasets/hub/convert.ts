// The Hub's rows, in whatever schema variant a copy uses, written back in the original files' form
// (MedQA JSON Lines, MedMCQA JSON Lines, PubMedQA ori_pqal.json, MMLU <subject>_test.csv), so the
// existing loaders validate them with the same rules and errors and give the same ids as the
// original files. Row N of a Hub file is line N of its prepared JSON Lines file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../core/errors.js';
import type { HubShape } from './catalog.js';

type Row = Record<string, unknown>;

/** Parquet ints arrive as bigint (int64 columns); JSON has no bigint. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export async function readHubRows(file: string): Promise<Row[]> {
  if (file.endsWith('.parquet')) {
    // hyparquet loads with the first Parquet file read (start-up of every command that can name a hub dataset).
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
    return rows.map((r) => plain(r) as Row);
  }
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  if (file.endsWith('.json') && text.trimStart().startsWith('[')) return JSON.parse(text) as Row[];
  return text.split(/\r?\n/).map((line, i) => {
    if (!line.trim()) return null;
    try {
      return JSON.parse(line) as Row;
    } catch (e) {
      throw new InputError(`not valid JSON: ${(e as Error).message}`, { file, line: i + 1 });
    }
  }).filter((r): r is Row => r !== null);
}

const LETTERS = 'ABCDEFGHIJ';

/** A 0-based integer label as a letter; anything else passes through for the loader to report. */
function letterOf(label: unknown, count: number): unknown {
  return Number.isInteger(label) && (label as number) >= 0 && (label as number) < count ? LETTERS[label as number] : label;
}

/**
 * One MedQA row in the original form. Variants: options as an object by letter (original, GBaker;
 * mkieffer with the letter in `answer`),
 * options as [{key, value}] (bigbio source), or sent1/sent2/ending0..N/label (SWAG-style "-hf").
 * Hub-added positional ids are dropped: the original files have none, and ids come from content.
 */
export function medqaRecord(row: Row): Row {
  if ('ending0' in row) {
    const endings = Object.keys(row).filter((k) => /^ending\d+$/.test(k)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    const options = Object.fromEntries(endings.map((k, i) => [LETTERS[i], row[k]]));
    const question = [row.sent1, row.sent2].filter((s) => typeof s === 'string' && s.trim() !== '').join(' ');
    const answer_idx = letterOf(row.label, endings.length);
    const answer = typeof answer_idx === 'string' ? options[answer_idx] : undefined;
    return { question, ...(answer !== undefined && { answer }), options, answer_idx, ...(row.meta_info !== undefined && { meta_info: row.meta_info }) };
  }
  const { id: _id, ...rest } = row;
  // mkieffer/MedQA-USMLE (its upload_to_hf.py): the letter moved into `answer` (answer_idx dropped) and
  // positional `index` / `source_index` added. Back to the original: answer_idx the letter, answer the text.
  if (!('answer_idx' in row) && 'source_index' in row) {
    delete rest.index;
    delete rest.source_index;
    const options = row.options as Record<string, unknown> | null;
    if (typeof row.answer === 'string' && options && typeof options === 'object' && Object.hasOwn(options, row.answer)) {
      rest.answer_idx = row.answer;
      rest.answer = options[row.answer];
    }
  }
  if (Array.isArray(row.options) && row.options.every((o) => o && typeof o === 'object' && 'key' in o && 'value' in o)) {
    rest.options = Object.fromEntries((row.options as Array<{ key: unknown; value: unknown }>).map((o) => [String(o.key), o.value]));
  }
  return rest;
}

function optionCount(record: Row): number {
  return record.options && typeof record.options === 'object' ? Object.keys(record.options).length : 0;
}

function medmcqaRecord(row: Row): Row {
  return row;
}

function pubmedqaRecord(row: Row): [string, Row] {
  const context = (row.context ?? {}) as Row;
  return [String(row.pubid), {
    QUESTION: row.question,
    CONTEXTS: context.contexts,
    LABELS: context.labels,
    MESHES: context.meshes,
    ...(row.reasoning_required_pred !== undefined && { reasoning_required_pred: row.reasoning_required_pred }),
    ...(row.reasoning_free_pred !== undefined && { reasoning_free_pred: row.reasoning_free_pred }),
    final_decision: row.final_decision,
    LONG_ANSWER: row.long_answer,
  }];
}

const csvField = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\r\n]/.test(s) || s === '' ? `"${s.replace(/"/g, '""')}"` : s;
};

function mmluRow(row: Row): string {
  const choices = Array.isArray(row.choices) ? row.choices : [];
  return [row.question, ...choices, letterOf(row.answer, choices.length)].map(csvField).join(',');
}

export interface Prepared {
  /** What the loader reads: a file, or (MMLU) a folder. */
  path: string;
  rows: number;
}

/** Writes the original-form files of `hubFiles` into `dir` and says what to load. */
export async function prepareFiles(shape: HubShape, hubFiles: string[], dir: string, expectOptions?: number): Promise<Prepared> {
  mkdirSync(dir, { recursive: true });
  let rows = 0;
  if (shape === 'mmlu') {
    for (const file of hubFiles) {
      const records = await readHubRows(file);
      // cais/mmlu keeps each subject in its folder: anatomy/test-00000-of-00001.parquet.
      const subject = (records[0]?.subject as string | undefined) || basename(dirname(file));
      writeFileSync(join(dir, `${subject}_test.csv`), records.map(mmluRow).join('\n') + '\n');
      rows += records.length;
    }
    return { path: dir, rows };
  }
  const all: Row[] = [];
  for (const file of hubFiles) all.push(...(await readHubRows(file)));
  rows = all.length;
  if (shape === 'pubmedqa') {
    const out = join(dir, 'ori_pqal.json');
    // One member per line, in row order, like the original file (the loader keeps file order).
    const members = all.map(pubmedqaRecord).map(([pmid, v]) => `  ${JSON.stringify(pmid)}: ${JSON.stringify(v)}`);
    writeFileSync(out, `{\n${members.join(',\n')}\n}\n`);
    return { path: out, rows };
  }
  const records = shape === 'medqa' ? all.map(medqaRecord) : all.map(medmcqaRecord);
  if (shape === 'medqa' && expectOptions && records.length && optionCount(records[0]!) !== expectOptions) {
    throw new InputError(`the Hub file has ${optionCount(records[0]!)} options per question, this set needs ${expectOptions}`, { file: hubFiles[0]! },
      'the repository is not the copy this name stands for: report it, or use dataset.path with your own file');
  }
  const out = join(dir, shape === 'medqa' ? 'test.jsonl' : 'validation.jsonl');
  writeFileSync(out, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { path: out, rows };
}
