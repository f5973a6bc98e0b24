// Runs `medeval run` in a child process. One model per process keeps each model's peak memory
// (VmHWM) its own: two models loaded in one process would share, and blur, one peak.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { InputError } from './errors.js';

export interface ChildRunArgs {
  suite: string;
  runner: string;
  out: string;
  limit?: number;
  seed?: number;
  samples?: number;
  maxTokens?: number;
  resume?: boolean;
  skipInvalid?: boolean;
}

/**
 * The medeval CLI next to this module: the compiled dist/cli/bin.js, or src/cli/bin.ts through tsx when
 * medeval runs from source (tests, `npm run medeval`). Not process.argv[1], which may be another program
 * (a test runner, a user's script) when medeval is used as a library.
 */
function medevalCommand(): { cmd: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const bin = fileURLToPath(new URL(`../cli/bin.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return { cmd: process.execPath, args: fromSource ? ['--import', 'tsx', bin] : [bin] };
}

export function runInChild(a: ChildRunArgs, signal?: AbortSignal): Promise<void> {
  const { cmd, args } = medevalCommand();
  const argv = [...args, 'run', '--suite', a.suite, '--runner', a.runner, '--out', a.out];
  if (a.limit !== undefined) argv.push('--limit', String(a.limit));
  if (a.seed !== undefined) argv.push('--seed', String(a.seed));
  if (a.samples !== undefined) argv.push('--samples', String(a.samples));
  if (a.maxTokens !== undefined) argv.push('--max-tokens', String(a.maxTokens));
  if (a.resume) argv.push('--resume');
  if (a.skipInvalid) argv.push('--skip-invalid');
  return new Promise((resolve, reject) => {
    // No shell: arguments go to the child as they are.
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
    const onAbort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (code === 0) resolve();
      else if (code === 2) reject(new InputError(`medeval run for ${a.runner} refused its input (see the message above)`));
      else reject(new Error(`medeval run for ${a.runner} ended with ${sig ?? `exit code ${code}`}`));
    });
  });
}
