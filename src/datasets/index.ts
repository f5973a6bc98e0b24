// Public API of the dataset loaders.
export { loadDataset, openDataset, detectFormat, DATASET_FORMATS } from './load.js';
export { skippedRecords, SKIPPED_LISTED } from './finish.js';
export { loadSampleDataset, SAMPLE_DATASET_PATH } from './sample.js';
export { readJsonl, type JsonlLine } from './jsonl.js';
export { parseCsv, type CsvRecord } from './csv.js';
export { canonicalJson, hashId, sha256File, sha256Files } from './hashing.js';
export { MMLU_MEDICAL_SUBJECTS, mmluSubject } from './mmlu.js';
export { PUBMEDQA_OPTIONS } from './pubmedqa.js';
export { decideCopBase, type CopBase } from './medmcqa.js';
export type { DatasetIndex, DatasetSpec, ItemCursor, LoadedDataset, SkippedRecord } from './types.js';
export { DATASET_FORMAT_NAMES, type DatasetFormat } from './formats.js';
