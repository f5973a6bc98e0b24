// A field-mapped multiple-choice set (format: mapped): the suite names which fields hold the question,
// options, answer, id and metadata (lm-evaluation-harness's doc_to_text / doc_to_choice / doc_to_target),
// so a new set in JSON Lines, a JSON array or a CSV with a header row needs no code.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { DatasetItem, Letter } from '../core/types.js';
import { parseCsv } from './csv.js';
import { fieldMappingSchema, type FieldMapping } from './field-mapping.js';
import { collectRecords, finishDataset, type ParsedFiles, type RecordOutcome, type RecordStream } from './finish.js';
import { hashId } from './hashing.js';
import { readJsonl } from './jsonl.js';
import { RecordCheck, describeValue, isPlainObject, optionLetters } from './record-check.js';
import { defineDatasetFormat } from './format.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

/** A field by path: the exact key first (keys may contain dots), else the dotted path through objects. */
export function fieldAt(record: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(record, path)) return record[path];
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (!isPlainObject(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

interface Parsed {
  line: number;
  check: RecordCheck;
  question?: string;
  options?: Record<Letter, string>;
  rawAnswer?: unknown;
  index?: number;
  id?: string;
  meta: Record<string, string>;
}

/** A required text at `path` (missing / not a string / empty are problems naming the path). */
function textAt(check: RecordCheck, record: Record<string, unknown>, path: string): string | undefined {
  const value = fieldAt(record, path);
  if (value === undefined || value === null) {
    check.fail(path, 'missing');
    return undefined;
  }
  // CSV and some JSON copies write numbers as numbers; an option "5" is still text.
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return check.textValue(value, path);
}

function readOptions(check: RecordCheck, record: Record<string, unknown>, spec: string | string[]): Record<Letter, string> | undefined {
  if (Array.isArray(spec)) {
    const texts = spec.map((path) => textAt(check, record, path));
    if (texts.some((t) => t === undefined)) return undefined;
    return Object.fromEntries(optionLetters(texts.length).map((l, i) => [l, texts[i]!]));
  }
  const value = fieldAt(record, spec);
  if (value === undefined || value === null) {
    check.fail(spec, 'missing');
    return undefined;
  }
  if (isPlainObject(value)) return check.options({ [spec]: value }, spec);
  if (!Array.isArray(value)) {
    check.fail(spec, `must be an object by letter, a list of strings or a list of {key, value}, got ${describeValue(value)}`);
    return undefined;
  }
  if (value.length < 2) {
    check.fail(spec, `needs at least 2 options, got ${value.length}`);
    return undefined;
  }
  if (value.every((v) => isPlainObject(v))) {
    // Hugging Face's [{key: "A", value: "..."}, ...]: the keys must be the letters A.. in some order.
    const asObject: Record<string, unknown> = {};
    for (const [i, v] of (value as Record<string, unknown>[]).entries()) {
      if (typeof v.key !== 'string' || !('value' in v)) {
        check.fail(`${spec}[${i}]`, `must be {key, value} with a letter key, got keys ${Object.keys(v).join(', ') || '(none)'}`);
        return undefined;
      }
      if (Object.hasOwn(asObject, v.key)) {
        check.fail(`${spec}[${i}]`, `repeats key ${JSON.stringify(v.key)}`);
        return undefined;
      }
      asObject[v.key] = v.value;
    }
    return check.options({ [spec]: asObject }, spec);
  }
  const texts = value.map((v, i) => check.textValue(typeof v === 'number' ? String(v) : v, `${spec}[${i}]`));
  if (texts.some((t) => t === undefined)) return undefined;
  return Object.fromEntries(optionLetters(texts.length).map((l, i) => [l, texts[i]!]));
}

/** An integer index, also when written as a string of digits (CSV). */
function asIndex(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

function parseRecord(value: unknown, file: string, line: number, m: FieldMapping): Parsed {
  const check = new RecordCheck(file, line);
  const parsed: Parsed = { line, check, meta: {} };
  if (!isPlainObject(value)) {
    check.fail(undefined, `a record must be a JSON object, got ${describeValue(value)}`);
    return parsed;
  }
  const parts = (Array.isArray(m.question) ? m.question : [m.question]).map((p) => textAt(check, value, p));
  if (parts.every((p) => p !== undefined)) parsed.question = parts.map((p) => p!.trim()).join(' ');
  parsed.options = readOptions(check, value, m.options);
  parsed.rawAnswer = fieldAt(value, m.answer);
  if (parsed.rawAnswer === undefined || parsed.rawAnswer === null || parsed.rawAnswer === '') check.fail(m.answer, 'missing');
  else if (m.answerAs === 'index') {
    parsed.index = asIndex(parsed.rawAnswer);
    if (parsed.index === undefined) check.fail(m.answer, `must be an integer index (answerAs: index), got ${describeValue(parsed.rawAnswer)}`);
  }
  if (m.id !== undefined) parsed.id = check.optionalId({ [m.id]: fieldAt(value, m.id) }, m.id);
  for (const [name, path] of Object.entries(m.meta ?? {})) {
    const v = fieldAt(value, path);
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'number' || typeof v === 'boolean') parsed.meta[name] = String(v);
    else if (typeof v === 'string') parsed.meta[name] = v;
    else check.fail(path, `must be a string (it is meta ${name}), got ${describeValue(v)}`);
  }
  return parsed;
}

/** answerAs index with indexBase auto: a 0 seen means 0-based, the option count seen means 1-based. */
function decideIndexBase(records: Parsed[], file: string, m: FieldMapping): { base: 0 | 1; warning?: string } | { problem: InputError } {
  if (m.indexBase !== 'auto') return { base: m.indexBase };
  const indexed = records.filter((r) => r.index !== undefined && r.options);
  const zero = indexed.find((r) => r.index === 0);
  const top = indexed.find((r) => r.index === Object.keys(r.options!).length);
  const field = m.answer;
  if (zero && top) {
    return { problem: new InputError(`${field} has both 0 (line ${zero.line}) and the option count (line ${top.line}): cannot tell 0-based from 1-based`, { file, field }, 'set dataset.fields.indexBase (0 or 1) in the suite') };
  }
  if (zero) return { base: 0, warning: `${file}: ${field} read as a 0-based index (0 at line ${zero.line})` };
  if (top) return { base: 1, warning: `${file}: ${field} read as a 1-based index (${top.index} = the option count at line ${top.line})` };
  if (indexed.length === 0) return { base: 0 };
  return { problem: new InputError(`${field}: cannot tell a 0-based from a 1-based index (neither 0 nor the option count occurs)`, { file, field }, 'set dataset.fields.indexBase (0 or 1) in the suite') };
}

function resolveAnswer(r: Parsed, m: FieldMapping, base: 0 | 1 | null): Letter | undefined {
  const { check, options, rawAnswer } = r;
  if (!options || rawAnswer === undefined || !check.ok) return undefined;
  const letters = Object.keys(options);
  const range = `${letters[0]}..${letters.at(-1)}`;
  if (m.answerAs === 'index') {
    if (base === null || r.index === undefined) return undefined;
    const i = r.index - base;
    if (i < 0 || i >= letters.length) {
      check.fail(m.answer, `${r.index} is outside ${base}..${base + letters.length - 1} (read as ${base}-based)`);
      return undefined;
    }
    return letters[i];
  }
  if (typeof rawAnswer !== 'string' && typeof rawAnswer !== 'number') {
    check.fail(m.answer, `must be ${m.answerAs === 'letter' ? 'an option letter' : "an option's text"}, got ${describeValue(rawAnswer)}`);
    return undefined;
  }
  const given = String(rawAnswer).trim();
  if (m.answerAs === 'letter') {
    if (Object.hasOwn(options, given)) return given;
    check.fail(m.answer, `${JSON.stringify(rawAnswer)} is not an option letter (${range})${asIndex(rawAnswer) !== undefined ? '; an index? set fields.answerAs: index' : ''}`);
    return undefined;
  }
  const matches = letters.filter((l) => options[l].trim() === given);
  if (matches.length === 1) return matches[0];
  check.fail(m.answer, matches.length === 0
    ? `${JSON.stringify(rawAnswer)} is not the text of any option`
    : `${JSON.stringify(rawAnswer)} is the text of options ${matches.join(', ')}: ambiguous`);
  return undefined;
}

function toOutcome(r: Parsed, file: string, answer: Letter | undefined): RecordOutcome {
  const place = { file, line: r.line };
  if (!r.check.ok || r.question === undefined || r.options === undefined || answer === undefined) {
    return { place, item: null, problems: r.check.problems };
  }
  const { subject, step, explanation, ...rest } = r.meta;
  const item: DatasetItem = {
    // Question and options, never the answer: two copies that disagree on the answer are caught as such.
    id: r.id ?? hashId('mapped', { question: r.question, options: r.options }),
    question: r.question,
    options: r.options,
    answer,
    meta: {
      ...(subject !== undefined && { subject }),
      ...(step !== undefined && { step }),
      ...(explanation !== undefined && { explanation }),
      source: place,
      dataset: '',
      ...(Object.keys(rest).length > 0 && { extra: rest }),
    },
  };
  return { place, item, problems: [], contentId: r.id === undefined };
}

/** Records of a CSV file with a header row, as objects by column name (line = the record's first line). */
async function* readCsvRecords(file: string): AsyncGenerator<{ line: number; value?: Record<string, string>; error?: InputError }> {
  const [header, ...rows] = parseCsv(await readFile(file, 'utf8'));
  if (!header) return;
  for (const row of [header, ...rows]) {
    if (row.problem) yield { line: row.problem.line, error: new InputError(row.problem.message, { file, line: row.problem.line }) };
  }
  if (header.problem) return;
  for (const row of rows) {
    if (row.problem) continue;
    if (row.fields.length !== header.fields.length) {
      yield { line: row.line, error: new InputError(`has ${row.fields.length} columns, the header has ${header.fields.length}`, { file, line: row.line }) };
      continue;
    }
    yield { line: row.line, value: Object.fromEntries(header.fields.map((h, i) => [h.trim(), row.fields[i]!])) };
  }
}

/** The file's entries (JSON Lines, a JSON array, or a CSV with a header row), one at a time. */
function entriesOf(file: string): AsyncIterable<{ line: number; value?: unknown; error?: InputError }> {
  return extname(file).toLowerCase() === '.csv'
    ? readCsvRecords(file)
    : (async function* () {
      for await (const e of readJsonl(file)) yield e.kind === 'error' ? { line: e.line, error: e.error } : { line: e.line, value: e.value };
    })();
}

/**
 * The file's records one at a time. With answerAs: index and indexBase auto, the base is a decision over
 * the whole file, so each pass reads it twice: the indexes first (a 0 and the option count are all that
 * matter), then the records.
 */
export function mappedRecords(file: string, mapping: FieldMapping): RecordStream {
  return {
    format: 'mapped',
    files: [file],
    async *pass(notes) {
      notes.defaultName = basename(file, extname(file));
      let base: 0 | 1 | null = 0;
      if (mapping.answerAs === 'index') {
        // decideIndexBase looks for the first 0 and the first index equal to its option count, and whether any index was read.
        const seen: Parsed[] = [];
        let any: Parsed | undefined;
        for await (const entry of entriesOf(file)) {
          if (entry.error) continue;
          const r = parseRecord(entry.value, file, entry.line, mapping);
          if (r.index === undefined || !r.options) continue;
          any ??= r;
          if (r.index === 0 && !seen.some((p) => p.index === 0)) seen.push(r);
          else if (r.index === Object.keys(r.options).length && !seen.some((p) => p.index !== 0)) seen.push(r);
        }
        if (seen.length === 0 && any) seen.push(any);
        const decision = decideIndexBase(seen, file, mapping);
        if ('problem' in decision) {
          notes.fileProblems.push(decision.problem);
          base = null;
        } else {
          base = decision.base;
          if (decision.warning) notes.warnings.push(decision.warning);
        }
      }
      for await (const entry of entriesOf(file)) {
        if (entry.error) yield { place: { file, line: entry.line }, item: null, problems: [entry.error] };
        else {
          const record = parseRecord(entry.value, file, entry.line, mapping);
          yield toOutcome(record, file, resolveAnswer(record, mapping, base));
        }
      }
    },
  };
}

export async function parseMappedFile(file: string, mapping: FieldMapping): Promise<ParsedFiles> {
  return collectRecords(mappedRecords(file, mapping));
}

/** The suite's dataset.fields, checked (format mapped needs them). */
function mappingOf(spec: DatasetSpec): FieldMapping {
  if (!spec.fields) {
    throw new InputError('format "mapped" needs dataset.fields (question, options, answer)', { field: 'fields' }, 'see "Field-mapped datasets" in README.md');
  }
  const mapping = fieldMappingSchema.safeParse(spec.fields);
  if (!mapping.success) {
    const issue = mapping.error.issues[0]!;
    throw new InputError(`dataset.fields: ${issue.message}`, { field: ['fields', ...issue.path.map(String)].join('.') });
  }
  return mapping.data;
}

export async function loadMapped(spec: DatasetSpec): Promise<LoadedDataset> {
  return finishDataset(spec, await parseMappedFile(spec.path, mappingOf(spec)));
}

/** Never auto-detected: the suite names its fields. */
export const mappedFormat = defineDatasetFormat({
  name: 'mapped',
  load: loadMapped,
  records: async (spec) => mappedRecords(spec.path, mappingOf(spec)),
});
