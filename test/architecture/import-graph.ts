// The folder order of src/ (docs/architecture.md) and a checker for it: every import of every src file,
// read with TypeScript's own pre-processor (static, `export ... from`, `import type` and dynamic import()),
// resolved to a file, then held against the order and searched for file-level cycles.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * Lowest first. A folder may import folders of lower levels only: never one above it, never another
 * folder of its own level (those are independent parts). Files directly in src/ (index.ts, the library
 * entry) sit above everything.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['core'], // ground: types, errors, config reading, paths, redact, the run record and its run folder
  ['stats', 'metrics'], // pure statistics; measurement (timers, memory probes, engine metrics)
  ['datasets', 'prompts', 'scoring', 'runners', 'models'], // the parts a run is made of
  ['report'], // views of the record: reads run folders, never the run layer
  ['gate', 'run', 'view'], // the CI gate over reports; the run layer (plan, run loop, compare, experiment, cache); the run viewer
  ['cli'],
];

const ENTRY = '(src)';

export interface ImportEdge {
  from: string; // path relative to src, with /
  to: string;
}

export interface GraphCheck {
  files: number;
  edges: ImportEdge[];
  /** Folder-level edges that break the order, as "a -> b (file -> file, ...)". */
  violations: string[];
  /** File-level import cycles (strongly connected components of more than one file, or a self-import). */
  cycles: string[][];
  /** Relative imports that resolve to no file in src. */
  unresolved: string[];
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (/\.(m|c)?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveImport(fromFile: string, spec: string): string | null {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base.replace(/\.(m|c)?js$/, (m) => m.replace('js', 'ts')), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && /\.(m|c)?ts$/.test(c)) ?? null;
}

export function folderOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0]! : ENTRY;
}

export function levelOf(folder: string): number | null {
  if (folder === ENTRY) return LAYERS.length;
  const i = LAYERS.findIndex((level) => level.includes(folder));
  return i < 0 ? null : i;
}

export function importEdges(srcDir: string): { files: string[]; edges: ImportEdge[]; unresolved: string[] } {
  const root = resolve(srcDir);
  const rel = (f: string) => relative(root, f).split(sep).join('/');
  const files = listTs(root);
  const edges: ImportEdge[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue; // packages and node: built-ins
      const target = resolveImport(file, fileName);
      if (target === null || !target.startsWith(root + sep)) unresolved.push(`${rel(file)}: ${fileName}`);
      else edges.push({ from: rel(file), to: rel(target) });
    }
  }
  return { files: files.map(rel), edges, unresolved };
}

/** Tarjan's strongly connected components; returns those that are cycles. */
function fileCycles(files: string[], edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) next.get(e.from)!.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

export function checkImportGraph(srcDir: string): GraphCheck {
  const { files, edges, unresolved } = importEdges(srcDir);
  const byFolders = new Map<string, string[]>();
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a === b) continue;
    const la = levelOf(a);
    const lb = levelOf(b);
    let why: string | null = null;
    if (la === null) why = `folder ${a} is not in the folder order`;
    else if (lb === null) why = `folder ${b} is not in the folder order`;
    else if (lb > la) why = 'imports a folder above it';
    else if (lb === la) why = 'imports a folder of its own level';
    if (why === null) continue;
    const key = `${a} -> ${b}: ${why}`;
    if (!byFolders.has(key)) byFolders.set(key, []);
    byFolders.get(key)!.push(`${e.from} -> ${e.to}`);
  }
  const violations = [...byFolders].map(([key, list]) => `${key} (${list.join(', ')})`).sort();
  return { files: files.length, edges, violations, cycles: fileCycles(files, edges), unresolved };
}
