// Health polls run on node:http, not the global fetch (whose first use loads undici at start-up). Sameness:
// each outcome the poll loop reads (a status, a network error's code, a timeout) is what the fetch-based
// poll it replaced gave, against the same servers; and a poll loads no undici (checked in a fresh process).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthPoll, POLL_TIMED_OUT, waitForHealth, type HealthPoll } from '../../src/runners/managed-process.js';

/** The poll as it was: fetch with a timeout signal, the body read, the cause's code or the message on failure. */
async function fetchPoll(url: string, headers: Record<string, string>, timeoutMs: number): Promise<HealthPoll> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? (e as Error).message, timedOut: (e as Error).name === 'TimeoutError' };
  }
}

let server: Server;
let base = '';
let silent: ReturnType<typeof createNetServer>;
let silentBase = '';
const held: Socket[] = [];
const seenHeaders: Array<Record<string, string | string[] | undefined>> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seenHeaders.push(req.headers);
    const path = req.url ?? '/';
    if (path === '/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (path === '/loading') return res.writeHead(503).end('{"error":"Loading model"}');
    if (path === '/moved') return res.writeHead(302, { location: '/health' }).end();
    if (path === '/moved-to-loading') return res.writeHead(307, { location: `${base}/loading` }).end();
    if (path === '/big') return res.writeHead(200).end('x'.repeat(200_000));
    if (path === '/no-content') return res.writeHead(204).end();
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // Accepts connections and never answers: a wedged server.
  silent = createNetServer((s) => held.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentBase = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise((r) => silent.close(r));
  await new Promise((r) => server.close(r));
});

async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('health polls on node:http', () => {
  it('give the fetch-based poll\'s outcome for every kind of answer', async () => {
    const refused = `http://127.0.0.1:${await closedPort()}/health`;
    const urls = [`${base}/health`, `${base}/loading`, `${base}/moved`, `${base}/moved-to-loading`, `${base}/big`, `${base}/no-content`, `${base}/nope`, refused, 'not a url'];
    for (const url of urls) {
      const headers = { authorization: 'Bearer test-key' };
      expect(await healthPoll(url, headers, 5000), url).toEqual(await fetchPoll(url, headers, 5000));
    }
    expect(await healthPoll(`${base}/moved`, {}, 5000)).toEqual({ status: 200 });
    expect(await healthPoll(refused, {}, 5000)).toEqual({ error: 'ECONNREFUSED', timedOut: false });
  });

  it('a server that never answers is a timeout, in the words fetch gave', async () => {
    // The server never answers, so the poll ends at its timeout however fast the machine is.
    const [now, before] = [await healthPoll(`${silentBase}/health`, {}, 200), await fetchPoll(`${silentBase}/health`, {}, 200)];
    expect(now).toEqual(before);
    expect(now).toEqual({ error: POLL_TIMED_OUT, timedOut: true });
  });

  it('send the headers and a fresh connection each time (nothing kept alive)', async () => {
    seenHeaders.length = 0;
    await healthPoll(`${base}/health`, { authorization: 'Bearer k' }, 5000);
    expect(seenHeaders[0]!.authorization).toBe('Bearer k');
    expect(seenHeaders[0]!.connection).toBe('close');
  });

  it('waitForHealth returns once the server answers 200', async () => {
    const polls: string[] = [];
    await waitForHealth(`${base}/health`, 10_000, { onPoll: (s) => polls.push(s) });
    expect(polls).toEqual([]);
  });

  it('a poll loads no undici (fetch\'s engine) in a fresh process', async () => {
    const repo = resolve(import.meta.dirname, '../..');
    const script = `const { waitForHealth } = await import(${JSON.stringify(join(repo, 'src/runners/managed-process.ts'))});
      await waitForHealth(${JSON.stringify(`${base}/health`)}, 10000);
      console.log(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
    // Not spawnSync: this process's server must answer the child's poll.
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual([]);
  });
});
