// The API key named by a profile's `apiKeyEnv` must never be written anywhere: not in the run folder,
// not in the response cache, not in a published report, not on the CLI's stdout/stderr, even when the
// server quotes the Authorization header back in its error messages. Every file written is searched.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
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

/** How many times the key's random part appears in the files and texts (the canary count). */
function occurrences(files: string[], texts: Record<string, string> = {}): number {
  const count = (text: string) => text.split(CORE).length - 1;
  return files.reduce((sum, f) => sum + count(readFileSync(f).toString('latin1')), 0) + Object.values(texts).reduce((sum, t) => sum + count(t), 0);
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

  // The canary: one key, and a server that hands it back through every channel it has. Each channel
  // reaches medeval (asserted below), and the key must be in none of the files written by run, report
  // and gate, nor on the CLI's stdout or stderr.
  it('a server that echoes the key everywhere: errors, headers, /props, /metrics, malformed SSE, the answer text', async () => {
    server.leakAuthorization = true;
    const plays: Array<Failure | 'answer-with-key' | null> = [
      { status: 401, body: JSON.stringify({ error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } }) },
      { status: 500 },
      { streamErrorAfterChunks: 1, message: 'slot failed' },
      { malformedAfterChunks: 1 },
      'answer-with-key',
      null,
    ];
    let n = 0;
    let play: (typeof plays)[number] = null;
    server.failureFor = () => {
      play = plays[n++ % plays.length]!;
      return play === null || play === 'answer-with-key' ? null : play;
    };
    server.script = (body) => (play === 'answer-with-key'
      ? { chunks: [{ delayMs: 0, content: `Answer: B (the key you sent is Bearer ${KEY})` }], finishReason: 'stop' }
      : answerScript(body));

    const dir = tempDir('medeval-secret-canary-');
    const suite = writeSampleSuite(dir, { limit: 12 });
    const profileFile = writeServerProfile(dir, server.baseUrl, { apiKeyEnv: ENV, retries: 0 });
    const out = join(dir, 'run');
    const outcome = await runSuite({ suite, runner: await loadRunnerProfile(profileFile), out, cacheDir: join(dir, 'cache') });
    expect(outcome.results.length).toBe(12);
    const stored = readJournal(out);
    const messages = stored.filter((r) => r.error).map((r) => r.error!.message);
    // Every channel really carried the key to medeval, and what it stored shows where it was cut out.
    expect(messages.some((m) => m.includes('not JSON') && m.includes('[redacted]'))).toBe(true);
    expect(messages.some((m) => m.startsWith('HTTP 401') && m.includes('[redacted]'))).toBe(true);
    expect(messages.some((m) => m.startsWith('HTTP 500') && m.includes('[redacted]'))).toBe(true);
    expect(messages.some((m) => m.includes('slot failed') && m.includes('[redacted]'))).toBe(true);
    const keyAnswers = stored.filter((r) => JSON.stringify(r).includes('the key you sent is'));
    expect(keyAnswers.length).toBeGreaterThan(0);
    expect(keyAnswers.every((r) => JSON.stringify(r).includes('[redacted]'))).toBe(true);
    expect(server.requests.some((r) => r.path === '/props')).toBe(true);
    expect(server.requests.some((r) => r.path === '/metrics')).toBe(true);
    await publishReport([out], join(dir, 'report'));

    const cli = await cliRun(['run', '-s', suite, '-r', profileFile, '-o', join(dir, 'cli-run'), '--cache-dir', join(dir, 'cli-cache')]);
    expect(readJournal(join(dir, 'cli-run')).length).toBe(12);
    const report = await cliRun(['report', out, join(dir, 'cli-run'), '-o', join(dir, 'cli-report'), '--no-charts']);
    expect(report.code, report.stderr).toBe(0);
    const gate = await cliRun(['gate', '--baseline', out, '--current', join(dir, 'cli-run'), '--max-drop', '100',
      '--json', join(dir, 'gate', 'gate.json'), '--junit', join(dir, 'gate', 'junit.xml')]);
    expect(gate.stdout.length).toBeGreaterThan(0);

    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThan(30);
    const canary = occurrences(files, {
      'run stdout': cli.stdout, 'run stderr': cli.stderr, 'report stdout': report.stdout, 'report stderr': report.stderr,
      'gate stdout': gate.stdout, 'gate stderr': gate.stderr,
    });
    expect(canary, leaks(files, { 'run stderr': cli.stderr }).join('\n')).toBe(0);
  });
});
