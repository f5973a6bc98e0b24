// The run folder on disk: manifest.json, results.jsonl (append-only journal), summary.json/md. The one
// module that writes and reads it (run, resume, report, gate, rescore), validated at the edge with the
// record schemas (record.ts) so a damaged or foreign file fails with file:line and the field, not deep
// in a statistic. Records are appended one line at a time with a synchronous write (on a descriptor kept
// open while the run writes: the same write(2) appendFileSync makes, without an open and a close per
// record), so a run killed at any moment (kill -9 included) loses at most the line being written: the
// torn last line. A later
// record for the same (item, sample) replaces an earlier one (a resumed run appends the re-run errors).
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmdirSync, statSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError, InputErrors } from './errors.js';
import { checkJournal, expectedCorrect } from './journal-check.js';
import { compileCheck } from './fast-parse.js';
import { readSchemas, RECORD_VERSION, writeSchemas } from './record.js';
import { redact, writeRedacted } from './redact.js';
import type { AnswerStatus, FinishReason, ItemError, ItemResult, QuestionType, RunManifest } from './types.js';
import { optionsFromPrompt } from './prompt-options.js';

export const MANIFEST = 'manifest.json';
export const RESULTS = 'results.jsonl';
export const SUMMARY_JSON = 'summary.json';
export const SUMMARY_MD = 'summary.md';

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

/**
 * The journal rule: one record per (itemId, sample), the last one written, at the position of its last
 * write (a resumed run appends the re-run errors). `duplicates` is how many earlier records were dropped.
 */
export function latestRecords(results: readonly ItemResult[]): { records: ItemResult[]; duplicates: number } {
  if (!Array.isArray(results)) throw new TypeError('expected an array of ItemResult records');
  // The rule applied already (the journal's reader, then the report and its scoring ask again): as it is.
  if (ONE_RECORD_EACH.get(results) === results.length) return { records: results as ItemResult[], duplicates: 0 };
  const latest = new Map<string, ItemResult>();
  for (const r of results) {
    if (typeof r?.itemId !== 'string' || !Number.isInteger(r.sample) || r.sample < 0) {
      throw new TypeError(
        `record ${JSON.stringify(r?.itemId)} needs a string itemId and a non-negative integer sample (got sample ${JSON.stringify(r?.sample)})`,
      );
    }
    const key = `${r.itemId}\u0000${r.sample}`;
    latest.delete(key);
    latest.set(key, r);
  }
  const records = [...latest.values()];
  ONE_RECORD_EACH.set(records, records.length);
  return { records, duplicates: results.length - latest.size };
}

/**
 * Arrays known to hold one record per (item, sample), with their length then: latestRecords' own results
 * and readRunFolder's (the same records in the same order). A length that has changed since is checked again.
 */
const ONE_RECORD_EACH = new WeakMap<readonly ItemResult[], number>();

function zodProblems(error: z.ZodError, file: string, line?: number): InputError[] {
  return error.issues.map((issue) => new InputError(issue.message, { file, line, field: issue.path.map(String).join('.') || '(record)' }));
}

/**
 * The record version rule, for the manifest and every journal line: no `schema` field is read as
 * version 1 (`assumed`: the caller says so); a version above RECORD_VERSION is a newer medeval's record.
 */
function withVersion(data: unknown, file: string, line?: number): { data: unknown; assumed: boolean } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { data, assumed: false };
  const version = (data as { schema?: unknown }).schema;
  if (version === undefined) return { data: { ...data, schema: RECORD_VERSION }, assumed: true };
  if (typeof version === 'number' && version > RECORD_VERSION) {
    throw new InputError(`written by a newer medeval (record version ${version}; this medeval reads version ${RECORD_VERSION})`,
      { file, line, field: 'schema' }, 'read this run folder with the medeval version that wrote it, or a later one');
  }
  return { data, assumed: false };
}

