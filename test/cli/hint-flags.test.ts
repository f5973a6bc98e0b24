// Every `--flag` that medeval's own code names (hints, errors, comments) is an option of a medeval
// command, or a flag of another program listed here by name. A hint naming a flag that does not exist
// (`--retry-errors`, `--format`, `--cop-base` were) sends the user nowhere.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { REPO } from '../helpers/tiny-run.js';

/** Flags of the programs medeval starts or quotes, not its own. */
const OTHER_PROGRAMS: Record<string, string[]> = {
  'llama-server': ['--port', '--host', '--metrics', '--model', '--alias', '--ctx-size', '--parallel', '--no-context-shift', '--slots', '--api-key', '--context-shift'],
  // vLLM's server and its benchmark (vllm bench serve)
  vllm: ['--quantization', '--gpu-memory-utilization', '--kv-cache-memory-bytes', '--reasoning-parser', '--max-model-len', '--served-model-name', '--max-logprobs', '--goodput', '--max-concurrency',
    '--tensor-parallel-size', '--pipeline-parallel-size', '--data-parallel-size', '--distributed-executor-backend'],
  // the Hugging Face CLI (huggingface-cli), quoted where medeval explains where HF_TOKEN comes from
  'huggingface-cli': ['--token'],
  'nvidia-smi': ['--query-gpu', '--query-compute-apps', '--format'],
  'optimum-cli': ['--model', '--task'],
  // node and its V8 (flags medeval sets on its own process: src/core/heap.ts, the run command)
  node: ['--import', '--expose-gc', '--heap-growing-percent'],
  setpriv: ['--pdeathsig'],
  // Chart.js / CSS custom properties in the HTML template, not command-line flags.
  css: ['--muted', '--accent', '--fg', '--line', '--head', '--depth'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

describe('flags named in medeval’s messages', () => {
  it('exist', () => {
    const own = new Set<string>();
    // Subcommands too (`datasets fetch --revision`).
    const commands = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...commands(s)]);
    for (const cmd of commands(buildProgram())) {
      for (const o of cmd.options) {
        if (o.long) own.add(o.long);
        if (o.long?.startsWith('--no-')) own.add(`--${o.long.slice(5)}`);
      }
    }
    own.add('--help').add('--version');
    const other = new Set(Object.values(OTHER_PROGRAMS).flat());
    const unknown: string[] = [];
    // A flag ends in a letter or digit: `--no-` alone is the prefix of generated flags, not a flag.
    for (const file of sourceFiles(join(REPO, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9](?![\w-])/g)) {
        if (!own.has(m[0]) && !other.has(m[0])) unknown.push(`${file.slice(REPO.length + 1)}: ${m[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
