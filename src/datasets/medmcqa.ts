// MedMCQA (openlifescienceai/medmcqa): JSONL with opa..opd and `cop`, the correct option, counted
// from 0 in the Hugging Face copy and from 1 in the original dev.json.
import { basename } from 'node:path';
import { InputError } from '../core/errors.js';
import type { DatasetItem } from '../core/types.js';
import { collectRecords, finishDataset, type ParsedFiles, type RecordOutcome, type RecordStream } from './finish.js';
import { hashId } from './hashing.js';
import { readJsonl, type JsonlLine } from './jsonl.js';
import { RecordCheck, describeValue, isPlainObject } from './record-check.js';
import { defineDatasetFormat } from './format.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

const OPTION_FIELDS = [
  ['A', 'opa'],
  ['B', 'opb'],
  ['C', 'opc'],
  ['D', 'opd'],
] as const;

interface Pending {
  line: number;
  record: Record<string, unknown>;
  check: RecordCheck;
  cop?: number;
}

export type CopBase = 0 | 1;

/**
 * Which way `cop` counts. An explicit base wins; else a 0 means 0-based and a 4 means 1-based;
 * with only 1..3 seen the file name decides (the original ships as dev.json).
 */
export function decideCopBase(
  cops: { line: number; cop: number }[],
  file: string,
  requested: CopBase | 'auto' = 'auto',
): { base: CopBase; warning: string } | { problem: string } {
  if (requested !== 'auto') return { base: requested, warning: `${file}: cop read as ${requested}-based (set explicitly)` };
  const zero = cops.find((c) => c.cop === 0);
  const four = cops.find((c) => c.cop === 4);
  if (zero && four) {
    return {
      problem: `cop has both 0 (line ${zero.line}) and 4 (line ${four.line}): cannot tell 0-based from 1-based; set dataset.copBase (0 or 1) in the suite`,
    };
  }
  if (zero) return { base: 0, warning: `${file}: cop read as 0-based (Hugging Face copy; cop 0 at line ${zero.line})` };
  if (four) return { base: 1, warning: `${file}: cop read as 1-based (original dev.json; cop 4 at line ${four.line})` };
  const base: CopBase = /^dev\.json$/i.test(basename(file)) ? 1 : 0;
  return {
    base,
    warning: `${file}: cop read as ${base}-based, guessed from the file name (only values 1..3 occur); set dataset.copBase (0 or 1) in the suite to be sure`,
  };
}

/** The first look at one JSONL entry: a problem already, or the record with its cop read. */
function firstLook(entry: JsonlLine, file: string): RecordOutcome | Pending {
  const place = { file, line: entry.line };
  if (entry.kind === 'error') return { place, item: null, problems: [entry.error] };
  const check = new RecordCheck(file, entry.line);
  if (!isPlainObject(entry.value)) {
    check.fail(undefined, `a record must be a JSON object, got ${describeValue(entry.value)}`);
    return { place, item: null, problems: check.problems };
  }
  const record = entry.value;
  let cop: number | undefined;
  if (record.cop === undefined) check.fail('cop', 'missing');
  else if (typeof record.cop !== 'number' || !Number.isInteger(record.cop)) {
    check.fail('cop', `must be an integer, got ${describeValue(record.cop)}`);
  } else if (record.cop === -1) {
    check.fail('cop', 'is -1: no answer label (the unlabelled test split); score the validation/dev split instead');
  } else cop = record.cop;
  return { line: entry.line, record, check, cop };
}

/**
 * The file's records one at a time. Which way `cop` counts is a decision over the whole file, so each pass
 * reads it twice: the cop values first (a 0 and a 4 are all that matter), then the records.
 */
export function medmcqaRecords(file: string, copBase: CopBase | 'auto' = 'auto'): RecordStream {
  return {
    format: 'medmcqa',
    files: [file],
    async *pass(notes) {
      notes.defaultName = 'medmcqa';
      // decideCopBase looks for the first 0 and the first 4 (with their lines): no other value changes its answer.
      let zero: { line: number; cop: number } | undefined;
      let four: { line: number; cop: number } | undefined;
      let anyCop = false;
      for await (const entry of readJsonl(file)) {
        const look = firstLook(entry, file);
        if (!('check' in look) || look.cop === undefined) continue;
        anyCop = true;
        if (look.cop === 0) zero ??= { line: look.line, cop: 0 };
        if (look.cop === 4) four ??= { line: look.line, cop: 4 };
      }
      const decision = decideCopBase([zero, four].filter((c) => c !== undefined), file, copBase);
      if ('problem' in decision) notes.fileProblems.push(new InputError(decision.problem, { file, field: 'cop' }));
      else if (anyCop) notes.warnings.push(decision.warning);
      const base = 'base' in decision ? decision.base : null;
      for await (const entry of readJsonl(file)) {
        const look = firstLook(entry, file);
        yield 'check' in look ? medmcqaRecord(look, file, base) : look;
      }
    },
  };
}

export async function parseMedmcqaFile(file: string, copBase: CopBase | 'auto' = 'auto'): Promise<ParsedFiles> {
  return collectRecords(medmcqaRecords(file, copBase));
}

function medmcqaRecord({ line, record, check, cop }: Pending, file: string, base: CopBase | null): RecordOutcome {
  const place = { file, line };
  const question = check.text(record, 'question');
  const options: Record<string, string> = {};
  for (const [letter, field] of OPTION_FIELDS) {
    const text = check.text(record, field);
    if (text !== undefined) options[letter] = text;
  }
  const ownId = check.optionalId(record, 'id');
  const choiceType = check.optionalText(record, 'choice_type');
  const subject = check.optionalText(record, 'subject_name');
  const topic = check.optionalText(record, 'topic_name');
  const exp = check.optionalText(record, 'exp');

  let answer: string | undefined;
  if (cop !== undefined && base !== null) {
    const index = cop - base;
    if (index < 0 || index > 3) check.fail('cop', `${cop} is outside ${base}..${base + 3} (read as ${base}-based)`);
    else answer = OPTION_FIELDS[index][0];
  }
  if (!check.ok || question === undefined || answer === undefined || base === null) return { place, item: null, problems: check.problems };

  const extra: Record<string, unknown> = { cop, copBase: base };
  if (choiceType !== undefined) extra.choiceType = choiceType;
  if (subject !== undefined) extra.subject = subject;
  if (topic !== undefined) extra.topic = topic;
  const item: DatasetItem = {
    // Question and options only, never `cop`: a 0-based and a 1-based copy of one question share its id.
    id: ownId ?? hashId('medmcqa', { question: record.question, opa: record.opa, opb: record.opb, opc: record.opc, opd: record.opd }),
    question,
    options,
    answer,
    meta: {
      ...(subject !== undefined && subject.trim() !== '' && { subject }),
      ...(exp !== undefined && exp.trim() !== '' && { explanation: exp }),
      source: place,
      dataset: '',
      extra,
    },
  };
  return { place, item, problems: [], contentId: ownId === undefined };
}

export async function loadMedmcqa(spec: DatasetSpec): Promise<LoadedDataset> {
  return finishDataset(spec, await parseMedmcqaFile(spec.path, spec.copBase ?? 'auto'));
}

export const medmcqaFormat = defineDatasetFormat({
  name: 'medmcqa',
  load: loadMedmcqa,
  records: async (spec) => medmcqaRecords(spec.path, spec.copBase ?? 'auto'),
  detectRecord: (r) => 'opa' in r || 'cop' in r,
});