/** Validate a parsed manifest object; `file` is used in error messages, `warnings` gets what was assumed. */
export function parseManifest(data: unknown, file: string, warnings: string[] = []): RunManifest {
  const versioned = withVersion(data, file);
  const parsed = readSchemas.manifest.safeParse(versioned.data);
  if (!parsed.success) {
    throw new InputErrors(zodProblems(parsed.error, file), `${file}: not a medeval run manifest (${parsed.error.issues.length} problem(s))`);
  }
  if (versioned.assumed) warnings.push(`${file}: no record version (field schema): read as version ${RECORD_VERSION}`);
  return parsed.data;
}

export interface ParseResultsOptions {
  /**
   * Leave out each record's stored prompt text (set to ''): reports and the gate never read it, and it is
   * most of a record's size. rescore, which re-reads the options from it, keeps it.
   */
  omitPrompts?: boolean;
  /**
   * Also leave out the other long texts a run's summary never reads (the reply, its reasoning, the question
   * excerpt, the extracted answer's text): a run's summary of 100,000 records is read back this way.
   * Flip lists and per-item tables need them: reports keep them.
   */
  omitTexts?: boolean;
  /**
   * Keep only what scoring, the pair figures and the journal check read, each record rebuilt as a new small
   * object (ids, slices, gold, the extracted letter and status, correctness, error, likelihood letters, the
   * cache flag, token counts): the texts are '' or left out as with omitTexts, and no optionCount is
   * derived from the prompt. The JSON-parsed record is then garbage at once instead of staying in the heap
   * (the gate of 100,000 records: a tenth of the memory). Implies omitPrompts and omitTexts.
   */
  scoresOnly?: boolean;
  /** With scoresOnly: timings null as well (no latency figure is read; the gate without a latency check). */
  omitTimings?: boolean;
  /**
   * What `medeval report` reads, compactly (reportView): each record rebuilt as a new object without the
   * texts no report shows (the prompt, its type reason and template name, the whole question text, the
   * likelihood prompt, the extracted answer's text, retry reasons, the budget), the repeated short strings
   * shared (one "answered", one "step1", ...), and the inter-token gaps of every record a view into one
   * Float64Array block per journal rather than an array of its own (outside the JavaScript heap). The
   * question excerpt and the reply stay (flip lists and the item table show them). Implies omitPrompts.
   */
  compact?: boolean;
}

/** The record without the texts a summary never reads (ParseResultsOptions.omitTexts). */
function withoutTexts(r: ItemResult): ItemResult {
  // A new record without the texts: `delete` left every record a dictionary-mode object (2.3x the heap:
  // 2.2 KB a record against 0.97 KB, 100,000 records for a run's summary).
  const { question: _question, questionText: _questionText, likelihoodPrompt: _likelihoodPrompt, ...kept } = r;
  return { ...kept, prompt: '', rawOutput: '', reasoning: r.reasoning === null ? null : '', typeReason: '', extracted: { ...r.extracted, answerText: '' } };
}

/** The record as scoresOnly keeps it (ParseResultsOptions.scoresOnly). */
function scoresView(r: ItemResult, omitTimings: boolean): ItemResult {
  const out: ItemResult = {
    schema: r.schema, itemId: r.itemId, sample: r.sample, dataset: r.dataset, questionType: r.questionType, typeReason: '',
    template: r.template, prompt: '', gold: r.gold, rawOutput: '', reasoning: r.reasoning === null ? null : '',
    extracted: { letter: r.extracted.letter, status: r.extracted.status, method: r.extracted.method, answerText: '' },
    correct: r.correct, promptTokens: r.promptTokens, outputTokens: r.outputTokens, tokenSource: r.tokenSource,
    finishReason: r.finishReason, timings: omitTimings ? null : r.timings,
  };
  // Optional fields only where the record has them (readers test `!== undefined`).
  if (r.step !== undefined) out.step = r.step;
  if (r.subject !== undefined) out.subject = r.subject;
  if (r.optionCount !== undefined) out.optionCount = r.optionCount;
  if (r.error !== undefined) out.error = r.error;
  if (r.cached !== undefined) out.cached = r.cached;
  if (r.retries !== undefined) out.retries = r.retries;
  if (r.budget !== undefined) out.budget = r.budget;
  if (r.letterLogprobs !== undefined) out.letterLogprobs = r.letterLogprobs;
  if (r.letterNoFigure !== undefined) out.letterNoFigure = r.letterNoFigure;
  if (r.shard !== undefined) out.shard = r.shard;
  if (r.replica !== undefined) out.replica = r.replica;
  if (r.rescored !== undefined) out.rescored = r.rescored;
  return out;
}

