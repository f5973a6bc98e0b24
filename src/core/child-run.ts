// Runs `medeval run` in a child process. One model per process keeps each model's peak memory
// (VmHWM) its own: two models loaded in one process would share, and blur, one peak.
import { spawn } from 'node:child_process';
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

/** The command that started this process (node + loader flags + entry script), to start another like it. */
function selfCommand(): { cmd: string; args: string[] } {
  const entry = process.argv[1];
  if (!entry) throw new Error('cannot find the medeval entry script to start a child run');
  return { cmd: process.execPath, args: [...process.execArgv, entry] };
}

export function runInChild(a: ChildRunArgs, signal?: AbortSignal): Promise<void> {
  const { cmd, args } = selfCommand();
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
