// A small reader for the Prometheus text exposition format that llama-server (--metrics) and vLLM serve
// at /metrics, and a before/after difference of counters. vLLM renames metrics and keeps the old name
// for a release or two, so lookups take a list of names, current first.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromScrape {
  samples: PromSample[];
  /** `# TYPE` per metric family. */
  types: Record<string, string>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(?:\s+\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s); // NaN stays NaN
}

export function parsePrometheusText(text: string): PromScrape {
  const samples: PromSample[] = [];
  const types: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const t = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (t) types[t[1]!] = t[2]!;
      continue;
    }
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const l of m[3].matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1]!, labels, value: parseValue(m[4]!) });
  }
  return { samples, types };
}

/**
 * Sum of all series of the first name in `names` that is present (labels ignored: one model per server).
 * Returns the name used, so a report can say which one it read.
 */
export function metricSum(scrape: PromScrape, names: string[], labelFilter?: Record<string, string>): { name: string; value: number } | null {
  for (const name of names) {
    const series = scrape.samples.filter(
      (s) => s.name === name && (!labelFilter || Object.entries(labelFilter).every(([k, v]) => s.labels[k] === v)),
    );
    if (series.length > 0) return { name, value: series.reduce((a, s) => a + s.value, 0) };
  }
  return null;
}

/** A histogram's _sum and _count (e.g. vllm:time_to_first_token_seconds), trying names in order. */
export function histogramTotals(scrape: PromScrape, names: string[]): { name: string; sum: number; count: number } | null {
  for (const name of names) {
    const sum = metricSum(scrape, [`${name}_sum`]);
    const count = metricSum(scrape, [`${name}_count`]);
    if (sum && count) return { name, sum: sum.value, count: count.value };
  }
  return null;
}

/** after - before for each named counter/histogram part present in both scrapes. */
export function counterDelta(before: PromScrape, after: PromScrape, names: string[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const alternatives of names) {
    const b = metricSum(before, alternatives);
    const a = metricSum(after, alternatives);
    if (a && b && a.name === b.name) out[a.name] = a.value - b.value;
    else if (a && !b) out[a.name] = a.value;
  }
  return out;
}

/** Gauges and counters of interest, read once: name -> value, under whichever name the server used. */
export function pickMetrics(scrape: PromScrape, wanted: string[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const alternatives of wanted) {
    const m = metricSum(scrape, alternatives);
    if (m) out[m.name] = m.value;
  }
  return out;
}
