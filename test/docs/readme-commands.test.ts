// Every `medeval` command in README.md's ```sh blocks runs as written, in order, from a folder holding this
// repository's datasets/, suites/ and runners/ (symlinks): exit 0 and the file or folder it says it writes.
// `npx medeval` is run as `node_modules/.bin/tsx src/cli/bin.ts` (the same program, unbuilt). The one
// rewrite: the attached-server example's address (http://127.0.0.1:8080) becomes a llama-server protocol
// double's on loopback. Commands that need a GPU, vLLM or a 7B model are skipped, each listed with the reason.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaServerDouble } from '../doubles/llama-server-double.js';
import { REPO, tempDir } from '../helpers/tiny-run.js';

const SKIPPED: Record<string, string> = {
  'npx medeval compare --experiment suites/paper.yaml --out runs/paper': 'two 7B models served by vLLM on a GPU, and MedQA (not shipped)',
  'npx medeval run --suite suites/usmle-sample.yaml --runner runners/llama-server-managed.yaml --out runs/ls': 'a llama-server binary and the 7B GGUF the profile names (managed mode is tested with a stand-in in test/servers/)',
  'npx medeval compare --suite suites/medqa-usmle.yaml --baseline runners/vllm-r1-7b-bf16.yaml --compressed runners/vllm-r1-7b-awq.yaml --out runs/vllm': 'vLLM on a GPU with two 7B models, and MedQA (not shipped)',
};
const SERVER_EXAMPLE = 'http://127.0.0.1:8080';

/** The `medeval` command lines of README's sh blocks, continuation lines joined, comments dropped. */
function readmeCommands(): string[] {
  const text = readFileSync(join(REPO, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const [, block] of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block!.replace(/\\\n\s*/g, '').split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (/^(npx )?medeval\b/.test(cmd)) out.push(cmd);
    }
  }
  return out;
}

/** What the command says it writes: --out, gate's --junit. */
function outputsOf(cmd: string): string[] {
  return [...cmd.matchAll(/--(?:out|junit) (\S+)/g)].map((m) => m[1]!);
}

let dir: string;
let server: LlamaServerDouble;
beforeAll(async () => {
  dir = tempDir('medeval-readme-');
  for (const d of ['datasets', 'suites', 'runners', 'schemas']) symlinkSync(join(REPO, d), join(dir, d));
  server = await new LlamaServerDouble().start();
});
afterAll(async () => {
  await server?.stop();
});

async function sh(cmd: string): Promise<{ status: number | null; output: string }> {
  const child = spawn('sh', ['-c', cmd], { cwd: dir, env: { ...process.env, CI: '1', MEDEVAL_CACHE: join(dir, '.cache') } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [status] = (await once(child, 'close')) as [number | null];
  return { status, output };
}

describe('README commands', () => {
  const commands = readmeCommands();

  it('names no file that does not exist in the examples of old (runners/my-*.yaml, ci/baseline-run)', () => {
    expect(commands.length).toBeGreaterThan(8);
    for (const c of commands) expect(c).not.toMatch(/my-f16|my-q4|my-model|ci\/baseline-run/);
    // Every skip is still in the README (a stale entry would hide nothing).
    for (const s of Object.keys(SKIPPED)) expect(commands, s).toContain(s);
  });

  it('runs each command as written, in order: exit 0 and what it writes', async () => {
    const tsx = join(REPO, 'node_modules/.bin/tsx');
    const bin = join(REPO, 'src/cli/bin.ts');
    let ran = 0;
    for (const cmd of commands) {
      if (SKIPPED[cmd]) continue;
      const line = cmd.replace(/^(npx )?medeval\b/, `${tsx} ${bin}`).replaceAll(SERVER_EXAMPLE, server.baseUrl);
      const r = await sh(line);
      expect(r.status, `${cmd}\n${r.output}`).toBe(0);
      for (const out of outputsOf(cmd)) {
        const path = join(dir, out);
        expect(existsSync(path), `${cmd}: ${out} written`).toBe(true);
        if (statSync(path).isDirectory()) {
          expect(existsSync(join(path, 'manifest.json')) || existsSync(join(path, 'report.json')), `${cmd}: ${out} is a run or report folder`).toBe(true);
        }
      }
      if (/ run /.test(` ${cmd} `)) expect(r.output, cmd).toMatch(/accuracy\s/);
      ran++;
    }
    expect(ran).toBe(commands.length - Object.keys(SKIPPED).length);
    // The server example really reached the double.
    expect(server.records.length).toBeGreaterThan(0);
  });
});
