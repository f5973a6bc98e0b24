// MedQA (jind11/MedQA, data_clean/questions/US): 5-option test.jsonl and 4-option
// phrases_no_exclude_*.jsonl, plus the bundled sample set, which uses the same schema with
// id / question_type / explanation added.
import { InputError } from '../core/errors.js';
import { QUESTION_TYPES, type DatasetItem, type QuestionType } from '../core/types.js';
import { collectRecords, finishDataset, type ParsedFiles, type RecordOutcome, type RecordStream } from './finish.js';
import { hashId } from './hashing.js';
import { readJsonl } from './jsonl.js';
import { RecordCheck, describeValue, isPlainObject } from './record-check.js';
import { defineDatasetFormat } from './format.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

/** Fields this loader reads; anything else a record carries goes to meta.extra unchanged. */
const KNOWN_FIELDS = new Set([
  'question', 'answer', 'options', 'meta_info', 'answer_idx', 'metamap_phrases', 'id', 'question_type', 'explanation',
]);

const STEPS = new Set(['step1', 'step2&3']);
/** Misspellings found in the published files, read as the step they obviously mean. */
const STEP_TYPOS: Record<string, string> = { 'stfep2&3': 'step2&3' };

/** Trimmed, with stray double quotes removed: the only answer/option difference the real files show. */
function looseText(text: string): string {
  return text.replace(/"/g, '').trim();
}

/** Absent or empty (null, ""), as some copies leave optional fields: not an error. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Lines of valid records that lack a field, for one warning per field and file. */
interface AbsentFields {
  answer: number[];
  meta_info: number[];
}

function absentWarning(file: string, lines: number[], what: string): string {
  const shown = lines.slice(0, 10).join(', ') + (lines.length > 10 ? `, ... (${lines.length - 10} more)` : '');
  return `${file}: ${lines.length} record(s) without ${what} (line ${shown})`;
}

/** Validates one parsed line; returns the item (or null) with every problem and warning found. */
export function medqaRecord(
  value: unknown,
  file: string,
  line: number,
  warnings: string[],
  absent?: AbsentFields,
): RecordOutcome {
  const check = new RecordCheck(file, line);
  const place = { file, line };
  if (!isPlainObject(value)) {
    check.fail(undefined, `a record must be a JSON object, got ${describeValue(value)}`);
    return { place, item: null, problems: check.problems };
  }
  const question = check.text(value, 'question');
  const options = check.options(value, 'options');
  const answerIdx = check.text(value, 'answer_idx');
  // answer_idx alone is enough to score: a copy without the answer text or meta_info is read, with a warning.
  const answerText = present(value.answer) ? check.text(value, 'answer') : undefined;
  const rawStep = present(value.meta_info) ? check.text(value, 'meta_info') : undefined;
  const ownId = check.optionalId(value, 'id');
  const explanation = check.optionalText(value, 'explanation');
  const metamap = check.optionalStrings(value, 'metamap_phrases');

  let questionType: QuestionType | undefined;
  if (value.question_type !== undefined) {
    if (QUESTION_TYPES.includes(value.question_type as QuestionType)) questionType = value.question_type as QuestionType;
    else check.fail('question_type', `must be one of ${QUESTION_TYPES.join(', ')}, got ${describeValue(value.question_type)}`);
  }

  const recordWarnings: string[] = [];
  if (options && answerIdx !== undefined) {
    const letters = Object.keys(options);
    if (!(Object.hasOwn(options, answerIdx))) {
      check.fail('answer_idx', `${JSON.stringify(answerIdx)} is not among the options (${letters[0]}..${letters.at(-1)})`);
    } else if (answerText !== undefined && answerText !== options[answerIdx]) {
      const expected = options[answerIdx];
      if (looseText(answerText) === looseText(expected)) {
        recordWarnings.push(
          `${file}:${line}: answer ${JSON.stringify(answerText)} matches option ${answerIdx} ${JSON.stringify(expected)} only after trimming / removing a stray '"' (a quirk of the published files); using the option`,
        );
      } else {
        check.fail('answer', `${JSON.stringify(answerText)} does not match option ${answerIdx} (${JSON.stringify(expected)})`);
      }
    }
  }

  let step: string | undefined;
  if (rawStep !== undefined) {
    if (STEPS.has(rawStep)) step = rawStep;
    else if (STEP_TYPOS[rawStep]) {
      step = STEP_TYPOS[rawStep];
      recordWarnings.push(`${file}:${line}: meta_info ${JSON.stringify(rawStep)} read as ${JSON.stringify(step)} (a typo in the published file)`);
    } else {
      step = rawStep;
      recordWarnings.push(`${file}:${line}: meta_info ${JSON.stringify(rawStep)} is not step1 or step2&3; kept as given`);
    }
  }

  if (!check.ok || question === undefined || options === undefined || answerIdx === undefined) {
    return { place, item: null, problems: check.problems };
  }
  warnings.push(...recordWarnings);
  if (answerText === undefined) absent?.answer.push(line);
  if (rawStep === undefined) absent?.meta_info.push(line);

  const extra: Record<string, unknown> = {};
  if (metamap) extra.metamapPhrases = metamap;
  for (const [key, v] of Object.entries(value)) if (!KNOWN_FIELDS.has(key)) extra[key] = v;

  const item: DatasetItem = {
    id: ownId ?? hashId('medqa', { question: value.question, options: value.options, answer_idx: value.answer_idx }),
    question,
    options,
    answer: answerIdx,
    meta: {
      ...(step !== undefined && { step }),
      ...(step !== rawStep && { rawStep }),
      ...(questionType && { questionType }),
      ...(explanation !== undefined && explanation.trim() !== '' && { explanation }),
      source: place,
      dataset: '',
      ...(Object.keys(extra).length > 0 && { extra }),
    },
  };
  return { place, item, problems: [], contentId: ownId === undefined };
}

/** The file's records one at a time (each pass reads it again). */
export function medqaRecords(file: string): RecordStream {
  return {
    format: 'medqa',
    files: [file],
    async *pass(notes) {
      const absent: AbsentFields = { answer: [], meta_info: [] };
      const name = new MedqaName();
      for await (const entry of readJsonl(file)) {
        if (entry.kind === 'error') yield { place: { file, line: entry.line }, item: null, problems: [entry.error] };
        else {
          const outcome = medqaRecord(entry.value, file, entry.line, notes.warnings, absent);
          name.add(outcome);
          yield outcome;
        }
      }
      if (absent.meta_info.length > 0) notes.warnings.push(absentWarning(file, absent.meta_info, 'meta_info: their step is unknown'));
      if (absent.answer.length > 0) notes.warnings.push(absentWarning(file, absent.answer, 'the answer text: scored by answer_idx alone'));
      notes.defaultName = name.name();
    },
  };
}

export async function parseMedqaFile(file: string): Promise<ParsedFiles> {
  return collectRecords(medqaRecords(file));
}

/** "sample" for the bundled set (it states question types), else "medqa-us-<options>": seen one record at a time. */
class MedqaName {
  private items = 0;
  private allTyped = true;
  private readonly optionCounts = new Set<number>();
  add(outcome: RecordOutcome): void {
    if (!outcome.item) return;
    this.items++;
    if (!outcome.item.meta.questionType) this.allTyped = false;
    this.optionCounts.add(Object.keys(outcome.item.options).length);
  }
  name(): string {
    if (this.items > 0 && this.allTyped) return 'sample';
    return this.optionCounts.size === 1 ? `medqa-us-${[...this.optionCounts][0]}` : 'medqa';
  }
}

export async function loadMedqa(spec: DatasetSpec): Promise<LoadedDataset> {
  return finishDataset(spec, await parseMedqaFile(spec.path));
}

export const medqaFormat = defineDatasetFormat({
  name: 'medqa',
  load: loadMedqa,
  records: async (spec) => medqaRecords(spec.path),
  detectRecord: (r) => 'options' in r || 'answer_idx' in r,
});
