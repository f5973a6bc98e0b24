// MMLU (hendrycks/test): header-less CSV rows of question, A, B, C, D, answer letter; the subject
// comes from the file name (<subject>_<split>.csv). A folder loads every CSV in it, in name order.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../core/errors.js';
import type { DatasetItem } from '../core/types.js';
import { parseCsv, type CsvRecord } from './csv.js';
import { collectRecords, finishDataset, type ParsedFiles, type RecordOutcome, type RecordStream } from './finish.js';
import { hashId } from './hashing.js';
import { RecordCheck } from './record-check.js';
import { defineDatasetFormat } from './format.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

/** The medical subsets peers report (Open Medical LLM Leaderboard). */
export const MMLU_MEDICAL_SUBJECTS = [
  'anatomy',
  'clinical_knowledge',
  'college_biology',
  'college_medicine',
  'medical_genetics',
  'professional_medicine',
] as const;

const COLUMNS = ['question', 'A', 'B', 'C', 'D', 'answer'] as const;

/** "anatomy_test.csv" -> { subject: "anatomy", split: "test" }. */
export function mmluSubject(file: string): { subject: string; split?: string } {
  const stem = basename(file).replace(/\.csv$/i, '');
  const match = /^(.*)_(test|dev|val)$/.exec(stem);
  return match ? { subject: match[1], split: match[2] } : { subject: stem };
}

function mmluRecord(record: CsvRecord, file: string, subject: string, split: string | undefined): RecordOutcome {
  const place = { file, line: record.line };
  const check = new RecordCheck(file, record.line);
  if (record.fields.length !== COLUMNS.length) {
    check.fail(undefined, `expected ${COLUMNS.length} columns (${COLUMNS.join(', ')}), got ${record.fields.length}`);
    return { place, item: null, problems: check.problems };
  }
  const row = Object.fromEntries(COLUMNS.map((c, i) => [c, record.fields[i]]));
  const question = check.textValue(row.question, 'question');
  const options: Record<string, string> = {};
  for (const letter of ['A', 'B', 'C', 'D']) {
    const text = check.textValue(row[letter], letter);
    if (text !== undefined) options[letter] = text;
  }
  const answer = row.answer.trim();
  if (!['A', 'B', 'C', 'D'].includes(answer)) check.fail('answer', `must be A, B, C or D, got ${JSON.stringify(row.answer)}`);
  if (!check.ok || question === undefined) return { place, item: null, problems: check.problems };
  const item: DatasetItem = {
    id: hashId('mmlu', { subject, question, options, answer }),
    question,
    options,
    answer,
    meta: { subject, source: place, dataset: '', extra: { subject, ...(split && { split }) } },
  };
  return { place, item, problems: [], contentId: true };
}

/** The CSV files behind `path`: the file itself, or the folder's *.csv (optionally only `subjects`). */
export async function mmluFiles(path: string, subjects?: string[]): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith('.csv')).sort();
  const wanted = subjects ? new Set(subjects) : undefined;
  const files = names.map((n) => join(path, n)).filter((f) => !wanted || wanted.has(mmluSubject(f).subject));
  if (wanted) {
    const found = new Set(files.map((f) => mmluSubject(f).subject));
    const missing = [...wanted].filter((s) => !found.has(s));
    if (missing.length > 0) {
      throw new InputError(`no CSV for subject(s) ${missing.join(', ')} in ${path}`, { file: path, field: 'subjects' });
    }
  }
  if (files.length === 0) throw new InputError('no .csv files in this folder', { file: path }, 'point at a folder of MMLU <subject>_<split>.csv files');
  return files;
}

/** The files' records one at a time, file by file (each file is parsed whole: one subject's CSV is small). */
export async function mmluRecords(path: string, subjects?: string[]): Promise<RecordStream> {
  const files = await mmluFiles(path, subjects);
  return {
    format: 'mmlu',
    files,
    async *pass(notes) {
      const subjectsLoaded = [...new Set(files.map((f) => mmluSubject(f).subject))];
      notes.defaultName = subjectsLoaded.length === 1 ? `mmlu-${subjectsLoaded[0]}` : 'mmlu';
      for (const file of files) {
        const { subject, split } = mmluSubject(file);
        const records = parseCsv(await readFile(file, 'utf8'));
        if (records.length === 0) notes.fileProblems.push(new InputError('no records (the file is empty)', { file }));
        for (const record of records) {
          if (record.problem) {
            const problem = new InputError(record.problem.message, { file, line: record.problem.line });
            yield { place: { file, line: record.line }, item: null, problems: [problem] };
            continue;
          }
          yield mmluRecord(record, file, subject, split);
        }
      }
    },
  };
}

export async function parseMmluFiles(path: string, subjects?: string[]): Promise<ParsedFiles> {
  return collectRecords(await mmluRecords(path, subjects));
}

export async function loadMmlu(spec: DatasetSpec): Promise<LoadedDataset> {
  return finishDataset(spec, await parseMmluFiles(spec.path, spec.subjects));
}

export const mmluFormat = defineDatasetFormat({
  name: 'mmlu',
  load: loadMmlu,
  records: (spec) => mmluRecords(spec.path, spec.subjects),
  readsFolder: true,
  detectPath: (path, isDirectory) => isDirectory || path.toLowerCase().endsWith('.csv'),
});
