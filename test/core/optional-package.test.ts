// The heavy runtimes are optional peer dependencies, imported when their work starts; a missing one is an
// InputError (exit 2) naming the package and the command that installs it. "Missing" here is Node's own
// resolution failing: a module outside this repository (no node_modules above it) imports the package, or
// a child medeval runs under a resolve hook that finds no such package, as in an install without it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { importOptional, installCommand, isMissingPackage, MissingPackageError, OPTIONAL_PACKAGES, type OptionalPackage } from '../../src/core/optional-package.js';
import { REPO } from '../helpers/tiny-run.js';

const outside = mkdtempSync(join(tmpdir(), 'medeval-optional-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

/**
 * The error Node itself gives when `spec` cannot be found: imported by a child process from a module with
 * no node_modules above it (vitest's module runner would resolve it from this project). null: it loaded.
 */
function nodeImportError(spec: string): Error | null {
  const file = join(outside, `import-${spec.replace(/[^a-z0-9]/gi, '_')}.mjs`);
  writeFileSync(file, `try { await import(${JSON.stringify(spec)}); console.log('null'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }\n`);
  const r = spawnSync(process.execPath, [file], { cwd: outside, encoding: 'utf8' });
  const got = JSON.parse(r.stdout) as { code?: string; message: string } | null;
  return got && Object.assign(new Error(got.message), got.code ? { code: got.code } : {});
}

describe('importOptional', () => {
  it('a missing optional package: an InputError naming it, what needs it and the install command', async () => {
    const missing = nodeImportError('@napi-rs/canvas');
    expect(missing).not.toBeNull();
    const err = await importOptional('@napi-rs/canvas', () => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'the PNG and SVG charts of a report (charts/) needs the package @napi-rs/canvas, which is not installed\n' +
      '  hint: install it beside medeval: npm install @napi-rs/canvas@1.1.1');
  });

  it('every optional package gets its own message', async () => {
    for (const name of Object.keys(OPTIONAL_PACKAGES) as OptionalPackage[]) {
      const missing = nodeImportError(name);
      const err = await importOptional(name, () => Promise.reject(missing)).catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(MissingPackageError);
      expect(err.message).toContain(`needs the package ${name}`);
      expect(err.message).toContain(installCommand(name));
    }
  });

  it('passes other failures on: a missing package the optional one imports, a module that throws', async () => {
    // onnxruntime-node there, but a package it imports missing: that is not "install onnxruntime-node".
    const inner = nodeImportError('onnxruntime-common-not-here');
    expect(isMissingPackage(inner, 'onnxruntime-common-not-here')).toBe(true);
    const other = await importOptional('onnxruntime-node', () => Promise.reject(inner)).catch((e: unknown) => e);
    expect(other).toBe(inner);
    const broken = new Error('libonnxruntime.so.1: cannot open shared object file');
    await expect(importOptional('onnxruntime-node', () => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('returns the module when it is installed', async () => {
    const canvas = await importOptional('@napi-rs/canvas', () => import('@napi-rs/canvas'));
    expect(typeof canvas.createCanvas).toBe('function');
  });
});

describe('package.json', () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;

  it('lists each optional package as an optional peer, pinned for the project itself in devDependencies', () => {
    for (const [name, { version }] of Object.entries(OPTIONAL_PACKAGES)) {
      expect(pkg.dependencies![name], name).toBeUndefined();
      expect(pkg.peerDependencies![name], name).toBe(`^${version}`);
      expect(pkg.peerDependenciesMeta![name], name).toEqual({ optional: true });
      expect(pkg.devDependencies![name], name).toBe(version);
    }
  });

  it('src never imports an optional package but through importOptional (type imports aside)', () => {
    const names = Object.keys(OPTIONAL_PACKAGES);
    const bad: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith('.ts')) {
          readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
            for (const n of names) {
              const q = `['"]${n.replace(/[/.]/g, '\\$&')}['"]`;
              const staticImport = new RegExp(`^\\s*(import|export)\\s(?!type\\s).*from\\s+${q}`).test(line);
              const bareImport = new RegExp(`import\\(${q}\\)`).test(line) && !new RegExp(`importOptional\\(${q}, \\(\\) => import\\(${q}\\)\\)`).test(line) && !/typeof import\(|\)\./.test(line);
              if (staticImport || bareImport) bad.push(`${path.slice(REPO.length + 1)}:${i + 1}: ${line.trim()}`);
            }
          });
        }
      }
    };
    walk(join(REPO, 'src'));
    expect(bad).toEqual([]);
  });
});

/** Runs the medeval CLI (TypeScript source) with `hidden` packages unresolvable, as in an install without them. */
function medevalWithout(hidden: string[], args: string[]) {
  const hook = join(outside, 'hide-packages.mjs');
  // A resolve hook that answers as Node does for a package that is not installed.
  writeFileSync(hook, `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
const hidden = ${JSON.stringify(hidden)};
export async function resolve(specifier, context, next) {
  if (hidden.some((h) => specifier === h || specifier.startsWith(h + '/'))) {
    const e = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}\`));
`);
  return spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, join(REPO, 'src/cli/bin.ts'), ...args],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

describe('medeval without the optional packages', () => {
  it('report: writes every other format, and says the charts were skipped and how to get them', () => {
    const out = join(outside, 'report');
    const runs = ['baseline-f16', 'compressed-q4'].map((r) => join(REPO, 'test/fixtures/runs', r));
    const r = medevalWithout(['@napi-rs/canvas'], ['report', ...runs, '--out', out]);
    expect(r.stderr).not.toMatch(/Cannot find package/);
    expect(r.status).toBe(0);
    for (const f of ['report.json', 'report.md', 'report.html', 'results.csv', 'summary.csv', 'table.tex']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'charts'))).toBe(false);
    expect(r.stdout).toContain('charts skipped: the PNG and SVG charts of a report (charts/) needs the package @napi-rs/canvas, which is not installed; to write them: npm install @napi-rs/canvas@1.1.1');
    expect(r.stdout).not.toMatch(/reports written to .*charts\//);
  });

  it('run with an onnx profile: exit 2 naming onnxruntime-node and its install command, no run folder', () => {
    const out = join(outside, 'onnx-run');
    const r = medevalWithout(['onnxruntime-node', '@huggingface/transformers'],
      ['run', '--suite', 'suites/usmle-sample.yaml', '--runner', 'runners/onnx-tiny-fp32.yaml', '--limit', '1', '--no-cache', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('the onnxruntime runner (kind: onnx) needs the package onnxruntime-node, which is not installed');
    expect(r.stderr).toContain('npm install onnxruntime-node@1.30.0');
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });
});
