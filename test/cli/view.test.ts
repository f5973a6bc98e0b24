// `medeval view` as a user starts it: a real process that prints its URL, serves the runs, and stops
// cleanly (exit 0) on SIGTERM; a folder that does not exist is bad input (exit 2).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/tiny-run.js';
import { writeViewFixture } from '../view/view-runs.js';

const CLI = [...['--import', 'tsx'], join(REPO, 'src/cli/bin.ts')];

describe('medeval view (the command)', () => {
  const fx = writeViewFixture();
  afterAll(() => rmSync(fx.root, { recursive: true, force: true }));

  it('prints its loopback URL, serves the runs, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [...CLI, 'view', fx.compare, fx.merged, '--port', '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => resolve(line.trim()));
      child.on('exit', (code) => reject(new Error(`exited ${code} before printing a URL: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const runs = (await (await fetch(`${url}api/runs`)).json()) as { runs: { label: string }[] };
    expect(runs.runs.map((r) => r.label).sort()).toEqual(['baseline-f16', 'compressed-q4', 'merged-q8']);
    expect(stderr).toContain('3 run folder(s)');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a port in use is bad input, exit 2, with what to do', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = spawnSync(process.execPath, [...CLI, 'view', fx.compare, '--port', String(port)], { cwd: REPO, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use[\\s\\S]*--port 0`));
    } finally {
      taken.close();
    }
  });

  it('a folder that does not exist is bad input, exit 2, named in the message', () => {
    const r = spawnSync(process.execPath, [...CLI, 'view', join(fx.root, 'nope'), '--port', '0'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope: not a folder/);
  });
});
