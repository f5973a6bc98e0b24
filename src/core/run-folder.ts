// The run folder on disk: manifest.json, results.jsonl (append-only journal), summary.json/md.
// Records are appended one line at a time with a synchronous write, so a run killed at any moment
// (kill -9 included) loses at most the line being written, which `readJournal` repairs.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, truncateSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseManifest, parseResults } from '../report/run-folder.js';
import { InputError } from './errors.js';
import { appendRedacted, writeRedacted } from './redact.js';
import type { ItemResult, RunManifest } from './types.js';

export const MANIFEST = 'manifest.json';
export const RESULTS = 'results.jsonl';
export const SUMMARY_JSON = 'summary.json';
export const SUMMARY_MD = 'summary.md';

export class RunFolder {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
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
    const tmp = this.path(`.${name}.tmp`);
    writeRedacted(tmp, text);
    renameSync(tmp, this.path(name));
  }

  writeManifest(m: RunManifest): void {
    this.writeAtomic(MANIFEST, JSON.stringify(m, null, 2) + '\n');
  }

  readManifest(): RunManifest {
    const file = this.path(MANIFEST);
    if (!existsSync(file)) throw new InputError('no manifest.json: this folder is not a medeval run', { file });
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new InputError(`manifest.json is not valid JSON (${(e as Error).message})`, { file });
    }
    // The same schema `report` reads it with: a resumed run must not build on a manifest report would refuse.
    return parseManifest(data, file);
  }

  append(result: ItemResult): void {
    appendRedacted(this.path(RESULTS), JSON.stringify(result) + '\n');
  }

  /**
   * Read the journal (validated, one record per item and sample: the latest). A torn last line (the
   * process died mid-write) is cut off when `repair` is set and reported; a complete last record
   * that only lacks its newline gets one, so the next append starts a line of its own. Damage
   * anywhere else is an InputError naming file:line, since that is not a crash but a damaged file.
   */
  readJournal(opts: { repair?: boolean } = {}): { results: ItemResult[]; tornLine: number | null } {
    const file = this.path(RESULTS);
    if (!existsSync(file)) return { results: [], tornLine: null };
    const text = readFileSync(file, 'utf8');
    const { results } = parseResults(text, file);
    const lastNewline = text.lastIndexOf('\n');
    const tail = text.slice(lastNewline + 1);
    let tornLine: number | null = null;
    if (tail.trim() !== '' && !isJson(tail)) {
      tornLine = text.slice(0, lastNewline + 1).split('\n').length;
      if (opts.repair) truncateSync(file, Buffer.byteLength(text.slice(0, lastNewline + 1)));
    } else if (tail.trim() !== '' && opts.repair) {
      appendFileSync(file, '\n');
    }
    return { results, tornLine };
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
