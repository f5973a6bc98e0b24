// A compare worker killed with SIGKILL mid-comparison (a real `medeval compare` process, real worker
// processes, llama-server doubles on loopback): the comparison stops at once, incomplete, exit 1, names
// the worker and how it ended, and is never restarted behind the user's back; the command it names
// finishes the comparison with nothing answered lost or sent twice.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO } from '../helpers/tiny-run.js';
import { answerScript, readJournal, tempDir, writeSampleSuite } from '../reliability/helpers.js';

const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];

/** The double, able to hold one request (never answer it) and tell the test it came. */
class HoldingDouble extends LlamaServerDouble {
  hold: ((path: string) => boolean) | null = null;
  readonly held = new EventEmitter();
  protected override async route(method: string, path: string, raw: string, receivedAt: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.hold?.(path)) {
      this.hold = null;
      this.held.emit('held', path);
      return; // the socket stays open until the client dies
    }
    return super.route(method, path, raw, receivedAt, req, res);
  }
}

const doubles: HoldingDouble[] = [];
afterEach(async () => {
  await Promise.all(doubles.splice(0).map((d) => d.stop()));
});

interface Exit { code: number | null; stderr: string }

function medeval(args: string[], onStderr?: (text: string) => void, env: Record<string, string> = {}): Promise<Exit> & { pid: number } {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: '1', ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr);
  });
  return Object.assign(new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stderr }))), { pid: child.pid! });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const chats = (d: LlamaServerDouble) => d.requests.filter((r) => r.path === '/v1/chat/completions').length;
const onDisk = (dir: string) => (existsSync(join(dir, 'results.jsonl')) ? readJournal(dir).length : 0);

async function setup() {
  const dir = tempDir('medeval-cmp-kill-');
  const [base, comp] = [await new HoldingDouble().start(), await new HoldingDouble().start()];
  doubles.push(base, comp);
  for (const d of [base, comp]) d.script = answerScript;
  const profile = (label: string, d: LlamaServerDouble) => {
    const file = join(dir, `${label}.yaml`);
    writeFileSync(file, `kind: llama-server\nlabel: ${label}\nmode: attached\nbaseUrl: ${d.baseUrl}\nretries: 0\nrequestTimeoutMs: 600000\n`);
    return file;
  };
  const out = join(dir, 'cmp');
  const args = ['compare', '--suite', writeSampleSuite(dir), '--baseline', profile('base', base), '--compressed', profile('comp', comp), '--out', out,
    '--order', 'alternating', '--chunk', '3', '--limit', '7', '--no-cache'];
  return { base, comp, out, args, baseDir: join(out, 'runs', 'baseline-base'), compDir: join(out, 'runs', 'compressed-comp') };
}

describe('a compare worker that dies', () => {
  it('SIGTERM to compare mid-turn stops both workers and leaves resumable folders', async () => {
    const { comp, out, args, baseDir, compDir } = await setup();
    comp.hold = (p) => p === '/v1/chat/completions' && onDisk(compDir) === 4;
    let pids: number[] = [];
    const heldNow = once(comp.held, 'held');
    // A long grace period: compare waits for its workers' orderly stop, whatever the machine's speed.
    const first = medeval(args, (text) => {
      pids = [...text.matchAll(/worker pid (\d+)/g)].map((m) => Number(m[1]));
    }, { MEDEVAL_STOP_GRACE_MS: '600000' });
    await Promise.race([heldNow, first.then((e) => Promise.reject(new Error(`compare ended before the moment: ${e.code} ${e.stderr}`)))]);
    expect(pids).toHaveLength(2);
    process.kill(first.pid, 'SIGTERM');
    const stopped = await first;
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain('interrupted by SIGTERM');
    expect(stopped.stderr).toContain('compare incomplete');
    // Both workers ended with it; the interrupted run says so, the other kept its finished turns.
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    expect(JSON.parse(readFileSync(join(compDir, 'manifest.json'), 'utf8')).status).toBe('interrupted');
    expect(readJournal(compDir)).toHaveLength(4);
    expect(readJournal(baseDir)).toHaveLength(6);
    const line = stopped.stderr.split('\n').find((l) => l.includes('compare incomplete'))!;
    const resumed = await medeval(line.slice(line.indexOf('run: medeval compare ') + 'run: medeval '.length).split(' '));
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const d of [baseDir, compDir]) expect(new Set(readJournal(d).map((r) => r.itemId)).size).toBe(7);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  }, 600_000);

  it('SIGKILL to the compressed worker mid-turn: compare incomplete, exit 1, clear message; the named command finishes it', async () => {
    const { base, comp, out, args, baseDir, compDir } = await setup();

    // Hold the compressed model's 5th item (its second turn, items 4..6, has begun), then kill its worker.
    comp.hold = (p) => p === '/v1/chat/completions' && onDisk(compDir) === 4;
    let pid = 0;
    const heldNow = once(comp.held, 'held');
    const first = medeval(args, (text) => {
      pid ||= Number(text.match(/compare: compressed worker pid (\d+)/)?.[1] ?? 0);
    });
    await Promise.race([heldNow, first.then((e) => Promise.reject(new Error(`compare ended before the moment: ${e.code} ${e.stderr}`)))]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    const stopped = await first;

    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain(`the compressed worker (pid ${pid}, `);
    expect(stopped.stderr).toContain('was killed by SIGKILL while running its turn on items 1..6; the comparison stopped');
    expect(stopped.stderr).toContain('compare incomplete');
    // Not restarted: the compressed model got no request after the held one, and no report was written.
    expect(chats(comp)).toBe(5);
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    const baseBefore = readJournal(baseDir);
    const compBefore = readJournal(compDir);
    expect(baseBefore).toHaveLength(6);
    expect(compBefore).toHaveLength(4);

    const line = stopped.stderr.split('\n').find((l) => l.includes('compare incomplete'))!;
    const again = line.slice(line.indexOf('run: medeval compare ') + 'run: medeval '.length).split(' ');
    expect(again).toContain('--no-cache');
    const [baseSent, compSent] = [chats(base), chats(comp)];
    const resumed = await medeval(again);
    expect(resumed.code, resumed.stderr).toBe(0);
    // Nothing run twice: the baseline sends item 7 only; the compressed model items 5 (never answered), 6 and 7.
    expect(chats(base) - baseSent).toBe(1);
    expect(chats(comp) - compSent).toBe(3);
    for (const [d, before] of [[baseDir, baseBefore], [compDir, compBefore]] as const) {
      const after = readJournal(d);
      expect(after).toHaveLength(7);
      expect(new Set(after.map((r) => r.itemId)).size).toBe(7);
      // Nothing lost: the records kept are the same records.
      expect(after.slice(0, before.length)).toEqual(before);
      expect(JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')).status).toBe('finished');
    }
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  }, 600_000);
});
