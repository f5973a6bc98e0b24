// What every dataset loader takes and returns. One loader per format; loadDataset (load.ts) picks one.
import type { DatasetItem } from '../core/types.js';
import type { FieldMappingInput } from './field-mapping.js';


export interface DatasetSpec {
  /** 'auto' or a format of the one list (formats.ts: DATASET_FORMAT_NAMES); loadDataset refuses others. */
  format: string;
  /** A file; for MMLU also a folder of <subject>_<split>.csv files. */
  path: string;
  /** Skip invalid records (listed in `skipped`) instead of failing on them. */
  skipInvalid?: boolean;
  /** Keep the first N valid items (the whole file is validated first). */
  limit?: number;
  /** Dataset name stored in every item's meta.dataset; a per-format default otherwise. */
  name?: string;
  /** MedMCQA: whether `cop` counts from 0 (Hugging Face copy) or 1 (original dev.json); default auto. */
  copBase?: 0 | 1 | 'auto';
  /** PubMedQA: path of test_ground_truth.json (PMID -> label); keeps only those PMIDs. */
  groundTruthPath?: string;
  /** MMLU folder: only these subjects (file name prefix, e.g. "anatomy"). */
  subjects?: string[];
  /** format mapped: which fields hold question, options, answer, id and metadata. */
  fields?: FieldMappingInput;
}

export interface SkippedRecord {
  /** "file:line". */
  place: string;
  /** Every problem found in the record, "; "-joined, each naming its field. */
  reason: string;
}

export interface LoadedDataset {
  name: string;
  /** The format it was read as (a name in formats.ts). */
  format: string;
  files: string[];
  /** The items to run: the valid records, cut to `limit` when one is given. */
  items: DatasetItem[];
  /** Valid records in the file(s), before `limit`. */
  valid: number;
  skipped: SkippedRecord[];
  warnings: string[];
  /** Warnings counted but not listed one by one (the last line of `warnings` says how many): absent when none. */
  unlistedWarnings?: number;
  /** sha256 of the file bytes (one file), or of "<sha256>  <file>\n" lines (several), for the run manifest. */
  sha256: string;
}

/**
 * A dataset validated in one streamed pass (openDataset): everything a run needs before its first request
 * (ids, counts, skipped records, warnings, hash), with the items read from the file(s) again, one at a
 * time, when their turn comes. Same records, order, ids and hash as loadDataset's.
 */
export interface DatasetIndex extends Omit<LoadedDataset, 'items'> {
  /** The ids of the items to run, in order (cut to `limit`). */
  readonly ids: readonly string[];
  /** A reader of the items by position in `ids`; each cursor reads the file(s) on its own. */
  cursor(): ItemCursor;
  /** The same dataset keeping only the items at these positions of `ids` (increasing): a shard. */
  subset(positions: readonly number[]): DatasetIndex;
}

export interface ItemCursor {
  /**
   * The item at position `k` of `ids`. Calls are served one after the other in the order made; asked in
   * increasing order each record is read once (a step back reads from the start again).
   */
  at(k: number): Promise<DatasetItem>;
  /** Lets go of the open file (a cursor read to the end has let go already). */
  close(): Promise<void>;
}
