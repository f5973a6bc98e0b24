// The layering of src/ holds: no folder imports one above it (or a sibling of its own level), and no
// file imports itself through a cycle. The order is in import-graph.ts and docs/architecture.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkImportGraph, folderOf, LAYERS } from './import-graph.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '../../src');

describe('src import graph', () => {
  const check = checkImportGraph(SRC);

  it('reads the imports of every src file', () => {
    expect(check.files).toBeGreaterThan(100);
    expect(check.edges.length).toBeGreaterThan(300);
    expect(check.unresolved).toEqual([]);
  });

  it('places every src folder in the folder order', () => {
    const folders = new Set(check.edges.flatMap((e) => [folderOf(e.from), folderOf(e.to)]));
    folders.delete('(src)');
    expect([...folders].filter((f) => !LAYERS.some((level) => level.includes(f)))).toEqual([]);
  });

  it('has no folder importing one above it or beside it', () => {
    expect(check.violations).toEqual([]);
  });

  it('has no file-level import cycle', () => {
    expect(check.cycles).toEqual([]);
  });
});

describe('the import checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medeval-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  write('core/types.ts', "import type { Report } from '../report/model.js';\nexport type T = Report;\n");
  write('report/model.ts', "export * from './a.js';\nexport type Report = { n: number };\n");
  write('report/a.ts', "export const a = async () => import('./b.js');\n");
  write('report/b.ts', "import { a } from './a.js';\nexport const b = a;\n");
  write('runners/x.ts', "import type { Y } from '../datasets/y.js';\nexport type X = Y;\n");
  write('datasets/y.ts', "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nexport type Y = string;\n");
  write('index.ts', "export * from './core/types.js';\nimport './cli/missing.js';\n");
  const fake = checkImportGraph(dir);

  it('finds an upward import, also a type-only one', () => {
    expect(fake.violations.some((v) => v.startsWith('core -> report: imports a folder above it (core/types.ts -> report/model.ts)'))).toBe(true);
  });

  it('finds an import between two folders of one level', () => {
    expect(fake.violations.some((v) => v.startsWith('runners -> datasets: imports a folder of its own level'))).toBe(true);
  });

  it('finds a file cycle through export-from and a dynamic import', () => {
    expect(fake.cycles).toEqual([['report/a.ts', 'report/b.ts']]);
  });

  it('reports a relative import that resolves to no file', () => {
    expect(fake.unresolved).toEqual(['index.ts: ./cli/missing.js']);
  });
});
