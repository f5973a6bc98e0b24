// Runs without writing YAML: `--model`, `--base-url`, `--dataset` and the sampling flags make the suite and
// the runner profile on the fly, recorded in manifest.json as files would be (the same profile object and
// config hash: a flags run resumes from equivalent files); `run` ends with compare's results table.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sideBySide } from '../../src/cli/console-summary.js';
import { InputError } from '../../src/core/errors.js';
import { readRunFolder } from '../../src/core/run-folder.js';
import { buildReport } from '../../src/report/build.js';
import { runnerForRun } from '../../src/runners/flag-profile.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { suiteForRun } from '../../src/run/suite.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { VllmDouble } from '../doubles/vllm-double.js';
import { REPO, SAMPLE, tempDir, tinyModel } from '../helpers/tiny-run.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];

/** The CLI as a child process (async: a double in this process must keep answering it). */
async function medeval(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, env: { ...process.env, CI: '1', ...env } });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, stdout, stderr };
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

let model: string;
beforeAll(async () => {
  model = await tinyModel('F32');
});

describe('medeval run without YAML', () => {
  it('--model and --dataset: the profile and suite a file would give, the same config hash, and compare\'s table', async () => {
    const dir = tempDir();
    const out = join(dir, 'run');
    const r = await medeval(['run', '--model', model, '--dataset', SAMPLE, '--threads', '1', '--limit', '2', '--max-tokens', '8', '--temperature', '0', '--top-p', '1', '--no-cache', '--out', out]);
    expect(r.stderr).not.toMatch(/Error:/);
    expect(r.status).toBe(0);
    const m = manifest(out);
    expect(m.runner).toMatchObject({ kind: 'llama-cpp-embedded', profileFile: null, source: 'flags' });
    expect(m.suite).toMatchObject({ file: null, source: 'flags', name: 'usmle-sample', smokeTest: true, items: 2 });
    expect(m.sampling).toEqual({ temperature: 0, topP: 1, maxTokens: 8 });

    // The same profile object as a file holding those fields.
    const profileFile = join(dir, 'p.yaml');
    writeFileSync(profileFile, `kind: llama-cpp-embedded\nlabel: tiny-llama-test-f32\nmodel: ${model}\nthreads: 1\n`);
    expect(m.runner.profile).toEqual((await loadRunnerProfile(profileFile)).profile);

    // Files with the same settings resume the flags run (the config hash matches): nothing left, no model loaded.
    const suiteFile = join(dir, 's.yaml');
    writeFileSync(suiteFile, `name: usmle-sample\ndataset:\n  path: ${SAMPLE}\nprompts: ${join(REPO, 'suites/prompts')}\nsampling:\n  temperature: 0\n  topP: 1\n  maxTokens: 8\n`);
    const again = await medeval(['run', '--suite', suiteFile, '--runner', profileFile, '--limit', '2', '--no-cache', '--out', out, '--resume']);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toMatch(/cannot resume/);
    expect(again.stderr).not.toMatch(/loaded in/);
    // A changed setting does not pass as the same run.
    const changed = await medeval(['run', '--suite', suiteFile, '--runner', profileFile, '--temperature', '0.5', '--limit', '2', '--out', out, '--resume']);
    expect(changed.status).toBe(2);
    expect(changed.stderr).toMatch(/cannot resume/);

    // The run ends with the table compare prints, this run as its one column.
    const table = sideBySide(buildReport({ runs: [readRunFolder(out)], includeItems: false }));
    expect(table).toMatch(/accuracy/);
    expect(r.stdout).toContain(table);
  });

  it('--base-url: llama-server found by /props, vLLM by /v1/models owned_by "vllm", the API key sent and never stored', async () => {
    const llama = await new LlamaServerDouble().start();
    stops.push(() => llama.stop());
    const vllm = await new VllmDouble().start();
    stops.push(() => vllm.stop());
    const a = await runnerForRun(undefined, { baseUrl: llama.baseUrl });
    expect(a).toMatchObject({ file: null, source: 'flags', profile: { kind: 'llama-server', mode: 'attached', baseUrl: llama.baseUrl, label: 'stories260K' } });
    const v = await runnerForRun(undefined, { baseUrl: vllm.baseUrl });
    expect(v.profile).toMatchObject({ kind: 'vllm', mode: 'attached', baseUrl: vllm.baseUrl, label: 'DeepSeek-R1-Distill-Qwen-7B' });
    // --kind: nothing asked of the server; --model-name: vLLM's served model name and the label.
    const before = vllm.requests.length;
    const named = await runnerForRun(undefined, { baseUrl: vllm.baseUrl, kind: 'vllm', modelName: 'r1-awq' });
    expect(named.profile).toMatchObject({ kind: 'vllm', label: 'r1-awq', model: 'r1-awq' });
    expect(vllm.requests.length).toBe(before);

    // A whole run through the CLI, with a key the server requires on /props and the generations.
    llama.requireApiKey = 'sk-test-flags-123';
    const out = join(tempDir(), 'run');
    const r = await medeval(['run', '--base-url', llama.baseUrl, '--api-key-env', 'MEDEVAL_FLAGS_KEY', '--dataset', SAMPLE, '--limit', '2', '--max-tokens', '8', '--no-cache', '--out', out],
      { MEDEVAL_FLAGS_KEY: 'sk-test-flags-123' });
    expect(r.stderr).toMatch(/llama-server \(GET \/props answered/);
    expect(r.status).toBe(0);
    const m = manifest(out);
    expect(m.runner).toMatchObject({ kind: 'llama-server', source: 'flags', profile: { apiKeyEnv: 'MEDEVAL_FLAGS_KEY', baseUrl: llama.baseUrl } });
    expect(llama.requests.some((q) => q.path === '/props' && q.headers.authorization === 'Bearer sk-test-flags-123')).toBe(true);
    for (const f of ['manifest.json', 'results.jsonl', 'summary.md']) expect(readFileSync(join(out, f), 'utf8')).not.toContain('sk-test-flags-123');
    expect(r.stdout + r.stderr).not.toContain('sk-test-flags-123');
  });

  it('a base URL where neither /props nor /v1/models answers as a known server is bad input naming --kind', async () => {
    const other = createServer((_req, res) => res.writeHead(404).end('{"detail":"Not Found"}'));
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    stops.push(async () => void other.close());
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const e = await runnerForRun(undefined, { baseUrl: url }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(/cannot tell which server runs at .*\/props HTTP 404; \/v1\/models HTTP 404[\s\S]*--kind llama-server or --kind vllm/);
    const r = await medeval(['run', '--base-url', url, '--dataset', SAMPLE, '--out', join(tempDir(), 'x')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--kind/);
  });

  it('flags over files, and flags that do not fit are refused, not ignored', async () => {
    const dir = tempDir();
    const profileFile = join(dir, 'p.yaml');
    writeFileSync(profileFile, `kind: llama-cpp-embedded\nlabel: mine\nmodel: ${model}\nthreads: 1\n`);
    const over = await runnerForRun(profileFile, { threads: 3, contextSize: 512 });
    expect(over).toMatchObject({ file: profileFile, source: 'file+flags', profile: { label: 'mine', threads: 3, contextSize: 512 } });
    await expect(runnerForRun(undefined, { baseUrl: 'http://127.0.0.1:9', kind: 'vllm', threads: 2 })).rejects.toThrow(/--threads does not apply to a vllm runner/);
    await expect(runnerForRun(undefined, { model, baseUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/not both/);
    await expect(runnerForRun(undefined, {})).rejects.toThrow(/no runner/);

    // --dataset replaces a suite file's dataset; a Hub name is known by name; a typo gets the nearest name.
    const suite = await suiteForRun({ suite: join(REPO, 'suites/medqa-usmle.yaml'), dataset: SAMPLE });
    expect(suite).toMatchObject({ name: 'medqa-usmle-5', source: 'file+flags', datasetPath: SAMPLE, smokeTest: true, sampling: { maxTokens: 32768 } });
    expect((await suiteForRun({ dataset: 'medqa-us-4' })).dataset).toMatchObject({ hub: 'medqa-us-4' });
    await expect(suiteForRun({ dataset: 'medqa-us4' })).rejects.toThrow(/no file or folder "medqa-us4" and no known dataset of that name \(did you mean "medqa-us-4"\?\)/);
    await expect(suiteForRun({})).rejects.toThrow(/no suite and no dataset/);
  });
});
