// Reads a run folder for reporting, read-only: manifest.json and results.jsonl, validated at the edge
// with zod so a damaged or foreign file fails with file:line and the field, not deep in a statistic.
// A torn last line (the run was killed mid-write) is skipped with a warning; a later record for the
// same (item, sample) replaces an earlier one (a resumed run appends the re-run errors).
import { latestRecords } from '../scoring/accuracy.js';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, InputErrors } from '../core/errors.js';
import type { ItemResult, RunManifest } from '../core/types.js';
import { checkJournal } from '../core/journal-check.js';

export interface LoadedRun {
  /** The folder as given, or null for runs built in memory (tests, benchmarks). */
  dir: string | null;
  manifest: RunManifest;
  /** One record per (itemId, sample), in first-seen order. */
  results: ItemResult[];
  warnings: string[];
  /** Where the journal disagrees with its manifest (journal-check.ts); set by readRunFolder. */
  journalProblems?: string[];
}

const nullableNumber = z.number().nullable();
const memoryFigure = z.object({ bytes: nullableNumber, source: z.string(), note: z.string().optional() });

const manifestSchema = z.looseObject({
  schema: z.literal(1),
  medevalVersion: z.string(),
  createdAt: z.string(),
  gitCommit: z.string().nullable(),
  label: z.string().min(1),
  suite: z.looseObject({
    name: z.string(),
    file: z.string().nullable(),
    dataset: z.string(),
    datasetFiles: z.array(z.string()),
    datasetHash: z.string(),
    items: z.number().int().nonnegative(),
    skipped: z
      .object({ total: z.number().int().nonnegative(), records: z.array(z.object({ place: z.string(), reason: z.string() })) })
      .optional(),
    datasetItems: z.number().int().nonnegative().optional(),
    itemIdsSha256: z.string().optional(),
  }),
  runner: z.looseObject({ kind: z.string(), profileFile: z.string().nullable() }),
  model: z.looseObject({
    runner: z.string(),
    label: z.string(),
    parameters: nullableNumber,
    fileBytes: nullableNumber,
  }),
  sampling: z.looseObject({ temperature: z.number(), topP: z.number(), maxTokens: z.number() }),
  samples: z.number().int().positive(),
  seed: z.number(),
  configHash: z.string(),
  load: z.looseObject({
    profile: z.enum(['sequential', 'concurrency', 'rate']),
    concurrency: z.number().optional(),
    ratePerSecond: z.number().optional(),
    warmup: z.number(),
  }),
  memory: z
    .looseObject({
      weights: memoryFigure,
      processRss: memoryFigure,
      processPeak: memoryFigure,
      gpuProcessPeak: memoryFigure.optional(),
      gpuDevice: memoryFigure.optional(),
      context: memoryFigure.optional(),
    })
    .optional(),
  durationMs: z.number().nonnegative().optional(),
  finishedAt: z.string().optional(),
  status: z.enum(['running', 'finished', 'incomplete', 'interrupted', 'failed']),
  rescoredFrom: z
    .looseObject({ dir: z.string(), configHash: z.string(), medevalVersion: z.string(), at: z.string(), changed: z.number().int().nonnegative() })
    .optional(),
});

const timingsSchema = z.looseObject({
  startedAtEpochMs: z.number(),
  ttftMs: nullableNumber,
  ttfoMs: nullableNumber,
  e2eMs: z.number(),
  itlMs: z.array(z.number()),
  tpotMs: nullableNumber,
  queueMs: z.number().optional(),
  engine: z.record(z.string(), z.number()).optional(),
});

