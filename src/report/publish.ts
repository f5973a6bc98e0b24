// Everything `medeval report` writes for a set of run folders: every report format in writers.ts (JSON,
// Markdown, CSV, LaTeX, the self-contained HTML page, the charts as PNG and SVG), skippable ones on request.
import { loadClaims, PAPER_CLAIMS, type ClaimSpec } from './claims.js';
import type { ReportModel } from './model.js';
import { reportFromRunFolders, type SkippedFormat } from './write.js';
import { REPORT_WRITERS } from './writers.js';
import type { Slo } from '../metrics/goodput.js';

export interface PublishOptions {
  /** Claims file (YAML with a `claims:` list); default: the paper's three claims. */
  claimsFile?: string;
  claims?: ClaimSpec[];
  seed?: number;
  /** Skippable formats to leave out, by name (`--no-html`, `--no-charts`). */
  skip?: readonly string[];
  /** false: as skip ['charts']. */
  charts?: boolean;
  /** false: as skip ['html']. */
  html?: boolean;
  /** Service-level objectives: a goodput figure per run. */
  goodput?: Slo;
  /** false: chart images without titles (`--chart-titles off`). */
  chartTitles?: boolean;
}

/** The formats a publish writes: every one, less the skippable ones asked to be skipped. */
export function publishedFormats(o: Pick<PublishOptions, 'skip' | 'charts' | 'html'> = {}): string[] {
  const skip = new Set([...(o.skip ?? []), ...(o.charts === false ? ['charts'] : []), ...(o.html === false ? ['html'] : [])]);
  return REPORT_WRITERS.filter((w) => !(w.skippable && skip.has(w.name))).map((w) => w.name);
}

export async function publishReport(dirs: string[], outDir: string, o: PublishOptions = {}): Promise<{ model: ReportModel; files: string[]; skipped: SkippedFormat[] }> {
  const claims = o.claims ?? (o.claimsFile ? await loadClaims(o.claimsFile) : PAPER_CLAIMS);
  return reportFromRunFolders(dirs, outDir, {
    claims,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.goodput ? { goodput: o.goodput } : {}),
    generatedAt: new Date().toISOString(),
    formats: publishedFormats(o),
    ...(o.chartTitles === false ? { render: { chartTitles: false } } : {}),
  });
}
