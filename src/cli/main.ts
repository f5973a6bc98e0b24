// The `medeval` command line with every command wired (help, tests, the library). Each command lives in
// src/cli/commands/; the executable goes through entry.ts, which loads only the command it runs.
import type { Command } from 'commander';
import { emptyProgram } from './program-base.js';
import { registerClassify } from './commands/classify.js';
import { registerCompare } from './commands/compare.js';
import { registerDatasets } from './commands/datasets.js';
import { registerDemo } from './commands/demo.js';
import { registerExport } from './commands/export.js';
import { registerGate } from './commands/gate.js';
import { registerMakeModel } from './commands/make-model.js';
import { registerMerge } from './commands/merge.js';
import { registerReport } from './commands/report.js';
import { registerRescore } from './commands/rescore.js';
import { registerSchema } from './commands/schema.js';
import { registerRun } from './commands/run.js';
import { registerView } from './commands/view.js';
import { runProgram } from './run-program.js';
import { guardOutput } from './terminal.js';

export function buildProgram(): Command {
  const program = emptyProgram();
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
  registerDatasets(program);
  registerExport(program);
  registerView(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  guardOutput();
  return runProgram(buildProgram(), argv);
}
