// /metrics over a run, for both server runners: the scrape taken before the run, one taken now, and the
// runner's figures from the two; when either is missing, the reason instead (never an empty figure).
import type { ServerReport } from '../core/types.js';
import { parsePrometheusText, type PromScrape } from '../metrics/prometheus.js';
import { getText } from './managed-process.js';

export type MetricsOverRun = NonNullable<ServerReport['metrics']>;

export async function metricsOverRun(opts: {
  before: PromScrape | null;
  /** Why there is no `before` scrape (set when it failed). */
  beforeNote: string;
  url: string;
  headers: Record<string, string>;
  /** Timeout of the /metrics request (the profile's sideRequestTimeoutMs). */
  timeoutMs?: number;
  figures: (before: PromScrape, after: PromScrape) => MetricsOverRun;
}): Promise<Pick<ServerReport, 'metrics' | 'metricsNote'>> {
  if (!opts.before) return { metrics: null, metricsNote: opts.beforeNote || 'no /metrics before the run' };
  const now = await getText(opts.url, opts.headers, opts.timeoutMs);
  if (!now.ok) return { metrics: null, metricsNote: `/metrics not available after the run (${now.reason.split('\n')[0]})` };
  return { metrics: opts.figures(opts.before, parsePrometheusText(now.value)) };
}
