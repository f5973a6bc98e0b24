// The medeval command line as a user runs it: real processes, real files, exit codes 0 / 1 / 2.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { watch } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, tempDir, tinyModel, writeRunnerProfile, writeSuite } from '../helpers/tiny-run.js';

const CLI = [...['--import', 'tsx'], join(REPO, 'src/cli/bin.ts')];
const medeval = (args: string[]) =>
  spawnSync(process.execPath, [...CLI, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CI: '1' } });

let model: string;
beforeAll(async () => {
  model = await tinyModel('F32');
});

/** Resolves when `ready()` holds, re-checking on every change in `dir` (created if missing), not on a timer. */
async function waitForFile(dir: string, ready: () => boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const stop = new AbortController();
  try {
    if (ready()) return;
    for await (const _ of watch(dir, { signal: stop.signal })) if (ready()) return;
  } finally {
    stop.abort();
  }
}

const journal = (dir: string) => readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('medeval CLI', () => {
  it('prints help for every command and exits 0', () => {
    const top = medeval(['--help']);
    expect(top.status).toBe(0);
    for (const cmd of ['run', 'compare', 'report', 'gate', 'make-model', 'demo']) expect(top.stdout).toContain(cmd);
    const run = medeval(['run', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--resume');
  });

  it('exits 2 with file:line and field for a bad dataset line, before loading any model', () => {
    const dir = tempDir();
    const data = join(dir, 'bad.jsonl');
    const good = readFileSync(join(REPO, 'datasets/sample/usmle-sample.jsonl'), 'utf8').split('\n')[0]!;
    const bad = JSON.parse(good);
    bad.answer_idx = 'Z';
    writeFileSync(data, `${good}\n${JSON.stringify(bad).replace('"id":"usmle-sample-001"', '"id":"x2"')}\n`);
    const suite = writeSuite(dir).replace('suite.yaml', 'suite.yaml');
    writeFileSync(suite, readFileSync(suite, 'utf8').replace(/path: .*/, `path: ${data}`));
    const r = medeval(['run', '--suite', suite, '--runner', writeRunnerProfile(dir, '/nonexistent.gguf'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${data}:2`);
    expect(r.stderr).toContain('answer_idx');
    expect(existsSync(join(dir, 'out', 'manifest.json'))).toBe(false);
  });

  it('exits 2 naming file:line and field for a runner profile with a wrong field', () => {
    const dir = tempDir();
    const profile = join(dir, 'runner.yaml');
    writeFileSync(profile, 'kind: llama-cpp-embedded\nlabel: x\nmodel: m.gguf\nthreads: lots\n');
    const r = medeval(['run', '--suite', writeSuite(dir), '--runner', profile]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${profile}:4 field "threads"`));
  });

  it('Ctrl-C stops sending, keeps what was journalled, writes the summary and exits 1 (interrupted)', async () => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const child = spawn(process.execPath, [...CLI, 'run', '--suite', writeSuite(dir), '--runner', writeRunnerProfile(dir, model), '--out', out, '--no-cache'],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))); // all of stderr read
    await waitForFile(out, () => existsSync(join(out, 'results.jsonl')) && readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').length > 3);
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(stderr).toContain('interrupted: stopping now; finished items are kept');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    const kept = journal(out);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(60);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.run.accuracy.overall.scored).toBe(kept.length);
  });

  it('survives kill -9 mid-run: --resume completes it with no item lost or duplicated, same as an uninterrupted run', async () => {
    const dir = tempDir();
    const suite = writeSuite(dir);
    const runner = writeRunnerProfile(dir, model);
    const whole = join(dir, 'whole');
    const cut = join(dir, 'cut');
    const args = (out: string) => ['run', '--suite', suite, '--runner', runner, '--out', out, '--limit', '24', '--no-cache'];
    expect(medeval(args(whole)).status).toBe(0);

    const child = spawn(process.execPath, [...CLI, ...args(cut)], { cwd: REPO, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Wait for a few journalled records, then kill without warning.
    const file = join(cut, 'results.jsonl');
    await waitForFile(cut, () => existsSync(file) && readFileSync(file, 'utf8').split('\n').length > 6);
    child.kill('SIGKILL');
    await exited;
    const partial = journal(cut).length;
    expect(partial).toBeLessThan(24);

    const resumed = medeval([...args(cut), '--resume']);
    expect(resumed.status).toBe(0);
    const a = journal(whole);
    const b = journal(cut);
    const keys = (rs: Array<{ itemId: string; sample: number }>) => rs.map((r) => `${r.itemId}#${r.sample}`);
    expect(new Set(keys(b)).size).toBe(b.length);
    expect(keys(b).sort()).toEqual(keys(a).sort());
    const letter = new Map(a.map((r) => [r.itemId, r.extracted.letter]));
    for (const r of b) expect(r.extracted.letter).toBe(letter.get(r.itemId));
  }, 900_000);
});
