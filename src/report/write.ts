// Writes the report files from the model, and the one-call entry point the CLI uses
// (`medeval report DIR...`, `medeval compare`): run folders in, report files out. Never calls a model.
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeRedacted } from '../core/redact.js';
import { buildReport, type BuildOptions } from './build.js';
import type { ClaimSpec } from './claims.js';
import { renderResultsCsv, renderSummaryCsv } from './csv.js';
import { renderJson } from './json.js';
import { renderLatex } from './latex.js';
import { renderMarkdown } from './markdown.js';
import type { ReportModel } from './model.js';
import { readRunFolder } from '../core/run-folder.js';

export const REPORT_FORMATS = ['json', 'md', 'csv', 'tex'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A renderer from elsewhere (HTML page, charts) plugged into writeReports: returns files to write. */
export type ExtraRenderer = (model: ReportModel, outDir: string) => Promise<Array<{ name: string; content: string | Uint8Array }>> | Array<{ name: string; content: string | Uint8Array }>;

export interface WriteOptions {
  /** Default: all of json, md, csv, tex. */
  formats?: readonly ReportFormat[];
  extra?: ExtraRenderer[];
}

export const REPORT_FILES: Record<ReportFormat, string[]> = {
  json: ['report.json'],
  md: ['report.md'],
  csv: ['results.csv', 'summary.csv'],
  tex: ['table.tex'],
};

function writeAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeRedacted(tmp, content);
  renameSync(tmp, file);
}

/** Render the chosen formats into outDir (created if needed); returns the paths written. */
export async function writeReports(model: ReportModel, outDir: string, opts: WriteOptions = {}): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const formats = opts.formats ?? REPORT_FORMATS;
  const files: Array<{ name: string; content: string | Uint8Array }> = [];
  for (const f of formats) {
    if (f === 'json') files.push({ name: 'report.json', content: renderJson(model) });
    else if (f === 'md') files.push({ name: 'report.md', content: renderMarkdown(model) });
    else if (f === 'csv') {
      if (model.items) files.push({ name: 'results.csv', content: renderResultsCsv(model) });
      files.push({ name: 'summary.csv', content: renderSummaryCsv(model) });
    } else if (f === 'tex') files.push({ name: 'table.tex', content: renderLatex(model) });
    else throw new RangeError(`unknown report format "${String(f)}"; choose from ${REPORT_FORMATS.join(', ')}`);
  }
  for (const render of opts.extra ?? []) files.push(...(await render(model, outDir)));
  const written: string[] = [];
  for (const { name, content } of files) {
    const path = join(outDir, name);
    writeAtomic(path, content);
    written.push(path);
  }
  return written;
}

export interface ReportFromFoldersOptions extends Omit<BuildOptions, 'runs'>, WriteOptions {
  claims?: ClaimSpec[];
}

/**
 * Read run folders (the first is the baseline unless `pairs` says otherwise), build the model and write
 * the reports. Returns the model (for gates and the console summary) and the files written.
 */
export async function reportFromRunFolders(dirs: string[], outDir: string, opts: ReportFromFoldersOptions = {}): Promise<{ model: ReportModel; files: string[] }> {
  const runs = dirs.map((d) => readRunFolder(d, { omitPrompts: true }));
  const { formats, extra, ...build } = opts;
  const model = buildReport({ ...build, runs });
  const files = await writeReports(model, outDir, { formats, extra });
  return { model, files };
}
