// Where a command may write. Every command's --out (and gate's --json/--junit) is checked here before
// any work starts: medeval writes into a new or empty folder, or into a folder it made itself (a run
// folder, a report / compare folder, ...); never into the user's own files, the current folder by an
// empty path, the file-system root or the home folder. Each refusal is an InputError (exit 2) with a hint.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { CONFIG_SCHEMA_FILES } from '../run/schema-files.js';
import { MANIFEST, RESULTS } from '../core/run-folder.js';
import { REPORT_SCHEMA_VERSION } from '../report/model.js';

/** What the folder will hold, which decides which existing folders are medeval's own. */
export type OutKind = 'run' | 'compare' | 'report' | 'schemas' | 'onnx-model';

const WHAT: Record<OutKind, string> = {
  run: 'a medeval run folder (manifest.json, results.jsonl)',
  compare: 'a medeval compare folder (runs/ and the reports)',
  report: 'a medeval report or run folder',
  schemas: 'a folder of medeval schema files',
  'onnx-model': 'a tiny ONNX model folder made by medeval',
};

/** The marker the tiny ONNX model maker leaves (src/models/onnx-tiny.ts). */
const ONNX_STAMP = 'medeval-tiny-onnx.json';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A run folder: a manifest written by medeval, or a journal whose first record is medeval's. */
export function isRunFolder(dir: string): boolean {
  const m = readJson(join(dir, MANIFEST)) as { medevalVersion?: unknown } | null;
  if (typeof m?.medevalVersion === 'string') return true;
  try {
    const first = readFileSync(join(dir, RESULTS), 'utf8').split('\n', 1)[0]!;
    const r = JSON.parse(first) as { itemId?: unknown };
    return typeof r?.itemId === 'string';
  } catch {
    return false;
  }
}

/** A report folder: report.json with medeval's schema version (src/report/json.ts). */
export function isReportFolder(dir: string): boolean {
  const r = readJson(join(dir, 'report.json')) as { schemaVersion?: unknown } | null;
  const prefix = REPORT_SCHEMA_VERSION.split('/')[0]!;
  return typeof r?.schemaVersion === 'string' && r.schemaVersion.startsWith(`${prefix}/`);
}

/** A compare folder before its reports exist: runs/ holding run folders (or the leftovers of a failed start). */
export function isCompareFolder(dir: string): boolean {
  const runs = join(dir, 'runs');
  if (!isDir(runs)) return false;
  const entries = readdirSync(runs).map((e) => join(runs, e));
  // A run that died before its manifest leaves an empty folder, or only a hidden temporary file.
  return entries.length > 0 && entries.every((e) => isDir(e) && (isRunFolder(e) || readdirSync(e).every((f) => f.startsWith('.'))));
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isOwnFolder(dir: string, kind: OutKind): boolean {
  switch (kind) {
    case 'run':
      return isRunFolder(dir);
    case 'compare':
      return isReportFolder(dir) || isCompareFolder(dir);
    case 'report':
      return isReportFolder(dir) || isCompareFolder(dir) || isRunFolder(dir);
    case 'schemas':
      return Object.values(CONFIG_SCHEMA_FILES).some((file) => existsSync(join(dir, file)));
    case 'onnx-model':
      return existsSync(join(dir, ONNX_STAMP));
  }
}

/** The real path of `path`, or of its nearest existing ancestor joined with the rest. */
function realish(path: string): string {
  let p = resolve(path);
  const rest: string[] = [];
  while (!existsSync(p) && dirname(p) !== p) {
    rest.unshift(parse(p).base);
    p = dirname(p);
  }
  try {
    p = realpathSync(p);
  } catch {
    // unreadable: keep the resolved path
  }
  return join(p, ...rest);
}

/** Refusals common to folders and files: an empty path, the root, the home folder, a file on the way. */
function checkCommon(path: string, option: string, example: string): string {
  if (path.trim() === '') {
    throw new InputError('an empty path would write into the current folder', { field: option }, `name a folder, e.g. ${option} ${example}`);
  }
  const real = realish(path);
  if (real === parse(real).root) {
    throw new InputError(`${JSON.stringify(path)} is the root of the file system`, { field: option }, `name a new folder, e.g. ${option} ${example}`);
  }
  const homes = new Set([homedir(), process.env.HOME].filter((h): h is string => Boolean(h)).map((h) => realish(h)));
  if (homes.has(real)) {
    throw new InputError(`${JSON.stringify(path)} is your home folder`, { field: option }, `name a new folder inside it, e.g. ${option} ~/${example}`);
  }
  // A file where a folder on the way should be (ENOTDIR otherwise, after work was done).
  for (let p = dirname(real); ; p = dirname(p)) {
    if (existsSync(p)) {
      if (!isDir(p)) throw new InputError(`${p} is a file, so ${JSON.stringify(path)} cannot be created under it`, { field: option }, 'choose another path');
      break;
    }
    if (dirname(p) === p) break;
  }
  return real;
}

/**
 * Checks a folder medeval is about to write into. Returns the path as given (unchanged, so messages and
 * manifests keep the user's spelling). `undefined` (no --out given, a default applies) passes.
 */
export function checkOutDir<T extends string | undefined>(path: T, kind: OutKind, option = '--out'): T {
  if (path === undefined) return path;
  const example = kind === 'run' ? 'runs/my-run' : kind === 'schemas' ? 'schemas' : kind === 'onnx-model' ? 'models/onnx-tiny' : 'reports/my-report';
  const real = checkCommon(path, option, example);
  if (!existsSync(real)) return path;
  if (!isDir(real)) {
    throw new InputError(`${JSON.stringify(path)} is a file, not a folder`, { field: option }, `name a folder, e.g. ${option} ${example}`);
  }
  const entries = readdirSync(real);
  if (entries.length === 0 || isOwnFolder(real, kind)) return path;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, ... (${entries.length} entries)` : '');
  throw new InputError(`${JSON.stringify(path)} already holds files that are not ${WHAT[kind]} (${shown})`, { field: option },
    `medeval writes only into a new or empty folder or one it made: choose another ${option}, e.g. ${option} ${join(path, 'medeval')}`);
}

/** Checks a file medeval is about to write (gate's --json / --junit, make-model's .gguf). */
export function checkOutFile<T extends string | undefined>(path: T, option: string, example = 'out/result.json'): T {
  if (path === undefined) return path;
  const real = checkCommon(path, option, example);
  if (isDir(real)) {
    throw new InputError(`${JSON.stringify(path)} is a folder, not a file`, { field: option }, `name a file, e.g. ${option} ${join(path, 'result.json')}`);
  }
  return path;
}
