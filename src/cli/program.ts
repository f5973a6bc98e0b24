// Every command wired into one program (help, tests); main.ts loads a single command's module when it can.
import type { Command } from 'commander';
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
import { emptyProgram } from './program-base.js';

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
  return program;
}