/** Doubles per block of inter-token gaps (compact): 2 MiB; a longer list gets a block of its own. */
const GAP_BLOCK = 1 << 18;

/**
 * The compact reader's state for one journal: the shared copy of each repeated short string, and the
 * block the next record's gaps are copied into (a view never moves: a full block is left as it is).
 */
class CompactRecords {
  private readonly strings = new Map<string, string>();
  private block = new Float64Array(0);
  private used = 0;
  private static readonly NO_GAPS = new Float64Array(0);

  /** The one copy of a repeated string (JSON.parse makes a new string for every value it reads). */
  shared<T extends string | undefined>(s: T): T {
    if (s === undefined) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known as T;
    this.strings.set(s, s);
    return s;
  }

  /** The gaps as a view into the current block: the same numbers, in order, as a typed array. */
  gaps(list: readonly number[]): number[] {
    const n = list.length;
    if (n === 0) return CompactRecords.NO_GAPS as unknown as number[];
    if (this.used + n > this.block.length) {
      this.block = new Float64Array(Math.max(GAP_BLOCK, n));
      this.used = 0;
    }
    const view = this.block.subarray(this.used, this.used + n);
    for (let i = 0; i < n; i++) view[i] = list[i]!;
    this.used += n;
    // The report reads gaps by index, length, for-of and reduce only, which a Float64Array answers the same.
    return view as unknown as number[];
  }

  /** The record as the report reads it (ParseResultsOptions.compact). */
  view(r: ItemResult): ItemResult {
    const t = r.timings;
    let timings: ItemResult['timings'] = null;
    if (t !== null) {
      // Every timing field in the record's order (queueMs, engine, figures a later medeval adds), the gaps as a view.
      timings = { ...t, itlMs: this.gaps(t.itlMs) };
    }
    const x = r.extracted;
    const out: ItemResult = {
      schema: r.schema, itemId: r.itemId, sample: r.sample, dataset: this.shared(r.dataset), questionType: this.shared(r.questionType), typeReason: '',
      template: '', prompt: '', gold: r.gold, rawOutput: r.rawOutput, reasoning: r.reasoning,
      extracted: { letter: x.letter, status: this.shared(x.status), method: this.shared(x.method), answerText: '' },
      correct: r.correct, promptTokens: r.promptTokens, outputTokens: r.outputTokens, tokenSource: this.shared(r.tokenSource),
      finishReason: this.shared(r.finishReason), timings,
    };
    // Optional fields only where the record has them (readers test `!== undefined`).
    if (r.step !== undefined) out.step = this.shared(r.step);
    if (r.subject !== undefined) out.subject = this.shared(r.subject);
    if (r.question !== undefined) out.question = r.question;
    if (r.optionCount !== undefined) out.optionCount = r.optionCount;
    if (r.error !== undefined) out.error = r.error;
    if (r.rssBytes !== undefined) out.rssBytes = r.rssBytes;
    if (r.cached !== undefined) out.cached = r.cached;
    if (r.retries !== undefined) out.retries = r.retries;
    if (r.letterLogprobs !== undefined) out.letterLogprobs = r.letterLogprobs;
    if (r.letterNoFigure !== undefined) out.letterNoFigure = r.letterNoFigure;
    if (r.shard !== undefined) out.shard = r.shard;
    if (r.replica !== undefined) out.replica = this.shared(r.replica);
    if (r.rescored !== undefined) out.rescored = r.rescored;
    return out;
  }
}

interface JournalLine {
  text: string;
  /** 1-based line number. */
  line: number;
  /** The text after the last newline (a line without its newline). */
  last: boolean;
}

