// Where the CLI may write, and what it prints: --out never takes over the user's own folder, the current
// folder, / or the home folder; a file where a folder belongs is bad input (exit 2), not EEXIST; a dataset
// path that is a folder is bad input; control characters from a dataset never reach the terminal raw.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { InputError } from '../../src/core/errors.js';
import { checkOutDir, checkOutFile } from '../../src/cli/out-path.js';
import { progressReporter } from '../../src/cli/progress.js';
import { terminalSafe } from '../../src/cli/terminal.js';
import type { LoadedDataset } from '../../src/datasets/types.js';
import { REPO, SAMPLE, tempDir, writeRunnerProfile, writeSuite } from '../helpers/tiny-run.js';

// tsx by its file URL: some cases run in a folder of their own, where a bare "tsx" would not resolve.
const CLI = ['--import', pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href, join(REPO, 'src/cli/bin.ts')];
const STORED_RUN = join(REPO, 'reports/demo/runs/baseline-demo-f32');
const medeval = (args: string[], env: Record<string, string> = {}, cwd = REPO) =>
  spawnSync(process.execPath, [...CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1', ...env } });

/** A folder of the user's own files, as the issue found them overwritten. */
function userFolder(): { dir: string; snapshot: () => Record<string, string> } {
  const dir = join(tempDir('medeval-user-'), 'my-notes');
  mkdirSync(dir);
  writeFileSync(join(dir, 'summary.md'), '# my own summary\n');
  writeFileSync(join(dir, 'summary.json'), '{"mine": true}\n');
  return { dir, snapshot: () => Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])) };
}

/**
 * The CLI in this process (main(), as bin.ts calls it) with stdout/stderr captured: the refusals need no
 * model and no process start, so most cases run here; the ones that matter most run as real processes.
 */
async function inProcess(args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const saved = { exitCode: process.exitCode, env: Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]])) };
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: unknown) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: unknown) => ((stderr += String(c)), true));
  Object.assign(process.env, env);
  try {
    const status = await main(['node', 'medeval', ...args]);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    for (const [k, v] of Object.entries(saved.env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    process.exitCode = saved.exitCode;
  }
}

const refusal = (f: () => unknown): InputError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected a refusal');
};

