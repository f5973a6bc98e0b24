// `medeval datasets ...` and a suite's `dataset.hub`, as a user runs them: real processes against the
// Hub double on loopback (HF_ENDPOINT), a temporary cache (MEDEVAL_CACHE), exit codes 0 / 1 / 2.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubDouble } from '../doubles/hub-double.js';
import { addKnownRepos, COMMIT_4 } from '../helpers/hub-fixtures.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

const CLI = [...['--import', 'tsx'], join(REPO, 'src/cli/bin.ts')];

/** Runs the CLI without blocking this process (the double answers from here). */
function medeval(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, env: { ...process.env, CI: '1', HF_TOKEN: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let hub: HubDouble;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  hub = new HubDouble();
  addKnownRepos(hub);
  await hub.start();
  env = { HF_ENDPOINT: hub.url, MEDEVAL_CACHE: tempDir('medeval-cli-cache-') };
});
afterEach(async () => {
  await hub.stop();
});

function writeSuiteAndRunner(dir: string, dataset: string): { suite: string; runner: string } {
  const suite = join(dir, 'suite.yaml');
  writeFileSync(suite, `name: hub-suite\ndataset:\n${dataset}\nprompts: ${join(REPO, 'suites/prompts')}\nsampling: { temperature: 0, maxTokens: 16 }\nload: { warmup: 0 }\n`);
  writeFileSync(join(dir, 'script.jsonl'), `${JSON.stringify({ default: true, text: 'Answer: B' })}\n`);
  const runner = join(dir, 'scripted.yaml');
  writeFileSync(runner, 'kind: scripted\nlabel: scripted\nscript: ./script.jsonl\n');
  return { suite, runner };
}

describe('medeval datasets', () => {
  it('fetch prints plain progress lines off a terminal, list shows the pins and what is cached, verify passes', async () => {
    const fetched = await medeval(['datasets', 'fetch', 'medqa-us-4'], env);
    expect(fetched.status, fetched.stderr).toBe(0);
    expect(fetched.stderr).toMatch(/^downloading phrases_no_exclude_test\.jsonl: [\d.]+ MiB$/m);
    expect(fetched.stderr).toMatch(/^downloaded phrases_no_exclude_test\.jsonl: [\d.]+ MiB in [\d.]+ s$/m);
    expect(fetched.stdout).toContain(`GBaker/MedQA-USMLE-4-options at ${COMMIT_4} (catalog pin)`);
    const list = await medeval(['datasets', 'list'], env);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/medqa-us-4[\s\S]*cached: +revision 0fb93dd23a73/);
    expect(list.stdout).toMatch(/medmcqa[\s\S]*revision unverified: the branch head, recorded on first fetch[\s\S]*cached: +no/);
    expect(list.stdout).toContain('file sha256 unverified: recorded on first fetch, then enforced');
    const verify = await medeval(['datasets', 'verify'], env);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('medqa-us-4 at 0fb93dd23a73: 1 file(s) match the lock file');
  });

  it('a gated set without HF_TOKEN exits 2 with what to do', async () => {
    hub.repos.get('openlifescienceai/medmcqa')!.gated = { token: 'hf_doubleReadToken123' };
    const r = await medeval(['datasets', 'fetch', 'medmcqa'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/HTTP 401/);
    expect(r.stderr).toMatch(/set HF_TOKEN to a read token/);
  });

  it('a suite with dataset.hub fetches on first use, then runs offline from the cache; the manifest names the commit', async () => {
    const dir = tempDir();
    const { suite, runner } = writeSuiteAndRunner(dir, '  hub: medqa-us-4');
    const first = await medeval(['run', '--suite', suite, '--runner', runner, '--out', join(dir, 'run1'), '--no-cache'], env);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain(`fetched GBaker/MedQA-USMLE-4-options at ${COMMIT_4} into the cache`);
    await hub.stop();
    const offline = await medeval(['run', '--suite', suite, '--runner', runner, '--out', join(dir, 'run2'), '--no-cache'], env);
    expect(offline.status, offline.stderr).toBe(0);
    expect(offline.stderr).not.toContain('fetched');
    const manifest = JSON.parse(readFileSync(join(dir, 'run2', 'manifest.json'), 'utf8'));
    expect(manifest.suite.hub).toMatchObject({ name: 'medqa-us-4', repo: 'GBaker/MedQA-USMLE-4-options', revision: COMMIT_4, chosenOnPurpose: false });
    expect(manifest.suite.items).toBe(3);
  });

  it('offline before any fetch: exit 2 naming the suite field and the fetch command', async () => {
    const dir = tempDir();
    const { suite, runner } = writeSuiteAndRunner(dir, '  hub: medqa-us-4');
    await hub.stop();
    const r = await medeval(['run', '--suite', suite, '--runner', runner, '--out', join(dir, 'run'), '--no-cache'], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${suite} field "dataset.hub"`);
    expect(r.stderr).toMatch(/not in the cache .* cannot reach the Hub/);
    expect(r.stderr).toContain('medeval datasets fetch medqa-us-4');
  });
});
