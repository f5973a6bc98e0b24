// The TypeScript examples in README.md and docs/*.md are written as a library user writes them: they import
// from 'medeval' (never from './src/...'), and each one type-checks against the library entry
// (src/index.ts, what `import ... from 'medeval'` resolves to in the published package).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/tiny-run.js';

interface Snippet { file: string; line: number; code: string }

/** Every ```ts block of a Markdown file, with the line its code starts on. */
export function tsSnippets(file: string, text: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !lines[j]!.startsWith('```')) j++;
    out.push({ file, line: start + 1, code: lines.slice(start, j).join('\n') });
    i = j;
  }
  return out;
}

function docSnippets(): Snippet[] {
  const files = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  return files.flatMap((f) => tsSnippets(f, readFileSync(join(REPO, f), 'utf8')));
}

/** Type errors of the snippets, each compiled as a module that imports 'medeval' = src/index.ts. */
function typeErrors(snippets: Snippet[]): string[] {
  const virtual = new Map(snippets.map((s, k) => [join(REPO, `__doc_snippet_${k}.ts`), s]));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'], types: ['node'], strict: true, skipLibCheck: true, noEmit: true, esModuleInterop: true,
    resolveJsonModule: true, baseUrl: REPO, paths: { medeval: ['./src/index.ts'] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = ((exists) => (f: string) => virtual.has(f) || exists(f))(host.fileExists.bind(host));
  host.readFile = (f) => virtual.get(f)?.code ?? readFile(f);
  host.getSourceFile = (f, lang, ...rest) => {
    const s = virtual.get(f);
    return s ? ts.createSourceFile(f, s.code, lang) : getSourceFile(f, lang, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file && virtual.has(d.file.fileName)).map((d) => {
    const s = virtual.get(d.file!.fileName)!;
    const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${s.file}:${s.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('library examples in the docs', () => {
  const snippets = docSnippets();

  it('docs/ci.md has a library example that imports from medeval', () => {
    const ci = snippets.filter((s) => s.file === join('docs', 'ci.md'));
    expect(ci.length).toBeGreaterThan(0);
    expect(ci.some((s) => /from 'medeval'/.test(s.code))).toBe(true);
  });

  it('no example imports the repository\'s source files', () => {
    const bad = snippets.filter((s) => /from\s+['"]\.{1,2}\/(src|dist)\//.test(s.code)).map((s) => `${s.file}:${s.line}`);
    expect(bad).toEqual([]);
  });

  // One program for all (loading the library's types is most of the time): the examples, and one with a
  // name the entry does not export, so the check is seen to fail.
  const wrong: Snippet = { file: 'wrong.md', line: 1, code: "import { readRunFolder, notAnExport } from 'medeval';\nreadRunFolder('x'); notAnExport();\n" };
  const library = snippets.filter((s) => /from\s+['"]medeval['"]/.test(s.code));
  let errors: string[] = [];
  beforeAll(() => {
    errors = typeErrors([...library, wrong]);
  });

  it('every example that imports medeval type-checks against the library entry', () => {
    expect(library.length).toBeGreaterThan(0);
    expect(errors.filter((e) => !e.startsWith('wrong.md:'))).toEqual([]);
  });

  it('a name the entry does not export is caught (the check can fail)', () => {
    expect(errors.join('\n')).toMatch(/wrong\.md:1: .*notAnExport/);
  });
});