describe('--out paths (CLI)', () => {
  it('run refuses a folder of the user\'s own files and an empty path, exit 2 with a hint, touching nothing', () => {
    const user = userFolder();
    const before = user.snapshot();
    const dir = tempDir();
    const suite = writeSuite(dir);
    const runner = writeRunnerProfile(dir, '/nonexistent.gguf');
    const r = medeval(['run', '--suite', suite, '--runner', runner, '--out', user.dir]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain('already holds files that are not a medeval run folder');
    expect(r.stderr).toContain('summary.json');
    expect(r.stderr).toContain('hint:');
    expect(user.snapshot()).toEqual(before);

    const empty = medeval(['run', '--suite', suite, '--runner', runner, '--out', ''], {}, dir);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('an empty path would write into the current folder');
    expect(readdirSync(dir).sort()).toEqual(['suite.yaml', 'tiny-f32.yaml']);
  });

  it('report refuses /, the home folder and a file, exit 2; a file on the way is named', async () => {
    const home = tempDir('medeval-home-');
    writeFileSync(join(home, '.bashrc'), '# mine\n');
    // A run folder that does not exist: were the check late, the command would fail on it instead.
    const missing = join(home, 'no-such-run');
    const root = medeval(['report', missing, '--out', '/'], { HOME: home });
    expect(root.status).toBe(2);
    expect(root.stderr).toContain('is the root of the file system');
    const homeOut = await inProcess(['report', missing, '--out', home], { HOME: home });
    expect(homeOut.status).toBe(2);
    expect(homeOut.stderr).toContain('is your home folder');

    const file = join(home, 'report.txt');
    writeFileSync(file, 'mine\n');
    const onFile = await inProcess(['report', STORED_RUN, '--out', file, '--no-charts', '--no-html']);
    expect(onFile.status, onFile.stderr).toBe(2);
    expect(onFile.stderr).toContain('is a file, not a folder');
    expect(onFile.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    const under = await inProcess(['report', STORED_RUN, '--out', join(file, 'sub'), '--no-charts', '--no-html']);
    expect(under.status).toBe(2);
    expect(under.stderr).toContain('is a file, so');
    expect(under.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('compare, schema, make-model and gate check their output paths the same way', async () => {
    const user = userFolder();
    const before = user.snapshot();
    const dir = tempDir();
    const runner = writeRunnerProfile(dir, '/nonexistent.gguf');
    const cmp = await inProcess(['compare', '--suite', writeSuite(dir), '--baseline', runner, '--compressed', runner, '--out', user.dir]);
    expect(cmp.status).toBe(2);
    expect(cmp.stderr).toContain('not a medeval compare folder');
    const schema = await inProcess(['schema', '--out', user.dir]);
    expect(schema.status).toBe(2);
    const model = await inProcess(['make-model', '--out', user.dir]);
    expect(model.status).toBe(2);
    expect(model.stderr).toContain('is a folder, not a file');
    const gate = await inProcess(['gate', '--baseline', STORED_RUN, '--current', STORED_RUN, '--max-drop', '2', '--json', user.dir]);
    expect(gate.status).toBe(2);
    expect(gate.stderr).toContain('field "--json"');
    expect(user.snapshot()).toEqual(before);
  });

  it('report writes again into its own report folder and into a compare folder', async () => {
    const dir = tempDir();
    const out = join(dir, 'report');
    for (let i = 0; i < 2; i++) {
      const r = await inProcess(['report', STORED_RUN, '--out', out, '--no-charts', '--no-html']);
      expect(r.status, r.stderr).toBe(0);
    }
    expect(existsSync(join(out, 'report.json'))).toBe(true);
    // A compare folder before its reports exist: runs/ with run folders in it.
    const cmp = join(dir, 'cmp');
    cpSync(STORED_RUN, join(cmp, 'runs', 'baseline-demo-f32'), { recursive: true });
    const r = await inProcess(['report', join(cmp, 'runs', 'baseline-demo-f32'), '--out', cmp, '--no-charts', '--no-html']);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('checkOutDir: which folders are medeval\'s own', () => {
  it('recognises run, report, compare, schema and tiny-ONNX folders, and nothing else', () => {
    const dir = tempDir();
    const make = (name: string, files: Record<string, string>) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(join(d, f, '..'), { recursive: true });
        writeFileSync(join(d, f), text);
      }
      return d;
    };
    const run = make('run', { 'manifest.json': '{"schema":1,"medevalVersion":"0.1.0"}', 'summary.md': '' });
    const journalOnly = make('journal-only', { 'results.jsonl': '{"itemId":"q1","sample":0}\n' });
    const report = make('report', { 'report.json': '{"schemaVersion":"medeval.report/1"}', 'report.md': '' });
    const compare = make('compare', { 'runs/baseline-x/manifest.json': '{"medevalVersion":"0.1.0"}', 'runs/compressed-y/.keep': '' });
    const failedStart = make('failed-start', { 'runs/baseline-x/.gitkeep': '' });
    const foreignManifest = make('web-app', { 'manifest.json': '{"name":"my app","icons":[]}' });
    const schemas = make('schemas', { 'suite.schema.json': '{}', 'README.md': '' });
    const onnx = make('onnx', { 'medeval-tiny-onnx.json': '{}', 'model.onnx': '' });
    const empty = make('empty', {});

    expect(checkOutDir(run, 'run')).toBe(run);
    expect(checkOutDir(journalOnly, 'run')).toBe(journalOnly);
    expect(checkOutDir(empty, 'run')).toBe(empty);
    expect(checkOutDir(join(dir, 'new', 'deeper'), 'run')).toBe(join(dir, 'new', 'deeper'));
    expect(checkOutDir(undefined, 'run')).toBeUndefined();
    expect(refusal(() => checkOutDir(foreignManifest, 'run')).place.field).toBe('--out');
    expect(refusal(() => checkOutDir(report, 'run')).message).toContain('not a medeval run folder');

    expect(checkOutDir(report, 'report')).toBe(report);
    expect(checkOutDir(run, 'report')).toBe(run);
    expect(checkOutDir(compare, 'report')).toBe(compare);
    expect(refusal(() => checkOutDir(compare.replace('compare', 'web-app'), 'report')).message).toContain('manifest.json');

    expect(checkOutDir(compare, 'compare')).toBe(compare);
    expect(checkOutDir(report, 'compare')).toBe(report);
    expect(checkOutDir(failedStart, 'compare')).toBe(failedStart);
    refusal(() => checkOutDir(run, 'compare'));

    expect(checkOutDir(schemas, 'schemas')).toBe(schemas);
    refusal(() => checkOutDir(run, 'schemas'));
    expect(checkOutDir(onnx, 'onnx-model')).toBe(onnx);
    refusal(() => checkOutDir(schemas, 'onnx-model'));

    expect(refusal(() => checkOutDir('  ', 'report')).message).toContain('empty path');
    expect(refusal(() => checkOutFile(dir, '--junit')).message).toContain('is a folder, not a file');
    expect(checkOutFile(join(dir, 'gate', 'junit.xml'), '--junit')).toBe(join(dir, 'gate', 'junit.xml'));
    expect(refusal(() => checkOutFile(join(run, 'summary.md', 'x.xml'), '--junit')).message).toContain('is a file, so');
  });
});

describe('a dataset path that is a folder (CLI)', () => {
  it('exits 2 naming the field, with a hint, not a bare EISDIR', () => {
    const dir = tempDir();
    const folder = join(dir, 'data');
    mkdirSync(folder);
    writeFileSync(join(folder, 'test.jsonl'), readFileSync(SAMPLE));
    const suite = writeSuite(dir);
    writeFileSync(suite, readFileSync(suite, 'utf8').replace(/path: .*/, `path: ${folder}`));
    const r = medeval(['run', '--suite', suite, '--runner', writeRunnerProfile(dir, '/nonexistent.gguf'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${folder} field "path": is a folder, not a dataset file`);
    expect(r.stderr).toContain(`hint: point path at a file in it, e.g. ${join(folder, 'test.jsonl')}`);
    expect(r.stderr).not.toContain('EISDIR');
  });
});

describe('control characters on the terminal', () => {
  const ESC = '\u001b';

  it('a dataset whose record carries ESC sequences: the error on stderr shows them escaped', () => {
    const dir = tempDir();
    const data = join(dir, 'evil.jsonl');
    const rec = JSON.parse(readFileSync(SAMPLE, 'utf8').split('\n')[0]!) as { options: Record<string, string> };
    // An option key that clears the screen and paints red, as a hostile or corrupted file might.
    rec.options = { A: 'x', [`${ESC}[2J${ESC}[31mB`]: 'y' };
    writeFileSync(data, JSON.stringify(rec) + '\n');
    const suite = writeSuite(dir);
    writeFileSync(suite, readFileSync(suite, 'utf8').replace(/path: .*/, `path: ${data}`));
    const r = medeval(['run', '--suite', suite, '--runner', writeRunnerProfile(dir, '/nonexistent.gguf'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('\\x1b[2J\\x1b[31mB');
    expect(r.stderr).not.toContain(ESC);
  });

  it('progress lines escape what a dataset or a model put in warnings and stop reasons', () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    let text = '';
    (stream as unknown as PassThrough).on('data', (c: Buffer) => (text += c.toString('utf8')));
    const p = progressReporter(`lab${ESC}]0;pwned\u0007el`, stream);
    const dataset = { name: 'd', skipped: [{ place: 'f:3', reason: `bad ${ESC}[5m` }], warnings: [`w\r${ESC}[1A`] } as unknown as LoadedDataset;
    p.onEvent({ type: 'validated', dataset, items: 1, todo: 1, resumed: 0, resumedCorrect: 0 });
    p.onEvent({ type: 'stopped', reason: `server said ${ESC}[31mboom\u202e` });
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\r');
    expect(text).toContain('server said \\x1b[31mboom\\u202e');
    expect(text).toContain('w\\r\\x1b[1A');
    expect(text).toContain('[lab\\x1b]0;pwned\\x07el]');
  });

  it('terminalSafe keeps newlines, tabs and ordinary Unicode', () => {
    expect(terminalSafe('a\tb\nc – é 中文 ✓')).toBe('a\tb\nc – é 中文 ✓');
    expect(terminalSafe('\u0000\u007f\u009b')).toBe('\\x00\\x7f\\x9b');
  });
});