type ParsedJournal = { results: ItemResult[]; warnings: string[]; tornLine: number | null };

/**
 * Parse results.jsonl text. Every bad line is collected and reported at once (up to 20 shown). The torn
 * line rule: only a last line without a trailing newline that is not JSON counts as torn (the run was
 * stopped mid-write): it is skipped with a warning and its line number returned as `tornLine`.
 */
export function parseResults(text: string, file: string, opts: ParseResultsOptions = {}): ParsedJournal {
  const lines = text.split('\n');
  return parseResultLines(lines.map((t, i) => ({ text: t, line: i + 1, last: i === lines.length - 1 })), file, opts);
}

/** The same as parseResults on a file read in chunks, one line at a time (a journal can outgrow one string). */
export function parseResultsFile(file: string, opts: ParseResultsOptions = {}): ParsedJournal {
  return parseResultLines(fileLines(file, 'the results journal'), file, opts);
}

// Compiled on the first record checked (not at import: a run sends its first request before it has one).
let exactItemResult: ((value: unknown) => boolean) | undefined;
const isExactItemResult = (value: unknown): boolean => (exactItemResult ??= compileCheck(readSchemas.itemResult) ?? (() => false))(value);

function parseResultLines(lines: Iterable<JournalLine>, file: string, opts: ParseResultsOptions): ParsedJournal {
  const warnings: string[] = [];
  const problems: InputError[] = [];
  const parsedResults: ItemResult[] = [];
  let tornLine: number | null = null;
  let unversioned = 0;
  const compact = opts.compact ? new CompactRecords() : null;
  for (const { text: line, line: lineNo, last } of lines) {
    if (line.trim() === '') continue;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      if (last) {
        warnings.push(`${file}:${lineNo}: torn last line skipped (the run was stopped mid-write): ${line.length} characters`);
        tornLine = lineNo;
        continue;
      }
      problems.push(new InputError(`not valid JSON (${(e as Error).message})`, { file, line: lineNo },
        'a line in the middle of the journal is damaged; restore the file or re-run'));
      continue;
    }
    const checked = validateRecord(data, file, lineNo);
    if (!checked.ok) {
      problems.push(...checked.problems);
      continue;
    }
    if (checked.assumed) unversioned++;
    if (opts.scoresOnly) {
      parsedResults.push(scoresView(checked.record, opts.omitTimings === true));
      continue;
    }
    if (opts.omitPrompts || compact) {
      // Records made before optionCount was stored: count the options the prompt showed before dropping it.
      if (checked.record.optionCount === undefined) {
        const shown = optionsFromPrompt(checked.record.prompt);
        if (shown) checked.record.optionCount = Object.keys(shown).length;
      }
      checked.record.prompt = '';
    }
    parsedResults.push(compact ? compact.view(checked.record) : opts.omitTexts ? withoutTexts(checked.record) : checked.record);
  }
  if (problems.length) throw new InputErrors(problems, `${file}: ${problems.length} problem(s) in the results journal`);
  if (unversioned) warnings.push(`${file}: ${unversioned} record(s) without a record version (field schema): read as version ${RECORD_VERSION}`);
  // The journal is append-only: a later record for the same (item, sample) supersedes the earlier one.
  const { records, duplicates } = latestRecords(parsedResults);
  if (duplicates) warnings.push(`${file}: ${duplicates} record(s) were superseded by a later record for the same item and sample (resume or retry)`);
  return { results: records, warnings, tornLine };
}

type ValidatedRecord = { ok: true; record: ItemResult; assumed: boolean } | { ok: false; problems: InputError[] };

/** One parsed journal line against the record version rule and the record schema. */
function validateRecord(data: unknown, file: string, line: number): ValidatedRecord {
  let versioned: { data: unknown; assumed: boolean };
  try {
    versioned = withVersion(data, file, line);
  } catch (e) {
    return { ok: false, problems: [e as InputError] };
  }
  // The compiled twin of the schema first: a record it accepts is what zod would give; zod for the rest.
  if (isExactItemResult(versioned.data)) return { ok: true, record: versioned.data as ItemResult, assumed: versioned.assumed };
  const parsed = readSchemas.itemResult.safeParse(versioned.data);
  if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error, file, line) };
  return { ok: true, record: parsed.data, assumed: versioned.assumed };
}

