// The API key named by a profile's `apiKeyEnv` must never be written anywhere: not in the run folder,
// not in the response cache, not in a published report, not on the CLI's stdout/stderr, even when the
// server quotes the Authorization header back in its error messages. Every file written is searched.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/core/run.js';
import { publishReport } from '../../src/report/publish.js';
import { loadRunnerProfile } from '../../src/runners/registry.js';
import { SeededFaultSchedule } from '../doubles/fault-schedule.js';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import type { Failure } from '../doubles/scripted-sse.js';
import { REPO } from '../helpers/tiny-run.js';
import { answerScript, readJournal, tempDir, writeSampleSuite, writeServerProfile } from './helpers.js';

const run = promisify(execFile);
const ENV = 'MEDEVAL_RELIABILITY_TEST_KEY';
const CORE = randomBytes(12).toString('hex');
const KEY = `sk-test-SECRET-${CORE}`;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Places where the key (or its random part, in case it was cut) appears: "file: ...context...". */
function leaks(files: string[], extra: Record<string, string> = {}): string[] {
  const found: string[] = [];
  const look = (where: string, text: string) => {
    const at = text.indexOf(CORE);
    if (at >= 0) found.push(`${where}: ...${text.slice(Math.max(0, at - 120), at + 40)}...`);
  };
  for (const f of files) look(f, readFileSync(f).toString('latin1'));
  for (const [name, text] of Object.entries(extra)) look(name, text);
  return found;
}

async function cliRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
      cwd: REPO,
      env: { ...process.env, [ENV]: KEY, NO_COLOR: '1' },
      timeout: 300_000, // the test's own limit: a hang, not a slow machine
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe('the API key never leaves the environment variable', () => {
  let server: LlamaServerDouble;
  beforeEach(async () => {
    process.env[ENV] = KEY;
    server = await new LlamaServerDouble().start();
    server.script = answerScript;
    server.requireApiKey = KEY;
  });
  afterEach(async () => {
    delete process.env[ENV];
    await server.stop();
  });

  it('a server that needs the key: the run works, and the key is in no file and no CLI output', async () => {
    const dir = tempDir('medeval-secret-ok-');
    const suite = writeSampleSuite(dir, { limit: 12 });
    const profileFile = writeServerProfile(dir, server.baseUrl, { apiKeyEnv: ENV, retries: 0 });
    const out = join(dir, 'run');
    const outcome = await runSuite({ suite, runner: await loadRunnerProfile(profileFile), out, cacheDir: join(dir, 'cache') });
    expect(outcome.manifest.status).toBe('finished');
    expect(outcome.results.filter((r) => r.error)).toEqual([]);
    // The key did reach the server, on every request that needs it.
    const gens = server.records;
    expect(gens.length).toBe(12);
    expect(gens.every((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    await publishReport([out], join(dir, 'report'));

    const cli = await cliRun(['run', '-s', suite, '-r', profileFile, '-o', join(dir, 'cli-run'), '--cache-dir', join(dir, 'cli-cache')]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(readJournal(join(dir, 'cli-run')).length).toBe(12);

    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(10);
    expect(leaks(files, { 'CLI stdout': cli.stdout, 'CLI stderr': cli.stderr })).toEqual([]);
  });

  it('a server that echoes the Authorization header into its errors: errors are recorded, the key is not', async () => {
    server.echoAuthorization = true;
    // A mix of failures that quote the header: 401, 500, and an error object inside the stream.
    const schedule = new SeededFaultSchedule({ seed: 5, rate: 0.6, kinds: ['http-500'] });
    const echoing: Failure[] = [
      { status: 401, body: JSON.stringify({ error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } }) },
      { status: 500 },
      { streamErrorAfterChunks: 1, message: 'slot failed' },
    ];
    let n = 0;
    server.failureFor = (body) => (schedule.failureFor(body) ? echoing[n++ % echoing.length]! : null);

    const dir = tempDir('medeval-secret-echo-');
    const suite = writeSampleSuite(dir, { limit: 12 });
    const profileFile = writeServerProfile(dir, server.baseUrl, { apiKeyEnv: ENV, retries: 0 });
    const out = join(dir, 'run');
    const outcome = await runSuite({ suite, runner: await loadRunnerProfile(profileFile), out, cacheDir: join(dir, 'cache') });
    const errors = outcome.results.filter((r) => r.error);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(errors.map((r) => r.error!.kind))).toEqual(new Set(['http-4xx', 'http-5xx', 'bad-response']));
    // The server did send the key back: what medeval keeps of its messages shows where it was cut out.
    expect(errors.some((r) => r.error!.message.includes('[redacted]'))).toBe(true);
    await publishReport([out], join(dir, 'report'));

    // The same through the CLI (the schedule goes on, so other requests fail there).
    const cli = await cliRun(['run', '-s', suite, '-r', profileFile, '-o', join(dir, 'cli-run'), '--no-cache']);
    expect(readJournal(join(dir, 'cli-run')).filter((r) => r.error).length).toBeGreaterThan(0);

    const found = leaks(filesUnder(dir), { 'CLI stdout': cli.stdout, 'CLI stderr': cli.stderr });
    expect(found).toEqual([]);
  });

  // A /metrics error that quotes the header (a 501 without --metrics, or a 401 for a wrong key) once
  // leaked the key into model.extra.metrics -> manifest.json, summary.json, report.json, report.html.
  it('a /metrics error quoting the header does not reach the manifest', async () => {
    server.echoAuthorization = true;
    server.metricsEnabled = false; // its 501 answer quotes the header
    const dir = tempDir('medeval-secret-metrics-');
    const suite = writeSampleSuite(dir, { limit: 2 });
    const profileFile = writeServerProfile(dir, server.baseUrl, { apiKeyEnv: ENV, retries: 0 });
    const out = join(dir, 'run');
    await runSuite({ suite, runner: await loadRunnerProfile(profileFile), out, cacheDir: false });
    expect(leaks(filesUnder(out))).toEqual([]);
  });
});
