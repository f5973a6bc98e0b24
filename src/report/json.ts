// report.json: the report model itself (schema "medeval.report/1", see docs/report-schema.md).
import { InputError } from '../core/errors.js';
import { REPORT_SCHEMA_VERSION, type ReportModel } from './model.js';
import type { ReportWriter } from './writer.js';

export function renderJson(model: ReportModel): string {
  // JSON has no NaN/Infinity: write null so every reader can parse the file.
  return JSON.stringify(model, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
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
  render: (model) => [{ name: 'report.json', content: renderJson(model) }],
};
