// /metrics over a run, for both server runners: the scrape taken before the run, one taken now, and the
// runner's figures from the two; when either is missing, the reason instead (never an empty figure).
import type { ServerReport } from '../core/types.js';
import { parsePrometheusText, type PromScrape } from '../metrics/prometheus.js';
import { getText } from './managed-process.js';

export type MetricsOverRun = NonNullable<ServerReport['metrics']>;

/**
 * The "before" scrape taken again once the warm-up is over, so the differences cover measured requests
 * only; if that read fails, the earlier scrape stays and `note` says the differences include the warm-up.
 */
export async function rescrapeAfterWarmup(before: PromScrape | null, url: string, headers: Record<string, string>, timeoutMs?: number): Promise<{ before: PromScrape | null; note: string | null }> {
  if (!before) return { before, note: null }; // no /metrics at all: the run's note already says why
  try {
    const now = await getText(url, headers, timeoutMs);
    if (now.ok) return { before: parsePrometheusText(now.value), note: null };
    return { before, note: `/metrics could not be read after the warm-up (${now.reason.split('\n')[0]}): the differences include the warm-up requests` };
  } catch (e) {
    return { before, note: `/metrics could not be read after the warm-up (${(e as Error).message}): the differences include the warm-up requests` };
  }
}

export async function metricsOverRun(opts: {
  before: PromScrape | null;
  /** Why there is no `before` scrape (set when it failed). */
  beforeNote: string;
  /** What limits the figures when there are some (e.g. the before scrape is from before the warm-up). */
  limitNote?: string | null;
  url: string;
  headers: Record<string, string>;
  /** Timeout of the /metrics request (the profile's sideRequestTimeoutMs). */
  timeoutMs?: number;
  figures: (before: PromScrape, after: PromScrape) => MetricsOverRun;
}): Promise<Pick<ServerReport, 'metrics' | 'metricsNote'>> {
  if (!opts.before) return { metrics: null, metricsNote: opts.beforeNote || 'no /metrics before the run' };
  const now = await getText(opts.url, opts.headers, opts.timeoutMs);
  if (!now.ok) return { metrics: null, metricsNote: `/metrics not available after the run (${now.reason.split('\n')[0]})` };
  return { metrics: opts.figures(opts.before, parsePrometheusText(now.value)), ...(opts.limitNote ? { metricsNote: opts.limitNote } : {}) };
}
