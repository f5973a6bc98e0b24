// main.ts imports a command's module only when that command runs (start-up time): its table must name
// every command of the full program, each loader must register exactly that command, and main.ts must
// not import any command module statically (that would load them all again).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../src/cli/main.js';
import { buildProgram } from '../../src/cli/program.js';

describe('lazy command loading', () => {
  it('the table names every command, and each loader registers exactly its own', async () => {
    const names = buildProgram().commands.map((c) => c.name()).sort();
    expect(Object.keys(COMMANDS).sort()).toEqual(names);
    for (const name of names) {
      const program = new Command('medeval');
      (await COMMANDS[name]!())(program);
      expect(program.commands.map((c) => c.name())).toEqual([name]);
    }
  });

  it('main.ts imports no command module statically', () => {
    const source = readFileSync(join(import.meta.dirname, '../../src/cli/main.ts'), 'utf8');
    expect(source).not.toMatch(/^import[^;]*from '\.\/(commands\/|program\.js)/m);
  });

  it('--version answers without building the commands', async () => {
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'medeval', '--version'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/^\d+\.\d+\.\d+/);
  });
});
