// The executable's entry.ts imports a command's module only when that command runs (start-up time): its
// table must name every command of the full program (main.ts), each loader must register exactly that
// command, and entry.ts must not import a command module or main.ts statically (that loads them all).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../src/cli/entry.js';
import { buildProgram } from '../../src/cli/main.js';

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

  it('entry.ts imports no command module statically', () => {
    const source = readFileSync(join(import.meta.dirname, '../../src/cli/entry.ts'), 'utf8');
    expect(source).not.toMatch(/^import[^;]*from '\.\/(commands\/|main\.js)/m);
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
