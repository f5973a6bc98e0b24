// kill -9 at the four moments a run folder can be caught in, with a real `medeval run` child against
// the llama-server double (a real HTTP server on loopback in this process). The double holds the one
// request that marks the moment (never answers it) and says when it arrived; the test then kills the
// child. `--resume` must turn every such folder into a finished run, and exit 0.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO, tempDir, writeSuite } from '../helpers/tiny-run.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];
const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const LIMIT = 8;
const WARMUP = 1;

/** The double, able to hold one kind of request (no answer at all) and tell the test it came. */
class HoldingDouble extends LlamaServerDouble {
  hold: ((path: string) => boolean) | null = null;
  readonly held = new EventEmitter();
  protected override async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.hold?.(path)) {
      this.held.emit('held', path);
      return; // the socket stays open until the client dies
    }
    return super.route(method, path, raw, receivedAt, req, res);
  }
}

let server: HoldingDouble;
beforeAll(async () => {
  server = await new HoldingDouble().start();
  server.script = () => ({ chunks: [{ delayMs: 0, content: 'Answer: B' }], finishReason: 'stop' });
});
afterAll(async () => server?.stop());

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }

function start(args: string[]): { child: ReturnType<typeof spawn>; exited: Promise<Exit> } {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  let stderr = '', stdout = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.on('data', (d) => (stdout += d));
  // 'close', not 'exit': only then has all of the child's output been read (the last lines come late on a busy machine).
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout })));
  return { child, exited };
}

/** Runs the child until the double holds a request matching `hold`, then kill -9. */
async function killWhenHeld(args: string[], hold: (path: string) => boolean): Promise<Exit> {
  server.hold = hold;
  try {
    const heldNow = once(server.held, 'held');
    const { child, exited } = start(args);
    await Promise.race([heldNow, exited.then((e) => Promise.reject(new Error(`child ended before the moment: ${e.code} ${e.stderr}`)))]);
    child.kill('SIGKILL');
    const e = await exited;
    expect(e.signal).toBe('SIGKILL');
    return e;
  } finally {
    server.hold = null;
  }
}

function setup() {
  const dir = tempDir('medeval-kill-');
  const suite = writeSuite(dir, { constrain: false, load: `  profile: sequential\n  warmup: ${WARMUP}` });
  const profile = join(dir, 'double.yaml');
  writeFileSync(profile, `kind: llama-server\nlabel: double\nmode: attached\nbaseUrl: ${server.baseUrl}\nrequestTimeoutMs: 600000\n`);
  const out = join(dir, 'run');
  const args = (...extra: string[]) => ['run', '--suite', suite, '--runner', profile, '--out', out, '--limit', String(LIMIT), '--no-cache', ...extra];
  return { dir, out, args };
}

const lines = (out: string) => readFileSync(join(out, 'results.jsonl'), 'utf8');
/** Records on disk now (the child appends each one before it sends the next request). */
const onDisk = (out: string) => (existsSync(join(out, 'results.jsonl')) ? lines(out).split('\n').filter(Boolean).length : 0);
const records = (out: string) => lines(out).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { itemId: string; sample: number });
const manifestOf = (out: string) => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { status: string; suite: { items: number } };

/** What every resumed folder must end as: finished, each item once, a summary, and `report` reads it. */
async function expectFinished(out: string): Promise<void> {
  expect(manifestOf(out).status).toBe('finished');
  const rs = records(out);
  expect(rs).toHaveLength(LIMIT);
  expect(new Set(rs.map((r) => r.itemId)).size).toBe(LIMIT);
  expect(lines(out).endsWith('\n')).toBe(true);
  expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).run.status).toBe('finished');
  const report = await start(['report', out, '--out', join(out, '..', 'report'), '--no-charts', '--no-html']).exited;
  expect(report.stderr).not.toMatch(/not valid JSON/);
  expect(report.code).toBe(0);
}

describe('kill -9, then --resume', () => {
  it('before manifest.json exists (while connecting): --resume starts the run and says so', async () => {
    const { out, args } = setup();
    await killWhenHeld(args(), (p) => p === '/health');
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    const resumed = await start(args('--resume')).exited;
    expect(resumed.stderr).toContain('holds no started run (no manifest.json yet); starting the run from the beginning');
    expect(resumed.code).toBe(0);
    await expectFinished(out);
  });

  it('mid-run: --resume runs only what is missing', async () => {
    const { out, args } = setup();
    // Hold the request sent after the 3rd record: 3 records on disk.
    await killWhenHeld(args(), (p) => p === '/v1/chat/completions' && onDisk(out) === 3);
    expect(records(out)).toHaveLength(3);
    expect(manifestOf(out).status).toBe('running');
    const resumed = await start(args('--resume')).exited;
    expect(resumed.stderr).toContain('3 already done (resuming); 5 to run');
    expect(resumed.code).toBe(0);
    await expectFinished(out);
  });

  it('after the last record, before the final manifest: --resume finishes it without loading the model, exit 0', async () => {
    const { out, args } = setup();
    // The closing /metrics read comes after the last record and before the final manifest.
    await killWhenHeld(args(), (p) => p === '/metrics' && onDisk(out) === LIMIT);
    expect(records(out)).toHaveLength(LIMIT);
    expect(manifestOf(out).status).toBe('running');
    const requests = server.requests.length;
    const resumed = await start(args('--resume')).exited;
    expect(resumed.stderr).toContain(`all ${LIMIT} records were already in the journal`);
    expect(resumed.code).toBe(0);
    expect(server.requests.length).toBe(requests); // nothing was sent: the model was not needed
    await expectFinished(out);
  });

  it('torn last line: a complete record without its newline gets one, half a record is cut; report reads both', async () => {
    for (const tear of ['newline', 'half'] as const) {
      const { out, args } = setup();
      await killWhenHeld(args(), (p) => p === '/v1/chat/completions' && onDisk(out) === 4);
      const text = lines(out);
      expect(text.split('\n').filter(Boolean)).toHaveLength(4);
      // What a write cut short leaves: the last record without its newline, or only part of it.
      const torn = tear === 'newline' ? text.slice(0, -1) : text.slice(0, text.length - 40);
      writeFileSync(join(out, 'results.jsonl'), torn);
      const resumed = await start(args('--resume')).exited;
      expect(resumed.stderr).toContain(`${tear === 'newline' ? 4 : 3} already done (resuming)`);
      expect(resumed.code).toBe(0);
      await expectFinished(out);
    }
  }, 900_000);

  it('a start that fails before the first record leaves no run folder behind', async () => {
    const dir = tempDir('medeval-kill-');
    const model = join(dir, 'tiny.gguf');
    writeFileSync(model, Buffer.alloc(4096, 1));
    const profile = join(dir, 'managed.yaml');
    writeFileSync(profile, `kind: llama-server\nlabel: broken\nmode: managed\nbinary: ${FAKE}\nmodel: ${model}\nargs: ['--fake-exit-at-start', 'cannot load the model']\nstartupTimeoutMs: 60000\n`);
    const out = join(dir, 'run');
    const r = await start(['run', '--suite', writeSuite(dir), '--runner', profile, '--out', out, '--limit', '2', '--no-cache']).exited;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot load the model');
    expect(existsSync(out)).toBe(false);
  });
});
