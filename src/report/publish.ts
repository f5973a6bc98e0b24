// Everything `medeval report` writes for a set of run folders: the report model rendered as JSON,
// Markdown, CSV and LaTeX, the self-contained HTML page, and the charts as PNG and SVG.
import { join } from 'node:path';
import { loadClaims, PAPER_CLAIMS, type ClaimSpec } from './claims.js';
import { renderCharts } from './chart-render.js';
import { writeHtml } from './html.js';
import type { ReportModel } from './model.js';
import { reportFromRunFolders } from './write.js';
import type { Slo } from '../metrics/goodput.js';

export interface PublishOptions {
  /** Claims file (YAML with a `claims:` list); default: the paper's three claims. */
  claimsFile?: string;
  claims?: ClaimSpec[];
  seed?: number;
  charts?: boolean;
  html?: boolean;
  /** Service-level objectives: a goodput figure per run. */
  goodput?: Slo;
}

export async function publishReport(dirs: string[], outDir: string, o: PublishOptions = {}): Promise<{ model: ReportModel; files: string[] }> {
  const claims = o.claims ?? (o.claimsFile ? await loadClaims(o.claimsFile) : PAPER_CLAIMS);
  const { model, files } = await reportFromRunFolders(dirs, outDir, {
    claims,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.goodput ? { goodput: o.goodput } : {}),
    generatedAt: new Date().toISOString(),
  });
  if (o.html !== false) files.push(await writeHtml(model, join(outDir, 'report.html')));
  if (o.charts !== false) files.push(...(await renderCharts(model, join(outDir, 'charts'), { formats: ['png', 'svg'] })));
  return { model, files };
}
