// Dataset formats are one list of definitions: the suite schema's enum, loadDataset's dispatch and
// `format: auto` detection all read it, so a format cannot be known to one and missing from another.
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMAS, configJsonSchema } from '../../src/run/json-schema.js';
import { DATASET_FORMATS } from '../../src/datasets/index.js';
import { DATASET_FORMAT_DEFINITIONS, DATASET_FORMAT_NAMES, datasetFormat } from '../../src/datasets/formats.js';

describe('dataset format list', () => {
  it('names each format once; every name has a loader; loadDataset and the suite offer exactly these', () => {
    expect(DATASET_FORMAT_NAMES).toEqual(['medqa', 'medmcqa', 'pubmedqa', 'mmlu', 'mapped']);
    expect(new Set(DATASET_FORMAT_NAMES).size).toBe(DATASET_FORMAT_NAMES.length);
    expect(DATASET_FORMATS).toEqual([...DATASET_FORMAT_NAMES]);
    for (const d of DATASET_FORMAT_DEFINITIONS) {
      expect(typeof d.load, d.name).toBe('function');
      expect(datasetFormat(d.name)).toBe(d);
    }
    const suite = configJsonSchema(CONFIG_SCHEMAS.find((c) => c.file === 'suite.schema.json')!) as {
      properties: { dataset: { properties: { format: { enum: string[] } } } };
    };
    expect(suite.properties.dataset.properties.format.enum).toEqual([...DATASET_FORMAT_NAMES, 'auto']);
  });

  it('detection hints live on the definitions: only mapped is never detected, only MMLU reads a folder', () => {
    const detected = DATASET_FORMAT_DEFINITIONS.filter((d) => d.detectPath || d.detectOpening || d.detectRecord).map((d) => d.name);
    expect(detected).toEqual(['medqa', 'medmcqa', 'pubmedqa', 'mmlu']);
    expect(DATASET_FORMAT_DEFINITIONS.filter((d) => d.readsFolder).map((d) => d.name)).toEqual(['mmlu']);
    expect(datasetFormat('medmcqa')!.detectRecord!({ opa: 'x', cop: 1 })).toBe(true);
    expect(datasetFormat('medqa')!.detectRecord!({ opa: 'x', cop: 1 })).toBe(false);
    expect(datasetFormat('pubmedqa')!.detectOpening!('{')).toBe(true);
  });
});
