// The `medeval` command line. Each command lives in src/cli/commands/; this file wires them and maps
// errors to exit codes (0 ok, 1 a check failed, 2 bad input or config).
import { Command, CommanderError } from 'commander';
import { MEDEVAL_VERSION } from '../core/version.js';
import { registerClassify } from './commands/classify.js';
import { registerCompare } from './commands/compare.js';
import { registerDemo } from './commands/demo.js';
import { registerGate } from './commands/gate.js';
import { registerMakeModel } from './commands/make-model.js';
import { registerMerge } from './commands/merge.js';
import { registerReport } from './commands/report.js';
import { registerRescore } from './commands/rescore.js';
import { registerSchema } from './commands/schema.js';
import { registerRun } from './commands/run.js';
import { describeError, EXIT_BAD_INPUT, exitCodeFor } from './exit.js';
import { guardOutput, printErr } from './terminal.js';

export function buildProgram(): Command {
  const program = new Command('medeval')
    .description('Evaluate and benchmark medical LLMs: accuracy, latency and memory of a baseline vs a compressed model')
    .version(MEDEVAL_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerCompare(program);
  registerReport(program);
  registerMakeModel(program);
  registerDemo(program);
  registerGate(program);
  registerRescore(program);
  registerMerge(program);
  registerSchema(program);
  registerClassify(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  guardOutput();
  const program = buildProgram();
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

