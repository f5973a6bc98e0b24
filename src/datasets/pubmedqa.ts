// PubMedQA (pubmedqa/pubmedqa, data/ori_pqal.json): one JSON object keyed by PMID. Each item
// becomes a yes/no/maybe question whose abstract (CONTEXTS) goes in meta.extra.context.
import { readFile } from 'node:fs/promises';
import { InputError } from '../core/errors.js';
import type { DatasetItem } from '../core/types.js';
import { finishDataset, type ParsedFiles, type RecordOutcome, type RecordStream } from './finish.js';
import { topLevelMembers } from './json-members.js';
import { RecordCheck, describeValue, isPlainObject } from './record-check.js';
import { defineDatasetFormat } from './format.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

export const PUBMEDQA_OPTIONS = { A: 'yes', B: 'no', C: 'maybe' } as const;
const LETTER_OF: Record<string, string> = { yes: 'A', no: 'B', maybe: 'C' };

/** Parses a whole-file JSON document; a syntax error becomes an InputError naming file:line. */
async function readJsonDocument(file: string): Promise<{ text: string; value?: unknown; problem?: InputError }> {
  let text = await readFile(file, 'utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  if (text.trim() === '') return { text, problem: new InputError('no records (the file is empty)', { file }) };
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(detail);
    const line = position ? lineAt(text, Number(position[1])) : undefined;
    return { text, problem: new InputError(`not valid JSON (${detail})`, { file, line }) };
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function pubmedqaRecord(pmid: string, value: unknown, file: string, line: number): RecordOutcome {
  const place = { file, line };
  const check = new RecordCheck(file, line);
  if (!isPlainObject(value)) {
    check.fail(pmid, `must be an object, got ${describeValue(value)}`);
    return { place, item: null, problems: check.problems };
  }
  const question = check.text(value, 'QUESTION');
  let contexts: string[] | undefined;
  if (value.CONTEXTS === undefined || value.CONTEXTS === null) check.fail('CONTEXTS', 'missing');
  else {
    contexts = check.optionalStrings(value, 'CONTEXTS');
    if (contexts && contexts.length === 0) check.fail('CONTEXTS', 'is empty');
  }
  const decision = check.text(value, 'final_decision');
  if (decision !== undefined && !(decision in LETTER_OF)) {
    check.fail('final_decision', `must be yes, no or maybe, got ${JSON.stringify(decision)}`);
  }
  const labels = check.optionalStrings(value, 'LABELS');
  const meshes = check.optionalStrings(value, 'MESHES');
  const longAnswer = check.optionalText(value, 'LONG_ANSWER');
  if (!check.ok || question === undefined || contexts === undefined || decision === undefined) {
    return { place, item: null, problems: check.problems };
  }
  const item: DatasetItem = {
    id: `pubmedqa-${pmid}`,
    question,
    options: { ...PUBMEDQA_OPTIONS },
    answer: LETTER_OF[decision],
    meta: {
      source: place,
      dataset: '',
      extra: {
        pmid,
        context: contexts.join('\n'),
        ...(labels && { labels }),
        ...(meshes && { meshes }),
        ...(value.YEAR !== undefined && { year: value.YEAR }),
        ...(longAnswer !== undefined && { longAnswer }),
        ...(value.reasoning_required_pred !== undefined && { reasoningRequiredPred: value.reasoning_required_pred }),
        ...(value.reasoning_free_pred !== undefined && { reasoningFreePred: value.reasoning_free_pred }),
      },
    },
  };
  return { place, item, problems: [] };
}

export async function parsePubmedqaFiles(file: string, groundTruthPath?: string): Promise<ParsedFiles> {
  const files = groundTruthPath ? [file, groundTruthPath] : [file];
  const parsed: ParsedFiles = {
    format: 'pubmedqa',
    files,
    outcomes: [],
    warnings: [],
    fileProblems: [],
    defaultName: groundTruthPath ? 'pubmedqa-test' : 'pubmedqa',
  };
  const byPmid = new Map<string, RecordOutcome>();
  const doc = await readJsonDocument(file);
  if (doc.problem) parsed.fileProblems.push(doc.problem);
  else if (!isPlainObject(doc.value)) {
    parsed.fileProblems.push(new InputError(`must be one JSON object keyed by PMID, got ${describeValue(doc.value)}`, { file }));
  } else {
    // File order, not Object.entries' ascending-PMID order: --limit 50 takes the file's first 50.
    for (const member of topLevelMembers(doc.text)) {
      const value: unknown = JSON.parse(doc.text.slice(member.start, member.end));
      const outcome = pubmedqaRecord(member.key, value, file, member.line);
      byPmid.set(member.key, outcome);
      parsed.outcomes.push(outcome);
    }
  }
  if (groundTruthPath && parsed.fileProblems.length === 0) await selectGroundTruth(parsed, byPmid, groundTruthPath);
  return parsed;
}

/** Keeps only the PMIDs of test_ground_truth.json and checks their labels agree with the data. */
async function selectGroundTruth(
  parsed: ParsedFiles,
  byPmid: Map<string, RecordOutcome>,
  groundTruthPath: string,
): Promise<void> {
  const doc = await readJsonDocument(groundTruthPath);
  if (doc.problem) {
    parsed.fileProblems.push(doc.problem);
    return;
  }
  if (!isPlainObject(doc.value)) {
    parsed.fileProblems.push(
      new InputError(`must be one JSON object of PMID -> label, got ${describeValue(doc.value)}`, { file: groundTruthPath }),
    );
    return;
  }
  const keep = new Set<RecordOutcome>();
  for (const member of topLevelMembers(doc.text)) {
    const pmid = member.key;
    const label: unknown = JSON.parse(doc.text.slice(member.start, member.end));
    const place = { file: groundTruthPath, line: member.line, field: pmid };
    const outcome = byPmid.get(pmid);
    if (!outcome) {
      parsed.fileProblems.push(
        new InputError(`PMID ${pmid} is not in ${parsed.files[0]}`, place, 'use the ori_pqal.json this ground truth came with'),
      );
      continue;
    }
    keep.add(outcome);
    const expected = outcome.item ? PUBMEDQA_OPTIONS[outcome.item.answer as keyof typeof PUBMEDQA_OPTIONS] : undefined;
    if (expected !== undefined && label !== expected) {
      parsed.fileProblems.push(
        new InputError(`label ${JSON.stringify(label)} differs from final_decision ${JSON.stringify(expected)} in ${parsed.files[0]}`, place),
      );
    }
  }
  // The data file's order, as without a ground truth.
  parsed.outcomes = parsed.outcomes.filter((o) => keep.has(o));
}

/** One JSON document (and its ground truth) cannot be read a record at a time: each pass parses it whole (1,000 items). */
export function pubmedqaRecords(file: string, groundTruthPath?: string): RecordStream {
  return {
    format: 'pubmedqa',
    files: groundTruthPath ? [file, groundTruthPath] : [file],
    async *pass(notes) {
      const parsed = await parsePubmedqaFiles(file, groundTruthPath);
      notes.warnings.push(...parsed.warnings);
      notes.fileProblems.push(...parsed.fileProblems);
      notes.defaultName = parsed.defaultName;
      yield* parsed.outcomes;
    },
  };
}

export async function loadPubmedqa(spec: DatasetSpec): Promise<LoadedDataset> {
  return finishDataset(spec, await parsePubmedqaFiles(spec.path, spec.groundTruthPath));
}

export const pubmedqaFormat = defineDatasetFormat({
  name: 'pubmedqa',
  load: loadPubmedqa,
  records: async (spec) => pubmedqaRecords(spec.path, spec.groundTruthPath),
  // An indented JSON document (ori_pqal.json) opens with a lone "{".
  detectOpening: (line) => line.trim() === '{',
  detectRecord: (r) => {
    const firstValue = Object.values(r)[0];
    return isPlainObject(firstValue) && ('QUESTION' in firstValue || 'final_decision' in firstValue);
  },
});
