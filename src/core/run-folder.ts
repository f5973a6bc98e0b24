// The run folder on disk: manifest.json, results.jsonl (append-only journal), summary.json/md.
// Records are appended one line at a time with a synchronous write, so a run killed at any moment
// (kill -9 included) loses at most the line being written, which `readJournal` repairs.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseResults } from '../report/run-folder.js';
import { InputError } from './errors.js';
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

  create(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  /** Write a file whole via rename, so a reader never sees half of it. */
  writeAtomic(name: string, text: string): void {
    const tmp = this.path(`.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, this.path(name));
  }

  writeManifest(m: RunManifest): void {
    this.writeAtomic(MANIFEST, JSON.stringify(m, null, 2) + '\n');
  }

  readManifest(): RunManifest {
    const file = this.path(MANIFEST);
    if (!existsSync(file)) throw new InputError('no manifest.json: this folder is not a medeval run', { file });
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as RunManifest;
    } catch (e) {
      throw new InputError(`manifest.json is not valid JSON (${(e as Error).message})`, { file });
    }
  }

  append(result: ItemResult): void {
    appendFileSync(this.path(RESULTS), JSON.stringify(result) + '\n');
  }

  /**
   * Read the journal (validated, one record per item and sample: the latest). A torn last line (the
   * process died mid-write) is cut off when `repair` is set and reported; damage anywhere else is an
   * InputError naming file:line, since that is not a crash but a damaged file.
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