/**
 * The writer's side of the record: a record the strict schema refuses (a field it does not know, a
 * wrong type) is a medeval bug, stopped before it reaches the disk.
 */
function checkWritable(schema: z.ZodType, value: unknown, what: string): void {
  const parsed = schema.safeParse(value);
  if (parsed.success) return;
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`).join('; ');
  throw new Error(`medeval refused to write a ${what} that does not match its record schema (src/core/record.ts): ${issues}`);
}

/**
 * The writer's check of a journal record, compiled (fast-parse.ts): true only when every field is valid and
 * no object, at any depth, holds a key its schema does not know, which is what the strict schema accepts
 * (the same shapes; it refuses unknown keys where the reader drops them). Anything else goes to zod, which
 * decides (a field left undefined, a default) and words the refusal: so exactly the same records are refused.
 */
const isWritableItemResult = (result: unknown): boolean => isExactItemResult(result);

/** For tests: whether a record passes the compiled writer check without zod. */
export function passesCompiledRecordCheck(result: unknown): boolean {
  return isWritableItemResult(result);
}

/** Writes all of `text` at the end of the file behind `fd` (opened for appending). */
function writeAllSync(fd: number, text: string): void {
  // The string straight to write(2) (no Buffer made of it first); the rest from bytes in the rare short write.
  const written = writeSync(fd, text);
  const bytes = Buffer.byteLength(text);
  if (written >= bytes) return;
  const rest = Buffer.from(text, 'utf8');
  for (let at = written; at < rest.length;) at += writeSync(fd, rest, at, rest.length - at);
}

const CHUNK_BYTES = 1 << 20;

/**
 * A text file's lines, read 1 MiB at a time; the text after the last newline comes last, marked `last`.
 * Lines are cut on the bytes and each decoded on its own: a newline byte is never part of a multi-byte
 * UTF-8 character, so this is the same text as decoding the whole file, without building (and re-scanning)
 * a string of every chunk. A line longer than the buffer grows it.
 */
function* fileLines(file: string, what: string): Generator<JournalLine> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw unreadable(file, what, e);
  }
  try {
    let buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let kept = 0; // bytes at the start of buf: the unfinished line of the last read
    let lineNo = 0;
    for (;;) {
      if (kept === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
      const n = readSync(fd, buf, kept, buf.length - kept, null);
      if (n === 0) break;
      const end = kept + n;
      let start = 0;
      for (let nl = buf.indexOf(0x0a, kept); nl >= 0 && nl < end; nl = buf.indexOf(0x0a, nl + 1)) {
        yield { text: buf.toString('utf8', start, nl), line: ++lineNo, last: false };
        start = nl + 1;
      }
      buf.copy(buf, 0, start, end);
      kept = end - start;
    }
    yield { text: buf.toString('utf8', 0, kept), line: ++lineNo, last: true };
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, what: string, e: unknown): InputError {
  return new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file },
    'pass the folder a `medeval run` or `medeval compare` wrote (it holds manifest.json and results.jsonl)');
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw unreadable(file, what, e);
  }
}
/** Load and validate one run folder for reporting. Never writes to it. The journal is read line by line. */
export function readRunFolder(dir: string, opts: ParseResultsOptions = {}): LoadedRun {
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new InputError(`not a run folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: dir },
      'pass the folder a `medeval run` or `medeval compare` wrote');
  }
  const manifestFile = join(dir, MANIFEST);
  let manifestData: unknown;
  try {
    manifestData = JSON.parse(readText(manifestFile, 'the run manifest'));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file: manifestFile });
  }
  const warnings: string[] = [];
  const manifest = parseManifest(manifestData, manifestFile, warnings);
  const resultsFile = join(dir, RESULTS);
  const journal = parseResultsFile(resultsFile, opts);
  const records = journal.results;
  warnings.push(...journal.warnings);
  const check = checkJournal(manifest, records);
  // checkJournal keeps each record's place and its (item, sample): still one record each.
  ONE_RECORD_EACH.set(check.results, check.results.length);
  warnings.push(...check.problems.map((p) => `${resultsFile}: does not match its manifest: ${p}`));
  warnings.push(...check.coverageNotes);
  return { dir, manifest, results: check.results, warnings, journalProblems: check.problems };
}

