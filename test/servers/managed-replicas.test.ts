// `replicas: N` in a managed llama-server profile, with real processes: medeval starts N llama-server
// stand-ins (test/doubles/fake-llama-server.mjs, which reports its pid, port and requests to the test over
// loopback HTTP as they happen). N processes start on distinct ports, requests are spread over them, each
// item records the replica that served it, and every one of the N ends, both when the run ends and when
// `medeval run` is stopped by SIGTERM with a request in flight: no orphan server is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSuite } from '../../src/run/run.js';
import { llamaServerProfileSchema } from '../../src/runners/llama-server.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';
import { readJournal, writeSampleSuite } from '../reliability/helpers.js';
import { alive, waitGone } from '../helpers/process-gone.js';

const FAKE = fileURLToPath(new URL('../doubles/fake-llama-server.mjs', import.meta.url));
const N = 3;

interface FakeEvent {
  pid: number;
  port: number;
  event: 'listening' | 'chat' | 'holding';
}

/** Collects the stand-ins' events; `when` resolves once the events so far satisfy a condition. */
class EventSink {
  readonly events: FakeEvent[] = [];
  private readonly waiters: Array<{ test: (e: FakeEvent[]) => boolean; done: () => void }> = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        this.events.push(JSON.parse(raw) as FakeEvent);
        res.end('ok');
        for (const w of [...this.waiters]) if (w.test(this.events)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.done();
        }
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  when(test: (e: FakeEvent[]) => boolean): Promise<void> {
    if (test(this.events)) return Promise.resolve();
    return new Promise((done) => this.waiters.push({ test, done }));
  }

  listening(): FakeEvent[] {
    return this.events.filter((e) => e.event === 'listening');
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

/** Alive and not a zombie. */

let dir: string;
let model: string;
const sinks: EventSink[] = [];
const leftovers: number[] = [];
const spawned: ChildProcess[] = [];
beforeAll(() => {
  dir = tempDir('medeval-managed-replicas-');
  model = join(dir, 'tiny.gguf');
  writeFileSync(model, Buffer.alloc(4096, 1));
});
afterEach(async () => {
  for (const c of spawned.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of sinks.splice(0)) {
    for (const e of s.listening()) leftovers.push(e.pid);
    await s.close();
  }
});
afterAll(() => {
  // Only a stand-in of this file that outlived its test (a pid may have been reused since: check its command line).
  for (const pid of leftovers) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(model)) continue;
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
});

const profileFields = (notify: string, extraArgs: string[] = []) => ({
  kind: 'llama-server', label: 'replicated', mode: 'managed', binary: FAKE, model, replicas: N,
  args: ['-c', '2048', '-np', '1', '--fake-notify', notify, ...extraArgs], startupTimeoutMs: 60_000,
});

describe(`managed llama-server with replicas: ${N}`, () => {
  it(`starts ${N} servers on distinct ports, spreads the requests over them, records each item's replica, and all ${N} end with the run`, async () => {
    const sink = await new EventSink().start();
    sinks.push(sink);
    const suite = writeSampleSuite(dir, { limit: 9 });
    const run = await runSuite({ suite, runner: { profile: llamaServerProfileSchema.parse(profileFields(sink.url)), file: null }, out: join(dir, 'run-ends'), cacheDir: false });
    expect(run.manifest.status).toBe('finished');

    const started = sink.listening();
    expect(started).toHaveLength(N);
    expect(new Set(started.map((e) => e.pid)).size).toBe(N);
    expect(new Set(started.map((e) => e.port)).size).toBe(N);
    const urls = started.map((e) => `http://127.0.0.1:${e.port}`).sort();

    // Each item names the replica that served it, one of the N, and every replica served some.
    const journal = readJournal(run.dir);
    expect(journal).toHaveLength(9);
    expect(journal.filter((r) => r.error)).toEqual([]);
    const byReplica = new Map<string, number>();
    for (const r of journal) byReplica.set(r.replica!, (byReplica.get(r.replica!) ?? 0) + 1);
    expect([...byReplica.keys()].sort()).toEqual(urls);
    // Sequential requests to replicas with nothing outstanding go to the one that has served fewest: 3 each.
    expect([...byReplica.values()]).toEqual([3, 3, 3]);
    // What each server saw agrees with what the journal says it served.
    for (const e of started) {
      const chats = sink.events.filter((x) => x.pid === e.pid && x.event === 'chat').length;
      expect(chats).toBe(byReplica.get(`http://127.0.0.1:${e.port}`));
    }
    expect(run.manifest.server?.replicas?.map((r) => r.replica).sort()).toEqual(urls);

    // The run is over: none of the N servers is left.
    for (const e of started) expect(alive(e.pid), `replica pid ${e.pid} (port ${e.port}) outlived the run`).toBe(false);
  }, 180_000);

  it(`SIGTERM to \`medeval run\` with a request in flight: all ${N} servers end, none is orphaned`, async () => {
    const sink = await new EventSink().start();
    sinks.push(sink);
    const suite = writeSampleSuite(dir, { limit: 9 });
    const runnerFile = join(dir, 'replicas.yaml');
    // Each server holds its second chat request unanswered: the run cannot finish before the signal.
    const fields = profileFields(sink.url, ['--fake-hold-chat', '2']);
    writeFileSync(runnerFile, [
      ...Object.entries(fields).filter(([k]) => k !== 'args').map(([k, v]) => `${k}: ${String(v)}`),
      'args:', ...fields.args.map((a) => `  - ${JSON.stringify(a)}`), '',
    ].join('\n'));
    const out = join(dir, 'run-sigterm');
    const cli = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'run', '--suite', suite, '--runner', runnerFile, '--out', out, '--no-cache'],
      { cwd: REPO, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.push(cli);
    let stderr = '';
    cli.stderr!.on('data', (d) => (stderr += d));
    const exited = once(cli, 'close');

    // All N up and a request held in flight on one of them.
    await sink.when((ev) => ev.filter((e) => e.event === 'listening').length === N && ev.some((e) => e.event === 'holding'));
    const started = sink.listening();
    expect(new Set(started.map((e) => e.port)).size).toBe(N);
    for (const e of started) expect(alive(e.pid)).toBe(true);
    cli.kill('SIGTERM');
    const [code] = await exited;
    expect(code, stderr).not.toBe(0);
    for (const e of started) expect(await waitGone(e.pid), `replica pid ${e.pid} (port ${e.port}) outlived medeval after SIGTERM`).toBe(true);

    // The items answered before the signal are kept, each with its replica.
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('interrupted');
    // How each of the N ended is in the manifest.
    // Either ending is true and recorded: the server stopped within medeval's exit deadline, or medeval
    // killed it on the way out (a loaded machine can delay a child's exit past the deadline).
    for (const e of started) {
      expect(manifest.server.managed.description).toMatch(
        new RegExp(`http://127\\.0\\.0\\.1:${e.port}: (stopped on request|killed \\(SIGKILL\\) as medeval exited before its stop had finished)`));
    }
    const journal = readJournal(out).filter((r) => !r.error);
    expect(journal.length).toBeGreaterThanOrEqual(N);
    for (const r of journal) expect(started.map((e) => `http://127.0.0.1:${e.port}`)).toContain(r.replica);
  }, 180_000);
});
