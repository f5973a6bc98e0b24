// `medeval rescore`: re-extract a stored run's replies with the current extractor into a new run folder
// (src/run/rescore.ts); never runs a model.
import type { Command } from 'commander';
import { rescoreNote, rescoreRun } from '../../run/rescore.js';
import { checkOutDir } from '../out-path.js';
import { printErr } from '../terminal.js';

export function registerRescore(program: Command): void {
  program
    .command('rescore')
    .description("re-extract and re-score a stored run's raw replies with the current answer extractor, into a new run folder that records what changed (never runs a model)")
    .argument('<run>', 'the run folder to rescore (left untouched)')
    .requiredOption('-o, --out <dir>', 'new run folder for the rescored run')
    .action((run: string, o) => {
      checkOutDir(o.out, 'run');
      const { manifest, warnings } = rescoreRun(run, o.out);
      for (const w of warnings) printErr(`warning: ${w}\n`);
      printErr(`${rescoreNote(manifest.rescoredFrom!)}\nrescored run written to ${o.out}\n`);
    });
}