/** A run folder being written (run) or continued (resume). */
export class RunFolder {
  readonly dir: string;
  /** results.jsonl opened for appending, while the run writes records (null: opened at the next append). */
  private journalFd: number | null = null;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Close the journal's descriptor (the next append opens it again). A final manifest closes it too. */
  close(): void {
    if (this.journalFd === null) return;
    const fd = this.journalFd;
    this.journalFd = null;
    closeSync(fd);
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  exists(): boolean {
    return existsSync(this.path(MANIFEST)) || existsSync(this.path(RESULTS));
  }

  /**
   * A folder a run was started in but never got as far as its manifest (killed or failed while
   * connecting or loading the model): missing, empty, or holding only a half-written temp file.
   */
  notStarted(): boolean {
    if (!existsSync(this.dir)) return true;
    return readdirSync(this.dir).every((f) => /^\..+\.tmp$/.test(f));
  }

  create(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  /** Undo `create` for a start that failed before writing anything: only our temp files are removed. */
  removeIfNotStarted(): void {
    if (!existsSync(this.dir) || !this.notStarted()) return;
    for (const f of readdirSync(this.dir)) unlinkSync(this.path(f));
    rmdirSync(this.dir);
  }

  /** Write a file whole via rename, so a reader never sees half of it. */
  writeAtomic(name: string, text: string): void {
    // The journal is replaced: a descriptor kept open would write to the old file.
    if (name === RESULTS) this.close();
    const tmp = this.path(`.${name}.tmp`);
    writeRedacted(tmp, text);
    renameSync(tmp, this.path(name));
  }

  writeManifest(m: RunManifest): void {
    checkWritable(writeSchemas.manifest, m, 'manifest');
    this.writeAtomic(MANIFEST, JSON.stringify(m, null, 2) + '\n');
    // A run's last manifest (any status but running): it writes no more records, so no descriptor is left open.
    if (m.status !== 'running') this.close();
  }

  /** The manifest of a run being resumed, validated like every reader's; what was assumed goes to `warnings`. */
  readManifest(warnings: string[] = []): RunManifest {
    const file = this.path(MANIFEST);
    if (!existsSync(file)) throw new InputError('no manifest.json: this folder is not a medeval run', { file });
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new InputError(`manifest.json is not valid JSON (${(e as Error).message})`, { file });
    }
    // The same schema `report` reads it with: a resumed run must not build on a manifest report would refuse.
    return parseManifest(data, file, warnings);
  }

  /** Append one record; true when a secret was cut out of its line (the journal then holds another text). */
  append(result: ItemResult): boolean {
    if (!isWritableItemResult(result)) checkWritable(writeSchemas.itemResult, result, 'journal record');
    const text = JSON.stringify(result) + '\n';
    // redact gives back the very string when it cut nothing: comparing them costs nothing then.
    const line = redact(text);
    this.journalFd ??= openSync(this.path(RESULTS), 'a');
    writeAllSync(this.journalFd, line);
    return line !== text;
  }

  /** Replace the whole journal at once (a resume dropping its error records, a rescore), each record validated. */
  writeJournal(results: readonly ItemResult[]): void {
    for (const r of results) checkWritable(writeSchemas.itemResult, r, 'journal record');
    this.writeAtomic(RESULTS, results.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  /**
   * Read the journal (validated, one record per item and sample: the latest). A torn last line (the
   * process died mid-write) is cut off when `repair` is set and reported; a complete last record
   * that only lacks its newline gets one, so the next append starts a line of its own. Damage
   * anywhere else is an InputError naming file:line, since that is not a crash but a damaged file.
   */
  readJournal(opts: { repair?: boolean } = {}): { results: ItemResult[]; tornLine: number | null } {
    const file = this.path(RESULTS);
    this.close();
    if (!existsSync(file)) return { results: [], tornLine: null };
    const text = readFileSync(file, 'utf8');
    const { results, tornLine } = parseResults(text, file);
    const lastNewline = text.lastIndexOf('\n');
    if (opts.repair && text.slice(lastNewline + 1).trim() !== '') {
      if (tornLine !== null) truncateSync(file, Buffer.byteLength(text.slice(0, lastNewline + 1)));
      else appendFileSync(file, '\n');
    }
    return { results, tornLine };
  }
}

/** What a journal index keeps of one record: where its line is, and the fields filters and the journal check read. */
export interface JournalEntry {
  /** Byte offset of the line in results.jsonl, and its length in bytes without the newline. */
  offset: number;
  bytes: number;
  /** 1-based line number. */
  line: number;
  itemId: string;
  sample: number;
  dataset: string;
  gold: string;
  questionType: QuestionType;
  step?: string;
  subject?: string;
  extracted: { status: AnswerStatus; letter: string | null; method: string };
  /** Recomputed from the gold letter and the extracted answer, as every reader scores it (journal-check.ts). */
  correct: boolean | null;
  finishReason: FinishReason;
  error?: ItemError;
  e2eMs: number | null;
}

/**
 * A run's journal read by pages (`medeval view`): one streaming pass keeps each record's line offset and
 * a few fields (never its text), then a page reads and validates only its own lines. The journal rule
 * holds (the latest record per item and sample, at its last position). A journal that grew (a run still
 * writing) is indexed from where the last pass stopped; one that was replaced (rescore, resume) from the
 * start. Lines are JSON-parsed one at a time; the counters say how many, for tests and the API.
 */
export class JournalIndex {
  readonly file: string;
  /** Lines JSON-parsed by indexing passes, and by page reads. */
  linesIndexed = 0;
  linesRead = 0;
  private byKey = new Map<string, JournalEntry>();
  private list: JournalEntry[] | null = null;
  private scanned = 0;
  private lineNo = 0;
  private inode: number | null = null;
  private tornLine: number | null = null;
  private unversioned = 0;
  private duplicates = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.file = join(dir, RESULTS);
  }

  /** The latest record per (item, sample), in journal order. */
  entries(): readonly JournalEntry[] {
    this.list ??= [...this.byKey.values()];
    return this.list;
  }

  warnings(): string[] {
    const w: string[] = [];
    if (this.tornLine !== null) w.push(`${this.file}:${this.tornLine}: the last line has no newline and is not JSON (a torn write, or a record being written): left out`);
    if (this.unversioned) w.push(`${this.file}: ${this.unversioned} record(s) without a record version (field schema): read as version ${RECORD_VERSION}`);
    if (this.duplicates) w.push(`${this.file}: ${this.duplicates} record(s) were superseded by a later record for the same item and sample (resume or retry)`);
    return w;
  }

  /** Index what was appended since the last call (or everything, when the file was replaced). Calls queue up. */
  refresh(): Promise<void> {
    const next = this.queue.then(() => this.scan());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private reset(inode: number | null): void {
    this.byKey.clear();
    this.list = null;
    this.scanned = this.lineNo = this.unversioned = this.duplicates = 0;
    this.tornLine = null;
    this.inode = inode;
  }

  private async scan(): Promise<void> {
    let size: number;
    let inode: number;
    try {
      ({ size, ino: inode } = await stat(this.file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(this.file, 'the results journal', e);
      this.reset(null); // a run that has not written a record yet
      return;
    }
    if (inode !== this.inode || size < this.scanned) this.reset(inode);
    if (size === this.scanned) return;
    const problems: InputError[] = [];
    const fh = await open(this.file, 'r').catch((e: unknown) => { throw unreadable(this.file, 'the results journal', e); });
    try {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      let carry = Buffer.alloc(0);
      let carryAt = this.scanned; // file position of carry[0]
      for (let pos = this.scanned; pos < size;) {
        const { bytesRead } = await fh.read(chunk, 0, Math.min(CHUNK_BYTES, size - pos), pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
        let start = 0;
        for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
          this.take(data.toString('utf8', start, nl), carryAt + start, nl - start, problems);
          start = nl + 1;
        }
        carry = Buffer.from(data.subarray(start));
        carryAt += start;
      }
      this.scanned = carryAt;
      this.tornLine = null;
      // The text after the last newline: a complete record without its newline, or a torn / unfinished write.
      const rest = carry.toString('utf8');
      if (rest.trim() !== '') {
        let complete = true;
        try {
          JSON.parse(rest);
        } catch {
          complete = false;
        }
        if (complete) {
          this.take(rest, carryAt, carry.length, problems);
          this.scanned = carryAt + carry.length;
        } else this.tornLine = this.lineNo + 1; // picked up by a later pass once its writer ends the line
      }
    } finally {
      await fh.close();
    }
    if (problems.length) {
      this.reset(null);
      throw new InputErrors(problems, `${this.file}: ${problems.length} problem(s) in the results journal`);
    }
  }

  private take(text: string, offset: number, bytes: number, problems: InputError[]): void {
    const line = ++this.lineNo;
    if (text.trim() === '') return;
    let data: unknown;
    this.linesIndexed++;
    try {
      data = JSON.parse(text);
    } catch (e) {
      problems.push(new InputError(`not valid JSON (${(e as Error).message})`, { file: this.file, line },
        'a line in the middle of the journal is damaged; restore the file or re-run'));
      return;
    }
    const checked = validateRecord(data, this.file, line);
    if (!checked.ok) {
      problems.push(...checked.problems);
      return;
    }
    const r = checked.record;
    if (checked.assumed) this.unversioned++;
    const entry: JournalEntry = {
      offset, bytes, line, itemId: r.itemId, sample: r.sample, dataset: r.dataset, gold: r.gold, questionType: r.questionType,
      ...(r.step !== undefined ? { step: r.step } : {}), ...(r.subject !== undefined ? { subject: r.subject } : {}),
      extracted: { status: r.extracted.status, letter: r.extracted.letter, method: r.extracted.method },
      correct: expectedCorrect(r), finishReason: r.finishReason, ...(r.error ? { error: r.error } : {}), e2eMs: r.timings?.e2eMs ?? null,
    };
    const key = `${r.itemId}\u0000${r.sample}`;
    if (this.byKey.delete(key)) this.duplicates++;
    this.byKey.set(key, entry);
    this.list = null;
  }

  /**
   * The whole records of some entries (a page): only their lines are read and parsed, each validated
   * like every reader's, `correct` recomputed. A line that no longer holds its record (the file was
   * rewritten in place) is an InputError: reload.
   */
  async records(entries: readonly JournalEntry[]): Promise<ItemResult[]> {
    if (!entries.length) return [];
    const fh = await open(this.file, 'r').catch((e: unknown) => { throw unreadable(this.file, 'the results journal', e); });
    try {
      const out: ItemResult[] = [];
      for (const e of entries) {
        const buf = Buffer.alloc(e.bytes);
        const { bytesRead } = await fh.read(buf, 0, e.bytes, e.offset);
        this.linesRead++;
        let data: unknown;
        try {
          data = JSON.parse(buf.toString('utf8', 0, bytesRead));
        } catch {
          data = undefined;
        }
        const checked = validateRecord(data, this.file, e.line);
        if (!checked.ok || checked.record.itemId !== e.itemId || checked.record.sample !== e.sample) {
          throw new InputError('the journal changed under the viewer (this line no longer holds the record it held)', { file: this.file, line: e.line }, 'reload the page');
        }
        out.push({ ...checked.record, correct: expectedCorrect(checked.record) });
      }
      return out;
    } finally {
      await fh.close();
    }
  }
}
