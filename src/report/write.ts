// Writes the report files from the model, and the one-call entry point the CLI uses
// (`medeval report DIR...`, `medeval compare`): run folders in, report files out. Never calls a model.
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { redact, writeRedacted } from '../core/redact.js';
import { installCommand, MissingPackageError } from '../core/optional-package.js';
import { buildReport, type BuildOptions } from './build.js';
import type { ClaimSpec } from './claims.js';
import type { ReportModel } from './model.js';
import { readRunFolder } from '../core/run-folder.js';
import { collectGarbage } from '../core/heap.js';
import type { RenderSettings, ReportFile } from './writer.js';
import { REPORT_WRITERS } from './writers.js';

/** Every report format's name (writers.ts), in writing order. */
export const REPORT_FORMATS: readonly string[] = REPORT_WRITERS.map((w) => w.name);
export type ReportFormat = string;
/** The formats writeReports writes unless told otherwise: the text ones (json, md, csv, tex). */
export const TEXT_REPORT_FORMATS: readonly string[] = REPORT_WRITERS.filter((w) => !w.skippable).map((w) => w.name);

/** A renderer from elsewhere plugged into writeReports: returns files to write. */
export type ExtraRenderer = (model: ReportModel, outDir: string) => Promise<ReportFile[]> | ReportFile[];

export interface WriteOptions {
  /** Default: the text formats (json, md, csv, tex). */
  formats?: readonly ReportFormat[];
  extra?: ExtraRenderer[];
  /** Rendering choices (chart titles), passed to every format. */
  render?: RenderSettings;
  /** A skippable format left out because an optional package it needs is not installed (the others are written). */
  onSkipped?: (skip: SkippedFormat) => void;
}

/** A format that was not written, and why (the package to install). */
export interface SkippedFormat {
  format: string;
  reason: string;
  install: string;
}

/** The files each format writes, by format name. */
export const REPORT_FILES: Record<string, readonly string[]> = Object.fromEntries(REPORT_WRITERS.map((w) => [w.name, w.files]));

/** Pieces of text are gathered to about this many characters per write. */
const WRITE_CHARS = 1 << 15;

function writeAtomic(file: string, content: ReportFile['content']): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  if (typeof content === 'string' || content instanceof Uint8Array) writeRedacted(tmp, content);
  else {
    // Redacted a batch of whole pieces at a time: a piece never splits a value, so a secret is never cut in two.
    const fd = openSync(tmp, 'w');
    try {
      let batch = '';
      for (const piece of content) {
        batch += piece;
        if (batch.length >= WRITE_CHARS) {
          writeSync(fd, redact(batch));
          batch = '';
        }
      }
      if (batch) writeSync(fd, redact(batch));
    } finally {
      closeSync(fd);
    }
  }
  renameSync(tmp, file);
}

/** Render the chosen formats into outDir (created if needed), each file as it is rendered; returns the paths written. */
export async function writeReports(model: ReportModel, outDir: string, opts: WriteOptions = {}): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const formats = opts.formats ?? TEXT_REPORT_FORMATS;
  const writers = formats.map((f) => {
    const w = REPORT_WRITERS.find((x) => x.name === f);
    if (!w) throw new RangeError(`unknown report format "${String(f)}"; choose from ${REPORT_FORMATS.join(', ')}`);
    return w;
  });
  const written: string[] = [];
  const write = ({ name, content }: ReportFile) => {
    const path = join(outDir, ...name.split('/'));
    writeAtomic(path, content);
    written.push(path);
  };
  for (const w of writers) {
    try {
      for await (const file of w.render(model, opts.render)) write(file);
    } catch (e) {
      // Charts without @napi-rs/canvas: every other format is still written, and the caller is told.
      if (!(w.skippable && e instanceof MissingPackageError)) throw e;
      opts.onSkipped?.({ format: w.name, reason: e.message.split('\n')[0]!, install: installCommand(e.packageName) });
    }
  }
  for (const render of opts.extra ?? []) for (const file of await render(model, outDir)) write(file);
  return written;
}

export interface ReportFromFoldersOptions extends Omit<BuildOptions, 'runs'>, WriteOptions {
  claims?: ClaimSpec[];
}

/**
 * Read run folders (the first is the baseline unless `pairs` says otherwise), build the model and write
 * the reports. Returns the model (for gates and the console summary) and the files written.
 */
export async function reportFromRunFolders(dirs: string[], outDir: string, opts: ReportFromFoldersOptions = {}): Promise<{ model: ReportModel; files: string[]; skipped: SkippedFormat[] }> {
  const { formats, extra, onSkipped, render, ...build } = opts;
  // The runs are not kept past buildReport: the writers read the model only, so the records can go.
  const runs = dirs.map((d) => readRunFolder(d, { compact: true }));
  // Above 128 MiB of heap (core/heap.ts): the parsed lines' garbage collected before the statistics allocate,
  // then the records once the model is built, before the writers do.
  collectGarbage(128 << 20);
  const model = buildReport({ ...build, runs: runs.splice(0) });
  collectGarbage(128 << 20);
  const skipped: SkippedFormat[] = [];
  const files = await writeReports(model, outDir, { formats, extra, ...(render ? { render } : {}), onSkipped: (s) => { skipped.push(s); onSkipped?.(s); } });
  return { model, files, skipped };
}
