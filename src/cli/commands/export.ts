import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../../core/errors.js';
import { readRunFolder } from '../../core/run-folder.js';
import { writeRedacted } from '../../core/redact.js';
import { EXPORT_FORMATS, renderExport, type ExportFormat } from '../../report/peer-formats.js';
import { printErr, printOut } from '../terminal.js';

/** `medeval export RUN_DIR --format bench|lm-eval|csv [--out FILE]`: one stored run in a peer tool's format. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write one run folder in a format other tools read: vLLM bench serve's result JSON (bench), an lm-evaluation-harness results.json (lm-eval), or long-form CSV, one row per item (csv)")
    .argument('<run>', 'a run folder (manifest.json, results.jsonl)')
    .requiredOption('-f, --format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option('-o, --out <file>', 'file to write (default: standard output)')
    .action((dir: string, o: { format: string; out?: string }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(o.format)) {
        throw new InputError(`unknown export format ${JSON.stringify(o.format)}`, { file: '--format' }, `use one of ${EXPORT_FORMATS.join(', ')}`);
      }
      if (o.out !== undefined && existsSync(o.out) && statSync(o.out).isDirectory()) {
        throw new InputError('--out names a folder; export writes one file', { file: o.out }, 'give a file name, e.g. --out bench.json');
      }
      if (o.out !== undefined && resolve(o.out).startsWith(resolve(dir) + '/') && /^(manifest\.json|results\.jsonl|summary\.(json|md))$/.test(resolve(o.out).slice(resolve(dir).length + 1))) {
        throw new InputError('--out would overwrite the run record itself', { file: o.out }, 'write the export beside the run folder, not over its files');
      }
      const run = readRunFolder(dir);
      for (const w of run.warnings) printErr(`warning: ${w}\n`);
      const text = renderExport(o.format as ExportFormat, run);
      if (o.out === undefined) {
        // Piped output keeps the bytes (CSV line ends); a terminal gets control characters escaped.
        if (process.stdout.isTTY) printOut(text);
        else process.stdout.write(text);
      } else {
        writeRedacted(o.out, text);
        printErr(`wrote ${o.out}\n`);
      }
    });
}
