// Parses the command line with a built program and maps errors to exit codes (0 ok, 1 a check failed,
// 2 bad input or config). Shared by main.ts (every command) and entry.ts (the one command asked for).
import { CommanderError, type Command } from 'commander';
import { describeError, EXIT_BAD_INPUT, exitCodeFor } from './exit.js';
import { printErr } from './terminal.js';

export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors are bad input.
      return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    printErr(`medeval: ${describeError(e)}\n`);
    return exitCodeFor(e);
  }
}
