// The bundled smoke-test set (datasets/sample/usmle-sample.jsonl), found relative to this module so
// it works from src/ (tsx) and from dist/ (built) alike.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from './load.js';
import type { DatasetSpec, LoadedDataset } from './types.js';

function findSample(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'datasets', 'sample', 'usmle-sample.jsonl');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  // Not found (a broken install): return the usual location so loadDataset reports it.
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'datasets', 'sample', 'usmle-sample.jsonl');
}

export const SAMPLE_DATASET_PATH = findSample();

export function loadSampleDataset(options: Pick<DatasetSpec, 'limit' | 'skipInvalid'> = {}): Promise<LoadedDataset> {
  return loadDataset({ format: 'medqa', path: SAMPLE_DATASET_PATH, name: 'sample', ...options });
}
