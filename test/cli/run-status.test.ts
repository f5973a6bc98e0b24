// Runs whose requests failed never say they finished: `medeval run` and `medeval compare` against the
// llama-server double answering some prompts with 500/503 end "incomplete", exit 1, with the count and
// the command that resumes; running that command re-sends exactly the failed prompts and then finishes.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unitHash } from '../doubles/fault-schedule.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO } from '../helpers/tiny-run.js';
import { answerScript, promptOf, readJournal, tempDir, writeSampleSuite, writeServerProfile } from '../reliability/helpers.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];

/** Runs the CLI without blocking this process (the double answers from here). */
function medeval(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, env: { ...process.env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The words of the command a hint names (`... : medeval run ...`), for running it as the user would. */
function hintedCommand(stderr: string, command: string): string[] {
  const line = stderr.split('\n').find((l) => l.includes('hint:') && l.includes(`medeval ${command} `));
  expect(line, stderr).toBeDefined();
  const words = line!.slice(line!.indexOf(`medeval ${command} `)).split(' ');
  expect(words.every((w) => !w.startsWith("'")), 'no quoting needed for these temp paths').toBe(true);
  return words.slice(1);
}

const doubles: LlamaServerDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

/** A double that answers 500 or 503 to prompts picked by hash, and records every generation prompt. */
async function flakyDouble(failing: (prompt: string) => boolean) {
  const d = await new LlamaServerDouble().start();
  doubles.push(d);
  d.script = answerScript;
  const prompts: string[] = [];
  const failed = new Set<string>();
  let on = true;
  d.failureFor = (body) => {
    const p = promptOf(body);
    prompts.push(p);
    if (!on || !failing(p)) return null;
    failed.add(p);
    return { status: unitHash(`status:${p}`) < 0.5 ? 500 : 503 };
  };
  return { d, prompts, failed, heal: () => (on = false) };
}

describe('run status when requests fail', () => {
  it('a run with items in error is "incomplete", exit 1, with the count and the --resume command that re-runs exactly those', async () => {
    const dir = tempDir('medeval-status-');
    const suite = writeSampleSuite(dir, { limit: 12 });
    const server = await flakyDouble((p) => unitHash(`fail:${p}`) < 0.4);
    const profile = writeServerProfile(dir, server.d.baseUrl, { retries: 0 });
    const out = join(dir, 'run');

    const first = await medeval(['run', '--suite', suite, '--runner', profile, '--out', out, '--no-cache']);
    const failed = server.failed.size;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(12);
    expect(first.code, first.stderr).toBe(1);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('incomplete');
    expect(readJournal(out).filter((r) => r.error)).toHaveLength(failed);
    expect(first.stderr).toContain(`run incomplete: ${failed} of 12 records ended in error`);
    expect(first.stderr).toContain(`re-runs exactly the ${failed} in error`);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(`Incomplete: ${failed} of 12 records ended in error`);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).run.status).toBe('incomplete');

    // The server is fixed; the hinted command re-sends exactly the failed prompts, then the run is finished.
    server.heal();
    const sentBefore = server.prompts.length;
    const again = hintedCommand(first.stderr, 'run');
    expect(again).toContain('--resume');
    const second = await medeval(again);
    expect(second.code, second.stderr).toBe(0);
    expect(server.prompts.slice(sentBefore).sort()).toEqual([...server.failed].sort());
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('finished');
    const journal = readJournal(out);
    expect(journal.filter((r) => !r.error)).toHaveLength(12);
    expect(second.stderr).not.toContain('hint:');
  });

  it('a run where every request failed is not "finished" either', async () => {
    const dir = tempDir('medeval-status-');
    const suite = writeSampleSuite(dir, { limit: 6 });
    const server = await flakyDouble(() => true);
    const out = join(dir, 'run');
    const r = await medeval(['run', '--suite', suite, '--runner', writeServerProfile(dir, server.d.baseUrl, { retries: 0 }), '--out', out, '--no-cache']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('incomplete');
    expect(r.stderr).toContain('run incomplete: 6 of 6 records ended in error');
  });

  it('medeval compare goes on past an incomplete run, reports, exits 1 and names the command that completes both', async () => {
    const dir = tempDir('medeval-status-');
    const suite = writeSampleSuite(dir, { limit: 6 });
    // The compressed model's server fails some prompts; the baseline's answers all.
    const good = await flakyDouble(() => false);
    const bad = await flakyDouble((p) => unitHash(`fail:${p}`) < 0.5);
    const profileFor = (label: string, baseUrl: string) => {
      const file = join(dir, `${label}.yaml`);
      writeFileSync(file, `kind: llama-server\nlabel: ${label}\nmode: attached\nbaseUrl: ${baseUrl}\nretries: 0\n`);
      return file;
    };
    const baseFile = profileFor('base', good.d.baseUrl);
    const comp = profileFor('comp', bad.d.baseUrl);
    const out = join(dir, 'cmp');

    const first = await medeval(['compare', '--suite', suite, '--baseline', baseFile, '--compressed', comp, '--out', out]);
    const failed = bad.failed.size;
    expect(failed).toBeGreaterThan(0);
    expect(first.code, first.stderr).toBe(1);
    expect(first.stderr).toContain(`compressed: run incomplete: ${failed} of 6 records ended in error`);
    expect(first.stdout + first.stderr).toMatch(/report/i);
    const compDir = join(out, 'runs', 'compressed-comp');
    expect(JSON.parse(readFileSync(join(compDir, 'manifest.json'), 'utf8')).status).toBe('incomplete');
    expect(JSON.parse(readFileSync(join(out, 'runs', 'baseline-base', 'manifest.json'), 'utf8')).status).toBe('finished');

    bad.heal();
    const sentBefore = bad.prompts.length;
    const goodBefore = good.prompts.length;
    const second = await medeval(hintedCommand(first.stderr, 'compare'));
    expect(second.code, second.stderr).toBe(0);
    expect(bad.prompts.slice(sentBefore).sort()).toEqual([...bad.failed].sort());
    expect(good.prompts.length).toBe(goodBefore);
    expect(JSON.parse(readFileSync(join(compDir, 'manifest.json'), 'utf8')).status).toBe('finished');
  });
});
