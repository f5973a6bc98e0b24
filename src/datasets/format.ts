// What a dataset loader module declares about its format: its name (what a suite's dataset.format
// says), its loader, and how `format: auto` recognises a file of it. formats.ts lists every definition;
// the suite schema's enum, loadDataset's dispatch and auto-detection all read that one list.
import type { RecordStream } from './finish.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

export interface DatasetFormatDefinition<N extends string = string> {
  name: N;
  load(spec: DatasetSpec): Promise<LoadedDataset>;
  /** The same records one at a time (openDataset: a large split is never held whole); each pass reads the file(s) again. */
  records(spec: DatasetSpec): Promise<RecordStream>;
  /** The format reads a folder of files (MMLU's CSVs); the others need the file itself. */
  readsFolder?: boolean;
  /** Auto-detection from the path alone (a folder, an extension), before any record is read. */
  detectPath?(path: string, isDirectory: boolean): boolean;
  /** Auto-detection from a first line that is not JSON on its own (e.g. a lone "{" opening an indented document). */
  detectOpening?(line: string): boolean;
  /** Auto-detection from the first record (a JSON object); formats never detected (mapped) leave it out. */
  detectRecord?(record: Record<string, unknown>): boolean;
}

/** Keeps the name's literal type at the definition site. */
export function defineDatasetFormat<N extends string>(d: DatasetFormatDefinition<N>): DatasetFormatDefinition<N> {
  return d;
}
