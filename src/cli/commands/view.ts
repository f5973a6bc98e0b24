// `medeval view [DIRS...]`: a read-only web page on 127.0.0.1 over run, compare and merge folders
// (src/view/). Prints its URL on stdout and serves until Ctrl-C or SIGTERM.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { Catalog, checkRoots } from '../../view/catalog.js';
import { startViewServer } from '../../view/server.js';
import { intOption } from '../options.js';
import { printErr, printOut } from '../terminal.js';

export const DEFAULT_VIEW_PORT = 7878;

function portOption(value: string): number {
  const n = intOption(value);
  if (n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return n;
}

export function registerView(program: Command): void {
  program
    .command('view')
    .description('browse stored runs in a local web page (127.0.0.1 only, read-only): every item with its question, options, reply and timings, filters by outcome, type, step and flips between two runs, and runs side by side')
    .argument('[dirs...]', 'run folders, compare folders (their runs/), merge outputs, or folders holding them (default: runs/ if it exists, else the current folder)')
    .option('-p, --port <n>', `port on 127.0.0.1 (0: any free port)`, portOption, DEFAULT_VIEW_PORT)
    .action(async (dirs: string[], o: { port: number }) => {
      const roots = checkRoots(dirs.length ? dirs : [existsSync('runs') ? 'runs' : '.']);
      const catalog = new Catalog(roots);
      const runs = await catalog.list();
      const view = await startViewServer(catalog, { port: o.port });
      const unreadable = runs.filter((r) => r.error).length;
      printErr(`medeval view: ${runs.length} run folder(s)${unreadable ? ` (${unreadable} unreadable: shown with their error)` : ''} under ${roots.join(', ')}; read-only, on ${view.url} only. Ctrl-C stops.\n`);
      if (runs.length === 0) printErr('medeval view: no run folder found yet (one holds manifest.json and results.jsonl); the list is read again on every visit\n');
      printOut(`${view.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await view.close();
      printErr('medeval view: stopped\n');
    });
}
