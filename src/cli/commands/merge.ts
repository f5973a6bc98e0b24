// `medeval merge`: shard run folders (medeval run --shard I/N) into one run folder (src/core/merge.ts).
import type { Command } from 'commander';
import { mergeShards } from '../../run/merge.js';
import { checkOutDir } from '../out-path.js';
import { printErr, printOut } from '../terminal.js';

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('merge the shard runs of one suite (medeval run --shard I/N) into one run folder that report, gate, rescore and compare read like an unsharded run')
    .argument('<shardDirs...>', 'the shard run folders, one per shard')
    .requiredOption('-o, --out <dir>', 'new run folder for the merged run')
    .option('--allow-partial', 'merge even with shards missing or unfinished: the merged run is then "incomplete" and records which shards are missing')
    .action((shardDirs: string[], o) => {
      checkOutDir(o.out, 'run');
      const { dir, manifest, results, warnings } = mergeShards(shardDirs, o.out, { allowPartial: Boolean(o.allowPartial) });
      for (const w of warnings) printErr(`warning: ${w}\n`);
      const m = manifest.merged!;
      printErr(`merged ${m.shards.length} of ${m.count} shard(s): ${results.length} record(s), status ${manifest.status}` +
        (m.missing.length ? `; missing shard(s) ${m.missing.join(', ')} (--allow-partial)` : '') + '\n');
      printOut(`${dir}/summary.md\n`);
      // A partial merge is a run that did not do all it says.
      if (manifest.status !== 'finished') process.exitCode = 1;
    });
}
