// `medeval run --help | head` must not crash when the reader closes the pipe before the help is written.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const CLI = ['--import', 'tsx', join(REPO, 'src/cli/bin.ts')];

it('a closed stdout (| head) ends the command with its own exit code, without an unhandled EPIPE', async () => {
  const child = spawn(process.execPath, [...CLI, 'run', '--help'], { cwd: REPO, env: { ...process.env, CI: '1' } });
  // Closing our end before the child writes makes every write of the help fail with EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
  expect(code).toBe(0);
}, 60_000);