const resultSchema = z.looseObject({
  schema: z.literal(1),
  itemId: z.string().min(1),
  sample: z.number().int().nonnegative(),
  dataset: z.string(),
  step: z.string().optional(),
  questionType: z.string(),
  typeReason: z.string(),
  template: z.string(),
  prompt: z.string(),
  question: z.string().optional(),
  gold: z.string().min(1),
  rawOutput: z.string(),
  reasoning: z.string().nullable(),
  extracted: z.looseObject({
    letter: z.string().nullable(),
    status: z.enum(['answered', 'unparseable', 'truncated']),
    method: z.string(),
    answerText: z.string(),
  }),
  correct: z.boolean().nullable(),
  promptTokens: nullableNumber,
  outputTokens: nullableNumber,
  tokenSource: z.string(),
  finishReason: z.enum(['stop', 'length', 'abort', 'error']),
  timings: timingsSchema.nullable(),
  error: z.looseObject({ kind: z.string(), message: z.string(), retries: z.number().optional() }).optional(),
  rssBytes: z.number().optional(),
  letterLogprobs: z.record(z.string(), z.number()).optional(),
  rescored: z
    .object({ previous: z.object({ letter: z.string().nullable(), status: z.enum(['answered', 'unparseable', 'truncated']), method: z.string(), correct: z.boolean().nullable() }) })
    .optional(),
});

function zodProblems(error: z.ZodError, file: string, line?: number): InputError[] {
  return error.issues.map((issue) => new InputError(issue.message, { file, line, field: issue.path.map(String).join('.') || '(record)' }));
}

/** Validate a parsed manifest object; `file` is used in error messages. */
export function parseManifest(data: unknown, file: string): RunManifest {
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    throw new InputErrors(zodProblems(parsed.error, file), `${file}: not a medeval run manifest (${parsed.error.issues.length} problem(s))`);
  }
  return parsed.data as unknown as RunManifest;
}

/**
 * Parse results.jsonl text. Every bad line is collected and reported at once (up to 20 shown); only a
 * last line without a trailing newline that is not JSON counts as torn and is skipped with a warning.
 */
export function parseResults(text: string, file: string): { results: ItemResult[]; warnings: string[] } {
  const lines = text.split('\n');
  const warnings: string[] = [];
  const problems: InputError[] = [];
  const parsedResults: ItemResult[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) {
        warnings.push(`${file}:${i + 1}: torn last line skipped (the run was stopped mid-write): ${line.length} characters`);
        continue;
      }
      problems.push(new InputError(`not valid JSON (${(e as Error).message})`, { file, line: i + 1 },
        'a line in the middle of the journal is damaged; restore the file or re-run'));
      continue;
    }
    const parsed = resultSchema.safeParse(data);
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error, file, i + 1));
      continue;
    }
    parsedResults.push(parsed.data as unknown as ItemResult);
  }
  if (problems.length) throw new InputErrors(problems, `${file}: ${problems.length} problem(s) in the results journal`);
  // The journal is append-only: a later record for the same (item, sample) supersedes the earlier one.
  const { records, duplicates } = latestRecords(parsedResults);
  if (duplicates) warnings.push(`${file}: ${duplicates} record(s) were superseded by a later record for the same item and sample (resume or retry)`);
  return { results: records, warnings };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file },
      'pass the folder a `medeval run` or `medeval compare` wrote (it holds manifest.json and results.jsonl)');
  }
}

/** Load and validate one run folder. Never writes to it. */
export function readRunFolder(dir: string): LoadedRun {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new InputError(`not a run folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: dir },
      'pass the folder a `medeval run` or `medeval compare` wrote');
  }
  const manifestFile = join(dir, 'manifest.json');
  let manifestData: unknown;
  try {
    manifestData = JSON.parse(readText(manifestFile, 'the run manifest'));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file: manifestFile });
  }
  const manifest = parseManifest(manifestData, manifestFile);
  const resultsFile = join(dir, 'results.jsonl');
  const { results: records, warnings } = parseResults(readText(resultsFile, 'the results journal'), resultsFile);
  const check = checkJournal(manifest, records);
  warnings.push(...check.problems.map((p) => `${resultsFile}: does not match its manifest: ${p}`));
  warnings.push(...check.coverageNotes);
  return { dir, manifest, results: check.results, warnings, journalProblems: check.problems };
}
