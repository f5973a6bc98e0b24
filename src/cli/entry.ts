// What the `medeval` executable runs: the same program as main.ts, but only the module of the command on
// the command line is imported (`medeval --version` imports none, `medeval gate` not the runners or the
// chart renderer): start-up time. Help, no command or an unknown word load every command (main.ts).
import type { Command } from 'commander';
import { emptyProgram } from './program-base.js';
import { runProgram } from './run-program.js';
import { guardOutput } from './terminal.js';

type Register = (program: Command) => void;

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
  datasets: async () => (await import('./commands/datasets.js')).registerDatasets,
  export: async () => (await import('./commands/export.js')).registerExport,
  view: async () => (await import('./commands/view.js')).registerView,
};

/** The program with only the command `argv` names, or every command. */
async function programFor(argv: string[]): Promise<Command> {
  const first = argv[2];
  if (argv.length === 3 && (first === '--version' || first === '-V')) return emptyProgram();
  const load = first !== undefined ? COMMANDS[first] : undefined;
  if (!load) return (await import('./main.js')).buildProgram();
  const program = emptyProgram();
  (await load())(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  guardOutput();
  return runProgram(await programFor(argv), argv);
}
