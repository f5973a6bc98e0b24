// What a report format declares: its name (a `--no-` flag named after it skips a skippable one), the files it writes,
// and a renderer from the report model to those files. writers.ts lists every format; `medeval report`,
// compare and demo write them all through write.ts, which alone touches the disk (atomic, redacted).
import type { ReportModel } from './model.js';

export interface ReportFile {
  /** Path under the report folder, "/"-separated (e.g. "charts/memory.png"). */
  name: string;
  /** The bytes, or text in pieces (a large file is never one string: the pieces are written as they come). */
  content: string | Uint8Array | Iterable<string>;
}

/** How the formats render, where they take a choice (`--chart-titles off`). */
export interface RenderSettings {
  /** false: chart images carry no title or subtitle (the paper's caption does). Default true. */
  chartTitles?: boolean;
}

export interface ReportWriter {
  name: string;
  /** What it is, for --help: "report.html, one self-contained page". */
  description: string;
  /** The files it writes, as the terminal lists them ("charts/" for a folder). */
  files: readonly string[];
  /** Costly or browser-side formats may be skipped (`--no-html`, `--no-charts`); text formats are always written. */
  skippable?: boolean;
  /** The files, one at a time (a large format need not hold them all in memory). */
  render(model: ReportModel, settings?: RenderSettings): Iterable<ReportFile> | AsyncIterable<ReportFile>;
}
