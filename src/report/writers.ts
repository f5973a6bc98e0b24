// Every report format, in the order their files are written and listed. A new format: one module
// exporting a ReportWriter (report/writer.ts) and one line here; `medeval report` writes it and
// a `--no-` flag named after it skips it when it is skippable (`--no-html`).
import { chartsWriter } from './chart-render.js';
import { csvWriter } from './csv.js';
import { htmlWriter } from './html.js';
import { jsonWriter } from './json.js';
import { latexWriter } from './latex.js';
import { markdownWriter } from './markdown.js';
import type { ReportWriter } from './writer.js';

export const REPORT_WRITERS: readonly ReportWriter[] = [
  jsonWriter,
  markdownWriter,
  csvWriter,
  latexWriter,
  htmlWriter,
  chartsWriter,
];
