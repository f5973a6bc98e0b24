// Start-up time is mostly module loading: what a command imports before it does any work. This holds the
// static import closure (what Node loads before the first line of the command runs; type-only imports are
// elided as tsc elides them, dynamic import() is left out) of the executable's entry and of `medeval gate`
// clear of what they never use: `--version` loads no command and no schema library, and the gate loads no
// runner (the openai SDK, the engines), no dataset reader, no chart renderer and no run layer; `run`
// loads the Hub client and the Parquet reader only for a hub dataset, and before its first request neither
// the openai SDK (its error classes only), the engines, nor the report layer (loaded after the last request).
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { readSchemas, writeSchemas } from '../../src/core/record.js';
import { CONFIG_SCHEMAS } from '../../src/run/json-schema.js';
import { CONFIG_SCHEMA_FILES } from '../../src/run/schema-files.js';

const SRC = resolve(import.meta.dirname, '../../src');

const transpiled = new Map<string, string[]>();

/** The module specifiers a file imports at load time: static imports and re-exports left after type elision. */
function loadTimeImports(file: string): string[] {
  const known = transpiled.get(file);
  if (known) return known;
  const js = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const out: string[] = [];
  for (const m of js.matchAll(/^\s*(?:import|export)\s+(?:[\w*{$][\s\S]*?\s+from\s*)?['"]([^'"]+)['"]/gm)) out.push(m[1]!);
  transpiled.set(file, out);
  return out;
}

/** Every src file, package and package specifier (`openai/error`) reached from `entry` through load-time imports. */
function closure(entry: string): { files: Set<string>; packages: Set<string>; specifiers: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const specifiers = new Set<string>();
  const queue = [resolve(SRC, entry)];
  while (queue.length) {
    const file = queue.pop()!;
    const rel = relative(SRC, file).split(sep).join('/');
    if (files.has(rel)) continue;
    files.add(rel);
    for (const spec of loadTimeImports(file)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
      else if (!spec.startsWith('node:')) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        specifiers.add(spec);
      }
    }
  }
  return { files, packages, specifiers };
}

const HEAVY_PACKAGES = ['yaml', 'openai', 'node-llama-cpp', 'onnxruntime-node', '@huggingface/hub', '@huggingface/transformers', 'hyparquet', 'csv-parse', 'chart.js', '@napi-rs/canvas', 'cli-progress', 'p-limit'];

describe('start-up imports', () => {
  it('the closure reader sees load-time imports only', () => {
    const gate = closure('cli/commands/gate.ts');
    expect(gate.files.has('gate/gate.ts')).toBe(true);
    expect(gate.packages.has('commander')).toBe(true);
    // core/types.ts is imported for types only: elided, as tsc does.
    expect(loadTimeImports(join(SRC, 'gate/gate.ts')).some((s) => s.endsWith('core/types.js'))).toBe(false);
  });

  it('`medeval --version` (entry.ts) loads no command module and no schema library', () => {
    const { files, packages } = closure('cli/bin.ts');
    expect([...files].filter((f) => f.startsWith('cli/commands/') || f === 'cli/main.ts')).toEqual([]);
    expect([...packages]).toEqual(['commander']);
  });

  it('`medeval gate` loads no runner, dataset reader, run layer or chart renderer', () => {
    const { files, packages } = closure('cli/commands/gate.ts');
    expect([...packages].filter((p) => HEAVY_PACKAGES.includes(p))).toEqual([]);
    const heavy = [...files].filter((f) =>
      (f.startsWith('runners/') && f !== 'runners/server-metric-names.ts' && f !== 'runners/definition.ts')
      || f.startsWith('datasets/') || (f.startsWith('run/') && f !== 'run/schema-files.ts')
      || /^report\/(chart|charts|html|pareto-chart|publish|write)/.test(f));
    expect(heavy).toEqual([]);
  });

  it('`medeval run` loads the Hub client and the Parquet reader only when a hub dataset is fetched', () => {
    const { packages } = closure('cli/commands/run.ts');
    expect(packages.has('zod')).toBe(true);
    expect([...packages].filter((p) => ['@huggingface/hub', 'hyparquet', 'yaml'].includes(p))).toEqual([]);
  });

  it('`medeval run` loads no openai SDK, engine, chart renderer or report layer before its first request', () => {
    const { files, packages, specifiers } = closure('cli/commands/run.ts');
    // The SDK's error classes (two small modules) are what the streamed path needs of it.
    expect([...specifiers].filter((s) => s === 'openai' || s.startsWith('openai/'))).toEqual(['openai/error']);
    expect([...packages].filter((p) => ['node-llama-cpp', 'onnxruntime-node', '@huggingface/transformers', 'chart.js', '@napi-rs/canvas'].includes(p))).toEqual([]);
    // report/model.ts is constants and types (the report schema's version for the output-path check).
    const reportLayer = [...files].filter((f) => (f.startsWith('report/') && f !== 'report/model.ts') || f === 'run/summary.ts' || f === 'cli/console-summary.ts');
    expect(reportLayer).toEqual([]);
  });

  it('`medeval run` on a server kind and a JSONL dataset loads no other runner kind, CSV reader, Hub code or progress bar', () => {
    const { files, packages } = closure('cli/commands/run.ts');
    // csv-parse loads on the first CSV read, cli-progress when a bar is drawn (a terminal, no CI).
    expect([...packages].filter((p) => ['csv-parse', 'cli-progress'].includes(p))).toEqual([]);
    // The in-process kinds are defined by their profiles (in-process-kinds.ts); their runners load when run.
    expect([...files].filter((f) => /^runners\/(onnx|llama-embedded|scripted)(?!-profile)/.test(f))).toEqual([]);
    // The Hub catalog (names for --dataset) only: the cache, client and converters load for a Hub dataset.
    expect([...files].filter((f) => f.startsWith('datasets/hub/') && f !== 'datasets/hub/catalog.ts')).toEqual([]);
  });

  it('the record schemas are built once, on first use', () => {
    expect(readSchemas.itemResult).toBe(readSchemas.itemResult);
    expect(writeSchemas.manifest).toBe(writeSchemas.manifest);
    expect(readSchemas.itemResult).not.toBe(writeSchemas.itemResult);
    // record.ts builds them behind a proxy: nothing at import (the run's first request comes before its first record).
    expect(readFileSync(join(SRC, 'core/record.ts'), 'utf8')).toMatch(/export const readSchemas: S = builtOnFirstUse\(/);
  });

  it('the output-path check knows the schema files by name without loading the schemas', () => {
    expect(Object.values(CONFIG_SCHEMA_FILES).sort()).toEqual(CONFIG_SCHEMAS.map((c) => c.file).sort());
  });
});
