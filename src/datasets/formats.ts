// Every dataset format, in one list: the suite schema's format enum, loadDataset's dispatch and
// `format: auto` detection (in this order) read it. A new format: one loader module exporting a
// defineDatasetFormat(...) definition (datasets/format.ts) and one line here.
import type { DatasetFormatDefinition } from './format.js';
import { mappedFormat } from './mapped.js';
import { medmcqaFormat } from './medmcqa.js';
import { medqaFormat } from './medqa.js';
import { mmluFormat } from './mmlu.js';
import { pubmedqaFormat } from './pubmedqa.js';

export const DATASET_FORMAT_DEFINITIONS = [
  medqaFormat,
  medmcqaFormat,
  pubmedqaFormat,
  mmluFormat,
  mappedFormat,
] as const;

export type DatasetFormat = (typeof DATASET_FORMAT_DEFINITIONS)[number]['name'];

/** Every format a suite may name (the suite schema and loadDataset both use this one list). */
export const DATASET_FORMAT_NAMES = DATASET_FORMAT_DEFINITIONS.map((d) => d.name) as unknown as readonly [DatasetFormat, ...DatasetFormat[]];

const BY_NAME = new Map<string, DatasetFormatDefinition>(DATASET_FORMAT_DEFINITIONS.map((d) => [d.name, d]));

export function datasetFormat(name: string): DatasetFormatDefinition | undefined {
  return BY_NAME.get(name);
}
