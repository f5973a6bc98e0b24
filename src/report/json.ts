// report.json: the report model itself (schema "medeval.report/1", see docs/report-schema.md).
import { InputError } from '../core/errors.js';
import { REPORT_SCHEMA_VERSION, type ReportModel } from './model.js';
import { jsonChunks } from './json-chunks.js';
import type { ReportWriter } from './writer.js';

// JSON has no NaN/Infinity: JSON.stringify itself writes a non-finite number as null (ECMA-262
// SerializeJSONProperty), so every reader can parse the file without a replacer (a replacer call per value
// costs about a third of the writer's time; test/report/json-chunks.test.ts checks the bytes are the same).
export function renderJson(model: ReportModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}

/** renderJson's text in pieces (report.json at 100,000 items is tens of MB): the same bytes joined. */
export function* renderJsonChunks(model: ReportModel): Generator<string> {
  yield* jsonChunks(model, { indent: 2 });
  yield '\n';
}

/** Parse a report.json back, checking the schema version (a reader for gates and re-rendering). */
export function parseReportJson(text: string, file = 'report.json'): ReportModel {
  let data: { schemaVersion?: unknown };
  try {
    data = JSON.parse(text) as { schemaVersion?: unknown };
  } catch (e) {
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file });
  }
  if (data?.schemaVersion !== REPORT_SCHEMA_VERSION) {
    throw new InputError(`schemaVersion is ${JSON.stringify(data?.schemaVersion)}, expected "${REPORT_SCHEMA_VERSION}"`,
      { file, field: 'schemaVersion' }, 'rebuild the report from its run folders with `medeval report`');
  }
  return data as ReportModel;
}

export const jsonWriter: ReportWriter = {
  name: 'json',
  description: 'report.json, the report model (docs/report-schema.md)',
  files: ['report.json'],
  render: (model) => [{ name: 'report.json', content: renderJsonChunks(model) }],
};
