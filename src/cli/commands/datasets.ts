// `medeval datasets list | fetch NAME [--revision R] | verify`: the datasets medeval knows by name,
// fetched from the Hugging Face Hub into the cache (MEDEVAL_CACHE or the XDG cache folder).
import type { Command } from 'commander';
import { cacheRoot, fetchDataset, KNOWN_DATASETS, lockFile, pinNote, readLock, verifyCache } from '../../datasets/hub/index.js';
import { downloadReporter } from '../download-progress.js';
import { CheckFailed } from '../exit.js';
import { printErr, printOut } from '../terminal.js';

export function registerDatasets(program: Command): void {
  const datasets = program
    .command('datasets')
    .description('datasets known by name: list them, fetch one from the Hugging Face Hub into the cache, verify the cache');

  datasets
    .command('list')
    .description('the known datasets: source, revision pin, split sizes, licence notes, and what is cached')
    .action(() => {
      const root = cacheRoot();
      const lock = readLock(root);
      for (const d of KNOWN_DATASETS) {
        const cached = lock.datasets[d.name];
        printOut(`${d.name}  ${d.title}\n`);
        printOut(`  source:   hf ${d.repo}\n`);
        printOut(`  pin:      ${pinNote(d)}\n`);
        printOut(`  split:    ${d.split}\n`);
        printOut(`  licence:  ${d.licence}\n`);
        if (d.note) printOut(`  note:     ${d.note}\n`);
        printOut(`  cached:   ${cached ? `revision ${cached.revision.slice(0, 12)} (${cached.requested}${cached.chosenOnPurpose ? ', chosen on purpose' : ''}), ${cached.files.length} file(s), fetched ${cached.fetchedAt}` : 'no'}\n\n`);
      }
      printOut(`cache: ${root} (MEDEVAL_CACHE to change); lock file: ${lockFile(root)}\n`);
    });

  datasets
    .command('fetch')
    .description('download a known dataset at its pinned revision (hashes checked, or recorded on first fetch)')
    .argument('<name>', 'a name from `medeval datasets list`')
    .option('--revision <rev>', 'take another revision (branch, tag or commit) on purpose; it is recorded in the lock file')
    .action(async (name: string, o: { revision?: string }) => {
      const progress = downloadReporter();
      const started = Date.now();
      try {
        const got = await fetchDataset(name, { ...(o.revision && { revision: o.revision }), onProgress: progress.onProgress, onLine: (l) => printErr(`${l}\n`) });
        printOut(`${name}: ${got.known.repo} at ${got.locked.revision} (${got.locked.requested}), ${got.locked.files.length} file(s) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        printOut(`ready for a suite: dataset: { hub: ${name} }  (loads ${got.spec.path})\n`);
      } finally {
        progress.stop();
      }
    });

  datasets
    .command('verify')
    .description('re-hash every cached dataset file against the lock file (exit 1 when one is missing or changed)')
    .action(async () => {
      const results = await verifyCache();
      if (!results.length) printOut(`nothing fetched yet (${lockFile(cacheRoot())})\n`);
      let bad = 0;
      for (const r of results) {
        if (r.problems.length) {
          bad++;
          printOut(`${r.name} at ${r.revision.slice(0, 12)}: ${r.problems.length} problem(s)\n${r.problems.map((p) => `  ${p}\n`).join('')}`);
        } else printOut(`${r.name} at ${r.revision.slice(0, 12)}: ${r.files} file(s) match the lock file\n`);
      }
      if (bad) throw new CheckFailed(`${bad} cached dataset(s) do not match the lock file: medeval datasets fetch NAME downloads them again`);
    });
}
