// The `medeval` command line. Each command lives in src/cli/commands/; this file wires them and maps
// errors to exit codes (0 ok, 1 a check failed, 2 bad input or config).
import { CommanderError, type Command } from 'commander';
import { emptyProgram } from './program-base.js';
import { describeError, EXIT_BAD_INPUT, exitCodeFor } from './exit.js';
import { guardOutput, printErr } from './terminal.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: `medeval --version` or `medeval gate` does
 * not pay for importing the runners, the chart renderer and every other command (start-up time).
 */
export const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  compare: async () => (await import('./commands/compare.js')).registerCompare,
  report: async () => (await import('./commands/report.js')).registerReport,
  'make-model': async () => (await import('./commands/make-model.js')).registerMakeModel,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  gate: async () => (await import('./commands/gate.js')).registerGate,
  rescore: async () => (await import('./commands/rescore.js')).registerRescore,
  merge: async () => (await import('./commands/merge.js')).registerMerge,
  schema: async () => (await import('./commands/schema.js')).registerSchema,
  classify: async () => (await import('./commands/classify.js')).registerClassify,
};

/** The program with only the command `argv` names, or every command (help, an unknown word, no command). */
async function programFor(argv: string[]): Promise<Command> {
  const first = argv[2];
  const versionOnly = argv.length === 3 && (first === '--version' || first === '-V');
  if (versionOnly) return emptyProgram();
  const load = first !== undefined ? COMMANDS[first] : undefined;
  if (!load) return (await import('./program.js')).buildProgram();
  const program = emptyProgram();
  (await load())(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  guardOutput();
  const program = await programFor(argv);
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

