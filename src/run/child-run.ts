// Runs `medeval run` in a child process. One model per process keeps each model's peak memory
// (VmHWM) its own: two models loaded in one process would share, and blur, one peak.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../core/errors.js';
import type { RunManifest } from '../core/types.js';

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

/** How a child run ended: its status and, when it left items in error, how many (from its own files). */
export interface ChildRunOutcome {
  status: RunManifest['status'];
  errors: number;
  records: number;
  stopReason?: string;
}

/** The child's manifest status and journal counts; null when it wrote none. */
function readOutcome(dir: string): ChildRunOutcome | null {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as RunManifest;
    let errors = 0;
    let records = 0;
    const text = readFileSync(join(dir, 'results.jsonl'), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = JSON.parse(line) as { error?: unknown };
        records++;
        if (r.error) errors++;
      } catch {
        // a torn last line: the child's resume repairs it
      }
    }
    return { status: manifest.status, errors, records, ...(manifest.stopReason ? { stopReason: manifest.stopReason } : {}) };
  } catch {
    return null;
  }
}

/**
 * Resolves when the child run went through, "finished" or "incomplete" (items in error, exit 1: the
 * comparison goes on and says so at its end); rejects on bad input, a failed or an interrupted run.
 */
export function runInChild(a: ChildRunArgs, signal?: AbortSignal): Promise<ChildRunOutcome> {
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
      const outcome = code === 0 || code === 1 ? readOutcome(a.out) : null;
      if (code === 0) resolve(outcome ?? { status: 'finished', errors: 0, records: 0 });
      else if (code === 1 && outcome?.status === 'incomplete' && !signal?.aborted) resolve(outcome);
      else if (code === 2) reject(new InputError(`medeval run for ${a.runner} refused its input (see the message above)`));
      else {
        const said = outcome && outcome.status !== 'finished' ? ` (run ${outcome.status}${outcome.stopReason ? `: ${outcome.stopReason}` : ''})` : '';
        reject(new Error(`medeval run for ${a.runner} ended with ${sig ?? `exit code ${code}`}${said}; its records are kept in ${a.out}: ` +
          'once the cause is fixed, the same compare command (without --fresh) resumes it'));
      }
    });
  });
}
