// The runs `medeval view` shows: run folders found under the folders it was given (a run folder, a
// `medeval compare` folder with its runs/ subfolders, a `medeval merge` output, or a folder holding any
// of these one level down), each with its manifest and a journal index (core/run-folder.ts, the one
// reader). Found again on every listing, so a run started after the viewer appears; a folder that
// cannot be read is listed with its error instead of stopping the viewer.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { checkJournal } from '../core/journal-check.js';
import { JournalIndex, MANIFEST, RunFolder, type JournalEntry } from '../core/run-folder.js';
import type { RunManifest } from '../core/types.js';

export interface ViewRun {
  /** Stable across restarts: a hash of the folder's absolute path. */
  id: string;
  dir: string;
  /** The compare folder it is a runs/ subfolder of, or null. */
  group: string | null;
  manifest: RunManifest | null;
  index: JournalIndex;
  /** Reading warnings (torn line, superseded records) and disagreements with the manifest (journal-check.ts). */
  warnings: string[];
  problems: string[];
  /** Why the folder cannot be read (manifest or journal), or null. */
  error: string | null;
  /** What the journal check was last run on: it runs again only when the journal or the manifest changed. */
  checked?: { entries: readonly JournalEntry[]; manifest: string; problems: string[]; coverageNotes: string[] };
}

export interface RunTotals {
  records: number;
  expectedRecords: number;
  scored: number;
  right: number;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isRunFolder = (p: string) => isDir(p) && existsSync(join(p, MANIFEST));

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => join(dir, d.name))
    .sort();
}

/** Run folders of a compare folder (its runs/ subfolders), or [] when `dir` is not one. */
function compareRuns(dir: string): string[] {
  const runs = join(dir, 'runs');
  return isDir(runs) ? subfolders(runs).filter(isRunFolder) : [];
}

/** Every run folder a root names, with the compare folder each belongs to. */
export function findRunFolders(root: string): { dir: string; group: string | null }[] {
  const abs = resolve(root);
  if (isRunFolder(abs)) return [{ dir: abs, group: null }];
  const own = compareRuns(abs);
  if (own.length) return own.map((dir) => ({ dir, group: abs }));
  const found: { dir: string; group: string | null }[] = [];
  for (const child of subfolders(abs)) {
    if (isRunFolder(child)) found.push({ dir: child, group: null });
    else for (const dir of compareRuns(child)) found.push({ dir, group: child });
  }
  return found;
}

/** Checks the folders given on the command line: each must exist and be a folder. */
export function checkRoots(roots: readonly string[]): string[] {
  return roots.map((root) => {
    if (!isDir(root)) {
      throw new InputError('not a folder', { file: root }, 'pass run folders, compare folders (with runs/), merge outputs, or folders that hold them');
    }
    return resolve(root);
  });
}

export function runId(dir: string): string {
  return createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12);
}

export class Catalog {
  private readonly runs = new Map<string, ViewRun>();

  constructor(readonly roots: readonly string[]) {}

  /** Journal lines JSON-parsed so far by every run's index: by indexing passes, and by page reads. */
  linesParsed(): { indexed: number; read: number } {
    let indexed = 0;
    let read = 0;
    for (const run of this.runs.values()) {
      indexed += run.index.linesIndexed;
      read += run.index.linesRead;
    }
    return { indexed, read };
  }

  /** Finds the run folders again and brings each one's manifest and index up to date. */
  async list(): Promise<ViewRun[]> {
    const seen: ViewRun[] = [];
    for (const root of this.roots) {
      for (const { dir, group } of findRunFolders(root)) {
        const id = runId(dir);
        let run = this.runs.get(id);
        if (!run) {
          run = { id, dir, group, manifest: null, index: new JournalIndex(dir), warnings: [], problems: [], error: null };
          this.runs.set(id, run);
        }
        if (!seen.includes(run)) seen.push(run);
      }
    }
    for (const run of seen) await this.load(run);
    return seen;
  }

  /** One run, brought up to date; null when no folder under the roots has this id. */
  async get(id: string): Promise<ViewRun | null> {
    if (!this.runs.has(id)) await this.list();
    const run = this.runs.get(id);
    if (!run || !isRunFolder(run.dir)) return null;
    await this.load(run);
    return run;
  }

  private async load(run: ViewRun): Promise<void> {
    try {
      const warnings: string[] = [];
      const manifest = new RunFolder(run.dir).readManifest(warnings);
      await run.index.refresh();
      const entries = run.index.entries();
      const manifestText = JSON.stringify(manifest);
      run.manifest = manifest;
      run.error = null;
      if (run.checked?.entries !== entries || run.checked.manifest !== manifestText) {
        const { problems, coverageNotes } = checkJournal(manifest, entries);
        run.checked = { entries, manifest: manifestText, problems, coverageNotes };
      }
      run.warnings = [...warnings, ...run.index.warnings(), ...run.checked.coverageNotes];
      run.problems = run.checked.problems;
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      run.error = e.message;
      run.problems = [];
      run.warnings = [];
      run.checked = undefined;
    }
  }
}

export function totals(run: ViewRun): RunTotals {
  const entries = run.index.entries();
  let scored = 0;
  let right = 0;
  for (const e of entries) {
    if (e.correct === null) continue;
    scored++;
    if (e.correct) right++;
  }
  const m = run.manifest;
  return { records: entries.length, expectedRecords: m ? m.suite.items * m.samples : 0, scored, right };
}

/** What kind of folder this is, in a few words: merged shards, a shard, a rescore, a compare run. */
export function runKind(run: ViewRun): string {
  const m = run.manifest;
  if (!m) return 'unreadable';
  if (m.merged) return `merged (${m.merged.shards.length} of ${m.merged.count} shards)`;
  if (m.shard) return `shard ${m.shard.index}/${m.shard.count}`; // as --shard I/N names it (0-based)
  if (m.rescoredFrom) return `rescored from ${basename(m.rescoredFrom.dir)}`;
  if (run.group) return `compare run (${basename(run.group)})`;
  return 'run';
}

export type { JournalEntry };
